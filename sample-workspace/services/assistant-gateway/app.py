"""assistant-gateway: the HTTP entry of the assistant.  Every call to another service goes
through its Dapr sidecar: service invocation for conversation, an actor call for sessions."""

from __future__ import annotations

import asyncio
import json

from dapr.actor import ActorId, ActorProxy
from dapr.clients import DaprClient
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

app = FastAPI(title="assistant-gateway")


class Chat(BaseModel):
    user: str
    text: str


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def record(message: Chat) -> dict[str, object]:
    with DaprClient() as dapr:
        reply = dapr.invoke_method("conversation", "messages", data=message.model_dump_json(),
                                   content_type="application/json", http_verb="POST")
    return json.loads(reply.data)


@app.post("/chat")
async def chat(message: Chat) -> dict[str, object]:
    # The SDK's invocation client runs its own event loop: keep it off ours.
    conversation = await asyncio.to_thread(record, message)
    session = await ActorProxy.create("SessionActor", ActorId(message.user)).invoke_method(
        "Touch", json.dumps({"text": message.text}).encode())
    return {"reply": f"noted: {message.text}", "conversation": conversation, "session": json.loads(session)}


@app.get("/history/{user}")
def history(user: str) -> dict[str, object]:
    with DaprClient() as dapr:
        reply = dapr.invoke_method("conversation", f"messages/{user}", http_verb="GET")
    if not reply.data:
        raise HTTPException(status_code=502, detail="conversation returned nothing")
    return json.loads(reply.data)
