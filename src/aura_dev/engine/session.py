"""A run of the stack as a whole: preparing it (runtime, backend), supervising it in this
process or in a detached one, and acting on a running one from another terminal (down,
status, restart/stop/start).  No printing here: the CLI presents what these return."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from aura_dev.engine import runstate, signals
from aura_dev.engine.stack_down import bring_down as bring_down  # where callers found it before
from aura_dev.engine.unjoined_executor import UnjoinedExecutor
from aura_dev.engine.control import ControlReply, ControlRequest, Operation, Which, request
from aura_dev.engine.events import EventHub
from aura_dev.engine.orchestrator import Orchestrator, UpOptions
from aura_dev.engine.snapshot import StackSnapshot
from aura_dev.errors import AlreadyRunning, NotRunning, StartupError, UnknownService
from aura_dev.infra.select import backend_factory, resolve_backend
from aura_dev.logs.store import LogStore
from aura_dev.runtime import RuntimeInstall, require_runtime
from aura_dev.workspace.load import Workspace
from aura_dev.workspace.locate import AtWorkspaceFile, WorkspaceRef

DETACHED_POLL_SECONDS = 0.02
STOP_WAIT_SECONDS = 120.0  # an `up` waits this long for a stack that is stopping


@dataclass(frozen=True)
class Prepared:
    runtime: RuntimeInstall
    backend: str
    backend_reason: str | None  # why `auto` chose native, if it did


def log_store(ws: Workspace) -> LogStore:
    logs = ws.spec.logs
    return LogStore(ws.state_dir / "logs", max_file_size=int(logs.max_file_size),
                    max_total_size=int(logs.max_total_size))


def unit_labels(ws: Workspace, selected: list[str]) -> list[str]:
    labels = ["redis", "placement", "scheduler", "zipkin"]
    for name in selected or ws.services:
        labels.append(name)
        if ws.has_sidecar(name):
            labels.append(f"{name}·dapr")
    return labels


def prepare(ws: Workspace, options: UpOptions) -> Prepared:
    """Refuse early (an unknown service, already running, no runtime) and choose the infra
    backend.  Nothing is written before these checks pass.  A stack that is stopping (a `down`
    in flight) is waited for, then this one starts."""
    ws.selection(options.selected)
    began = time.monotonic()
    while runstate.supervisor_running(ws.state_dir) and runstate.stopping(ws.state_dir):
        if time.monotonic() - began > STOP_WAIT_SECONDS:
            raise StartupError(f"{ws.name} is still stopping after {STOP_WAIT_SECONDS:g} s",
                               hint="see `aura dev status`; `aura dev down` ends what is left")
        time.sleep(DETACHED_POLL_SECONDS)
    if runstate.supervisor_running(ws.state_dir):
        pid = runstate.supervisor_pid(ws.state_dir)
        raise AlreadyRunning(f"{ws.name} is already running" + (f" (supervisor pid {pid})" if pid else ""),
                             hint="stop it with `aura dev down`; see it with `aura dev status`")
    runtime = require_runtime(ws.spec.dapr.runtime_version)
    backend, why = resolve_backend(options.backend or ws.spec.infra.backend, ws, runtime.version)
    return Prepared(runtime, backend, why)


class SupervisorHook(Protocol):
    """Something served beside the stack by its supervisor (the dashboard), passed in by the
    CLI: the engine never imports what sits above it."""

    def prepare(self, orch: Orchestrator) -> None:
        """Before the start, and cheap: claim what it needs (a port), add itself to the snapshot."""
        ...

    async def serving(self, orch: Orchestrator) -> None:
        """Once the stack is up, on the supervisor's loop: start its tasks (`orch.spawn`) and return."""
        ...

    def close(self, orch: Orchestrator) -> None:
        """After the stack has stopped, whether `serving` was called or not (a `down` can
        come before the extras start): release what `prepare` took."""
        ...


def supervise(ws: Workspace, options: UpOptions, prepared: Prepared, hub: EventHub,
              on_started: Callable[[Orchestrator], None] | None = None,
              on_orchestrator: Callable[[Orchestrator, asyncio.AbstractEventLoop], None] | None = None,
              hooks: Sequence[SupervisorHook] = (), parent: int | None = None,
              before_serving: Callable[[], Awaitable[None]] | None = None) -> int:
    """Run the stack in this process until it is asked to stop; the exit code.  With
    `parent` (a foreground run), it also stops when that process is gone.  What is served
    beside the stack once it is up (metrics, hooks) starts after `before_serving`; the file
    watcher does not wait."""

    async def serving(orch: Orchestrator) -> None:
        if options.reload:  # at once: a save right after `up` returns must be seen
            from aura_dev.engine.live_reload import LiveReload

            orch.spawn(LiveReload(orch).watch())
        if before_serving is not None:
            await before_serving()
        if orch.shutdown_requested.is_set():  # a `down` right after `up`: start nothing more
            return
        from aura_dev.engine.metrics_scraper import MetricsScraper, sidecar_metrics_ports

        orch.spawn(MetricsScraper(orch.ws.state_dir, lambda: sidecar_metrics_ports(orch.services),
                                  on_update=orch.hub.metrics).run())
        for hook in hooks:
            await hook.serving(orch)

    if isinstance(hub.store, LogStore):
        hub.store.on_trouble = hub.tell_views

    async def main() -> int:
        asyncio.get_running_loop().set_default_executor(UnjoinedExecutor())  # its threads never delay the exit
        orch = Orchestrator(ws, prepared.runtime, hub, options, backend_factory(prepared.runtime), prepared.backend)
        if options.reload:
            from aura_dev.engine import warm_reload

            warm_reload.install(orch)
        for hook in hooks:
            hook.prepare(orch)
        if on_orchestrator is not None:
            on_orchestrator(orch, asyncio.get_running_loop())
        if parent is not None and not signals.hangup_ignored():
            orch.spawn(signals.stop_when_orphaned(parent, hub, orch.request_shutdown))
        try:
            return await orch.run(on_started=on_started, on_serving=serving)
        finally:
            for hook in hooks:
                hook.close(orch)

    return asyncio.run(main())


def start_detached(ws: Workspace, options: UpOptions, prepared: Prepared, hooks: Sequence[SupervisorHook] = ()) -> int:
    """Fork a supervisor into its own session; its pid.

    A fork, not a new interpreter: the child starts with everything already imported and
    the workspace already loaded, which saves a second start-up (~0.4 s) on every `up -d`.
    """
    supervisor_log(ws).parent.mkdir(parents=True, exist_ok=True)
    options.cpu_before = time.process_time()  # the child's own CPU clock starts at zero
    child = os.fork()
    if child != 0:
        return child
    code = 1  # the supervisor
    try:
        os.setsid()
        detach_output(ws)
        store = log_store(ws)
        try:
            code = supervise(ws, options, prepared, EventHub(store), hooks=hooks)
        finally:
            store.close()
    except BaseException:  # everything, even SystemExit: the log is the only witness
        import traceback

        traceback.print_exc()
    finally:
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def supervisor_log(ws: Workspace | AtWorkspaceFile) -> Path:
    return runstate.supervisor_log_path(ws.state_dir)


def detach_output(ws: Workspace) -> None:
    """A detached supervisor's own stdout and stderr go to its log, stdin to /dev/null, and
    it works from the workspace's folder (no terminal or pipe of the command kept open)."""
    log_path = supervisor_log(ws)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    null = os.open(os.devnull, os.O_RDONLY)
    for target, source in ((0, null), (1, log), (2, log)):
        os.dup2(source, target)
    os.close(log)
    os.close(null)
    os.chdir(ws.root)


def control(ws: Workspace | WorkspaceRef, op: Operation, services: list[str], which: Which) -> ControlReply:
    if not runstate.supervisor_running(ws.state_dir):
        raise NotRunning(f"{ws.name} is not running", hint="start it with `aura dev up`")
    if runstate.stopping(ws.state_dir):  # its control socket may be closed already
        raise NotRunning(f"{ws.name} is stopping", hint="start it again with `aura dev up`")
    reply = request(runstate.control_socket_path(ws.state_dir), ControlRequest(op, tuple(services), which))
    if not reply.ok:
        raise UnknownService(str(reply.error), hint=reply.hint)
    return reply
