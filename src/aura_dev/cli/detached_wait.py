"""The waiting side of `aura dev up --detach`: progress until the forked supervisor says its
start has settled, then the summary.

While the stack starts, this process competes for the same CPUs as the supervisor and the
units, so it stays light: its progress line is written with the standard library (rich,
the state file's typed reader and the rest cost ~0.3 s of CPU here, which on 2 cores came
straight out of the start), reading only the unit states from `state.json`.  rich and
the rest are imported for the summary once the supervisor has loaded, in a thread, while
the units finish their start.
"""

from __future__ import annotations

import json
import os
import pickle
import select
import struct
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from aura_dev.engine.run_files import state_path

HEADER = struct.Struct("!I")
PROGRESS_SECONDS = 0.1  # how often the waiting side reads the state for its progress line
DETACHED_TIMEOUT = 300.0
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"  # rich's "dots", as the foreground's status shows it
HEADLINE = "starting the stack in the background…"


class Progress:
    """A spinner line on a terminal; elsewhere (a CI log, a pipe) a line each time the count
    of ready units moves.  NO_COLOR and --no-color leave the spinner but drop the colours."""

    def __init__(self, stream: TextIO, colour: bool) -> None:
        self.stream = stream
        self.terminal = stream.isatty()
        self.colour = colour
        self.frame = 0
        self.text = ""
        self.shown = ""
        self.began = time.monotonic()

    def update(self, text: str | None = None) -> None:
        if text is not None:
            self.text = text
        if self.terminal:
            spinner = SPINNER[self.frame % len(SPINNER)]
            self.frame += 1
            if self.colour:
                spinner = f"\x1b[32m{spinner}\x1b[0m"
            line = f"{HEADLINE} {self.text}".rstrip()
            self.stream.write(f"\r\x1b[2K{spinner} {line}")
            self.stream.flush()
        elif self.text and self.text != self.shown:
            self.stream.write(f"starting in the background: {self.text} ({time.monotonic() - self.began:.1f} s)\n")
            self.stream.flush()
            self.shown = self.text

    def note(self, text: str) -> None:
        self.clear()
        self.stream.write(f"\x1b[2m{text}\x1b[0m\n" if self.colour else f"{text}\n")
        self.stream.flush()

    def clear(self) -> None:
        if self.terminal:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()


def ready_count(state_dir: Path, supervisor: int) -> str | None:
    """"k/n units ready" from the state file of this supervisor; None before it has one."""
    try:
        data = json.loads(state_path(state_dir).read_bytes())
        if data["supervisor"]["pid"] != supervisor:
            return None
        units = data["units"].values()
        return f"{sum(1 for unit in units if unit.get('state') == 'ready')}/{len(units)} units ready"
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # not written yet, or being replaced


def wait(supervisor: int, readable: int, workspace: Path | None, *, timings: bool, invoked_at: float | None) -> int:
    """Until the forked `supervisor` says its start has settled (or refused it); the exit code."""
    from aura_dev.cli.console import colour_disabled
    from aura_dev.errors import StartupError
    from aura_dev.workspace.locate import FoundWorkspace, discover

    ws = FoundWorkspace(discover(explicit=workspace).absolute())
    began = time.monotonic()
    reader = Messages(readable)
    progress = Progress(sys.stderr, colour=not colour_disabled())
    preload: threading.Thread | None = None
    try:
        while True:
            message = reader.next(PROGRESS_SECONDS)
            if message is None:  # nothing yet: show progress
                count = ready_count(ws.state_dir, supervisor)
                if count is not None and preload is None and sys.stdout.isatty():
                    preload = _preload_summary()
                progress.update(count)
                if time.monotonic() - began > DETACHED_TIMEOUT:
                    raise StartupError(f"the stack was not up after {DETACHED_TIMEOUT:g} s",
                                       hint="see `aura dev logs`")
                continue
            kind, payload = message
            if kind == "note":
                progress.note(str(payload))
            elif kind == "settled":
                break
            elif kind == "error":
                os.waitpid(supervisor, 0)  # gone before the command returns: a next one finds it so
                raise payload
            else:  # "crash", or the end of the pipe: the supervisor died
                os.waitpid(supervisor, 0)
                from aura_dev.engine.runstate import supervisor_log_path

                log = supervisor_log_path(ws.state_dir)
                details = payload if kind == "crash" else _tail(log)
                raise StartupError("the background supervisor stopped during start", details=details,
                                   hint=f"full log: {log}" if log.exists() else "run `aura dev up` in the foreground")
    finally:
        progress.clear()
    os.close(readable)
    return _summary(ws.state_dir, supervisor, began, timings=timings, invoked_at=invoked_at)


def _preload_summary() -> threading.Thread:
    """Import what a summary wider than the terminal needs (rich, the typed state reader:
    ~0.1 s of CPU) while the units finish their start, rather than after: the summary is the
    last thing between a ready stack and the command's return.  Only on a terminal (elsewhere
    the plain summary always fits), and begun once the supervisor has written its state — it
    has loaded by then, so this does not compete with its own imports, which gate the
    adoption of every unit."""
    def imports() -> None:
        import aura_dev.cli.progress
        import aura_dev.engine.runstate  # noqa: F401

    thread = threading.Thread(target=imports, name="preload-summary", daemon=True)
    thread.start()
    return thread


def _summary(state_dir: Path, supervisor: int, began: float, *, timings: bool, invoked_at: float | None) -> int:
    """The summary from the state file as JSON, in plain text (`cli.summary_text`); through
    rich only when the table is wider than the terminal, or for `--timings`."""
    from aura_dev.cli.console import colour_disabled
    from aura_dev.cli.summary_text import SummaryData, plain_text, table_width
    from aura_dev.dashboard.access import login_url, read_token
    from aura_dev.errors import StartupError

    try:
        state = json.loads(state_path(state_dir).read_bytes())
        data = SummaryData.from_state_json(state)
        dashboard = state["dashboard"]["url"] if state.get("dashboard") else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise StartupError("the stack stopped right after its start", hint="see `aura dev logs`") from None
    link = login_url(dashboard, read_token(state_dir)) if dashboard else None
    seconds = time.time() - invoked_at if invoked_at else time.monotonic() - began  # since `aura dev up` was run
    terminal = sys.stdout.isatty()
    if terminal and table_width(data) > _columns():
        from aura_dev.cli import console as ui
        from aura_dev.cli.progress import summary

        summary(ui.out, data, seconds, dashboard=link)
    else:
        colour = terminal and not colour_disabled()
        sys.stdout.write(plain_text(data, seconds, dashboard=link, colour=colour))
    note = f"supervisor pid {supervisor}; stop with `aura dev down`"
    sys.stdout.write(f"\x1b[2m{note}\x1b[0m\n" if terminal and not colour_disabled() else f"{note}\n")
    sys.stdout.flush()
    if timings:
        from aura_dev.cli import console as ui
        from aura_dev.cli.timings_view import show_timings

        show_timings(ui.out, state.get("timeline"))
    return 0 if data.all_ready else 1


def _columns() -> int:
    """The terminal's width, COLUMNS first (as rich and shutil read it; shutil costs an import)."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError):
        return 80


def _tail(log: Path) -> list[str]:
    try:
        return log.read_text(errors="replace").splitlines()[-25:]
    except OSError:
        return []


class Messages:
    """The waiting side of the pipe: `next` gives a message, None on a timeout, ("eof", None)
    once the pipe is closed without one."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""

    def next(self, timeout: float) -> tuple[str, Any] | None:
        deadline = time.monotonic() + timeout
        while True:
            message = self._parse()
            if message is not None:
                return message
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return ("eof", None)
            self.buffer += chunk

    def _parse(self) -> tuple[str, Any] | None:
        if len(self.buffer) < HEADER.size:
            return None
        (size,) = HEADER.unpack_from(self.buffer)
        if len(self.buffer) < HEADER.size + size:
            return None
        body, self.buffer = self.buffer[HEADER.size:HEADER.size + size], self.buffer[HEADER.size + size:]
        kind, payload = pickle.loads(body)
        return str(kind), payload
