"""uvicorn inside the supervisor's own event loop.  The supervisor owns the signals
(uvicorn's handlers are not installed), the socket is bound here on 127.0.0.1 so a port
that cannot be had is a notice rather than uvicorn's `sys.exit`, and access logs are off:
the console is the stack's, not the dashboard's."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Generator

import uvicorn

from aura_dev.dashboard.access import forget_token
from aura_dev.dashboard.app import Dashboard, build_app
from aura_dev.dashboard.guard import Access
from aura_dev.dashboard.stream import Broadcaster
from aura_dev.engine.orchestrator import Orchestrator
from aura_dev.logs.record import Level
from aura_dev.net import LOOPBACK

STOP_SECONDS = 2.0


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # Ctrl-C and SIGTERM are the supervisor's: it stops the stack, then us


def listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOOPBACK, port))
        sock.listen(64)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


async def serve(orch: Orchestrator, *, port: int, token: str) -> None:
    """Serve until the supervisor cancels its tasks (after the stack has stopped, so an open
    page watches the units go down)."""
    try:
        sock = listen(port)
    except OSError as exc:
        orch.hub.notice(None, f"dashboard: cannot listen on {LOOPBACK}:{port} ({exc.strerror}); "
                        "the stack runs without it", Level.WARN)
        return
    broadcaster = Broadcaster(orch.hub, orch.snapshot)
    app = build_app(Dashboard(orch, Access(port, token), broadcaster))
    config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False, log_level="warning",
                            http="h11", ws="none", server_header=False, date_header=False, proxy_headers=False,
                            timeout_graceful_shutdown=1)
    server = _Server(config)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))

    async def announce_stop() -> None:
        await orch.shutdown_requested.wait()
        broadcaster.publish("stack", {"state": "stopping"})

    orch.spawn(announce_stop())
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        broadcaster.publish("stack", {"state": "stopped"})
        server.should_exit = True
        await asyncio.sleep(0)  # let open streams send that last event
        broadcaster.close_all()
        try:
            await asyncio.wait_for(task, STOP_SECONDS)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            server.force_exit = True
        raise
    finally:
        sock.close()
        forget_token(orch.ws.state_dir)
