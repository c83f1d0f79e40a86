"""The infra units of a run — Redis, placement, scheduler, Zipkin — from their requests to their
runners: created before any service is planned (their ports are fixed first, so every
sidecar and component can point at them), started first, and moved to new ports when an
auto port is taken before the bind."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from dataclasses import replace
from functools import partial
from typing import Any

from aura_dev.engine.events import EventHub
from aura_dev.engine.kept_infra import KeptUnits, stopped_line
from aura_dev.engine.kept_record import KEPT_KINDS
from aura_dev.engine.portbook import PortBook
from aura_dev.engine.runner import UnitRunner
from aura_dev.engine.unit_state import RestartPolicy
from aura_dev.errors import InfraError
from aura_dev.infra.base import InfraBackend, InfraService
from aura_dev.logs.record import Level
from aura_dev.net import LOOPBACK
from aura_dev.plan.infra import InfraKind, InfraRequest
from aura_dev.plan.model import InfraEndpoints
from aura_dev.units.base import Unit
from aura_dev.workspace.load import Workspace
from aura_dev.workspace.model import BackoffSettings, InfraUnit, RestartSettings

# Constructed, not validated: validating would build pydantic's schema for these models on
# every start's critical path (the models defer it; see `workspace.spec_cache`).  A unit
# test holds it equal to the validated form.
INFRA_RESTART = RestartSettings.model_construct(policy="always", max_restarts=5, window=60.0,
                                                backoff=BackoffSettings.model_construct())
INFRA_READY_TIMEOUT = 60.0
OBSERVER_READY_TIMEOUT = 180.0  # a JVM on a loaded laptop: slow to start, and nothing waits for it


class InfraSet:
    """The infra of one run.  `on_moved` is told when a unit got new ports, so that the
    services' plans (sidecar flags, rendered components) follow."""

    def __init__(self, ws: Workspace, hub: EventHub, backend: InfraBackend, ports: PortBook, *, key: str,
                 runtime_version: str, stop_grace: float, ready_timeout: float | None,
                 on_moved: Callable[[InfraKind], None]) -> None:
        self.ws = ws
        self.hub = hub
        self.backend = backend
        self.ports = ports
        self.key = key
        self.runtime_version = runtime_version
        self.stop_grace = stop_grace
        self.ready_timeout = ready_timeout or INFRA_READY_TIMEOUT
        self.on_moved = on_moved
        self.services: dict[InfraKind, InfraService] = {}
        self.requests: dict[InfraKind, InfraRequest] = {}
        self.runners: dict[InfraKind, UnitRunner] = {}
        self._unused: set[InfraKind] = set()  # units created, not yet handed to their runner
        self.kept = KeptUnits(ws.state_dir, hub.notice)  # infra.keep: units adopted from an earlier run
        ports.ours |= self.kept.held_ports()

    def settings(self, kind: InfraKind) -> InfraUnit:
        unit: InfraUnit = getattr(self.ws.spec.infra, kind.value)
        return unit

    def create(self) -> None:
        """A runner and a unit for every enabled kind; nothing starts yet."""
        # AURA_ZIPKIN=off: no Zipkin for any workspace (a CI run or a test suite that reads no traces).
        traced = any(self.ws.has_sidecar(n) for n in self.ws.services) and os.environ.get("AURA_ZIPKIN") != "off"
        for kind in InfraKind:
            settings = self.settings(kind)
            if not settings.enabled or (kind is InfraKind.ZIPKIN and not traced):  # only sidecars send spans
                continue
            request = InfraRequest(
                kind=kind, ports=self.ports.infra_ports(kind, settings), workspace_key=self.key,
                workspace_name=self.ws.name, state_dir=self.ws.state_dir, runtime_version=self.runtime_version,
                image=settings.image, password=getattr(settings, "password", None),
                log_level=self.ws.spec.dapr.log_level, persist=getattr(settings, "persist", True),
                keep=self.ws.spec.infra.keep and kind in KEPT_KINDS)
            try:
                self.services[kind] = self.backend.create(request, self.hub.chunk)
            except InfraError as exc:
                if not kind.optional:
                    raise
                self.hub.notice(kind.unit_ref, f"{exc} ({exc.hint})" if exc.hint else str(exc), Level.WARN)
                continue
            self.requests[kind] = request
            self.kept.take(kind, request, self.services[kind], settings)
            self._unused.add(kind)
            self.runners[kind] = UnitRunner(
                kind.unit_ref, make_unit=partial(self._make_unit, kind), probe=partial(self._probe, kind),
                policy=RestartPolicy(INFRA_RESTART), hub=self.hub,
                ready_timeout=self.ready_timeout if kind.gates_stack else max(self.ready_timeout, OBSERVER_READY_TIMEOUT),
                stop_grace=self.stop_grace, on_port_conflict=partial(self._port_conflict, kind))
        self.kept.release_unused(self.services)

    def gating(self) -> list[UnitRunner]:
        """The runners a start waits for (not Zipkin: tracing must never hold the stack)."""
        return [runner for kind, runner in self.runners.items() if kind.gates_stack]

    def launch(self, *, observers_after: asyncio.Event | None = None,
               spawn: Callable[[Coroutine[Any, Any, Any]], None] | None = None) -> None:
        """Start every unit; units that do not gate the stack (Zipkin) only once
        `observers_after` is set: a JVM starting beside the stack takes the CPU the stack's
        own start needs (measured: `up` of the sample 1.3× → 2× the floor on 2 cores)."""
        for kind, runner in self.runners.items():
            if kind.gates_stack or observers_after is None or spawn is None:
                runner.launch()
            else:
                spawn(self._launch_after(runner, observers_after))

    @staticmethod
    async def _launch_after(runner: UnitRunner, event: asyncio.Event) -> None:
        await event.wait()
        runner.launch()

    async def _probe(self, kind: InfraKind) -> bool:
        return await self.services[kind].probe()

    def _make_unit(self, kind: InfraKind) -> Unit:
        if kind in self._unused:  # the unit made while planning (or moving ports)
            self._unused.discard(kind)
            return self.services[kind].unit
        service = self.backend.create(self.requests[kind], self.hub.chunk)
        self.kept.take(kind, self.requests[kind], service, self.settings(kind))
        self.services[kind] = service
        return service.unit

    def stopped_line(self) -> str:
        """The run's last line: what `infra.keep` left running, if anything."""
        return stopped_line(self.kept.kept_now())

    def endpoints(self) -> InfraEndpoints:
        def address(kind: InfraKind) -> str | None:
            service = self.services.get(kind)
            return f"{LOOPBACK}:{service.ports.main}" if service else None
        return InfraEndpoints(redis_host=address(InfraKind.REDIS), redis_password=self.ws.spec.infra.redis.password,
                              placement=address(InfraKind.PLACEMENT), scheduler=address(InfraKind.SCHEDULER),
                              zipkin=address(InfraKind.ZIPKIN))

    @property
    def sidecars_wait_for_redis(self) -> bool:
        """daprd keeps retrying a state store it cannot reach for about 5 s at start (measured
        with 1.18.2), and a native Redis listens within milliseconds of its spawn: sidecars
        start beside it.  A Redis container can take longer than that: they wait for it."""
        return self.backend.name != "native"

    def redis_gave_up(self) -> bool:
        """Redis is down for good (its restarts used up) without having been ready."""
        runner = self.runners.get(InfraKind.REDIS)
        return runner is not None and runner.finished.is_set() and not runner.ready.is_set()

    async def redis_ready(self, shutdown: asyncio.Event) -> None:
        """daprd loads its components at start and gives up on a store it cannot reach, so
        sidecars wait for Redis.  Placement and the scheduler are not awaited: daprd keeps
        retrying them, and its /v1.0/healthz (which gates every dependent) stays 500 until
        both are connected."""
        runner = self.runners.get(InfraKind.REDIS)
        if runner is None:
            return
        while not shutdown.is_set() and not runner.ready.is_set():
            if runner.finished.is_set():
                raise InfraError("infrastructure failed to start; see the lines above",
                                 hint="fix the cause, then run `aura dev up` again")
            waiters = [asyncio.ensure_future(e.wait()) for e in (runner.ready, runner.finished, shutdown)]
            _done, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()

    def _port_conflict(self, kind: InfraKind, runner: UnitRunner) -> bool:
        """An auto port of `kind` was taken between aura's choice and the bind: new ports
        for that unit, and every sidecar and component pointed at it."""
        if not self.ports.may_move(runner.ref.label):
            return False
        request = self.requests[kind]
        moved = self.ports.moved_infra_ports(kind, self.settings(kind), request.ports)
        if moved == request.ports:  # only explicit ports: nothing to move
            return False
        self.requests[kind] = replace(request, ports=moved)
        self.services[kind] = self.backend.create(self.requests[kind], self.hub.chunk)
        self.kept.take(kind, self.requests[kind], self.services[kind], self.settings(kind))
        self._unused.add(kind)
        self.ports.save()
        self.on_moved(kind)
        return True
