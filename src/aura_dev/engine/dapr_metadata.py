"""Dapr's own view of a sidecar, from its `/v1.0/metadata`: runtime version, components,
subscriptions, actors, the app channel, extended metadata — read the same way for every
view of the stack (the dashboard's service page, the terminal view)."""

from __future__ import annotations

from typing import Any

import httpx

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


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _routes(rules: Any) -> list[Any]:
    # `rules` is a list in daprd's HTTP metadata, `{"rules": [...]}` in some versions.
    return _list(rules.get("rules")) if isinstance(rules, dict) else _list(rules)
