"""The infrastructure a Dapr stack needs: Redis, placement, scheduler; one protocol, two backends."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Protocol

from aura_dev.logs.record import Source, UnitRef
from aura_dev.units.process import OutputSink
from aura_dev.units.base import Unit


class InfraKind(str, Enum):
    REDIS = "redis"
    PLACEMENT = "placement"
    SCHEDULER = "scheduler"

    @property
    def unit_ref(self) -> UnitRef:
        return UnitRef(self.value, Source.INFRA)


@dataclass(frozen=True)
class InfraPorts:
    """Host ports of one infra unit.  `extra` holds what only one kind needs:
    placement `raft`; scheduler `etcd_client`, `etcd_peer`."""

    main: int
    healthz: int | None = None
    metrics: int | None = None
    extra: dict[str, int] = field(default_factory=dict)

    def all(self) -> list[int]:
        ports = [self.main, *(p for p in (self.healthz, self.metrics) if p is not None), *self.extra.values()]
        return ports


@dataclass(frozen=True)
class InfraRequest:
    kind: InfraKind
    ports: InfraPorts
    workspace_key: str
    workspace_name: str
    state_dir: Path
    runtime_version: str
    image: str | None = None
    password: str | None = None
    log_level: str = "info"


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


def ports_needed(kind: InfraKind) -> tuple[str, ...]:
    """Which ports a unit of `kind` needs allocated (beyond the main one)."""
    if kind is InfraKind.REDIS:
        return ()
    if kind is InfraKind.PLACEMENT:
        return ("healthz", "metrics", "raft")
    return ("healthz", "metrics", "etcd_client", "etcd_peer")
