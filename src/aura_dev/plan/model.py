"""The plan's values: ports, infra endpoints, process specs and the plan of one service.

Frozen dataclasses.  A plan says exactly what will run; the engine executes it, and a port
that turns out to be taken only means planning that service again.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aura_dev.net import LOOPBACK
from aura_dev.workspace.model import HealthCheck, ReloadSettings, RestartSettings


@dataclass(frozen=True)
class SidecarPorts:
    http: int
    grpc: int
    internal_grpc: int
    metrics: int

    def named(self) -> dict[str, int | None]:
        """As `aura dev status` shows them."""
        return {"http": self.http, "grpc": self.grpc, "internalGrpc": self.internal_grpc, "metrics": self.metrics}


@dataclass(frozen=True)
class ServicePorts:
    app: int | None
    sidecar: SidecarPorts | None


@dataclass(frozen=True)
class InfraEndpoints:
    redis_host: str | None = None  # host:port
    redis_password: str | None = None
    placement: str | None = None
    scheduler: str | None = None
    zipkin: str | None = None  # host:port of aura's Zipkin, when it runs one

    @property
    def redis_port(self) -> int | None:
        return int(self.redis_host.rsplit(":", 1)[1]) if self.redis_host else None

    def placeholders(self) -> dict[str, str]:
        """{redis_host}, {redis_port}, {placement_host}, {scheduler_host} of what runs."""
        values: dict[str, str] = {}
        if self.redis_host:
            values["redis_host"] = self.redis_host
            values["redis_port"] = str(self.redis_port)
        if self.placement:
            values["placement_host"] = self.placement
        if self.scheduler:
            values["scheduler_host"] = self.scheduler
        return values


@dataclass(frozen=True)
class ProcessSpec:
    argv: tuple[str, ...]
    env: Mapping[str, str]
    cwd: Path
    display: str  # the command as the user wrote it, placeholders resolved


@dataclass(frozen=True)
class ServicePlan:
    name: str
    app_id: str | None
    ports: ServicePorts
    app: ProcessSpec
    sidecar: ProcessSpec | None
    health: HealthCheck
    depends_on: tuple[str, ...]
    restart: RestartSettings
    reload: ReloadSettings
    service_dir: Path
    app_protocol: str

    @property
    def url(self) -> str | None:
        return f"http://{LOOPBACK}:{self.ports.app}" if self.ports.app and self.app_protocol == "http" else None

    @property
    def ready_timeout(self) -> float:
        return self.health.timeout


@dataclass(frozen=True)
class RunContext:
    """What every service plan shares: runtime, infra endpoints, resources, token."""

    daprd: Path
    infra: InfraEndpoints
    resources: tuple[Path, ...]
    service_resources: Mapping[str, tuple[Path, ...]] = field(default_factory=dict)
    configs: Mapping[Path, Path] = field(default_factory=dict)  # a Configuration file -> aura's copy of it
    default_config: Path | None = None  # a sidecar without a Configuration of its own gets this one
    api_token: str | None = None
    base_env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
