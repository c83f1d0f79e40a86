"""The daprd command line of one service's sidecar, and the environment it runs in.

Mirrors what `dapr run` passes (dapr/cli pkg/standalone/run.go), with every listener on
loopback — `dapr run` leaves the internal gRPC and metrics ports on all interfaces.
"""

from __future__ import annotations

import shlex

from aura_dev.net import LOOPBACK
from aura_dev.plan.model import ProcessSpec, RunContext, ServicePorts
from aura_dev.workspace.load import Workspace

# daprd's own app health probing (its /v1.0/healthz reports the app unhealthy after
# `threshold` failed probes): the values `dapr run` documents as its defaults.
APP_HEALTH_PROBE_INTERVAL_S = "5"
APP_HEALTH_PROBE_TIMEOUT_MS = "500"
APP_HEALTH_THRESHOLD = "3"
# daprd's own bound on its graceful shutdown (default 5 s), kept under aura's stop grace
# (5 s before SIGKILL): a sidecar busy draining ends by itself, not by SIGKILL.  An idle
# one exits within milliseconds of SIGTERM either way.
GRACEFUL_SHUTDOWN_SECONDS = "3"


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
        "--dapr-listen-addresses", LOOPBACK,
        "--dapr-internal-grpc-listen-address", LOOPBACK,
        "--metrics-listen-address", LOOPBACK,
        "--app-channel-address", LOOPBACK,
        # An empty address disables actors / the scheduler, and daprd is healthy without them.
        "--placement-host-address", ctx.infra.placement or "",
        "--scheduler-host-address", ctx.infra.scheduler or "",
        "--log-level", dapr.log_level or ws.spec.dapr.log_level,
        "--app-max-concurrency", str(dapr.app_max_concurrency),
        "--dapr-graceful-shutdown-seconds", GRACEFUL_SHUTDOWN_SECONDS,
    ]
    if ports.app is not None:
        argv += ["--app-port", str(ports.app)]
    for folder in (*ctx.resources, *ctx.service_resources.get(name, ())):
        argv += ["--resources-path", str(folder)]
    config = dapr.config and (ws.service_dir(name) / dapr.config)
    if not config and ws.spec.dapr.config:
        config = ws.root / ws.spec.dapr.config
    if config:
        argv += ["--config", str(ctx.configs.get(config, config))]
    elif ctx.default_config is not None:
        argv += ["--config", str(ctx.default_config)]
    if dapr.enable_api_logging if dapr.enable_api_logging is not None else ws.spec.dapr.enable_api_logging:
        argv.append("--enable-api-logging")
    health = service.health_check
    if health.enabled and health.http and ports.app is not None and service.app_protocol == "http":
        argv += ["--enable-app-health-check", "--app-health-check-path", health.http,
                 "--app-health-probe-interval", APP_HEALTH_PROBE_INTERVAL_S,
                 "--app-health-probe-timeout", APP_HEALTH_PROBE_TIMEOUT_MS,
                 "--app-health-threshold", APP_HEALTH_THRESHOLD]
    argv += list(dapr.args)
    env = dict(ctx.base_env)
    # With DAPR_HOST_IP, mDNS announces 127.0.0.1 rather than the host's primary address,
    # which a loopback-bound internal gRPC port would not answer.
    env["DAPR_HOST_IP"] = LOOPBACK
    env.pop("DAPR_API_TOKEN", None)
    if ctx.api_token:
        env["DAPR_API_TOKEN"] = ctx.api_token
    return ProcessSpec(argv=tuple(argv), env=env, cwd=ws.service_dir(name), display=shlex.join(argv))
