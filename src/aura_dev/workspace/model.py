"""The `aura.yaml` model: typed, immutable, camelCase keys like Dapr's own files.

Shorthands a person would write by hand are accepted and normalised before typing:
`command: "uvicorn app:app"` (a shell string), `healthCheck: /healthz`, `restart: always`,
`appPort: auto`, durations as `150ms` / `2s` / `1m`.  Each shorthand has one clean error
message, so a typo never produces a wall of union-type noise.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ByteSize, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from aura_dev.versions import DEFAULT_RUNTIME_VERSION
from aura_dev.workspace.names import shown_value

SCHEMA_VERSION = 1
LogLevel = Literal["debug", "info", "warn", "error", "fatal", "panic"]


def _invalid(kind: str, template: str, value: Any) -> PydanticCustomError:
    """A validation error quoting `value` (in part, when long)."""
    return PydanticCustomError(kind, template, {"value": shown_value(value)})


def _parse_port(value: Any) -> Any:
    if value == "auto":
        return value
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _invalid("port", "expected a port number (1-65535) or 'auto', got {value}", value)
    try:
        number = int(value)
    except ValueError:
        raise _invalid("port", "expected a port number (1-65535) or 'auto', got {value}", value) from None
    if not 1 <= number <= 65535:
        raise _invalid("port_range", "port {value} is out of range (1-65535)", number)
    return number


Port = Annotated[
    Annotated[int, Field(ge=1, le=65535)] | Literal["auto"],
    BeforeValidator(_parse_port),
]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
MAX_DURATION = 7 * 24 * 3600.0
NOT_A_DURATION = "expected a duration such as 500ms, 2s or 1m, got {value}"
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(value: Any) -> float:
    if isinstance(value, bool):
        raise _invalid("duration", NOT_A_DURATION, value)
    if isinstance(value, (int, float)):
        seconds = float(value)
        if math.isnan(seconds):
            raise _invalid("duration", NOT_A_DURATION, value)
        if seconds < 0:
            raise _invalid("duration", "a duration cannot be negative, got {value}", value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise _invalid("duration", NOT_A_DURATION, value)
        seconds = float(match[1]) * _UNIT_SECONDS[match[2]]
    if seconds > MAX_DURATION:  # an endless timer overflows the event loop's clock
        raise _invalid("duration", "a duration can be at most 7 days (168h), got {value}", value)
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration, json_schema_input_type=float | str)]


def _parse_command(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, (str, int, float)) for item in value):
        return [str(item) for item in value]
    raise _invalid("command", "expected a list of arguments or a shell command string, got {value}", value)


Command = Annotated[list[str] | str, BeforeValidator(_parse_command)]


def _stringify_env(value: Any) -> Any:
    if not isinstance(value, dict):
        raise _invalid("env", "expected a mapping of NAME: value, got {value}", value)
    result: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, bool):
            result[str(key)] = "true" if item else "false"
        elif isinstance(item, (str, int, float)):
            result[str(key)] = str(item)
        elif item is None:
            result[str(key)] = ""
        else:
            raise PydanticCustomError(
                "env_value", "the value of {key} must be a string, number or boolean, got {value}",
                {"key": shown_value(str(key)).strip("'"), "value": shown_value(item)},
            )
    return result


EnvMap = Annotated[dict[str, str], BeforeValidator(_stringify_env)]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


StrList = Annotated[list[str], BeforeValidator(_as_list, json_schema_input_type=list[str] | str)]


class Model(BaseModel):
    # defer_build: the schema is built when something first validates, not at import — the
    # supervisor usually takes its spec from `workspace.spec_cache` and never validates.
    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True, validate_default=True,
        defer_build=True,
    )


class WorkspaceDapr(Model):
    """Dapr settings shared by every sidecar."""

    runtime_version: str = Field(DEFAULT_RUNTIME_VERSION, description="Version of daprd/placement/scheduler")
    resources: StrList = Field(
        default_factory=list,
        description="Component folders (relative to the workspace). Empty: aura writes a Redis state store "
        "and pub/sub under .aura/",
    )
    config: str | None = Field(None, description="A Dapr Configuration file given to every sidecar")
    log_level: LogLevel = "info"
    api_token: bool = Field(False, description="Generate a DAPR_API_TOKEN per run for sidecars and apps")
    enable_api_logging: bool = False


class InfraUnit(Model):
    enabled: bool = True
    port: Port = "auto"
    image: str | None = Field(None, description="Container image for the docker backend")


class RedisInfra(InfraUnit):
    password: str | None = Field(None, description="requirepass for the Redis aura starts (masked in output)")
    persist: bool = Field(True, description="Keep Redis data under .aura/redis across restarts, `down` and "
                          "`up` (append-only file, fsync every second); false: in memory only")


class InfraSettings(Model):
    backend: Literal["auto", "docker", "native"] = Field(
        "auto", description="docker when the engine answers, else native processes"
    )
    redis: RedisInfra = Field(default_factory=lambda: RedisInfra())
    placement: InfraUnit = Field(default_factory=lambda: InfraUnit())
    scheduler: InfraUnit = Field(default_factory=lambda: InfraUnit())
    keep: bool = Field(
        False, description="Leave Redis, placement and the scheduler running after `aura dev down` (as `dapr init` "
        "does) and reuse them at the next `up`; `aura dev down --all` stops them too. Native backend only")
    zipkin: InfraUnit = Field(
        default_factory=lambda: InfraUnit(),
        description="A Zipkin server (as `dapr init` runs one): every sidecar sends it its spans. Native: the "
        "official exec jar (Java 17+, fetched by `aura dev init`); docker: openzipkin/zipkin if present locally",
    )


def _parse_health(value: Any) -> Any:
    if isinstance(value, str):
        if value == "tcp":
            return {"tcp": True}
        if value in ("none", "off"):
            return {"enabled": False}
        if value.startswith("/"):
            return {"http": value}
        raise _invalid("health", "expected an HTTP path such as /healthz, 'tcp', 'none', or a mapping, got {value}",
                       value)
    return value


def _check_http_path(value: str | None) -> str | None:
    if value is not None and not value.startswith("/"):
        raise _invalid("health_path", "an HTTP health path must start with '/', got {value}", value)
    return value


class HealthCheck(Model):
    enabled: bool = True
    http: Annotated[str | None, AfterValidator(_check_http_path)] = Field(
        None, description="HTTP path answered with 2xx when the app is healthy"
    )
    tcp: bool = Field(False, description="Healthy once the app port accepts connections")
    interval: Duration = 0.05
    timeout: Duration = Field(60.0, description="How long a start may take before it fails")


def _parse_reload(value: Any) -> Any:
    return {"enabled": value} if isinstance(value, bool) else value


class ReloadSettings(Model):
    enabled: bool = True
    watch: StrList = Field(default_factory=list, description="Globs (relative to the service) that trigger a reload")
    ignore: StrList = Field(default_factory=list, description="Globs that never trigger a reload")
    debounce: Duration = Field(0.02, description="Changes within this window give one reload")
    warm: bool = Field(True, description="Python apps: reload from a standby interpreter that has already "
                       "imported the third-party modules (false: every reload is a cold start)")


def _parse_restart(value: Any) -> Any:
    return {"policy": value} if isinstance(value, str) else value


class BackoffSettings(Model):
    initial: Duration = 0.5
    max: Duration = 15.0
    multiplier: float = Field(2.0, ge=1.0)


class RestartSettings(Model):
    policy: Literal["no", "on-failure", "always"] = "on-failure"
    max_restarts: int = Field(5, ge=0, description="Crashes within `window` before the service is marked failed")
    window: Duration = 60.0
    backoff: BackoffSettings = Field(default_factory=lambda: BackoffSettings())
    stable_after: Duration = Field(
        5.0, description="A unit ready for this long before it exits is restarted at once, its backoff reset; "
        "the exit does not count toward maxRestarts")


class ServiceDapr(Model):
    enabled: bool = True
    app_id: str | None = Field(None, description="Defaults to the service name")
    http_port: Port = "auto"
    grpc_port: Port = "auto"
    internal_grpc_port: Port = "auto"
    metrics_port: Port = "auto"
    app_max_concurrency: int = Field(-1, ge=-1)
    log_level: LogLevel | None = None
    resources: StrList = Field(default_factory=list, description="Extra component folders (relative to the service)")
    config: str | None = None
    enable_api_logging: bool | None = None
    args: list[str] = Field(default_factory=list, description="Extra daprd arguments, appended last")


class ResourceSettings(Model):
    cpu: str | None = None
    memory: str | None = None


class KubernetesResources(Model):
    requests: ResourceSettings = Field(default_factory=lambda: ResourceSettings())
    limits: ResourceSettings = Field(default_factory=lambda: ResourceSettings())


class Service(Model):
    path: str = Field(description="The service's folder, relative to the workspace")
    command: Command = Field(description="A list of arguments, or a shell string run with /bin/sh -c")
    env: EnvMap = Field(default_factory=dict)
    env_files: StrList = Field(default_factory=list, description="dotenv files, relative to the service")
    app_port: Port | None = Field(
        "auto",
        description="The port the app listens on, given to its command as {port} and $APP_PORT. 'auto' (the "
        "default): aura picks a free one, and the app counts as started once it listens there; one that has not "
        "3 s after starting is named, with what it listens on instead. null: a worker that serves no port "
        "(daprd never calls it; it counts as started once it has stayed up 0.5 s)",
    )
    app_protocol: Literal["http", "grpc"] = "http"
    health_check: Annotated[HealthCheck, BeforeValidator(_parse_health, json_schema_input_type=HealthCheck | str)] = (
        Field(default_factory=lambda: HealthCheck())
    )
    depends_on: StrList = Field(default_factory=list)
    reload: Annotated[ReloadSettings, BeforeValidator(_parse_reload, json_schema_input_type=ReloadSettings | bool)] = (
        Field(default_factory=lambda: ReloadSettings())
    )
    restart: Annotated[
        RestartSettings, BeforeValidator(_parse_restart, json_schema_input_type=RestartSettings | str)
    ] = Field(default_factory=lambda: RestartSettings())
    dapr: ServiceDapr = Field(default_factory=lambda: ServiceDapr())
    # Cluster-only settings (used by `aura dev export kubernetes`, ignored locally).
    image: str | None = Field(None, description="Container image; default {registry}/{service}:{tag}")
    replicas: int = Field(1, ge=0)
    resources: KubernetesResources = Field(default_factory=lambda: KubernetesResources())
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class LogSettings(Model):
    max_file_size: ByteSize = Field(ByteSize(16 * 1024 * 1024), description="Rotate a service's log at this size")
    max_total_size: ByteSize = Field(ByteSize(512 * 1024 * 1024), description="Drop the oldest logs beyond this")


class DashboardSettings(Model):
    """The web dashboard the supervisor serves on 127.0.0.1 while the stack runs."""

    enabled: bool = True
    port: Port = Field("auto", description="Its loopback port; auto: one from the workspace's block, kept across runs")


class KubernetesRedis(Model):
    mode: Literal["bundled", "external"] = "bundled"
    address: str | None = Field(None, description="host:port of an external Redis")
    password_secret: str | None = Field(None, description="Secret holding the external Redis password (key: password)")


class KubernetesSettings(Model):
    namespace: str | None = Field(None, description="Defaults to the workspace name")
    registry: str = "localhost:5000"
    tag: str = "latest"
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    redis: KubernetesRedis = Field(default_factory=lambda: KubernetesRedis())


class WorkspaceSpec(Model):
    """The whole `aura.yaml`."""

    model_config = ConfigDict(title="aura workspace (aura.yaml)", json_schema_extra={
        "patternProperties": {"^x-": {"description": "Extension field: any value, ignored by aura (a place for "
                                                     "YAML anchors to merge with <<), as in Docker Compose"}},
    })

    name: str = Field(description="Workspace name, used to label processes and containers")
    dapr: WorkspaceDapr = Field(default_factory=lambda: WorkspaceDapr())
    infra: InfraSettings = Field(default_factory=lambda: InfraSettings())
    logs: LogSettings = Field(default_factory=lambda: LogSettings())
    dashboard: DashboardSettings = Field(default_factory=lambda: DashboardSettings())
    kubernetes: KubernetesSettings = Field(default_factory=lambda: KubernetesSettings())
    services: dict[str, Service] = Field(default_factory=dict)
