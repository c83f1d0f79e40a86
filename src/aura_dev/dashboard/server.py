"""uvicorn inside the supervisor's own event loop.  The supervisor owns the signals
(uvicorn's handlers are not installed), the socket is the one the hook bound on 127.0.0.1
before the start (a port that cannot be had is a notice, not uvicorn's `sys.exit`), and
access logs are off:
the console is the stack's, not the dashboard's."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator

import uvicorn

from aura_dev.dashboard.access import forget_token
from aura_dev.dashboard.app import Dashboard, build_app
from aura_dev.dashboard.guard import Access
from aura_dev.dashboard.stream import Broadcaster
from aura_dev.engine.orchestrator import Orchestrator
from aura_dev.logs.record import Level


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # Ctrl-C and SIGTERM are the supervisor's: it stops the stack, then us

    async def main_loop(self) -> None:
        # uvicorn wakes up 10 times a second to refresh its Date header and count requests
        # against a limit: neither is used here, and an idle supervisor should stay asleep.
        await asyncio.Event().wait()  # until the supervisor cancels the server


class _ToHub(logging.Handler):
    """uvicorn's own errors (a fault in a dashboard route) as one line of aura's, in the log
    store and the console, never a traceback over the stack's output; none while stopping,
    when connections are cut on purpose."""

    def __init__(self, orch: Orchestrator) -> None:
        super().__init__(logging.ERROR)
        self.orch = orch

    def emit(self, record: logging.LogRecord) -> None:
        if self.orch.shutdown_requested.is_set():
            return
        error = record.exc_info[1] if record.exc_info else None
        cause = f": {type(error).__name__}: {error}" if error is not None else ""
        self.orch.hub.notice(None, f"dashboard: {record.getMessage()}{cause}", Level.ERROR)


async def serve(orch: Orchestrator, *, sock: socket.socket, token: str) -> None:
    """Serve on `sock` (bound and listening since before the start) until the supervisor
    cancels its tasks (after the stack has stopped, so an open page watches the units go
    down)."""
    port = sock.getsockname()[1]
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [_ToHub(orch)]
        logger.propagate = False
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
        # The stack has stopped (the supervisor cancels its tasks last).  No graceful wait
        # here: the loop must end now — a page already knows ("stopping", then its stream
        # closes) — and a loop kept turning would fire timers of a stack that is gone.
        broadcaster.close_all()
        server.should_exit = server.force_exit = True
        task.cancel()
        raise
    finally:
        sock.close()
        forget_token(orch.ws.state_dir)
