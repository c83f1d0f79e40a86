"""billing: a Dapr service.  Everything outside the process is reached through its Dapr
sidecar, which aura starts beside it and announces in DAPR_HTTP_PORT / DAPR_GRPC_PORT:

- state in the `statestore` component (POST / GET /state/{key})
- events published on the `pubsub` component, topic `billing-events` (POST /publish)
- a subscription to that topic; what arrived is listed on GET /events
- other services called by their app id (GET /invoke/{app_id}/{method})
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Annotated, Any

from dapr.clients import DaprClient
from dapr.clients.exceptions import DaprInternalError
from dapr.ext.fastapi import DaprApp
from fastapi import Body, Depends, FastAPI, HTTPException, Response

STORE = os.environ.get("STATE_STORE", "statestore")
PUBSUB = os.environ.get("PUBSUB", "pubsub")
TOPIC = os.environ.get("TOPIC", "billing-events")

app = FastAPI(title="billing")
dapr_app = DaprApp(app)
# Events delivered by the subscription; in memory, as an example to replace.
received: list[Any] = []


def dapr_client() -> Iterator[DaprClient]:
    """A client per request (the SDK's clients are cheap); tests replace this dependency."""
    with DaprClient() as client:
        yield client


Dapr = Annotated[DaprClient, Depends(dapr_client)]
Json = Annotated[Any, Body()]


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


# Handlers that call the sidecar are plain `def`: FastAPI runs them in its thread pool,
# and the SDK's invocation client runs an event loop of its own.
@app.post("/state/{key}")
def save_state(key: str, value: Json, dapr: Dapr) -> dict[str, Any]:
    dapr.save_state(STORE, key, json.dumps(value))
    return {"key": key, "value": value}


@app.get("/state/{key}")
def get_state(key: str, dapr: Dapr) -> dict[str, Any]:
    data = dapr.get_state(STORE, key).data
    if not data:
        raise HTTPException(status_code=404, detail=f"no state under '{key}'")
    return {"key": key, "value": json.loads(data)}


@app.post("/publish")
def publish(event: Json, dapr: Dapr) -> dict[str, Any]:
    dapr.publish_event(PUBSUB, TOPIC, json.dumps(event), data_content_type="application/json")
    return {"published": event, "topic": TOPIC}


@dapr_app.subscribe(pubsub=PUBSUB, topic=TOPIC)
def on_event(event: Annotated[dict[str, Any], Body()]) -> dict[str, str]:
    # Dapr delivers a CloudEvent: what was published is its `data`.
    received.append(event.get("data"))
    return {"status": "SUCCESS"}


@app.get("/events")
def events() -> dict[str, Any]:
    return {"topic": TOPIC, "received": received}


@app.get("/invoke/{app_id}/{method:path}")
def invoke(app_id: str, method: str, dapr: Dapr) -> Response:
    """Call `method` of the service `app_id` through the sidecars (service invocation)."""
    try:
        reply = dapr.invoke_method(app_id, method, http_verb="GET")
    except DaprInternalError as exc:
        raise HTTPException(status_code=502, detail=f"{app_id}/{method}: {exc}") from exc
    return Response(content=reply.data, media_type=reply.content_type or "application/json")
