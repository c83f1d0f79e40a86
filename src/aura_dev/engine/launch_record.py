"""What a settled start launched at once, written for the next start's head start
(`units.head_start`): every infra process that gates the stack, every sidecar, and every
app that waits for nothing — each with its exact argv, environment, folder, the ports it
binds and the files aura rendered for it.  Written only after a start in which every
service became ready: a record of a failed start would only replay the failure."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aura_dev.engine.infra_start import InfraSet
from aura_dev.engine.services import ServiceRun
from aura_dev.engine.up_options import UpOptions
from aura_dev.units import head_start
from aura_dev.units.base import Unit
from aura_dev.units.process import ProcessUnit, dies_with_parent
from aura_dev.workspace.load import Workspace

RENDERED_FLAGS = ("--resources-path", "--config")  # daprd reads what aura rendered there


def key_for(ws: Workspace, options: UpOptions) -> str:
    return head_start.record_key(ws.file, options.selected, options.backend, options.reload)


def rendered_inputs(argv: list[str], run_dir: Path) -> list[str]:
    """The files under aura's run folder a command line points at (a folder: its files)."""
    found: list[str] = []
    for flag, value in zip(argv, argv[1:]):
        if flag not in RENDERED_FLAGS:
            continue
        path = Path(value)
        if not path.is_relative_to(run_dir):
            continue  # the user's own file: read as it is, not rendered by aura
        if path.is_dir():
            found += sorted(str(p) for p in path.rglob("*") if p.is_file())
        elif path.is_file():
            found.append(str(path))
    return found


def _entry(label: str, unit: Unit | None, ports: list[int], run_dir: Path) -> dict[str, Any] | None:
    if not isinstance(unit, ProcessUnit) or unit.stdin_pipe:
        return None  # a container, or a process aura talks to: not replayed
    argv = dies_with_parent(unit.argv, unit.env, unit.cwd)
    return {"label": label, "argv": argv, "env": unit.env, "cwd": unit.cwd, "ports": ports,
            "files": rendered_inputs(argv, run_dir)}


def launched_at_once(ws: Workspace, infra: InfraSet, services: Mapping[str, ServiceRun]) -> list[dict[str, Any]]:
    run_dir = ws.state_dir / "run"
    entries: list[dict[str, Any] | None] = []
    for kind, service in infra.services.items():
        if kind.gates_stack:
            entries.append(_entry(kind.unit_ref.label, service.unit, service.ports.all(), run_dir))
    for run in services.values():
        ports = run.plan.ports
        if run.sidecar is not None and ports.sidecar is not None:
            sidecar = ports.sidecar
            entries.append(_entry(run.sidecar.ref.label, run.sidecar.unit,
                                  [sidecar.http, sidecar.grpc, sidecar.internal_grpc, sidecar.metrics], run_dir))
        if not any(d in services for d in run.plan.depends_on):
            entries.append(_entry(run.app.ref.label, run.app.unit, [ports.app] if ports.app else [], run_dir))
    return [entry for entry in entries if entry is not None]


def remember(ws: Workspace, options: UpOptions, infra: InfraSet, services: Mapping[str, ServiceRun]) -> None:
    """After the start settled: record it if every service is ready, else forget any record."""
    if all(run.is_ready() for run in services.values()):
        head_start.write_record(ws.state_dir, key_for(ws, options), launched_at_once(ws, infra, services))
    else:
        head_start.record_path(ws.state_dir).unlink(missing_ok=True)
