"""The units of one service — its app and its daprd sidecar — as runners, and what
"ready" means for each: the app's own health check, then daprd's full health (which also
needs the app port, placement and the scheduler); for the sidecar, daprd's own API."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aura_dev.engine.control import Which
from aura_dev.engine.events import EventHub
from aura_dev.engine.port_diagnosis import PortDiagnosis
from aura_dev.engine.runner import UnitRunner
from aura_dev.engine.unit_state import RestartPolicy, UnitState
from aura_dev.logs.record import Source, UnitRef
from aura_dev.net import LOOPBACK
from aura_dev.plan.model import ProcessSpec, ServicePlan
from aura_dev.units.probes import http_request, http_status, tcp_open
from aura_dev.units.base import Unit
from aura_dev.units.process import ProcessUnit

NOTHING_TO_PROBE_GRACE = 0.5  # seconds an unprobeable app must stay up to count as started
APP_POLL_SECONDS = 0.05  # between checks when the app and its sidecar say nothing (a line wakes the check)


@dataclass
class ServiceRun:
    name: str
    plan: ServicePlan
    app: UnitRunner
    sidecar: UnitRunner | None
    diagnosis: PortDiagnosis | None = None  # says why a live app is not ready yet
    on_listening: Callable[[UnitRef], None] | None = None  # the app's own check passed (the start's timeline)

    def is_ready(self) -> bool:
        return self.app.ready.is_set() and (self.sidecar is None or self.sidecar.ready.is_set())

    def runners(self, which: Which = Which.ALL) -> list[UnitRunner]:
        if which is Which.APP:
            return [self.app]
        if which is Which.SIDECAR:
            return [self.sidecar] if self.sidecar else []
        return [self.app] + ([self.sidecar] if self.sidecar else [])

    def is_down(self) -> bool:
        """A unit of it failed or exited and will not come back by itself."""
        return any(r.state in (UnitState.FAILED, UnitState.EXITED) for r in self.runners())

    def configure(self, plan: ServicePlan, ready_timeout: float | None) -> None:
        """A new plan, and its restart and readiness settings for *both* units."""
        self.plan = plan
        for runner in self.runners():
            runner.configure(plan.restart, ready_timeout or plan.ready_timeout)


PortConflict = Callable[[ServiceRun, UnitRunner], bool]


class ServiceUnits:
    """Makes the runners of a service from its plan."""

    def __init__(self, hub: EventHub, *, stop_grace: float, ready_timeout: float | None,
                 on_port_conflict: PortConflict, on_app_ready: Callable[[ServiceRun], None],
                 on_listening: Callable[[UnitRef], None] | None = None) -> None:
        self.hub = hub
        self.on_listening = on_listening
        self.stop_grace = stop_grace
        self.ready_timeout = ready_timeout
        self.on_port_conflict = on_port_conflict
        self.on_app_ready = on_app_ready
        self.app_unit: Callable[[ServiceRun], Unit] | None = None  # how an app starts, if not plainly (warm_reload)

    def make(self, plan: ServicePlan) -> ServiceRun:
        name = plan.name
        timeout = self.ready_timeout or plan.ready_timeout
        # The runners are made before the run that holds them: their callbacks look the
        # run up through this cell, so they always see its current plan.
        cell: list[ServiceRun] = []
        app = UnitRunner(
            UnitRef(name, Source.APP),
            make_unit=lambda: self._app(cell[0]),
            probe=lambda: self._app_probe(cell[0]),
            policy=RestartPolicy(plan.restart), hub=self.hub, ready_timeout=timeout, stop_grace=self.stop_grace,
            on_ready=lambda _runner: self.on_app_ready(cell[0]),
            on_port_conflict=lambda runner: self.on_port_conflict(cell[0], runner),
            poll_interval=APP_POLL_SECONDS,
        )
        sidecar = None
        if plan.sidecar is not None:
            sidecar = UnitRunner(
                UnitRef(name, Source.SIDECAR),
                make_unit=lambda: self._process(UnitRef(name, Source.SIDECAR), _sidecar_spec(cell[0].plan)),
                probe=lambda: sidecar_up(cell[0].plan),
                policy=RestartPolicy(plan.restart), hub=self.hub, ready_timeout=timeout,
                stop_grace=self.stop_grace, on_port_conflict=lambda runner: self.on_port_conflict(cell[0], runner),
            )
        cell.append(ServiceRun(name, plan, app, sidecar, PortDiagnosis(self.hub), self.on_listening))
        return cell[0]

    @staticmethod
    async def _app_probe(run: ServiceRun) -> bool:
        if await app_ready(run):
            return True
        if run.diagnosis is not None:
            await run.diagnosis.check(run.plan, run.app)
        return False

    def _app(self, run: ServiceRun) -> Unit:
        if self.app_unit is not None:
            return self.app_unit(run)
        return self._process(UnitRef(run.name, Source.APP), run.plan.app)

    def _process(self, ref: UnitRef, spec: ProcessSpec) -> ProcessUnit:
        return ProcessUnit(ref, spec.argv, env=spec.env, cwd=spec.cwd, sink=self.hub.chunk)


def _sidecar_spec(plan: ServicePlan) -> ProcessSpec:
    assert plan.sidecar is not None
    return plan.sidecar


async def app_ready(run: ServiceRun) -> bool:
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
    if run.on_listening is not None:
        run.on_listening(run.app.ref)
    if plan.ports.sidecar is not None and port is not None:
        return await http_status(LOOPBACK, plan.ports.sidecar.http, "/v1.0/healthz") == 204
    return True


async def sidecar_up(plan: ServicePlan) -> bool:
    assert plan.ports.sidecar is not None
    return await http_status(LOOPBACK, plan.ports.sidecar.http, "/v1.0/healthz/outbound") == 204


async def register_metadata(run: ServiceRun, *, workspace_file: Path, workspace_name: str, logs_dir: Path,
                            api_token: str | None) -> None:
    """What `dapr run` registers, so `dapr list` and the Dapr dashboard show our apps."""
    sidecar = run.plan.ports.sidecar
    assert sidecar is not None
    app_pid = run.app.unit.identity().pid if run.app.unit else None
    logs = logs_dir / "services" / run.name
    values = {
        "cliPID": str(os.getpid()),
        "appPID": str(app_pid or ""),
        "appCommand": run.plan.app.display,
        "runTemplatePath": str(workspace_file),
        "runTemplateName": workspace_name,
        "appLogPath": str(logs),
        "daprdLogPath": str(logs),
    }
    headers = {"dapr-api-token": api_token} if api_token else None
    for key, value in values.items():
        await http_request(LOOPBACK, sidecar.http, "PUT", f"/v1.0/metadata/{key}", value.encode(), headers=headers)
