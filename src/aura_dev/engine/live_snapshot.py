"""The snapshot of a live run, read off its runners (the types are in `engine.snapshot`)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psutil

from aura_dev.engine.infra_start import InfraSet
from aura_dev.engine.runner import UnitRunner
from aura_dev.engine.services import ServiceRun
from aura_dev.engine.snapshot import DashboardRecord, LastExit, ServiceRecord, StackSnapshot, UnitRecord
from aura_dev.units.base import UnitIdentity
from aura_dev.workspace.load import Workspace


def unit_record(runner: UnitRunner, *, ports: dict[str, int | None], backend: str | None = None,
                command: str | None = None) -> UnitRecord:
    unit = runner.unit
    since = time.time() - (time.monotonic() - runner.started_at) if runner.started_at else None
    last_exit = LastExit(state=runner.last_exit[0], reason=runner.last_exit[1], at=runner.last_exit[2]) \
        if runner.last_exit else None
    return UnitRecord(
        service=runner.ref.service, source=runner.ref.source, state=runner.state, detail=runner.detail,
        restarts=runner.policy.restarts, ready_seconds=runner.last_ready_seconds, since=since,
        identity=unit.identity() if unit is not None and unit.running else UnitIdentity(),
        ports=ports, backend=backend, command=command, last_exit=last_exit)


def build_snapshot(*, ws: Workspace, key: str, backend: str, runtime_version: str, started_at: float,
                   settled: bool, control: Path, infra: InfraSet, services: dict[str, ServiceRun],
                   dashboard: DashboardRecord | None = None,
                   timeline: dict[str, Any] | None = None) -> StackSnapshot:
    """The snapshot of a live run, from its runners."""
    units: dict[str, UnitRecord] = {}
    for kind, runner in infra.runners.items():
        service = infra.services[kind]
        units[runner.ref.label] = unit_record(runner, ports=service.ports.named(), backend=service.backend)
    records: dict[str, ServiceRecord] = {}
    for name, run in services.items():
        plan = run.plan
        units[run.app.ref.label] = unit_record(run.app, ports={"app": plan.ports.app}, command=plan.app.display)
        sidecar_ports = plan.ports.sidecar
        if run.sidecar is not None and sidecar_ports is not None:
            units[run.sidecar.ref.label] = unit_record(run.sidecar, ports=sidecar_ports.named())
        records[name] = ServiceRecord(
            app_id=plan.app_id, url=plan.url, app_port=plan.ports.app, ready=run.is_ready(),
            depends_on=plan.depends_on, dapr_http_port=sidecar_ports.http if sidecar_ports else None,
            dapr_grpc_port=sidecar_ports.grpc if sidecar_ports else None)
    me = psutil.Process()
    return StackSnapshot(
        workspace=str(ws.root), file=str(ws.file), name=ws.name, key=key, supervisor_pid=me.pid,
        supervisor_create_time=me.create_time(), started_at=started_at, backend=backend,
        runtime_version=runtime_version, control=str(control), settled=settled, units=units, services=records,
        dashboard=dashboard, timeline=timeline)
