"""The supervisor's control socket: `aura dev restart|stop|start SERVICE` and `down` from
any terminal (and the dashboard) act on the running stack through it.

One JSON line each way, as typed requests and replies.  The server validates every
request before it reaches the orchestrator; a malformed, unknown or oversized one gets an
error reply and never disturbs the supervisor.  The socket is created private: the
umask is narrowed around the bind, so there is no moment in which another user could
connect.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aura_dev.engine.control_wire import Unreachable, exchange
from aura_dev.errors import AuraError, NotRunning

if TYPE_CHECKING:  # asyncio is for the server: a client (`down`, `restart`) does without it
    import asyncio

MAX_REQUEST_BYTES = 64 * 1024
REQUEST_READ_SECONDS = 10.0  # a client that connects and says nothing is let go


class Operation(str, Enum):
    DOWN = "down"
    RESTART = "restart"
    STOP = "stop"
    START = "start"


class Which(str, Enum):
    """Which units of a service an operation acts on."""

    ALL = "all"
    APP = "app"
    SIDECAR = "sidecar"


class BadRequest(ValueError):
    pass


@dataclass(frozen=True)
class ControlRequest:
    op: Operation
    services: tuple[str, ...] = ()
    which: Which = Which.ALL

    def to_json(self) -> dict[str, Any]:
        return {"op": self.op.value, "services": list(self.services), "which": self.which.value}

    @classmethod
    def from_json(cls, data: Any) -> ControlRequest:
        if not isinstance(data, dict):
            raise BadRequest("a request is a JSON object")
        try:
            op = Operation(data.get("op"))
        except ValueError:
            raise BadRequest(f"unknown request {data.get('op')!r}") from None
        services = data.get("services", [])
        if not isinstance(services, list) or not all(isinstance(s, str) for s in services):
            raise BadRequest("services must be a list of names")
        try:
            which = Which(data.get("which", Which.ALL.value))
        except ValueError:
            raise BadRequest(f"which must be one of {', '.join(w.value for w in Which)}") from None
        if op is not Operation.DOWN and not services:
            raise BadRequest(f"{op.value} needs at least one service")
        return cls(op, tuple(services), which)


@dataclass(frozen=True)
class ControlReply:
    ok: bool
    error: str | None = None
    hint: str | None = None
    exit_code: int | None = None
    seconds: float | None = None
    states: dict[str, bool] = field(default_factory=dict)  # service -> ready after the operation

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ok": self.ok}
        if self.error is not None:
            data.update(error=self.error, hint=self.hint, exit=self.exit_code)
        if self.seconds is not None:
            data["seconds"] = self.seconds
        if self.states:
            data["states"] = self.states
        return data

    @classmethod
    def from_json(cls, data: Any) -> ControlReply:
        if not isinstance(data, dict):
            return cls(ok=False, error="the supervisor sent no reply")
        states = data.get("states") if isinstance(data.get("states"), dict) else {}
        seconds = data.get("seconds")
        return cls(ok=bool(data.get("ok")), error=data.get("error"), hint=data.get("hint"),
                   exit_code=data.get("exit"), seconds=float(seconds) if isinstance(seconds, (int, float)) else None,
                   states={str(k): bool(v) for k, v in (states or {}).items()})

    @classmethod
    def failure(cls, exc: AuraError) -> ControlReply:
        return cls(ok=False, error=exc.message, hint=exc.hint, exit_code=exc.exit_code)


Handler = Callable[[ControlRequest], Awaitable[ControlReply]]


async def serve(path: Path, handler: Handler) -> asyncio.AbstractServer:
    import asyncio

    path.unlink(missing_ok=True)

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            reply = await _answer(reader, handler)
            writer.write(json.dumps(reply.to_json()).encode() + b"\n")
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass  # the client went away: nothing to answer
        finally:
            writer.close()

    # No window in which the socket exists with the default permissions: it is created
    # with 0600 (the umask of this one bind) rather than chmod-ed after the fact.
    previous = os.umask(0o177)
    try:
        server = await asyncio.start_unix_server(on_client, path=str(path), limit=MAX_REQUEST_BYTES)
    finally:
        os.umask(previous)
    return server


async def _answer(reader: asyncio.StreamReader, handler: Handler) -> ControlReply:
    import asyncio

    try:
        line = await asyncio.wait_for(reader.readuntil(b"\n"), REQUEST_READ_SECONDS)
    except asyncio.TimeoutError:
        return ControlReply(ok=False, error="no request within the time allowed", exit_code=2)
    except asyncio.LimitOverrunError:
        return ControlReply(ok=False, error=f"request larger than {MAX_REQUEST_BYTES} bytes", exit_code=2)
    except asyncio.IncompleteReadError as exc:
        line = exc.partial
    try:
        request = ControlRequest.from_json(json.loads(line or b"{}"))
    except (BadRequest, ValueError) as exc:
        return ControlReply(ok=False, error=f"bad request: {exc}", exit_code=2)
    try:
        return await handler(request)
    except AuraError as exc:
        return ControlReply.failure(exc)


def request(path: Path, message: ControlRequest, timeout: float = 120.0) -> ControlReply:
    try:
        data = exchange(path, message.to_json(), timeout)
    except Unreachable as exc:
        raise NotRunning(f"cannot reach the supervisor at {path}: {exc}",
                         hint="is the stack running? `aura dev status`") from exc.__cause__
    except ValueError:
        return ControlReply(ok=False, error="the supervisor sent an unreadable reply")
    return ControlReply.from_json({} if data is None else data)
