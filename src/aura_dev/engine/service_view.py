"""What one running service was started with — its app's command and environment, its
sidecar's argv — as plain values for views of the stack (the dashboard's Dapr panel).
Read off the service's current plan; nothing here touches a runner."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aura_dev.engine.orchestrator import Orchestrator


@dataclass(frozen=True)
class ServiceDetails:
    name: str
    app_id: str | None
    app_command: str  # as the user wrote it, placeholders resolved
    app_argv: tuple[str, ...]
    app_cwd: str
    app_env: Mapping[str, str]  # unmasked: a view masks what it shows
    inherited_env: frozenset[str]  # keys passed on unchanged from the supervisor's environment
    sidecar_argv: tuple[str, ...] | None
    sidecar_http_port: int | None
    api_token: str | None  # what daprd's API wants in `dapr-api-token`, if the workspace turned it on


def service_details(orch: Orchestrator, name: str) -> ServiceDetails | None:
    run = orch.services.get(name)
    if run is None:
        return None
    plan = run.plan
    base = orch.ctx.base_env if orch.ctx is not None else {}
    inherited = frozenset(key for key, value in plan.app.env.items() if base.get(key) == value)
    sidecar = plan.ports.sidecar
    return ServiceDetails(
        name=name, app_id=plan.app_id, app_command=plan.app.display, app_argv=plan.app.argv,
        app_cwd=str(plan.app.cwd), app_env=dict(plan.app.env), inherited_env=inherited,
        sidecar_argv=plan.sidecar.argv if plan.sidecar is not None else None,
        sidecar_http_port=sidecar.http if sidecar is not None else None, api_token=orch.api_token)
