"""Dapr's own view of a sidecar, from its `/v1.0/metadata` — runtime version, components,
subscriptions, actors, the app channel, extended metadata — beside what aura started it
with: the daprd argv and the app's environment, secret-looking values masked exactly as
`aura dev config` masks them."""

from __future__ import annotations

from typing import Any

import httpx

from aura_dev.engine.service_view import ServiceDetails
from aura_dev.net import LOOPBACK
from aura_dev.workspace.resolved import MASK, is_secret_name

METADATA_TIMEOUT = 2.0


async def fetch_metadata(port: int, api_token: str | None) -> tuple[dict[str, Any] | None, str | None]:
    """daprd's metadata, or why there is none (the sidecar is down, or answered an error)."""
    headers = {"dapr-api-token": api_token} if api_token else {}
    url = f"http://{LOOPBACK}:{port}/v1.0/metadata"
    try:
        async with httpx.AsyncClient(timeout=METADATA_TIMEOUT, trust_env=False) as client:
            response = await client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        return None, f"the sidecar did not answer {url}: {type(exc).__name__} {exc}".strip()
    if response.status_code != 200:
        return None, f"{url} answered {response.status_code}: {response.text[:300]}"
    try:
        data = response.json()
    except ValueError:
        return None, f"{url} answered something that is not JSON"
    return (data, None) if isinstance(data, dict) else (None, f"{url} answered an unexpected shape")


def shape_metadata(raw: dict[str, Any]) -> dict[str, Any]:
    """The parts a person reads, with the same names whatever daprd version filled them."""
    actor_runtime = _dict(raw.get("actorRuntime"))
    actors = _list(actor_runtime.get("activeActors")) or _list(raw.get("actors"))
    app = _dict(raw.get("appConnectionProperties"))
    return {
        "id": raw.get("id"),
        "runtimeVersion": raw.get("runtimeVersion"),
        "enabledFeatures": [str(f) for f in _list(raw.get("enabledFeatures"))],
        "components": [{"name": c.get("name"), "type": c.get("type"), "version": c.get("version"),
                        "capabilities": [str(x) for x in _list(c.get("capabilities"))]}
                       for c in map(_dict, _list(raw.get("components")))],
        "subscriptions": [{"pubsub": s.get("pubsubname"), "topic": s.get("topic"),
                           "routes": [{"match": r.get("match") or "", "path": r.get("path")}
                                      for r in map(_dict, _routes(s.get("rules")))],
                           "deadLetterTopic": s.get("deadLetterTopic") or "", "type": s.get("type"),
                           "metadata": _dict(s.get("metadata"))}
                          for s in map(_dict, _list(raw.get("subscriptions")))],
        "actors": [{"type": a.get("type"), "count": a.get("count", 0)} for a in map(_dict, actors)],
        "actorRuntime": {"status": actor_runtime.get("runtimeStatus"), "hostReady": actor_runtime.get("hostReady"),
                         "placement": actor_runtime.get("placement")},
        "app": {"port": app.get("port"), "protocol": app.get("protocol"),
                "channelAddress": app.get("channelAddress"), "maxConcurrency": app.get("maxConcurrency"),
                "health": _dict(app.get("health"))},
        "scheduler": _dict(raw.get("scheduler")),
        "httpEndpoints": [_dict(e) for e in _list(raw.get("httpEndpoints"))],
        "extended": {str(k): (MASK if is_secret_name(str(k)) and v else v)
                     for k, v in _dict(raw.get("extended")).items()},
    }


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


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _routes(rules: Any) -> list[Any]:
    # `rules` is a list in daprd's HTTP metadata, `{"rules": [...]}` in some versions.
    return _list(rules.get("rules")) if isinstance(rules, dict) else _list(rules)
