"""Dapr's own view of a sidecar, from its `/v1.0/metadata` — runtime version, components,
subscriptions, actors, the app channel, extended metadata — beside what aura started it
with: the daprd argv and the app's environment, secret-looking values masked exactly as
`aura dev config` masks them."""

from __future__ import annotations

from typing import Any

from aura_dev.engine.dapr_metadata import fetch_metadata, shape_metadata
from aura_dev.engine.service_view import ServiceDetails
from aura_dev.workspace.resolved import MASK, is_secret_name


def masked_env(details: ServiceDetails) -> list[dict[str, Any]]:
    """The app's environment: what aura and the workspace set first, then what it inherits."""
    rows = []
    for name, value in details.app_env.items():
        secret = is_secret_name(name) and bool(value)
        rows.append({"name": name, "value": MASK if secret else value, "masked": secret,
                     "inherited": name in details.inherited_env})
    rows.sort(key=lambda row: (row["inherited"], row["name"]))
    return rows


def masked_argv(argv: tuple[str, ...]) -> list[str]:
    """daprd's argv as run; a value after a secret-looking flag (`--…-token`) is masked."""
    shown: list[str] = []
    for index, arg in enumerate(argv):
        previous = argv[index - 1] if index else ""
        shown.append(MASK if previous.startswith("--") and is_secret_name(previous) and arg else arg)
    return shown


async def dapr_view(details: ServiceDetails) -> dict[str, Any]:
    metadata, error = None, None
    if details.sidecar_http_port is not None:
        raw, error = await fetch_metadata(details.sidecar_http_port, details.api_token)
        metadata = shape_metadata(raw) if raw is not None else None
    return {
        "service": details.name, "appId": details.app_id, "appCommand": details.app_command,
        "appArgv": list(details.app_argv), "appCwd": details.app_cwd, "env": masked_env(details),
        "sidecarArgv": masked_argv(details.sidecar_argv) if details.sidecar_argv else None,
        "sidecarHttpPort": details.sidecar_http_port, "metadata": metadata, "metadataError": error,
    }
