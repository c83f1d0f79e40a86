"""The values a service's command, env and components are resolved with, and the
environment its app starts in.  Pure apart from reading the service's env files."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values
from dotenv.variables import parse_variables

from aura_dev.net import LOOPBACK
from aura_dev.plan.model import InfraEndpoints, RunContext, ServicePorts
from aura_dev.plan.tracing import otel_env
from aura_dev.workspace.load import Workspace
from aura_dev.workspace.placeholders import resolve


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


def read_env_file(path: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """A dotenv file as python-dotenv reads it (quotes, `export`, inline `# comments`,
    multi-line values), with `${VAR}` and `${VAR:-default}` expanded against `environ`
    (the app's environment so far) and the file's own earlier keys.  A key without `=`
    sets nothing."""
    raw = dotenv_values(path, interpolate=False, encoding="utf-8")
    context = dict(environ or {})
    result: dict[str, str] = {}
    for key, value in raw.items():
        if value is None:
            continue
        expanded = "".join(atom.resolve(context) for atom in parse_variables(value))
        context[key] = result[key] = expanded
    return result


def app_env(ws: Workspace, name: str, ports: ServicePorts, ctx: RunContext) -> dict[str, str]:
    """What the app starts with: the supervisor's environment, what Dapr SDKs read to find
    their sidecar, the service's env files, then its `env:` (placeholders resolved)."""
    service = ws.services[name]
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
    if ctx.infra.zipkin:  # an exported OTEL_* of the user's wins (and so do the service's own, below)
        for key, value in otel_env(ws.app_id(name) if ports.sidecar is not None else name, ctx.infra.zipkin).items():
            env.setdefault(key, value)
    folder = ws.service_dir(name)
    for env_file in service.env_files:
        env.update(read_env_file(folder / env_file, env))
    values = placeholder_values(ws, name, ports, ctx.infra)
    env.update({key: resolve(value, values) for key, value in service.env.items()})
    return env
