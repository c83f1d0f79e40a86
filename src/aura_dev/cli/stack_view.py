"""What `aura dev up` and `status` show: the foreground stream with its live start-up
table, the detached start's progress, the summary, the status table."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import TYPE_CHECKING

from aura_dev.cli import console as ui
from aura_dev.engine import session
from aura_dev.engine.events import EventHub
from aura_dev.engine.orchestrator import Orchestrator, UpOptions
from aura_dev.engine.snapshot import StackSnapshot
from aura_dev.errors import AlreadyRunning
from aura_dev.logs.console_sink import ConsoleSink
from aura_dev.logs.digest import RuntimeDigest
from aura_dev.logs.record import AURA_UNIT, Level
from aura_dev.logs.render import ConsoleRenderer
from aura_dev.workspace.load import Workspace
from aura_dev.workspace.locate import AtWorkspaceFile, WorkspaceRef

if TYPE_CHECKING:
    from aura_dev.cli.progress import StartupView


def supervisor_hooks() -> list[session.SupervisorHook]:
    """What the supervisor serves beside the stack: the dashboard (its web stack is imported
    only once the stack is up; this module is small)."""
    from aura_dev.dashboard.hook import DashboardHook

    return [DashboardHook()]


def _prepared(ws: Workspace, options: UpOptions) -> session.Prepared:
    """Refused early, writing nothing: already running, runtime missing, unknown service."""
    prepared = session.prepare(ws, options)
    ws.keep_validation()  # the start goes ahead
    return prepared


def run_foreground(ws: Workspace, options: UpOptions, *, verbose: bool = False, timings: bool = False) -> int:
    parent = os.getppid()  # as early as possible: the stack stops when this process is gone
    prepared = _prepared(ws, options)
    is_tty = sys.stdout.isatty()
    colour = is_tty and not ui.colour_disabled()
    digest = RuntimeDigest()  # what Dapr's unprinted lines said, for the live table and the summary
    view: StartupView | None = None
    if is_tty:  # the live table; rich is imported only here and once the stack is up
        from aura_dev.cli.progress import StartupView

        view = StartupView(ui.out, live=True, digest=digest)
    running: list[tuple[Orchestrator, asyncio.AbstractEventLoop]] = []

    def lose_console() -> None:
        # Whoever read our output went away (`| head`, a pager that was quit): as with
        # Ctrl-C, stop the stack cleanly; every line is in the log store.  What is still
        # printed (the summary, rich) goes to /dev/null instead of failing on the pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        store.note(AURA_UNIT, "console output closed: stopping", time.time())
        if running:
            running[0][0].request_shutdown()

    def console_gone() -> None:  # on the sink's thread
        if running:
            running[0][1].call_soon_threadsafe(lose_console)

    def skipped(count: int) -> bytes:
        return renderer.notice_line(None, f"{count} lines not shown: the console did not keep up "
                                          "(all of them are in `aura dev logs`)", Level.WARN)

    sys.stdout.flush()
    console = ConsoleSink(sys.stdout.fileno(), on_gone=console_gone, skipped_line=skipped)
    renderer = ConsoleRenderer(view.write if view is not None else console.write, colour=colour,
                               labels=session.unit_labels(ws, options.selected), verbose=verbose, digest=digest)
    store = session.log_store(ws)
    hub = EventHub(store, renderer)
    if view is not None:
        hub.state_listeners.append(view.on_state)
    if prepared.backend_reason:
        hub.notice(None, f"infra backend auto → {prepared.backend}: {prepared.backend_reason}")
    began = time.monotonic()

    def started(orch: Orchestrator) -> None:
        from aura_dev.cli.progress import summary
        from aura_dev.cli.summary_text import SummaryData

        if view is not None:
            view.close()
            hub.state_listeners.remove(view.on_state)
        renderer.write = console.write
        console.drain(timeout=1.0)  # the summary comes after the lines before it
        try:
            snap = orch.snapshot()
            # Since `aura dev up` was run: the engine loads after the head start has spawned.
            seconds = time.time() - options.invoked_at if options.invoked_at else time.monotonic() - began
            summary(ui.out, SummaryData.from_state_json(snap.to_json()), seconds, dashboard=dashboard_link(ws, snap),
                    digest=digest)
            if timings:
                from aura_dev.cli.timings_view import show_timings

                show_timings(ui.out, snap.timeline)
            sys.stdout.flush()
        except BrokenPipeError:
            lose_console()
        from aura_dev.workspace.resolved import ensure_schema_file

        ensure_schema_file(ws.state_dir)  # what the file's `$schema` line names; after the summary

    def attached(orch: Orchestrator, loop: asyncio.AbstractEventLoop) -> None:
        running.append((orch, loop))

        async def quiet_while_stopping() -> None:
            await orch.shutdown_requested.wait()
            renderer.stack_stopping()

        orch.spawn(quiet_while_stopping())

    try:
        return session.supervise(ws, options, prepared, hub, on_started=started, on_orchestrator=attached,
                                 hooks=supervisor_hooks(), parent=parent)
    finally:
        if view is not None:
            view.close()
        renderer.write = console.write
        renderer.finish()  # counts still open, and what Dapr wrote while stopping
        console.close()  # writes what is queued: the last lines, "stopped"
        store.close()


def run_tui(ws: Workspace, options: UpOptions) -> int:
    """Start a background supervisor and open the terminal view on it at once: the view shows
    the units coming up; quitting it leaves the stack running or stops it."""
    from aura_dev.cli.tui_command import open_view, require_terminal

    require_terminal()  # before anything starts
    try:
        prepared = _prepared(ws, options)
    except AlreadyRunning as exc:
        raise AlreadyRunning(exc.message, hint="`aura dev tui` opens the view on it; `aura dev down` stops it") from None
    sys.stdout.flush()
    sys.stderr.flush()
    child = session.start_detached(ws, options, prepared, hooks=supervisor_hooks())
    return open_view(ws, child=child)


def dashboard_link(ws: Workspace | AtWorkspaceFile, state: StackSnapshot | None) -> str | None:
    """The dashboard's URL with this run's token, for the user who runs the stack."""
    from aura_dev.dashboard.access import stack_login_url

    return stack_login_url(ws.state_dir, state)