"""The dashboard as a supervisor hook: before the start it claims its port (from the
workspace's block, kept across runs, like every auto port), listens on it and puts its URL
in the snapshot; once the stack is up it imports the web stack — off the start-up path, in
a thread — and serves on the supervisor's own event loop.  Listening from the start means
a browser that comes early waits in the socket's backlog for the first page, never meets a
refused connection."""

from __future__ import annotations

import asyncio
import importlib
import secrets
import socket

from aura_dev.dashboard.access import forget_token, write_token
from aura_dev.engine.orchestrator import Orchestrator
from aura_dev.engine.snapshot import DashboardRecord
from aura_dev.logs.record import Level
from aura_dev.net import LOOPBACK, can_bind

PORT_KEY = "dashboard"


class DashboardHook:
    def __init__(self) -> None:
        self.token = secrets.token_urlsafe(32)
        self.port: int | None = None
        self.sock: socket.socket | None = None

    def prepare(self, orch: Orchestrator) -> None:
        settings = orch.ws.spec.dashboard
        if not settings.enabled:
            return
        if isinstance(settings.port, int) and not can_bind(settings.port):
            # The stack matters more than its dashboard: say so, and run without it.
            orch.hub.notice(None, f"dashboard.port {settings.port} is in use: no dashboard this run "
                            "(free the port or set dashboard.port: auto)", Level.WARN)
            return
        self.port = orch.ports.port(PORT_KEY, settings.port)  # saved with the others by the start
        try:
            self.sock = listen(self.port)
        except OSError as exc:
            orch.hub.notice(None, f"dashboard: cannot listen on {LOOPBACK}:{self.port} ({exc.strerror}); "
                            "the stack runs without it", Level.WARN)
            self.port = None
            return
        orch.dashboard = DashboardRecord(url=f"http://{LOOPBACK}:{self.port}/", port=self.port)
        write_token(orch.ws.state_dir, self.token)

    async def serving(self, orch: Orchestrator) -> None:
        if self.sock is not None:
            orch.spawn(self._serve(orch, self.sock))

    def close(self, orch: Orchestrator) -> None:
        if self.sock is not None:
            self.sock.close()
            forget_token(orch.ws.state_dir)

    async def _serve(self, orch: Orchestrator, sock: socket.socket) -> None:
        # Starlette, uvicorn and Jinja2 cost ~0.2 s to import: in a thread, so the loop
        # (health checks, log lines) never waits for them.
        try:
            await asyncio.to_thread(importlib.import_module, "aura_dev.dashboard.server")
        except ImportError as exc:  # a broken install: the stack still runs
            orch.hub.notice(None, f"dashboard unavailable: {exc} (reinstall aura-dev)", Level.ERROR)
            sock.close()
            return
        from aura_dev.dashboard.server import serve

        await serve(orch, sock=sock, token=self.token)


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
