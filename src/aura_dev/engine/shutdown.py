"""Stopping a whole stack as fast as its parts allow, still gracefully.

Every app gets SIGTERM at once (a dependent and what it depends on alike: `down` stops
all of them, nobody waits for an answer).  Each sidecar is stopped as soon as its own app
is gone — not before, so an app shutting down can still reach Dapr (publish, save state),
and not after the other apps.  Infra goes last, once every sidecar has closed its
components.  An observer (Zipkin) stops with the apps: it keeps its traces in memory only,
so nothing it holds outlives it whether it goes first or last — and a JVM's shutdown
hooks are the slowest stop of the stack, better spent while the apps stop.  Each unit
gets its grace (daprd's own graceful shutdown is bounded below it: it exits as soon as its
components are closed, typically within 10 ms, and at the latest after 3 s), then
SIGKILL: nothing outlives `down`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aura_dev.engine.events import EventHub
from aura_dev.engine.runner import UnitRunner
from aura_dev.engine.services import ServiceRun
from aura_dev.logs.record import Level
from aura_dev.plan.infra import INFRA_LABELS, InfraKind
from aura_dev.units.kept import KeptProcessUnit


async def stop_together(hub: EventHub, runners: Iterable[UnitRunner]) -> None:
    """Stop these runners at once; one that fails to stop must not keep the rest running."""
    started = [r for r in runners if r.task]
    results = await asyncio.gather(*(r.shutdown() for r in started), return_exceptions=True)
    for runner, result in zip(started, results):
        if isinstance(result, BaseException):
            hub.notice(runner.ref, f"error while stopping: {result}", Level.ERROR)


async def stop_service(hub: EventHub, run: ServiceRun) -> None:
    """The app, then its sidecar the moment the app is gone."""
    await stop_together(hub, [run.app])
    if run.sidecar is not None:
        await stop_together(hub, [run.sidecar])


def observes_only(runner: UnitRunner) -> bool:
    """An infra unit that the stack does not wait for at start (`InfraKind.gates_stack`)."""
    name = runner.ref.service
    return name in INFRA_LABELS and not InfraKind(name).gates_stack


async def stop_stack(hub: EventHub, services: Iterable[ServiceRun], infra: Iterable[UnitRunner]) -> None:
    infra = list(infra)
    observers = [runner for runner in infra if observes_only(runner)]
    needed = [runner for runner in infra if not observes_only(runner)]

    async def services_then_infra() -> None:
        await asyncio.gather(*(stop_service(hub, run) for run in services))
        await stop_infra(hub, needed)

    await asyncio.gather(services_then_infra(), stop_infra(hub, observers))


async def stop_infra(hub: EventHub, runners: list[UnitRunner]) -> None:
    for runner in runners:
        if isinstance(runner.unit, KeptProcessUnit):
            runner.unit.keep_running()  # infra.keep: `down` leaves it running for the next `up`
    await stop_together(hub, runners)
