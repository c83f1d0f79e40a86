"""assistant-gateway: the HTTP entry of the assistant.  Every call to another service goes
through its Dapr sidecar: service invocation for conversation, an actor call for sessions.

Tracing: each /chat gets one W3C `traceparent` (the caller's, or a new one), sent on every
call to the sidecar, so daprd puts the invocation and the actor call in one trace."""

from __future__ import annotations

import asyncio
import json
import os
import secrets

from dapr.actor import ActorId, ActorProxy
from dapr.clients import DaprClient
from dapr.clients.http.dapr_actor_http_client import DaprActorHttpClient
from dapr.serializers import DefaultJSONSerializer
from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel

CONVERSATION = os.environ.get("CONVERSATION_APP_ID", "conversation")

app = FastAPI(title="assistant-gateway")


def trace_context(request: Request) -> str:
    """The caller's traceparent, or the start of a new sampled trace."""
    return request.headers.get("traceparent") or f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


class Chat(BaseModel):
    user: str
    text: str


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def record(message: Chat, traceparent: str) -> dict[str, object]:
    with DaprClient(headers_callback=lambda: {"traceparent": traceparent}) as dapr:
        reply = dapr.invoke_method(CONVERSATION, "messages", data=message.model_dump_json(),
                                   content_type="application/json", http_verb="POST")
    return json.loads(reply.data)


@app.post("/chat")
async def chat(message: Chat, request: Request) -> dict[str, object]:
    traceparent = trace_context(request)
    # The SDK's invocation client runs its own event loop: keep it off ours.
    conversation = await asyncio.to_thread(record, message, traceparent)
    actors = DaprActorHttpClient(DefaultJSONSerializer(), headers_callback=lambda: {"traceparent": traceparent})
    proxy = ActorProxy(actors, "SessionActor", ActorId(message.user), None, DefaultJSONSerializer())
    session = await proxy.invoke_method("Touch", json.dumps({"text": message.text}).encode())
    return {"reply": f"noted: {message.text}", "conversation": conversation, "session": json.loads(session)}


@app.get("/history/{user}")
def history(user: str) -> dict[str, object]:
    with DaprClient() as dapr:
        reply = dapr.invoke_method(CONVERSATION, f"messages/{user}", http_verb="GET")
    if not reply.data:
        raise HTTPException(status_code=502, detail="conversation returned nothing")
    return json.loads(reply.data)
