"""The infrastructure a Dapr stack needs — Redis, placement, scheduler — behind one small
protocol with two backends (native processes, Docker containers).  What each unit is
(kinds, ports, requests) is plain data in `aura_dev.plan.infra`."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from aura_dev.plan.infra import InfraKind, InfraPorts, InfraRequest, scheduler_data_dir
from aura_dev.units.base import Unit
from aura_dev.units.process import OutputSink


@dataclass
class InfraService:
    """A created (not yet started) infra unit with its address and readiness probe."""

    kind: InfraKind
    unit: Unit
    backend: str
    host: str
    ports: InfraPorts
    probe: Callable[[], Awaitable[bool]]

    @property
    def address(self) -> str:
        return f"{self.host}:{self.ports.main}"


class InfraBackend(Protocol):
    name: str

    def create(self, request: InfraRequest, sink: OutputSink) -> InfraService:
        """Build the unit for `request`; the caller starts, probes and stops it."""
        ...


def reset_scheduler_data(state_dir: Path) -> None:
    """The scheduler's etcd data after a run that did not stop cleanly holds leases of a
    dead instance; the next scheduler would wait ~20 s for them to expire before it serves.
    Jobs and reminders of a crashed run are not worth that wait on a laptop."""
    data = scheduler_data_dir(state_dir)
    if data.exists():
        shutil.rmtree(data, ignore_errors=True)
