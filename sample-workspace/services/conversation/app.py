"""conversation: keeps each user's messages in the Dapr state store and publishes an
event per message on the `messages` topic.  A cron input binding (`housekeeping`) runs its
periodic job, which records each run in the state store.

Tracing: the `traceparent` its sidecar hands in goes out again on every state and pub/sub
call, so they join the caller's trace instead of starting their own."""

from __future__ import annotations

import json
import os
import time

import logging

from dapr.clients import DaprClient
from dapr.clients.grpc.interceptors import DaprClientInterceptor
from fastapi import FastAPI, Request
from pydantic import BaseModel

STORE = os.environ.get("STATE_STORE", "statestore")
PUBSUB = os.environ.get("PUBSUB", "pubsub")
TOPIC = "messages"
BUILD = "1"  # bumped by benchmarks/bench_reload.py to see the new code answer

app = FastAPI(title="conversation")
log = logging.getLogger("uvicorn.error")


def traced_client(request: Request) -> DaprClient:
    """A Dapr client whose calls carry the incoming request's trace context."""
    traceparent = request.headers.get("traceparent")
    if not traceparent:
        return DaprClient()
    return DaprClient(interceptors=[DaprClientInterceptor([("traceparent", traceparent)])])


class Message(BaseModel):
    user: str
    text: str


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/version")
def version() -> dict[str, str]:
    return {"build": BUILD}


@app.post("/messages")
def add_message(message: Message, request: Request) -> dict[str, object]:
    key = f"conversation-{message.user}"
    parts = (request.headers.get("traceparent") or "").split("-")
    log.info("message from %s trace_id=%s", message.user, parts[1] if len(parts) == 4 else "-")
    with traced_client(request) as dapr:
        current = dapr.get_state(STORE, key).data
        history = json.loads(current) if current else []
        history.append(message.text)
        dapr.save_state(STORE, key, json.dumps(history))
        event = {"user": message.user, "text": message.text, "count": len(history)}
        dapr.publish_event(PUBSUB, TOPIC, json.dumps(event), data_content_type="application/json")
    return {"user": message.user, "count": len(history)}


@app.get("/messages/{user}")
def history(user: str) -> dict[str, object]:
    with DaprClient() as dapr:
        current = dapr.get_state(STORE, f"conversation-{user}").data
    return {"user": user, "messages": json.loads(current) if current else []}


@app.post("/housekeeping")
def housekeeping(request: Request) -> dict[str, object]:
    """Called by the `housekeeping` cron binding; counts its runs in the state store."""
    with traced_client(request) as dapr:
        current = dapr.get_state(STORE, "housekeeping").data
        runs = json.loads(current)["runs"] + 1 if current else 1
        dapr.save_state(STORE, "housekeeping", json.dumps({"runs": runs, "last": time.time()}))
    return {"runs": runs}
