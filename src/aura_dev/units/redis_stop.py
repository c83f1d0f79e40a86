"""Stopping Redis without waiting for its clock.

On SIGTERM Redis only sets a flag, which its timer acts on (`hz`, 10 times a second by
default): each stop sat idle for up to 100 ms (measured 4–100 ms, against 3 ms for the
command).  The SHUTDOWN command takes the same way out at once — the append-only file
flushed and fsynced, an RDB saved only where save points are configured (aura configures
none).  So a Redis being stopped is sent the command first, then SIGTERM and, after the
grace, SIGKILL as before: for a Redis that has exited these find nothing to do, and one
that does not answer within a second still gets them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aura_dev.units.probes import resp_command

SHUTDOWN_ANSWER_SECONDS = 1.0  # the command's own bound; the unit's grace bounds the stop as a whole


async def ask_to_shut_down(host: str, port: int, password: str | None, timeout: float = SHUTDOWN_ANSWER_SECONDS) -> bool:
    """Send SHUTDOWN; True once Redis has closed the connection without an error (it exits
    without a reply), False if it refused (an error reply) or did not answer in time."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, asyncio.TimeoutError):
        return False
    try:
        writer.write((resp_command("AUTH", password) if password else b"") + resp_command("SHUTDOWN"))
        await writer.drain()
        said = await asyncio.wait_for(reader.read(), timeout)  # until Redis closes the connection
        return b"-" not in said  # AUTH's +OK may or may not have gone out before the exit
    except ConnectionResetError:
        return True
    except (OSError, asyncio.TimeoutError):
        return False
    finally:
        writer.close()


async def stop_redis(stop: Callable[[float], Awaitable[int | None]], grace: float, running: bool,
                     address: tuple[str, int, str | None]) -> int | None:
    """The SHUTDOWN command, then `stop(grace)` (SIGTERM, SIGKILL after the grace)."""
    if running:
        host, port, password = address
        await ask_to_shut_down(host, port, password, min(grace, SHUTDOWN_ANSWER_SECONDS))
    return await stop(grace)
