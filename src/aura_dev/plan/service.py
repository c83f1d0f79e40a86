"""Pure: from a workspace and the allocated ports to exactly what one service runs — its
app's process, its sidecar's process, and the settings the engine supervises them with.
Nothing here touches the network or starts anything."""

from __future__ import annotations

import shlex

from aura_dev.plan.daprd import sidecar_spec
from aura_dev.plan.env import app_env, placeholder_values
from aura_dev.plan.model import ProcessSpec, RunContext, ServicePlan, ServicePorts
from aura_dev.workspace.load import Workspace
from aura_dev.workspace.placeholders import resolve


def app_spec(ws: Workspace, name: str, ports: ServicePorts, ctx: RunContext) -> ProcessSpec:
    service = ws.services[name]
    env = app_env(ws, name, ports, ctx)
    if isinstance(service.command, str):
        # A shell string: placeholders are shell-quoted, so a folder with a space stays one word.
        display = resolve(service.command, placeholder_values(ws, name, ports, ctx.infra, shell=True))
        argv: tuple[str, ...] = ("/bin/sh", "-c", display)
    else:
        values = placeholder_values(ws, name, ports, ctx.infra)
        argv = tuple(resolve(arg, values) for arg in service.command)
        display = shlex.join(argv)
    return ProcessSpec(argv=argv, env=env, cwd=ws.service_dir(name), display=display)


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
