"""The event loop that owns the running stack: start order, readiness, restarts, control
requests, live changes and shutdown order.  Only the orchestrator changes run state; the
console, `status`, the dashboard and the watcher act through its public methods
(`handle_control`, `reload_app`, `reload_resources`, `apply`) and read its snapshot."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aura_dev.engine import launch_record, leftovers, runstate, signals
from aura_dev.engine.control import ControlReply, ControlRequest, Operation, Which, serve
from aura_dev.engine.dapr_init_notices import DefaultAddressNotices
from aura_dev.engine.events import EventHub, StateChange
from aura_dev.engine.infra_start import InfraSet
from aura_dev.engine.portbook import PortBook
from aura_dev.engine.up_options import UpOptions as UpOptions  # where callers found it before
from aura_dev.engine.runner import UnitRunner
from aura_dev.engine.service_start import ServiceStarter
from aura_dev.engine.shutdown import stop_service, stop_stack
from aura_dev.engine.services import ServiceRun, ServiceUnits, register_metadata
from aura_dev.engine.timeline import StartTimeline
from aura_dev.engine.live_snapshot import build_snapshot
from aura_dev.engine.snapshot import DashboardRecord, StackSnapshot
from aura_dev.engine.unit_state import UnitState
from aura_dev.errors import NotRunning, UnknownService
from aura_dev.infra.base import InfraBackend
from aura_dev.infra.select import remove_leftover_containers
from aura_dev.logs.record import Level
from aura_dev.plan.changes import WorkspaceChanges, diff_workspaces
from aura_dev.plan.infra import InfraKind
from aura_dev.plan.model import RunContext
from aura_dev.plan.resources import prepare_resources
from aura_dev.plan.service import service_plan
from aura_dev.runtime import RuntimeInstall
from aura_dev.units import head_start
from aura_dev.workspace.graph import closure
from aura_dev.workspace.load import Workspace

STORE_FLUSH_SECONDS = 0.02  # how often buffered log store writes reach the disk
STATE_WRITE_DELAY = 0.02  # state changes within this window give one write of state.json


class Orchestrator:
    def __init__(self, ws: Workspace, runtime: RuntimeInstall, hub: EventHub, options: UpOptions,
                 backend_factory: Callable[[str], InfraBackend], backend_name: str) -> None:
        self.ws = ws
        self.runtime = runtime
        self.hub = hub
        self.options = options
        self.backend_name = backend_name
        self.key = runstate.workspace_key(ws.root)
        self.shutdown_requested = asyncio.Event()
        self.startup_settled = asyncio.Event()
        self.ports = PortBook(ws.state_dir, seed=self.key)
        self.infra = InfraSet(ws, hub, backend_factory(backend_name), self.ports, key=self.key,
                              runtime_version=runtime.version, stop_grace=options.stop_grace,
                              ready_timeout=options.ready_timeout, on_moved=self._infra_moved)
        self.timeline = StartTimeline(options.invoked_at or time.time(), options.cpu_before)
        self.timeline.follow(hub)
        self.units = ServiceUnits(hub, stop_grace=options.stop_grace, ready_timeout=options.ready_timeout,
                                  on_port_conflict=self._port_conflict, on_app_ready=self._on_app_ready,
                                  on_listening=self.timeline.listening)
        self.services: dict[str, ServiceRun] = {}
        self.starter = ServiceStarter(self.services, self.shutdown_requested, self.timeline, self.infra.runners)
        self.dapr_init_notices = DefaultAddressNotices(hub)
        self.selected = ws.selection(self.options.selected)
        self.ctx: RunContext | None = None
        self.api_token = secrets.token_urlsafe(24) if ws.spec.dapr.api_token else None
        self.started_at = time.time()
        self.dashboard: DashboardRecord | None = None  # set by the dashboard's hook (the engine never imports it)
        self._state_dirty = False
        self._state_cleared = False  # after the stop: a write still scheduled must not bring state.json back
        self._tasks: set[asyncio.Task[Any]] = set()
        self.hub.state_listeners.append(self._on_state)

    # ------------------------------------------------------------------ what runs

    def _make_context(self) -> RunContext:
        """Infra endpoints and rendered components as every service plan sees them."""
        endpoints = self.infra.endpoints()
        prepared = prepare_resources(self.ws, endpoints)
        self.dapr_init_notices.report(prepared.defaults, prepared.tracing_notes)
        return RunContext(daprd=self.runtime.daprd, infra=endpoints, resources=prepared.shared,
                          service_resources=prepared.per_service, configs=prepared.configs, api_token=self.api_token,
                          default_config=prepared.default_config)

    def _plan(self, name: str, ports: Any = None) -> Any:
        assert self.ctx is not None
        return service_plan(self.ws, name, ports or self.ports.service_ports(self.ws, name), self.ctx)

    def _infra_moved(self, kind: InfraKind) -> None:
        """New infra ports: every plan and the components follow; a unit already started
        with the old address (in its flags or env) starts again."""
        self.ctx = self._make_context()
        for run in self.services.values():
            before = run.plan
            run.plan = self._plan(run.name, before.ports)
            for runner, changed in ((run.app, run.plan.app != before.app),
                                    (run.sidecar, run.plan.sidecar != before.sidecar)):
                if runner is not None and changed and runner.state in (UnitState.READY, UnitState.STARTING):
                    self.spawn(runner.restart("infra moved to new ports"))

    def _port_conflict(self, run: ServiceRun, conflicted: UnitRunner) -> bool:
        if not self.ports.may_move(conflicted.ref.label):
            return False
        ports = self.ports.fresh_service_ports(self.ws, run.name, run.plan.ports)
        if ports == run.plan.ports:
            return False
        run.plan = self._plan(run.name, ports)
        # Both units carry the other's ports (app env, daprd --app-port): restart the partner
        # (the unit that hit the conflict starts again on its own, with the new plan).
        for runner in run.runners():
            if runner is not conflicted and runner.state in (UnitState.READY, UnitState.STARTING):
                self.spawn(runner.restart("restarting with new ports"))
        self.ports.save()
        return True

    def _on_app_ready(self, run: ServiceRun) -> None:
        if run.sidecar is not None:
            self.spawn(register_metadata(run, workspace_file=self.ws.file, workspace_name=self.ws.name,
                                         logs_dir=self.ws.state_dir / "logs", api_token=self.api_token))

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """A background task of the run, kept until it ends, cancelled at shutdown."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ start

    async def start(self) -> None:
        """Everything up to 'all ready' (or settled with failures)."""
        self.ports.check_explicit(self.ws, self.selected)
        self.hub.notice(None, f"starting {self.ws.name}: {len(self.selected)} services, infra via {self.backend_name}")
        self.infra.create()
        self.ctx = self._make_context()
        for name in self.selected:
            self.services[name] = self.units.make(self._plan(name))
        self.ports.save()
        self.timeline.planned()
        self.infra.launch(observers_after=self.startup_settled, spawn=self.spawn)
        redis = asyncio.ensure_future(self.infra.redis_ready(self.shutdown_requested))
        if not self.services:
            self.startup_settled.set()
        gate = redis if self.infra.sidecars_wait_for_redis else None
        starters = [asyncio.ensure_future(self.starter.start(run, gate)) for run in self.services.values()]
        waiter = asyncio.ensure_future(self.startup_settled.wait())
        stopper = asyncio.ensure_future(self.shutdown_requested.wait())
        await asyncio.wait([waiter, stopper, redis], return_when=asyncio.FIRST_COMPLETED)
        if not redis.done() and self.infra.redis_gave_up():  # settled by Redis's failure: its error says why
            await asyncio.wait([redis], timeout=1.0)
        if redis.done() and redis.exception() is not None:  # Redis could not start: nothing can
            self.request_shutdown()
            raise redis.exception()  # type: ignore[misc]
        await asyncio.wait([waiter, stopper], return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        stopper.cancel()
        await asyncio.gather(*starters)

    def _on_state(self, change: StateChange) -> None:
        if not self._state_dirty:
            self._state_dirty = True
            asyncio.get_running_loop().call_later(STATE_WRITE_DELAY, self._write_state)
        if not self.startup_settled.is_set() and self.services and self._settled():
            self.startup_settled.set()
            self.timeline.finish()
            head_start.release_unclaimed()  # early processes no unit wanted
            self._write_state()

    def _settled(self) -> bool:
        """Every infra unit ready or down; every service ready, down, or held back by one that is down."""
        if not all(r.ready.is_set() or r.state.is_down for r in self.infra.gating()):
            return False
        for run in self.services.values():
            if run.is_ready() or run.is_down():
                continue
            upstream = closure(self.ws.depends_on(), [run.name]) - {run.name}
            if not any(self.services[d].is_down() for d in upstream if d in self.services):
                return False
        return True

    # ------------------------------------------------------------------ state

    def snapshot(self) -> StackSnapshot:
        return build_snapshot(ws=self.ws, key=self.key, backend=self.backend_name,
                              runtime_version=self.runtime.version, started_at=self.started_at,
                              settled=self.startup_settled.is_set(), dashboard=self.dashboard,
                              control=runstate.control_socket_path(self.ws.state_dir), infra=self.infra,
                              services=self.services, timeline=self.timeline.to_json())

    def _write_state(self) -> None:
        self._state_dirty = False
        if not self._state_cleared:
            runstate.write_state(self.ws.state_dir, self.snapshot())

    # ------------------------------------------------------------------ acting on it

    async def handle_control(self, request: ControlRequest) -> ControlReply:
        if request.op is Operation.DOWN:
            self.request_shutdown()
            return ControlReply(ok=True)
        if self.shutdown_requested.is_set():  # a unit must not start again under a stop
            raise NotRunning(f"{self.ws.name} is stopping", hint="start it again with `aura dev up`")
        unknown = [n for n in request.services if n not in self.services]
        if unknown:
            raise UnknownService(f"not running: {', '.join(unknown)}",
                                 hint=f"running services: {', '.join(self.services)}")
        started = time.monotonic()
        await asyncio.gather(*(self.act(name, request.op, request.which) for name in request.services))
        return ControlReply(ok=True, seconds=round(time.monotonic() - started, 3),
                            states={n: self.services[n].is_ready() for n in request.services})

    async def act(self, name: str, op: Operation, which: Which = Which.ALL, reason: str = "") -> None:
        runners = self.services[name].runners(which)
        if op is Operation.STOP:
            await asyncio.gather(*(r.stop() for r in runners))
            return
        if op is Operation.START:
            for r in runners:
                r.start()
        else:
            await asyncio.gather(*(r.restart(reason or f"{op.value} requested") for r in runners))
        await asyncio.gather(*(self.until_settled(r) for r in runners))

    async def until_settled(self, runner: UnitRunner) -> None:
        """Until the runner is ready again or has given up."""
        while not runner.ready.is_set() and runner.state not in (UnitState.FAILED, UnitState.EXITED) \
                and not self.shutdown_requested.is_set():
            waiters = [asyncio.ensure_future(runner.ready.wait()), asyncio.ensure_future(runner.finished.wait()),
                       asyncio.ensure_future(self.shutdown_requested.wait())]
            _done, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED, timeout=1.0)
            for task in pending:
                task.cancel()

    async def reload_app(self, name: str, reason: str) -> bool:
        """A code change: the app restarts, handing over to a new process (its sidecar stays);
        True once the new one is ready."""
        run = self.services.get(name)
        if run is None or self.ctx is None or self.shutdown_requested.is_set():
            return False
        run.plan = self._plan(name, run.plan.ports)  # env files may have changed
        await run.app.restart(reason, after_change=True, overlap=True)
        await self.until_settled(run.app)
        return run.app.ready.is_set()

    async def reload_resources(self, services: list[str], reason: str) -> None:
        """Component files changed: render them again (in place) and restart the sidecars
        that load them."""
        self.ctx = self._make_context()
        affected = [name for name in services if name in self.services]
        for name in affected:
            sidecar = self.services[name].sidecar
            if sidecar is not None:
                self.hub.notice(sidecar.ref, f"{reason}: restarting the sidecar")
        await asyncio.gather(*(self.act(name, Operation.RESTART, Which.SIDECAR, reason=reason) for name in affected))

    async def apply(self, new: Workspace) -> WorkspaceChanges:
        """An edited aura.yaml: added services start, removed ones stop, changed ones restart
        with their new settings (the sidecar too when its flags change)."""
        old = self.ws
        changes = diff_workspaces(old, new, list(self.services), self.options.selected)
        if changes.nothing:
            return changes
        self.ws = new
        if changes.infra_changed:
            self.hub.notice(None, "infra or runtime settings changed: they apply at the next `aura dev up`",
                            Level.WARN)
        if changes.shared_dapr_changed or changes.removed or changes.added:
            self.ctx = self._make_context()
        self.selected = list(changes.selected)
        for name in changes.removed:
            run = self.services.pop(name)
            self.hub.notice(run.app.ref, f"removed from {new.file.name}: stopping it")
            await stop_service(self.hub, run)
        for change in changes.changed:
            run = self.services[change.name]
            if change.new_ports:
                self.ports.forget_service(change.name)
            run.configure(self._plan(change.name, None if change.new_ports else run.plan.ports),
                          self.options.ready_timeout)
            which = Which.ALL if change.restart_sidecar else Which.APP
            self.spawn(self.act(change.name, Operation.RESTART, which, reason=f"{new.file.name} changed"))
        for name in changes.added:
            run = self.services[name] = self.units.make(self._plan(name))
            self.hub.notice(run.app.ref, f"added to {new.file.name}: starting it")
            self.spawn(self.starter.start(run))
        self.ports.save()
        summary = [f"{len(changes.added)} added", f"{len(changes.removed)} removed", f"{len(changes.changed)} restarted"]
        self.hub.notice(None, f"{new.file.name} reloaded: {', '.join(summary)}")
        return changes

    def request_shutdown(self) -> None:
        if not self.shutdown_requested.is_set():
            runstate.mark_stopping(self.ws.state_dir)
        self.shutdown_requested.set()

    def force_kill(self) -> None:
        runstate.kill_process_groups(self.snapshot(), grace=0.0, spare=self.infra.kept.pids())  # infra.keep
        if self.backend_name == "docker":
            remove_leftover_containers(self.key, timeout=5)
        runstate.clear_state(self.ws.state_dir)

    # ------------------------------------------------------------------ stop

    async def stop_all(self) -> None:
        """Apps together, each sidecar once its app is gone, then infra (`engine.shutdown`)."""
        head_start.release_unclaimed()  # a start cut short: early processes no unit adopted yet
        await stop_stack(self.hub, list(self.services.values()), list(self.infra.runners.values()))
        for task in list(self._tasks):
            task.cancel()

    # ------------------------------------------------------------------ the whole run

    async def run(self, *, on_started: Callable[[Orchestrator], None] | None = None,
                  on_serving: Callable[[Orchestrator], Coroutine[Any, Any, None]] | None = None) -> int:
        lock = runstate.SupervisorLock(self.ws.state_dir)
        lock.acquire()
        server = None
        try:
            self.cleanup_stale()
            signals.install(self.hub, self.shutdown_requested, self.request_shutdown, self.force_kill)
            flusher = asyncio.ensure_future(self._flush_periodically())
            try:
                await self.start()
                self.timeline.finish()  # also a start with no services, or one cut short
                if not self.shutdown_requested.is_set():
                    self._write_state()
                    if on_started is not None:
                        on_started(self)
                    launch_record.remember(self.ws, self.options, self.infra, self.services)  # for the next start's head start
                    server = await serve(runstate.control_socket_path(self.ws.state_dir), self.handle_control)
                    if on_serving is not None:  # a task: a `down` must not wait for the extras
                        self.spawn(on_serving(self))
                    await self.shutdown_requested.wait()
            finally:
                if server is not None:
                    server.close()
                await self.stop_all()
                flusher.cancel()
                self.hub.notice(None, self.infra.stopped_line())
                self.hub.flush()
        finally:
            self._state_cleared = True
            runstate.clear_state(self.ws.state_dir)
            runstate.control_socket_path(self.ws.state_dir).unlink(missing_ok=True)
            lock.release()
        failed = any(r.state is UnitState.FAILED for run in self.services.values() for r in run.runners())
        return 1 if failed else 0

    async def _flush_periodically(self) -> None:
        # The store buffers writes (few syscalls for a chatty service); this bounds how late a line
        # reaches `aura dev logs -f`.  A flush with nothing buffered makes no syscall: cheap when quiet.
        while True:
            await asyncio.sleep(STORE_FLUSH_SECONDS)
            self.hub.flush()

    def cleanup_stale(self) -> None:
        """Leftovers of a supervisor killed without a chance to clean up (kill -9)."""
        cleaned = leftovers.reap(self.ws.state_dir)
        if cleaned:
            self.hub.notice(None, f"cleaned up after a previous run that did not stop: {', '.join(cleaned)}", Level.WARN)
