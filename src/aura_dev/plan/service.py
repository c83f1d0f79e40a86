"""Pure: from a workspace and the allocated ports to exactly what will be run.

Nothing here touches the network or starts anything; the orchestrator executes plans,
and a port that turns out to be taken only means planning that service again.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aura_dev.net import LOOPBACK
from aura_dev.workspace.load import Workspace
from aura_dev.workspace.model import HealthCheck, ReloadSettings, RestartSettings
from aura_dev.workspace.placeholders import resolve


@dataclass(frozen=True)
class SidecarPorts:
    http: int
    grpc: int
    internal_grpc: int
    metrics: int


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


@dataclass(frozen=True)
class RunContext:
    """What every service plan shares: runtime, infra endpoints, resources, token."""

    daprd: Path
    infra: InfraEndpoints
    resources: tuple[Path, ...]
    service_resources: Mapping[str, tuple[Path, ...]] = field(default_factory=dict)
    api_token: str | None = None
    base_env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


def placeholder_values(ws: Workspace, name: str, ports: ServicePorts, infra: InfraEndpoints,
                       *, shell: bool = False) -> dict[str, str]:
    quote = shlex.quote if shell else (lambda text: text)
    values: dict[str, str] = {
        "name": name,
        "service_dir": quote(str(ws.service_dir(name))),
        "workspace_dir": quote(str(ws.root)),
    }
    if ports.app is not None:
        values["port"] = values["app_port"] = str(ports.app)
    if ports.sidecar is not None:
        values.update(
            app_id=ws.app_id(name),
            dapr_http_port=str(ports.sidecar.http),
            dapr_grpc_port=str(ports.sidecar.grpc),
            dapr_metrics_port=str(ports.sidecar.metrics),
            dapr_internal_grpc_port=str(ports.sidecar.internal_grpc),
        )
    values.update(infra.placeholders())
    return values


def read_env_file(path: Path) -> dict[str, str]:
    """dotenv: `KEY=value`, `export KEY=value`, quotes stripped, `#` comments skipped."""
    result: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        if line.startswith("export "):
            line = line[len("export "):]
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        result[key.strip()] = value
    return result


def app_spec(ws: Workspace, name: str, ports: ServicePorts, ctx: RunContext) -> ProcessSpec:
    service = ws.services[name]
    folder = ws.service_dir(name)
    env = dict(ctx.base_env)
    if ports.app is not None:
        env.update(APP_PORT=str(ports.app), PORT=str(ports.app))
    env.update(APP_PROTOCOL=service.app_protocol, APP_CHANNEL_ADDRESS=LOOPBACK, PYTHONUNBUFFERED="1")
    if ports.sidecar is not None:
        env.update(
            APP_ID=ws.app_id(name),
            DAPR_HTTP_PORT=str(ports.sidecar.http),
            DAPR_GRPC_PORT=str(ports.sidecar.grpc),
            DAPR_METRICS_PORT=str(ports.sidecar.metrics),
        )
        if ctx.api_token:
            env["DAPR_API_TOKEN"] = ctx.api_token
    for env_file in service.env_files:
        env.update(read_env_file(folder / env_file))
    values = placeholder_values(ws, name, ports, ctx.infra)
    env.update({key: resolve(value, values) for key, value in service.env.items()})
    if isinstance(service.command, str):
        display = resolve(service.command, placeholder_values(ws, name, ports, ctx.infra, shell=True))
        argv: tuple[str, ...] = ("/bin/sh", "-c", display)
    else:
        argv = tuple(resolve(arg, values) for arg in service.command)
        display = shlex.join(argv)
    return ProcessSpec(argv=argv, env=env, cwd=folder, display=display)


def sidecar_spec(ws: Workspace, name: str, ports: ServicePorts, ctx: RunContext) -> ProcessSpec:
    service = ws.services[name]
    assert ports.sidecar is not None
    sp = ports.sidecar
    dapr = service.dapr
    argv = [
        str(ctx.daprd),
        "--app-id", ws.app_id(name),
        "--app-protocol", service.app_protocol,
        "--dapr-http-port", str(sp.http),
        "--dapr-grpc-port", str(sp.grpc),
        "--dapr-internal-grpc-port", str(sp.internal_grpc),
        "--metrics-port", str(sp.metrics),
        # Every listener on loopback: `dapr run` leaves internal gRPC and metrics on all interfaces.
        "--dapr-listen-addresses", LOOPBACK,
        "--dapr-internal-grpc-listen-address", LOOPBACK,
        "--metrics-listen-address", LOOPBACK,
        "--app-channel-address", LOOPBACK,
        # An empty address disables actors / the scheduler, and daprd is healthy without them.
        "--placement-host-address", ctx.infra.placement or "",
        "--scheduler-host-address", ctx.infra.scheduler or "",
        "--log-level", dapr.log_level or ws.spec.dapr.log_level,
        "--app-max-concurrency", str(dapr.app_max_concurrency),
    ]
    if ports.app is not None:
        argv += ["--app-port", str(ports.app)]
    for folder in (*ctx.resources, *ctx.service_resources.get(name, ())):
        argv += ["--resources-path", str(folder)]
    config = dapr.config and (ws.service_dir(name) / dapr.config)
    if not config and ws.spec.dapr.config:
        config = ws.root / ws.spec.dapr.config
    if config:
        argv += ["--config", str(config)]
    if dapr.enable_api_logging if dapr.enable_api_logging is not None else ws.spec.dapr.enable_api_logging:
        argv.append("--enable-api-logging")
    health = service.health_check
    if health.enabled and health.http and ports.app is not None and service.app_protocol == "http":
        argv += ["--enable-app-health-check", "--app-health-check-path", health.http,
                 "--app-health-probe-interval", "5", "--app-health-probe-timeout", "500",
                 "--app-health-threshold", "3"]
    argv += list(dapr.args)
    env = dict(ctx.base_env)
    # With DAPR_HOST_IP, mDNS announces 127.0.0.1 rather than the host's primary address,
    # which a loopback-bound internal gRPC port would not answer.
    env["DAPR_HOST_IP"] = LOOPBACK
    env.pop("DAPR_API_TOKEN", None)
    if ctx.api_token:
        env["DAPR_API_TOKEN"] = ctx.api_token
    return ProcessSpec(argv=tuple(argv), env=env, cwd=ws.service_dir(name), display=shlex.join(argv))


def service_plan(ws: Workspace, name: str, ports: ServicePorts, ctx: RunContext) -> ServicePlan:
    service = ws.services[name]
    return ServicePlan(
        name=name,
        app_id=ws.app_id(name) if service.dapr.enabled else None,
        ports=ports,
        app=app_spec(ws, name, ports, ctx),
        sidecar=sidecar_spec(ws, name, ports, ctx) if service.dapr.enabled else None,
        health=service.health_check,
        depends_on=tuple(service.depends_on),
        restart=service.restart,
        reload=service.reload,
        service_dir=ws.service_dir(name),
        app_protocol=service.app_protocol,
    )
