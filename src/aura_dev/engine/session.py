"""Running the stack: in the foreground, as a detached supervisor, and acting on a running
one from another terminal (down, status, restart/stop/start)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from aura_dev.cli import console as ui
from aura_dev.engine import runstate
from aura_dev.engine.control import request
from aura_dev.errors import AlreadyRunning, NotRunning, StartupError
from aura_dev.engine.events import AURA_UNIT, EventHub
from aura_dev.logs.console_sink import ConsoleSink
from aura_dev.logs.record import Level
from aura_dev.logs.render import ConsoleRenderer
from aura_dev.logs.store import LogStore
from aura_dev.engine.orchestrator import Orchestrator, UpOptions, backend_factory, reset_scheduler_data, resolve_backend
from aura_dev.runtime import RuntimeInstall, require_runtime
from aura_dev.workspace.load import Workspace
from aura_dev.workspace.locate import WorkspaceRef

if TYPE_CHECKING:
    from rich.console import Console

    from aura_dev.cli.progress import StartupView


def log_store(ws: Workspace) -> LogStore:
    logs = ws.spec.logs
    return LogStore(ws.state_dir / "logs", max_file_size=int(logs.max_file_size),
                    max_total_size=int(logs.max_total_size))


def unit_labels(ws: Workspace, selected: list[str]) -> list[str]:
    labels = ["redis", "placement", "scheduler"]
    for name in selected or ws.services:
        labels.append(name)
        if ws.has_sidecar(name):
            labels.append(f"{name}·dapr")
    return labels


def prepare(ws: Workspace, options: UpOptions) -> tuple[RuntimeInstall, str]:
    if runstate.supervisor_running(ws.state_dir):
        pid = runstate.supervisor_pid(ws.state_dir)
        raise AlreadyRunning(f"{ws.name} is already running" + (f" (supervisor pid {pid})" if pid else ""),
                             hint="stop it with `aura dev down`; see it with `aura dev status`")
    runtime = require_runtime(ws.spec.dapr.runtime_version)
    backend, why = resolve_backend(options.backend or ws.spec.infra.backend, ws, runtime.version)
    if why:
        ui.err.print(f"[dim]infra backend auto → {backend}: {why}[/]")
    return runtime, backend


def run_foreground(ws: Workspace, options: UpOptions, *, quiet_sidecars: bool = False) -> int:
    runtime, backend = prepare(ws, options)
    is_tty = sys.stdout.isatty()
    colour = is_tty and not ui.colour_disabled()
    view: StartupView | None = None
    if is_tty:  # the live table; rich is imported only here and once the stack is up
        from aura_dev.cli.progress import StartupView

        view = StartupView(ui.out, live=True)
    running: list[tuple[Orchestrator, asyncio.AbstractEventLoop]] = []

    def lose_console() -> None:
        # Whoever read our output went away (`| head`, a pager that was quit): as with
        # Ctrl-C, stop the stack cleanly; every line is in the log store.  What is still
        # printed (the summary, rich) goes to /dev/null instead of failing on the pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        hub.store.note(AURA_UNIT, "console output closed: stopping", time.time())
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
                               labels=unit_labels(ws, options.selected), quiet_sidecars=quiet_sidecars)
    hub = EventHub(log_store(ws), renderer)
    if view is not None:
        hub.state_listeners.append(view.on_state)
    began = time.monotonic()

    def started(orch: Orchestrator) -> None:
        from aura_dev.cli.progress import summary

        if view is not None:
            view.close()
            hub.state_listeners.remove(view.on_state)
        renderer.write = console.write
        console.drain(timeout=1.0)  # the summary comes after the lines before it
        try:
            summary(ui.out, orch.snapshot(), time.monotonic() - began)
            sys.stdout.flush()
        except BrokenPipeError:
            lose_console()

    async def main() -> int:
        orch = Orchestrator(ws, runtime, hub, options, backend_factory(runtime), backend)
        running.append((orch, asyncio.get_running_loop()))
        return await orch.run(on_started=started)

    try:
        return asyncio.run(main())
    finally:
        if view is not None:
            view.close()
        console.close()  # writes what is queued: the last lines, "stopped"
        hub.store.close()


def supervise(ws: Workspace, options: UpOptions, prepared: tuple[RuntimeInstall, str] | None = None) -> int:
    """The detached supervisor: no console, logs to the store only."""
    runtime, backend = prepared or prepare(ws, options)
    hub = EventHub(log_store(ws), None)

    async def main() -> int:
        orch = Orchestrator(ws, runtime, hub, options, backend_factory(runtime), backend)
        return await orch.run()

    try:
        return asyncio.run(main())
    finally:
        hub.store.close()


def run_detached(ws: Workspace, options: UpOptions, timeout: float = 300.0) -> int:
    """Fork a supervisor into its own session and wait until its stack is up.

    A fork, not a new interpreter: the child starts with everything already imported and
    the workspace already loaded, which saves a second start-up (~0.4 s) on every `up -d`.
    """
    prepared = prepare(ws, options)  # refuse early: already running, runtime missing
    log_path = runstate.run_dir(ws.state_dir) / "supervisor.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    sys.stdout.flush()
    sys.stderr.flush()
    child = os.fork()
    if child == 0:  # the supervisor
        code = 1
        try:
            os.setsid()
            log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.chdir(ws.root)
            code = supervise(ws, options, prepared)
        except BaseException:  # everything, even SystemExit: the log is the only witness
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    console = ui.err
    state: dict[str, Any] | None = None
    shown = ""
    with console.status("starting the stack in the background…") as status:
        while True:
            state = runstate.read_state(ws.state_dir)
            if state and (state.get("supervisor") or {}).get("pid") != child:
                state = None  # left by an earlier supervisor that was killed; ours cleans it up
            if state and state.get("settled"):
                break
            if os.waitpid(child, os.WNOHANG) != (0, 0):
                tail = log_path.read_text(errors="replace").splitlines()[-25:]
                raise StartupError("the background supervisor stopped during start", details=tail,
                                   hint=f"full log: {log_path}")
            if time.monotonic() - began > timeout:
                raise StartupError(f"the stack was not up after {timeout:g} s", hint="see `aura dev logs`")
            if state:
                units = state.get("units", {})
                ready = sum(1 for u in units.values() if u.get("state") == "ready")
                progress = f"{ready}/{len(units)} units ready"
                status.update(f"starting the stack in the background… {progress}")
                if not console.is_terminal and progress != shown:
                    # No spinner in a CI log or a pipe: a line each time the count moves.
                    console.print(f"starting in the background: {progress} ({time.monotonic() - began:.1f} s)")
                    shown = progress
            time.sleep(0.02)
    from aura_dev.cli.progress import summary

    summary(ui.out, state, time.monotonic() - began)
    ui.out.print(f"[dim]supervisor pid {child}; stop with `aura dev down`[/]")
    services = state.get("services", {})
    return 0 if all(s.get("ready") for s in services.values()) else 1


def bring_down(ws: Workspace | WorkspaceRef, timeout: float = 60.0) -> tuple[float, list[str]]:
    """Stop the running stack (or clean up after a killed supervisor); (seconds, what was cleaned)."""
    began = time.monotonic()
    cleaned: list[str] = []
    if runstate.supervisor_running(ws.state_dir):
        socket_path = runstate.control_socket_path(ws.state_dir)
        try:
            request(socket_path, {"op": "down"}, timeout=10)
        except NotRunning:
            pid = runstate.supervisor_pid(ws.state_dir)
            if pid:
                os.kill(pid, 15)
        while runstate.supervisor_running(ws.state_dir):
            if time.monotonic() - began > timeout:
                raise StartupError(f"the supervisor did not stop within {timeout:g} s")
            time.sleep(0.02)
    state = runstate.read_state(ws.state_dir)
    if state:  # a supervisor that died without cleaning up
        cleaned = runstate.kill_process_groups(state)
        if any(u.get("container") for u in (state.get("units") or {}).values()):
            from aura_dev.infra.docker import docker_client, remove_workspace_containers
            cleaned += remove_workspace_containers(docker_client(10), runstate.workspace_key(ws.root))
        reset_scheduler_data(ws.state_dir)
        runstate.clear_state(ws.state_dir)
    return time.monotonic() - began, cleaned


def control(ws: Workspace | WorkspaceRef, op: str, services: list[str], which: str) -> dict[str, Any]:
    if not runstate.supervisor_running(ws.state_dir):
        raise NotRunning(f"{ws.name} is not running", hint="start it with `aura dev up`")
    reply = request(runstate.control_socket_path(ws.state_dir), {"op": op, "services": services, "which": which})
    if not reply.get("ok"):
        from aura_dev.errors import UnknownService
        raise UnknownService(str(reply.get("error")), hint=reply.get("hint"))
    return reply


def status(ws: Workspace | WorkspaceRef) -> dict[str, Any]:
    running = runstate.supervisor_running(ws.state_dir)
    state = runstate.read_state(ws.state_dir) if running else None
    if not state:
        return {"running": False, "workspace": str(ws.root), "name": ws.name}
    now = time.time()
    for unit in state.get("units", {}).values():
        pid, created = unit.get("pid"), unit.get("create_time")
        if isinstance(pid, int) and isinstance(created, (int, float)):
            unit["alive"] = runstate.same_process(pid, float(created))
        elif unit.get("container"):
            unit["alive"] = unit.get("state") == "ready"
        else:
            unit["alive"] = False
        since = unit.get("since")
        unit["uptime"] = round(now - since, 1) if isinstance(since, (int, float)) and unit.get("state") == "ready" else None
    return {"running": True, **state}


def print_status(console: Console, data: dict[str, Any]) -> None:
    from rich.table import Table

    if not data.get("running"):
        console.print(f"{data['name']} is not running")
        return
    console.print(f"[bold]{data['name']}[/] running · supervisor pid {data['supervisor']['pid']} · "
                  f"infra: {data['backend']} · Dapr {data['runtimeVersion']}")
    table = Table(box=None, padding=(0, 2), header_style="dim")
    for column in ("unit", "state", "pid", "ports", "restarts", "uptime"):
        table.add_column(column)
    for label, unit in data.get("units", {}).items():
        ports = " ".join(f"{k}={v}" for k, v in (unit.get("ports") or {}).items() if v)
        state = unit.get("state", "?")
        style = {"ready": "green", "failed": "bold red", "backoff": "yellow", "starting": "yellow"}.get(state, "")
        ident = str(unit.get("pid") or (unit.get("container") or "")[:12] or "-")
        uptime = f"{unit['uptime']:.0f} s" if unit.get("uptime") is not None else "-"
        table.add_row(label, f"[{style}]{state}[/]" if style else state, ident, ports,
                      str(unit.get("restarts", 0)), uptime)
    console.print(table)

