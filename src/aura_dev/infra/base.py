"""The infrastructure a Dapr stack needs — Redis, placement, scheduler — behind one small
protocol with two backends (native processes, Docker containers).  What each unit is
(kinds, ports, requests) is plain data in `aura_dev.plan.infra`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from aura_dev.plan.infra import InfraKind, InfraPorts, InfraRequest
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
