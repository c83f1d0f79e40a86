"""The supervisor's control socket: `aura dev restart|stop|start SERVICE` and `down` from
any terminal act on the running stack through it.  One JSON line each way."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aura_dev.errors import AuraError, NotRunning

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


async def serve(path: Path, handler: Handler) -> asyncio.AbstractServer:
    path.unlink(missing_ok=True)

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            request = json.loads(line or b"{}")
            try:
                reply = await handler(request)
            except AuraError as exc:
                reply = {"ok": False, "error": exc.message, "hint": exc.hint, "exit": exc.exit_code}
            writer.write(json.dumps(reply).encode() + b"\n")
            await writer.drain()
        except (OSError, ValueError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_unix_server(on_client, path=str(path))
    path.chmod(0o600)
    return server


def request(path: Path, message: dict[str, Any], timeout: float = 120.0) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
        except OSError as exc:
            raise NotRunning(f"cannot reach the supervisor at {path}: {exc}",
                             hint="is the stack running? `aura dev status`") from exc
        sock.sendall(json.dumps(message).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            part = sock.recv(65536)
            if not part:
                break
            data += part
    reply = json.loads(data or b"{}")
    return reply if isinstance(reply, dict) else {}
