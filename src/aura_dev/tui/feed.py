"""The running stack as the terminal view reads it, from outside the supervisor: the typed
snapshot (`state.json`, rewritten on every state change), whether a supervisor holds the
lock, the log store through the same query and follower as `aura dev logs`, and actions
through the control socket — the path `aura dev restart|stop|start` and the dashboard take.
No Textual here."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from aura_dev.engine import runstate
from aura_dev.engine.control import ControlReply, ControlRequest, Operation, Which, request
from aura_dev.engine.snapshot import StackSnapshot
from aura_dev.errors import AuraError
from aura_dev.logs.query import Follower, Line, LogFilter, query

HISTORY_LINES = 500  # what a pane starts with when its filter changes
CONTROL_TIMEOUT = 120.0


class StackFeed:
    def __init__(self, state_dir: Path, *, child: int | None = None) -> None:
        self.state_dir = state_dir
        self.logs_root = state_dir / "logs"
        self.child = child  # the supervisor `up --tui` forked: watched, so its end is seen and reaped
        self.snapshot: StackSnapshot | None = None
        self._seen: tuple[int, int] | None = None

    def refresh(self) -> bool:
        """Read the snapshot again if it changed; whether it did."""
        path = runstate.state_path(self.state_dir)
        try:
            stat = path.stat()
            seen: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            seen = None
        if seen == self._seen:
            return False
        self._seen = seen
        snap = runstate.read_state(self.state_dir) if seen is not None else None
        if snap is not None and self.child is not None and snap.supervisor_pid != self.child:
            snap = None  # left by an earlier supervisor that was killed; ours cleans it up
        if snap is None and self.snapshot is None:
            return False
        self.snapshot = snap
        return True

    def running(self) -> bool:
        return runstate.supervisor_running(self.state_dir)

    def child_gone(self) -> bool:
        """Whether the supervisor this view forked has ended (reaped here, so it leaves no zombie)."""
        if self.child is None:
            return False
        try:
            return os.waitpid(self.child, os.WNOHANG) != (0, 0)
        except ChildProcessError:
            return True

    def supervisor_log_tail(self, count: int = 25) -> list[str]:
        try:
            text = (runstate.run_dir(self.state_dir) / "supervisor.log").read_text(errors="replace")
        except OSError:
            return []
        return text.splitlines()[-count:]

    def act(self, op: Operation, service: str, which: Which) -> ControlReply:
        """One request through the control socket (blocking: call it from a worker thread)."""
        try:
            return request(runstate.control_socket_path(self.state_dir), ControlRequest(op, (service,), which),
                           timeout=CONTROL_TIMEOUT)
        except AuraError as exc:
            return ControlReply.failure(exc)
        except OSError as exc:
            return ControlReply(ok=False, error=f"the supervisor did not answer: {exc}")


class LogFeed:
    """The lines of one filter: the store's last ones, then new ones as they are written,
    none twice (the follower takes its positions before the history is read; lines that
    land in both are dropped from its first polls)."""

    def __init__(self, root: Path, flt: LogFilter, history: int = HISTORY_LINES) -> None:
        self.follower = Follower(root, flt)
        self.history = list(query(root, flt, history)) if history else []
        self._overlap = {(line.owner, line.raw) for line in self.history[-history:]}
        self._polls_left = 3

    def poll(self) -> list[Line]:
        fresh = self.follower.poll()
        if self._polls_left:
            self._polls_left -= 1
            fresh = list(_without(fresh, self._overlap))
            if not self._polls_left:
                self._overlap.clear()
        return fresh


def _without(lines: Iterable[Line], seen: set[tuple[str, bytes]]) -> Iterable[Line]:
    for line in lines:
        key = (line.owner, line.raw)
        if key in seen:
            seen.discard(key)
            continue
        yield line
