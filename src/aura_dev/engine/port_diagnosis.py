"""Why an app that is alive is not ready yet, said while aura still waits for it.

An app with an app port counts as started once it listens there (and answers its health
check).  When that has not happened a few seconds after the start, aura looks at what the
app's process tree does listen on and says what to change: a port other than the one aura
gave it (the command ignores `{port}` / `$APP_PORT`), no port at all (a worker, which
`appPort: null` declares), the right port on an address 127.0.0.1 does not reach, or a
health check route that answers an error.  The finding is said once (again only when it
changes), shown as the unit's detail, and named when the start finally times out.
"""

from __future__ import annotations

import asyncio
import time

from aura_dev.engine.events import EventHub
from aura_dev.engine.runner import UnitRunner
from aura_dev.logs.record import Level
from aura_dev.net import LOOPBACK
from aura_dev.plan.model import ServicePlan
from aura_dev.units.listeners import Listener, busy, listening
from aura_dev.units.probes import http_status, tcp_open

DIAGNOSE_AFTER = 3.0  # seconds after the start: most apps listen within one
RECHECK_EVERY = 2.0  # then look again this often (a slow app may still open its port)


def explain(name: str, app_port: int, listeners: list[Listener]) -> str:
    """What to change, given what the app listens on instead of its app port."""
    if not listeners:
        return f"{name} listens on no port: if it is a worker, set `appPort: null`"
    on_port = [listener for listener in listeners if listener.port == app_port]
    if on_port:
        shown = ", ".join(str(listener) for listener in on_port)
        return f"{name} listens on {shown}, which 127.0.0.1:{app_port} does not reach: bind it to 127.0.0.1"
    shown = ", ".join(str(listener) for listener in listeners)
    return (f"{name} listens on {shown}, not on its app port {app_port}: use `{{port}}` or `$APP_PORT`, "
            f"or set `appPort: {listeners[0].port}`")


class PortDiagnosis:
    """One per service; `check` is called by the app's readiness probe each time it fails."""

    def __init__(self, hub: EventHub) -> None:
        self.hub = hub
        self._start: float | None = None  # which start of the app the findings are about
        self._next = 0.0
        self._said: str | None = None

    async def check(self, plan: ServicePlan, runner: UnitRunner) -> None:
        port, started = plan.ports.app, runner.started_at
        if port is None or started is None or runner.unit is None or not plan.health.enabled:
            return
        if started != self._start:
            self._start, self._said, self._next = started, None, started + DIAGNOSE_AFTER
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + RECHECK_EVERY
        finding = await self.finding(plan, port, runner)
        if finding is None or finding == self._said or runner.started_at != started:
            return
        self._said = finding
        self.hub.notice(runner.ref, f"not ready after {now - started:.0f} s: {finding} "
                        f"(still waiting, up to {runner.ready_timeout:g} s)", Level.WARN)
        runner.starting_detail(finding)

    @staticmethod
    async def finding(plan: ServicePlan, port: int, runner: UnitRunner) -> str | None:
        if await tcp_open(LOOPBACK, port):
            health = plan.health
            if health.http and plan.app_protocol == "http":
                status = await http_status(LOOPBACK, port, health.http)
                if status is not None and not 200 <= status < 400:
                    return (f"{plan.name} answers {status} to GET {health.http} on its app port {port}: "
                            "fix that route, or set `healthCheck: tcp`")
            return None  # its port is open: what is missing is not the app's (the sidecar says)
        pid = runner.unit.identity().pid if runner.unit is not None else None
        if pid is None or not runner.unit or not runner.unit.running:
            return None
        listeners = await asyncio.to_thread(listening, pid)
        if not listeners and await asyncio.to_thread(busy, pid):
            # Still working (on a loaded machine an app can take seconds to import its
            # dependencies): "listens on no port" would be a false alarm.  Look again later.
            return None
        return explain(plan.name, port, listeners)
