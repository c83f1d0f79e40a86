"""Starting one service's units, each gated only on what it really needs.

- The sidecar waits for nothing with a native Redis (daprd retries a store it cannot reach
  for ~5 s at start; a native Redis listens in milliseconds), and for Redis alone with a
  container.  Placement and the scheduler it retries by itself, and its full
  health (`/v1.0/healthz`, part of the app's readiness) stays 500 until both are
  connected, so nothing is reported ready early.
- The app waits for the services it `dependsOn` to be ready (their app and sidecar);
  nothing else waits for them — not its own sidecar, not other services.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from aura_dev.engine.runner import UnitRunner
from aura_dev.engine.services import ServiceRun
from aura_dev.engine.timeline import StartTimeline
from aura_dev.errors import InfraError
from aura_dev.plan.infra import InfraKind


class ServiceStarter:
    def __init__(self, services: Mapping[str, ServiceRun], shutdown: asyncio.Event, timeline: StartTimeline,
                 infra: Mapping[InfraKind, UnitRunner]) -> None:
        self.services = services
        self.shutdown = shutdown
        self.timeline = timeline
        self.infra = infra
        # An app held back by its dependencies, and again once they are ready (`engine.warm_reload`
        # boots a Python app's interpreter and imports meanwhile, and runs its code from there).
        self.on_held: Callable[[ServiceRun], None] | None = None
        self.before_launch: Callable[[ServiceRun], Awaitable[None]] | None = None

    def record_needs(self, run: ServiceRun) -> None:
        """What each unit's readiness builds on, for the timeline's critical path."""
        deps = [d for d in run.plan.depends_on if d in self.services]
        needs = [r.ref.label for d in deps for r in self.services[d].runners()]
        if run.sidecar is not None:
            needs.append(run.sidecar.ref.label)  # the app's readiness includes its sidecar's full health
            needs += [r.ref.label for k, r in self.infra.items() if k in (InfraKind.PLACEMENT, InfraKind.SCHEDULER)]
            redis = self.infra.get(InfraKind.REDIS)
            self.timeline.needs(run.sidecar.ref, [redis.ref.label] if redis else [])
        self.timeline.needs(run.app.ref, needs)

    async def start(self, run: ServiceRun, redis: Awaitable[None] | None = None) -> None:
        self.record_needs(run)
        await asyncio.gather(self._start_app(run), self._start_sidecar(run, redis))

    async def _start_app(self, run: ServiceRun) -> None:
        deps = [self.services[d] for d in run.plan.depends_on if d in self.services]
        if self.on_held is not None and not all(d.is_ready() for d in deps):
            self.on_held(run)
        while not self.shutdown.is_set() and not all(d.is_ready() for d in deps):
            waiting_for = [r for d in deps for r in d.runners() if not r.ready.is_set()]
            run.app.waiting("for " + ", ".join(d.name for d in deps if not d.is_ready()))
            self.timeline.waiting(run.app.ref, [r.ref.label for r in waiting_for])
            waiters = [asyncio.ensure_future(r.ready.wait()) for r in waiting_for]
            waiters.append(asyncio.ensure_future(self.shutdown.wait()))
            _done, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
        if self.before_launch is not None and not self.shutdown.is_set():
            await self.before_launch(run)
        if not self.shutdown.is_set():
            run.app.launch()

    async def _start_sidecar(self, run: ServiceRun, redis: Awaitable[None] | None) -> None:
        if run.sidecar is None:
            return
        redis_runner = self.infra.get(InfraKind.REDIS)
        if redis is not None:
            if redis_runner is not None and not redis_runner.ready.is_set():
                self.timeline.waiting(run.sidecar.ref, [redis_runner.ref.label])
            try:
                await asyncio.shield(redis)
            except InfraError:
                return  # reported once, by the orchestrator's start
        if not self.shutdown.is_set():
            run.sidecar.launch()
