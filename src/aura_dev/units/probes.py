"""Readiness probes: small, async, and cheap enough to poll every few tens of ms.

A start of 30 sidecars on 2 cores is CPU-bound, so the probes speak just enough HTTP
(one GET, read the status line) and RESP (PING) over raw asyncio streams rather than
going through a full HTTP client per poll.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

Check = Callable[[], Awaitable[bool]]


@dataclass(frozen=True)
class ProbeResult:
    ready: bool
    detail: str


async def tcp_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass
    return True


async def http_status(host: str, port: int, path: str, timeout: float = 1.0,
                      headers: dict[str, str] | None = None) -> int | None:
    """The status code of `GET path`, or None when nothing answers."""
    return await http_request(host, port, "GET", path, headers=headers, timeout=timeout)


async def http_request(host: str, port: int, method: str, path: str, body: bytes = b"",
                       headers: dict[str, str] | None = None, timeout: float = 2.0) -> int | None:
    """A small request whose answer only matters by its status (e.g. a metadata PUT)."""
    answer = await _exchange(host, port, method, path, body, headers, timeout, read_body=False)
    return answer[0] if answer else None


async def http_json(host: str, port: int, method: str, path: str, payload: Any,
                    timeout: float = 2.0) -> tuple[int, Any] | None:
    """(status, decoded JSON body) of a request with a JSON body, or None when nothing
    answers (or the answer is not JSON)."""
    answer = await _exchange(host, port, method, path, json.dumps(payload).encode(),
                             {"Content-Type": "application/json"}, timeout, read_body=True)
    if answer is None:
        return None
    try:
        return answer[0], json.loads(answer[1] or b"null")
    except ValueError:
        return None


async def _exchange(host: str, port: int, method: str, path: str, body: bytes, headers: dict[str, str] | None,
                    timeout: float, *, read_body: bool) -> tuple[int, bytes] | None:
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, asyncio.TimeoutError):
        return None
    try:
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        writer.write(f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}Content-Length: {len(body)}\r\n"
                     "Connection: close\r\n\r\n".encode() + body)
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout)
        parts = line.split()
        if len(parts) < 2 or not parts[1].isdigit():
            return None
        if not read_body:
            return int(parts[1]), b""
        # `Connection: close`: the body is everything after the headers (etcd's gateway and
        # Go's net/http answer small bodies with a Content-Length, never chunked here).
        rest = await asyncio.wait_for(reader.read(), timeout)
        return int(parts[1]), rest.partition(b"\r\n\r\n")[2]
    except (OSError, asyncio.TimeoutError):
        return None
    finally:
        writer.close()


async def redis_ping(host: str, port: int, password: str | None = None, timeout: float = 1.0) -> bool:
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, asyncio.TimeoutError):
        return False
    try:
        if password:
            writer.write(resp_command("AUTH", password))
        writer.write(resp_command("PING"))
        await writer.drain()
        if password:
            auth = await asyncio.wait_for(reader.readline(), timeout)
            if not auth.startswith(b"+OK"):
                return False
        reply = await asyncio.wait_for(reader.readline(), timeout)
        return reply.startswith(b"+PONG")
    except (OSError, asyncio.TimeoutError):
        return False
    finally:
        writer.close()


def resp_command(*args: str) -> bytes:
    """A command in RESP, as redis-cli sends it."""
    out = f"*{len(args)}\r\n".encode()
    for arg in args:
        data = arg.encode()
        out += b"$%d\r\n%s\r\n" % (len(data), data)
    return out


async def wait_until(check: Check, *, deadline: float, interval: float = 0.02, max_interval: float = 0.1,
                     abort: Callable[[], str | None] | None = None, wake: asyncio.Event | None = None) -> str | None:
    """Poll `check` until it passes (None) or the monotonic `deadline` passes ("timeout").

    `abort` is asked before every poll; a non-None answer (e.g. "the process exited") ends
    the wait early with that reason.  `wake` (set when the unit writes a line: a process
    usually says so when it is up) cuts a pause short, so polling can be sparse — dozens of
    units polled tightly cost the CPU they need to start — without noticing readiness late.
    """
    delay = interval
    while True:
        if wake is not None:
            wake.clear()
        if abort is not None:
            reason = abort()
            if reason is not None:
                return reason
        if await check():
            return None
        if time.monotonic() >= deadline:
            return "timeout"
        if wake is None:
            await asyncio.sleep(delay)
        else:
            try:
                await asyncio.wait_for(wake.wait(), delay)
            except asyncio.TimeoutError:
                pass
        delay = min(max_interval, delay * 1.5)
