"""The event loop that owns the running stack: start order, readiness, restarts, reloads,
control requests and shutdown order.  Only the orchestrator changes run state."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import psutil

from aura_dev.engine import runstate
from aura_dev.plan.resources import prepare_resources
from aura_dev.engine.control import serve
from aura_dev.errors import InfraError, PortInUse, UnknownService
from aura_dev.engine.events import EventHub, StateChange
from aura_dev.workspace.graph import closure, dependency_waves
from aura_dev.infra.base import InfraBackend, InfraKind, InfraPorts, InfraRequest, InfraService, ports_needed
from aura_dev.logs.record import Level, Source, UnitRef
from aura_dev.plan.service import InfraEndpoints, RunContext, ServicePlan, ServicePorts, SidecarPorts, service_plan
from aura_dev.net import LOOPBACK, PortAllocator, can_bind, port_holder
from aura_dev.units.probes import http_request, http_status, tcp_open
from aura_dev.units.process import ProcessUnit
from aura_dev.engine.live_reload import LiveReload
from aura_dev.engine.runner import UnitRunner
from aura_dev.runtime import RuntimeInstall
from aura_dev.engine.unit_state import RestartPolicy, UnitState
from aura_dev.workspace.load import Workspace
from aura_dev.workspace.model import RestartSettings

INFRA_RESTART = RestartSettings.model_validate({"policy": "always", "maxRestarts": 5, "window": 60})
PORTS_FILE = "ports.json"
MAX_PORT_MOVES = 3  # new ports for one unit whose port was taken, per run
NOTHING_TO_PROBE_GRACE = 0.5  # seconds an unprobeable app must stay up to count as started
STORE_FLUSH_SECONDS = 0.02  # how often buffered log store writes reach the disk


@dataclass
class UpOptions:
    selected: list[str] = field(default_factory=list)
    backend: str | None = None
    reload: bool = True
    ready_timeout: float | None = None
    stop_grace: float = 5.0


@dataclass
class ServiceRun:
    name: str
    plan: ServicePlan
    app: UnitRunner
    sidecar: UnitRunner | None

    def is_ready(self) -> bool:
        return self.app.ready.is_set() and (self.sidecar is None or self.sidecar.ready.is_set())

    def runners(self) -> list[UnitRunner]:
        return [self.app] + ([self.sidecar] if self.sidecar else [])


class Orchestrator:
    def __init__(self, ws: Workspace, runtime: RuntimeInstall, hub: EventHub, options: UpOptions,
                 backend_factory: Callable[[str], InfraBackend], backend_name: str) -> None:
        self.ws = ws
        self.runtime = runtime
        self.hub = hub
        self.options = options
        self.backend_name = backend_name
        self.backend = backend_factory(backend_name)
        self.key = runstate.workspace_key(ws.root)
        self.shutdown_requested = asyncio.Event()
        self.startup_settled = asyncio.Event()
        self.infra: dict[InfraKind, InfraService] = {}
        self.infra_requests: dict[InfraKind, InfraRequest] = {}
        self._unused_infra_units: set[InfraKind] = set()  # created, not yet handed to their runner
        self._port_moves: dict[UnitRef, int] = {}  # new ports handed out per unit after a conflict
        self.infra_runners: dict[InfraKind, UnitRunner] = {}
        self.services: dict[str, ServiceRun] = {}
        self.selected = self._selection()
        self.waves = dependency_waves({n: self.ws.services[n].depends_on for n in self.selected})
        self.allocator = PortAllocator(seed=self.key)
        self.saved_ports = self._load_saved_ports()
        self.ctx: RunContext | None = None
        self.api_token = secrets.token_urlsafe(24) if ws.spec.dapr.api_token else None
        self.started_at = time.time()
        self._state_dirty = False
        self.hub.state_listeners.append(self._on_state)
        self.extra_tasks: list[asyncio.Task[Any]] = []
        self.reloader = LiveReload(self)

    # ------------------------------------------------------------------ selection, ports

    def _selection(self) -> list[str]:
        requested = self.options.selected or list(self.ws.services)
        unknown = [name for name in requested if name not in self.ws.services]
        if unknown:
            raise UnknownService(f"no service named {', '.join(unknown)} in {self.ws.file.name}",
                                 hint=f"services: {', '.join(self.ws.services) or 'none'}")
        chosen = closure(self.ws.depends_on(), requested)
        return [name for name in self.ws.services if name in chosen]

    def _load_saved_ports(self) -> dict[str, int]:
        try:
            data = json.loads((runstate.run_dir(self.ws.state_dir) / PORTS_FILE).read_text())
            return {str(k): int(v) for k, v in data.items()}
        except (OSError, ValueError, AttributeError):
            return {}

    def _port(self, key: str, explicit: int | str | None) -> int:
        """An explicit port as given; an auto one as last time if still free, else a new one."""
        if isinstance(explicit, int):
            return explicit
        saved = self.saved_ports.get(key)
        if saved is not None and saved not in self.allocator._taken and can_bind(saved):
            self.allocator.reserve(saved)
            port = saved
        else:
            port = self.allocator.allocate()
        self.saved_ports[key] = port
        return port

    def check_explicit_ports(self) -> None:
        """Explicit ports must be free before anything starts; say who holds a taken one."""
        claims: list[tuple[int, str]] = []
        infra = self.ws.spec.infra
        for kind in ("redis", "placement", "scheduler"):
            unit = getattr(infra, kind)
            if unit.enabled and isinstance(unit.port, int):
                claims.append((unit.port, f"infra.{kind}.port"))
        for name in self.selected:
            svc = self.ws.services[name]
            if isinstance(svc.app_port, int):
                claims.append((svc.app_port, f"services.{name}.appPort"))
            if svc.dapr.enabled:
                for key in ("http_port", "grpc_port", "internal_grpc_port", "metrics_port"):
                    value = getattr(svc.dapr, key)
                    if isinstance(value, int):
                        claims.append((value, f"services.{name}.dapr.{key}"))
        busy = []
        for port, where in claims:
            self.allocator.reserve(port)
            if not can_bind(port):
                holder = port_holder(port)
                busy.append(f"{where}: port {port} is held by {holder.describe() if holder else 'another process'}")
        if busy:
            raise PortInUse(f"{len(busy)} port{'s' if len(busy) > 1 else ''} of the workspace "
                            f"{'are' if len(busy) > 1 else 'is'} already in use; nothing was started",
                            details=busy, hint="stop what holds them, or set those ports to 'auto'")

    def _service_ports(self, name: str) -> ServicePorts:
        svc = self.ws.services[name]
        app = None if svc.app_port is None else self._port(f"{name}.app", svc.app_port)
        sidecar = None
        if svc.dapr.enabled:
            d = svc.dapr
            sidecar = SidecarPorts(
                http=self._port(f"{name}.dapr.http", d.http_port),
                grpc=self._port(f"{name}.dapr.grpc", d.grpc_port),
                internal_grpc=self._port(f"{name}.dapr.internal", d.internal_grpc_port),
                metrics=self._port(f"{name}.dapr.metrics", d.metrics_port),
            )
        return ServicePorts(app=app, sidecar=sidecar)

    def _fresh_ports(self, name: str, old: ServicePorts) -> ServicePorts:
        """New auto ports for a service whose port was grabbed between choice and bind."""
        svc = self.ws.services[name]
        for key in [k for k in self.saved_ports if k.startswith(f"{name}.")]:
            del self.saved_ports[key]
        app = old.app if isinstance(svc.app_port, int) or old.app is None else self.allocator.allocate()
        sidecar = old.sidecar
        if sidecar is not None:
            d = svc.dapr
            sidecar = SidecarPorts(
                http=d.http_port if isinstance(d.http_port, int) else self.allocator.allocate(),
                grpc=d.grpc_port if isinstance(d.grpc_port, int) else self.allocator.allocate(),
                internal_grpc=d.internal_grpc_port if isinstance(d.internal_grpc_port, int) else self.allocator.allocate(),
                metrics=d.metrics_port if isinstance(d.metrics_port, int) else self.allocator.allocate(),
            )
        return ServicePorts(app=app, sidecar=sidecar)

    # ------------------------------------------------------------------ infra

    def _infra_requests(self) -> list[InfraRequest]:
        infra = self.ws.spec.infra
        requests = []
        for kind in InfraKind:
            settings = getattr(infra, kind.value)
            if not settings.enabled:
                continue
            main = self._port(f"infra.{kind.value}", settings.port)
            named = {extra: self._port(f"infra.{kind.value}.{extra}", None) for extra in ports_needed(kind)}
            ports = InfraPorts(main, named.pop("healthz", None), named.pop("metrics", None), named)
            requests.append(InfraRequest(
                kind=kind, ports=ports, workspace_key=self.key, workspace_name=self.ws.name,
                state_dir=self.ws.state_dir, runtime_version=self.runtime.version, image=settings.image,
                password=getattr(settings, "password", None), log_level=self.ws.spec.dapr.log_level,
            ))
        return requests

    def _create_infra(self) -> None:
        """Runners and units for Redis, placement and scheduler (their ports are fixed here,
        so every service can be planned before any of them runs)."""
        for request in self._infra_requests():
            kind = request.kind
            runner = UnitRunner(kind.unit_ref, make_unit=self._infra_unit_factory(kind),
                                probe=self._infra_probe(kind), policy=RestartPolicy(INFRA_RESTART),
                                hub=self.hub, ready_timeout=self.options.ready_timeout or 60.0,
                                stop_grace=self.options.stop_grace,
                                on_port_conflict=partial(self._infra_port_conflict, kind))
            self.infra_runners[kind] = runner
            self.infra_requests[kind] = request
            self.infra[kind] = self.backend.create(request, self.hub.chunk)
            self._unused_infra_units.add(kind)

    async def _redis_ready(self) -> None:
        """daprd loads its components at start and gives up on a store it cannot reach, so
        sidecars wait for Redis.  Placement and the scheduler are not awaited: daprd keeps
        retrying them, and its /v1.0/healthz (which gates every dependent) stays 500 until
        both are connected.  Apps wait for nothing: they boot while the infra comes up."""
        awaited = [r for kind, r in self.infra_runners.items() if kind is InfraKind.REDIS]
        await self._wait_all([r.ready for r in awaited], [r.finished for r in awaited])

    def _infra_unit_factory(self, kind: InfraKind) -> Callable[[], Any]:
        def make() -> Any:
            if kind in self._unused_infra_units:  # the unit made while planning (or moving ports)
                self._unused_infra_units.discard(kind)
                return self.infra[kind].unit
            service = self.backend.create(self.infra_requests[kind], self.hub.chunk)
            self.infra[kind] = service
            return service.unit
        return make

    def _infra_port_conflict(self, kind: InfraKind, runner: UnitRunner) -> bool:
        """An auto port of Redis, placement or the scheduler was taken between aura's choice
        and the bind: new ports for that unit, and every sidecar and component pointed at it."""
        if not self._may_move_ports(runner):
            return False
        request = self.infra_requests[kind]
        settings = getattr(self.ws.spec.infra, kind.value)

        def fresh(key: str, port: int, explicit: bool = False) -> int:
            if explicit:
                return port
            self.saved_ports[key] = moved = self.allocator.allocate()
            return moved

        old = request.ports
        ports = InfraPorts(
            fresh(f"infra.{kind.value}", old.main, isinstance(settings.port, int)),
            None if old.healthz is None else fresh(f"infra.{kind.value}.healthz", old.healthz),
            None if old.metrics is None else fresh(f"infra.{kind.value}.metrics", old.metrics),
            {name: fresh(f"infra.{kind.value}.{name}", port) for name, port in old.extra.items()})
        if ports == old:  # only explicit ports: nothing to move
            return False
        self.infra_requests[kind] = replace(request, ports=ports)
        self.infra[kind] = self.backend.create(self.infra_requests[kind], self.hub.chunk)
        self._unused_infra_units.add(kind)
        if kind is InfraKind.SCHEDULER:
            reset_scheduler_data(self.ws.state_dir)  # its etcd data names the old peer port
        self._save_ports()
        self._replan_for_new_infra()
        return True

    def _may_move_ports(self, runner: UnitRunner) -> bool:
        """A few moves per unit: a port that stays taken (an explicit one, say) is a crash
        like any other, counted by the restart policy, not a loop of moves."""
        moves = self._port_moves.get(runner.ref, 0)
        if moves >= MAX_PORT_MOVES:
            return False
        self._port_moves[runner.ref] = moves + 1
        return True

    def _make_context(self) -> RunContext:
        """Infra endpoints and rendered components as every service plan sees them."""
        shared, per_service = prepare_resources(self.ws, self.endpoints())
        return RunContext(daprd=self.runtime.daprd, infra=self.endpoints(), resources=shared,
                          service_resources=per_service, api_token=self.api_token)

    def _replan_for_new_infra(self) -> None:
        """Plans (and components) with the infra's new address; a unit already started with
        the old one starts again."""
        self.ctx = self._make_context()
        for run in self.services.values():
            before = run.plan
            run.plan = service_plan(self.ws, run.name, before.ports, self.ctx)
            for runner, changed in ((run.app, run.plan.app != before.app),
                                    (run.sidecar, run.plan.sidecar != before.sidecar)):
                if runner is not None and changed and runner.state in (UnitState.READY, UnitState.STARTING):
                    self.extra_tasks.append(asyncio.ensure_future(runner.restart("infra moved to new ports")))

    def _infra_probe(self, kind: InfraKind) -> Callable[[], Any]:
        return lambda: self.infra[kind].probe()

    def endpoints(self) -> InfraEndpoints:
        def address(kind: InfraKind) -> str | None:
            service = self.infra.get(kind)
            return f"{LOOPBACK}:{service.ports.main}" if service else None
        return InfraEndpoints(redis_host=address(InfraKind.REDIS), redis_password=self.ws.spec.infra.redis.password,
                              placement=address(InfraKind.PLACEMENT), scheduler=address(InfraKind.SCHEDULER))

    async def _wait_all(self, ready: list[asyncio.Event], finished: list[asyncio.Event]) -> None:
        """Until every event in `ready` is set, or shutdown; a unit that finished (failed)
        while we wait ends the wait too."""
        while not self.shutdown_requested.is_set():
            if all(e.is_set() for e in ready):
                return
            failed = [i for i, f in enumerate(finished) if f.is_set() and not ready[i].is_set()]
            if failed:
                raise InfraError("infrastructure failed to start; see the lines above",
                                 hint="fix the cause, then run `aura dev up` again")
            waiters = [asyncio.ensure_future(e.wait()) for e in ready + finished if not e.is_set()]
            waiters.append(asyncio.ensure_future(self.shutdown_requested.wait()))
            _done, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()

    # ------------------------------------------------------------------ services

    def _build_services(self) -> None:
        assert self.ctx is not None
        for name in self.selected:
            plan = service_plan(self.ws, name, self._service_ports(name), self.ctx)
            self.services[name] = self._service_run(plan)

    def _service_run(self, plan: ServicePlan) -> ServiceRun:
        name = plan.name
        holder: dict[str, ServiceRun] = {}
        timeout = self.options.ready_timeout or plan.health.timeout
        app = UnitRunner(
            UnitRef(name, Source.APP),
            make_unit=lambda: self._process(UnitRef(name, Source.APP), holder["run"].plan.app),
            probe=lambda: self._app_ready(holder["run"]),
            policy=RestartPolicy(plan.restart), hub=self.hub, ready_timeout=timeout,
            stop_grace=self.options.stop_grace, on_ready=lambda r: self._on_app_ready(holder["run"]),
            on_port_conflict=lambda r: self._port_conflict(holder["run"], r),
            poll_interval=0.025,  # an app restarts on every save: notice it is back within a frame
        )
        sidecar = None
        if plan.sidecar is not None:
            sidecar = UnitRunner(
                UnitRef(name, Source.SIDECAR),
                make_unit=lambda: self._process(UnitRef(name, Source.SIDECAR), holder["run"].plan.sidecar),
                probe=lambda: self._sidecar_up(holder["run"].plan),
                policy=RestartPolicy(plan.restart), hub=self.hub, ready_timeout=timeout,
                stop_grace=self.options.stop_grace, on_port_conflict=lambda r: self._port_conflict(holder["run"], r),
            )
        run = holder["run"] = ServiceRun(name, plan, app, sidecar)
        return run

    def _process(self, ref: UnitRef, spec: Any) -> ProcessUnit:
        return ProcessUnit(ref, spec.argv, env=spec.env, cwd=spec.cwd, sink=self.hub.chunk)

    async def _sidecar_up(self, plan: ServicePlan) -> bool:
        assert plan.ports.sidecar is not None
        return await http_status(LOOPBACK, plan.ports.sidecar.http, "/v1.0/healthz/outbound") == 204

    async def _app_ready(self, run: ServiceRun) -> bool:
        """The app's own check, then (with a sidecar) daprd's full health, which also needs
        the app port open and the placement and scheduler connected.  An app with nothing
        to probe (no port, or its check turned off) counts as ready once it has stayed up
        for a moment, so that one dying at boot is not reported ready."""
        plan = run.plan
        health, port = plan.health, plan.ports.app
        if not health.enabled or port is None:
            started = run.app.started_at
            if started is None or time.monotonic() - started < NOTHING_TO_PROBE_GRACE:
                return False
        if health.enabled and port is not None:
            if health.http and plan.app_protocol == "http":
                status = await http_status(LOOPBACK, port, health.http)
                if status is None or not 200 <= status < 400:
                    return False
            elif not await tcp_open(LOOPBACK, port):
                return False
        if plan.ports.sidecar is not None and port is not None:
            return await http_status(LOOPBACK, plan.ports.sidecar.http, "/v1.0/healthz") == 204
        return True

    def _on_app_ready(self, run: ServiceRun) -> None:
        if run.sidecar is not None:
            self.extra_tasks.append(asyncio.ensure_future(self._register_metadata(run)))

    async def _register_metadata(self, run: ServiceRun) -> None:
        """What `dapr run` registers, so `dapr list` and the Dapr dashboard show our apps."""
        assert run.plan.ports.sidecar is not None
        app_pid = run.app.unit.identity_record().get("pid") if run.app.unit else None
        logs = self.ws.state_dir / "logs" / "services" / run.name
        values = {
            "cliPID": str(os.getpid()),
            "appPID": str(app_pid or ""),
            "appCommand": run.plan.app.display,
            "runTemplatePath": str(self.ws.file),
            "runTemplateName": self.ws.name,
            "appLogPath": str(logs),
            "daprdLogPath": str(logs),
        }
        headers = {"dapr-api-token": self.api_token} if self.api_token else None
        for key, value in values.items():
            await http_request(LOOPBACK, run.plan.ports.sidecar.http, "PUT", f"/v1.0/metadata/{key}",
                               value.encode(), headers=headers)

    def _port_conflict(self, run: ServiceRun, conflicted: UnitRunner) -> bool:
        assert self.ctx is not None
        if not self._may_move_ports(conflicted):
            return False
        ports = self._fresh_ports(run.name, run.plan.ports)
        if ports == run.plan.ports:
            return False
        run.plan = service_plan(self.ws, run.name, ports, self.ctx)
        # Both units carry the other's ports (app env, daprd --app-port): restart the partner
        # (the unit that hit the conflict starts again on its own, with the new plan).
        for runner in run.runners():
            if runner is not conflicted and runner.state in (UnitState.READY, UnitState.STARTING):
                self.extra_tasks.append(asyncio.ensure_future(runner.restart("restarting with new ports")))
        self._save_ports()
        return True

    async def _start_service(self, run: ServiceRun, redis: asyncio.Future[None] | None = None) -> None:
        deps = [self.services[d] for d in run.plan.depends_on if d in self.services]
        while not self.shutdown_requested.is_set() and not all(d.is_ready() for d in deps):
            waiting = [d.name for d in deps if not d.is_ready()]
            self.hub.state(StateChange(UnitRef(run.name, Source.APP), "waiting", "for " + ", ".join(waiting)))
            waiters = [asyncio.ensure_future(r.ready.wait()) for d in deps for r in d.runners() if not r.ready.is_set()]
            waiters.append(asyncio.ensure_future(self.shutdown_requested.wait()))
            _done, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
        if self.shutdown_requested.is_set():
            return
        run.app.launch()
        if run.sidecar is not None:
            if redis is not None:
                try:
                    await asyncio.shield(redis)
                except InfraError:
                    return  # reported once, by start()
            if not self.shutdown_requested.is_set():
                run.sidecar.launch()

    # ------------------------------------------------------------------ state

    def _on_state(self, change: StateChange) -> None:
        if not self._state_dirty:
            self._state_dirty = True
            asyncio.get_running_loop().call_later(0.02, self._write_state)
        if not self.startup_settled.is_set() and self.services and self._settled():
            self.startup_settled.set()
            self._write_state()

    def _settled(self) -> bool:
        for run in self.services.values():
            if run.is_ready():
                continue
            states = {r.state for r in run.runners()}
            if states & {UnitState.FAILED, UnitState.EXITED}:
                continue
            blocked_by_failure = any(self._is_down(d) for d in closure(self.ws.depends_on(), [run.name]) - {run.name})
            if not blocked_by_failure:
                return False
        return True

    def _is_down(self, name: str) -> bool:
        run = self.services.get(name)
        return run is not None and any(r.state in (UnitState.FAILED, UnitState.EXITED) for r in run.runners())

    def snapshot(self) -> dict[str, Any]:
        def runner_record(runner: UnitRunner, **extra: Any) -> dict[str, Any]:
            unit = runner.unit
            record: dict[str, Any] = {
                "service": runner.ref.service, "source": runner.ref.source.value, "state": runner.state.value,
                "detail": runner.detail, "restarts": runner.policy.restarts,
                "readySeconds": runner.last_ready_seconds,
                "since": time.time() - (time.monotonic() - runner.started_at) if runner.started_at else None,
            }
            if unit is not None and unit.running:
                record.update(unit.identity_record())
            record.update(extra)
            return record

        units: dict[str, Any] = {}
        for kind, runner in self.infra_runners.items():
            service = self.infra[kind]
            units[runner.ref.label] = runner_record(runner, backend=service.backend, ports={
                "main": service.ports.main, "healthz": service.ports.healthz, "metrics": service.ports.metrics,
                **service.ports.extra})
        services: dict[str, Any] = {}
        for name, run in self.services.items():
            plan = run.plan
            units[run.app.ref.label] = runner_record(run.app, ports={"app": plan.ports.app}, command=plan.app.display)
            sp = plan.ports.sidecar
            if run.sidecar is not None and sp is not None:
                units[run.sidecar.ref.label] = runner_record(run.sidecar, ports={
                    "http": sp.http, "grpc": sp.grpc, "internalGrpc": sp.internal_grpc, "metrics": sp.metrics})
            services[name] = {"appId": plan.app_id, "url": plan.url, "appPort": plan.ports.app,
                              "ready": run.is_ready(), "dependsOn": list(plan.depends_on),
                              "daprHttpPort": sp.http if sp else None, "daprGrpcPort": sp.grpc if sp else None}
        proc = psutil.Process()
        return {
            "workspace": str(self.ws.root), "file": str(self.ws.file), "name": self.ws.name, "key": self.key,
            "supervisor": {"pid": os.getpid(), "create_time": proc.create_time()},
            "startedAt": self.started_at, "backend": self.backend_name, "runtimeVersion": self.runtime.version,
            "control": str(runstate.control_socket_path(self.ws.state_dir)),
            "settled": self.startup_settled.is_set(), "units": units, "services": services,
        }

    def _write_state(self) -> None:
        self._state_dirty = False
        runstate.write_json_atomic(runstate.run_dir(self.ws.state_dir) / runstate.STATE_FILE, self.snapshot())

    def _save_ports(self) -> None:
        runstate.write_json_atomic(runstate.run_dir(self.ws.state_dir) / PORTS_FILE, self.saved_ports)

    # ------------------------------------------------------------------ control

    async def handle_control(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "down":
            self.request_shutdown()
            return {"ok": True}
        if op in ("restart", "stop", "start"):
            names = request.get("services") or []
            unknown = [n for n in names if n not in self.services]
            if unknown:
                raise UnknownService(f"not running: {', '.join(unknown)}",
                                     hint=f"running services: {', '.join(self.services)}")
            which = request.get("which", "all")
            started = time.monotonic()
            await asyncio.gather(*(self.act(name, op, which) for name in names))
            return {"ok": True, "seconds": round(time.monotonic() - started, 3),
                    "states": {n: self.services[n].is_ready() for n in names}}
        return {"ok": False, "error": f"unknown request {op!r}"}

    async def act(self, name: str, op: str, which: str = "all", reason: str = "") -> None:
        run = self.services[name]
        runners = {"app": [run.app], "sidecar": [run.sidecar] if run.sidecar else []}.get(which, run.runners())
        if op == "stop":
            await asyncio.gather(*(r.stop() for r in runners))
            return
        if op == "start":
            for r in runners:
                r.start()
        else:
            await asyncio.gather(*(r.restart(reason or f"{op} requested") for r in runners))
        await asyncio.gather(*(self._until_settled(r) for r in runners))

    async def _until_settled(self, runner: UnitRunner) -> None:
        """Until the runner is ready again or has given up."""
        while not runner.ready.is_set() and runner.state not in (UnitState.FAILED, UnitState.EXITED) \
                and not self.shutdown_requested.is_set():
            waiters = [asyncio.ensure_future(runner.ready.wait()), asyncio.ensure_future(runner.finished.wait()),
                       asyncio.ensure_future(self.shutdown_requested.wait())]
            _done, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED, timeout=1.0)
            for task in pending:
                task.cancel()

    def request_shutdown(self) -> None:
        self.shutdown_requested.set()

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()

        first_signal_at: list[float] = []

        def on_signal(sig: signal.Signals) -> None:
            now = time.monotonic()
            if self.shutdown_requested.is_set():
                # Tools like `timeout` deliver one SIGINT twice (to the child and to its group)
                # within microseconds; only a second press by a person forces.
                if sig == signal.SIGINT and first_signal_at and now - first_signal_at[0] > 0.5:
                    self.hub.notice(None, "second Ctrl-C: killing everything now", Level.WARN)
                    self.force_kill()
                    os._exit(130)
                return
            first_signal_at.append(now)
            self.hub.notice(None, f"{sig.name}: stopping (Ctrl-C again to force)")
            self.request_shutdown()

        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, on_signal, sig)
        loop.add_signal_handler(signal.SIGUSR1, dump_tasks)

    def force_kill(self) -> None:
        state = self.snapshot()
        runstate.kill_process_groups(state, grace=0.0)
        if self.backend_name == "docker":
            try:
                from aura_dev.infra.docker import docker_client, remove_workspace_containers
                remove_workspace_containers(docker_client(5), self.key)
            except Exception:
                pass
        runstate.clear_state(self.ws.state_dir)

    # ------------------------------------------------------------------ the whole run

    async def start(self) -> None:
        """Everything up to 'all ready' (or settled with failures)."""
        self.check_explicit_ports()
        self.hub.notice(None, f"starting {self.ws.name}: {len(self.selected)} services, infra via {self.backend_name}")
        self._create_infra()
        self.ctx = self._make_context()
        self._build_services()
        self._save_ports()
        for runner in self.infra_runners.values():
            runner.launch()
        redis = asyncio.ensure_future(self._redis_ready())
        if not self.services:
            self.startup_settled.set()
        starters = [asyncio.ensure_future(self._start_service(run, redis)) for run in self.services.values()]
        waiter = asyncio.ensure_future(self.startup_settled.wait())
        stopper = asyncio.ensure_future(self.shutdown_requested.wait())
        await asyncio.wait([waiter, stopper, redis], return_when=asyncio.FIRST_COMPLETED)
        if redis.done() and redis.exception() is not None:  # Redis could not start: nothing can
            self.request_shutdown()
            raise redis.exception()  # type: ignore[misc]
        await asyncio.wait([waiter, stopper], return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        stopper.cancel()
        await asyncio.gather(*starters)

    async def stop_all(self) -> None:
        """Apps, then sidecars, in reverse dependency order; then infra."""
        waves = [[n for n in wave if n in self.services] for wave in reversed(self.waves)]
        for wave in waves:
            await self._shutdown([self.services[n].app for n in wave])
        for wave in waves:
            await self._shutdown([s for n in wave if (s := self.services[n].sidecar)])
        await self._shutdown(list(self.infra_runners.values()))
        for task in self.extra_tasks:
            task.cancel()

    async def _shutdown(self, runners: list[UnitRunner]) -> None:
        """Stop these runners together; one that fails to stop must not keep the rest running."""
        results = await asyncio.gather(*(r.shutdown() for r in runners if r.task), return_exceptions=True)
        for runner, result in zip([r for r in runners if r.task], results):
            if isinstance(result, BaseException):
                self.hub.notice(runner.ref, f"error while stopping: {result}", Level.ERROR)

    async def run(self, *, on_started: Callable[[Orchestrator], None] | None = None) -> int:
        lock = runstate.SupervisorLock(self.ws.state_dir)
        lock.acquire()
        server = None
        try:
            self.cleanup_stale()
            self.install_signal_handlers()
            flusher = asyncio.ensure_future(self._flush_periodically())
            try:
                await self.start()
                if not self.shutdown_requested.is_set():
                    self._write_state()
                    if on_started is not None:
                        on_started(self)
                    server = await serve(runstate.control_socket_path(self.ws.state_dir), self.handle_control)
                    if self.options.reload:
                        self.extra_tasks.append(asyncio.ensure_future(self.reloader.watch()))
                    await self.shutdown_requested.wait()
            finally:
                if server is not None:
                    server.close()
                await self.stop_all()
                flusher.cancel()
                self.hub.notice(None, "stopped; nothing left running")
                self.hub.flush()
        finally:
            runstate.clear_state(self.ws.state_dir)
            runstate.control_socket_path(self.ws.state_dir).unlink(missing_ok=True)
            lock.release()
        failed = any(r.state is UnitState.FAILED for run in self.services.values() for r in run.runners())
        return 1 if failed else 0

    async def _flush_periodically(self) -> None:
        # The store buffers writes (a chatty service then costs few syscalls); this bounds how
        # late a line reaches `aura dev logs -f` in another terminal.  A flush with nothing
        # buffered makes no syscall, so a short period costs nothing on a quiet stack.
        while True:
            await asyncio.sleep(STORE_FLUSH_SECONDS)
            self.hub.flush()

    def cleanup_stale(self) -> None:
        """Leftovers of a supervisor killed without a chance to clean up (kill -9)."""
        state = runstate.read_state(self.ws.state_dir)
        if not state:
            return
        killed = runstate.kill_process_groups(state)
        removed: list[str] = []
        if any(u.get("container") for u in (state.get("units") or {}).values()):
            try:
                from aura_dev.infra.docker import docker_client, remove_workspace_containers
                removed = remove_workspace_containers(docker_client(10), self.key)
            except InfraError:
                pass
        if killed or removed:
            self.hub.notice(None, f"cleaned up after a previous run that did not stop: {', '.join(killed + removed)}",
                            Level.WARN)
        reset_scheduler_data(self.ws.state_dir)
        runstate.clear_state(self.ws.state_dir)


def dump_tasks() -> None:
    """`kill -USR1 <supervisor pid>`: where every task of a stuck supervisor is waiting,
    on its stderr (for a detached one, .aura/run/supervisor.log)."""
    tasks = asyncio.all_tasks()
    print(f"--- {len(tasks)} tasks at {time.strftime('%H:%M:%S')} ---", file=sys.stderr)
    for task in tasks:
        print(f"{task.get_name()}:", file=sys.stderr)
        # Task.print_stack shows only a suspended task's outermost frame: follow the chain
        # of awaits down to what it waits on.
        awaited: Any = task.get_coro()
        while awaited is not None:
            frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
            if frame is None:
                print(f"    waits on {awaited!r:.200}", file=sys.stderr)
                break
            print(f"    {frame.f_code.co_qualname} ({frame.f_code.co_filename}:{frame.f_lineno})", file=sys.stderr)
            awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    sys.stderr.flush()


def reset_scheduler_data(state_dir: Path) -> None:
    """The scheduler's etcd data after a run that did not stop cleanly holds leases of a
    dead instance; the next scheduler would wait ~20 s for them to expire before it serves.
    Jobs and reminders of a crashed run are not worth that wait on a laptop."""
    import shutil

    data = state_dir / "scheduler" / "etcd"
    if data.exists():
        shutil.rmtree(data, ignore_errors=True)


def resolve_backend(choice: str, ws: Workspace, runtime_version: str) -> tuple[str, str | None]:
    """(backend, why) for `auto`: docker when the engine answers and has the images
    locally (nothing can be pulled on an offline laptop), else native."""
    if choice != "auto":
        return choice, None
    from aura_dev.infra import docker_probe
    from aura_dev.infra.docker import default_image

    wanted = sorted({getattr(ws.spec.infra, kind.value).image or default_image(kind, runtime_version)
                     for kind in InfraKind if getattr(ws.spec.infra, kind.value).enabled})
    if not wanted:
        return "native", None  # no infra to run
    sock = docker_probe.socket_path()
    if sock is None:  # a remote engine: ask through the SDK
        return _resolve_with_sdk(wanted)
    if not docker_probe.engine_answers(sock):
        return "native", "the Docker engine does not answer"
    missing = [image for image in wanted if not docker_probe.image_present(image, sock)]
    if missing:
        return "native", f"images not present locally: {', '.join(missing)}"
    return "docker", None


def _resolve_with_sdk(images: list[str]) -> tuple[str, str | None]:
    from aura_dev.infra.docker import docker_client

    try:
        client = docker_client(timeout=3)
    except InfraError:
        return "native", "the Docker engine does not answer"
    try:
        missing = []
        for image in images:
            try:
                client.images.get(image)
            except Exception:
                missing.append(image)
        return ("native", f"images not present locally: {', '.join(missing)}") if missing else ("docker", None)
    finally:
        client.close()


def backend_factory(runtime: RuntimeInstall) -> Callable[[str], InfraBackend]:
    def make(name: str) -> InfraBackend:
        if name == "docker":
            from aura_dev.infra.docker import DockerBackend
            return DockerBackend()
        from aura_dev.infra.native import NativeBackend
        return NativeBackend(runtime)
    return make

