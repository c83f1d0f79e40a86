"""sessions: one SessionActor per user, hosted through the Dapr actor runtime (placement)."""

from __future__ import annotations

from dapr.actor import Actor, ActorInterface, actormethod
from dapr.ext.fastapi import DaprActor
from fastapi import FastAPI


class SessionActorInterface(ActorInterface):
    @actormethod(name="Touch")
    async def touch(self, data: dict) -> dict: ...


class SessionActor(Actor, SessionActorInterface):
    """Counts a user's messages and remembers the last one, in actor state."""

    async def touch(self, data: dict) -> dict:
        found, session = await self._state_manager.try_get_state("session")
        session = session if found else {"count": 0}
        session["count"] += 1
        session["last"] = data.get("text", "")
        await self._state_manager.set_state("session", session)
        await self._state_manager.save_state()
        return {"user": self.id.id, **session}


app = FastAPI(title="sessions")
actors = DaprActor(app)


@app.on_event("startup")
async def register() -> None:
    await actors.register_actor(SessionActor)


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
