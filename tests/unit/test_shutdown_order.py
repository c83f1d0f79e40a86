"""The stop order of `down`: every app at once, each sidecar as soon as its own app is gone
(not when every app is), infra once every sidecar is gone — except an observer that keeps
nothing (Zipkin), which goes with the apps; a failed stop stops nothing else."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aura_dev.engine.shutdown import stop_stack
from aura_dev.logs.record import Level, LogChunk, Source, UnitRef


class Hub:
    def __init__(self) -> None:
        self.notices: list[str] = []

    def notice(self, unit: UnitRef | None, text: str, level: Level = Level.INFO) -> None:
        self.notices.append(text)

    def chunk(self, chunk: LogChunk) -> None: ...


class FakeRunner:
    """What the stop order uses of a runner: its ref, whether it runs, its shutdown."""

    def __init__(self, log: list[tuple[str, str, float]], name: str, source: Source, seconds: float,
                 fails: bool = False) -> None:
        self.ref = UnitRef(name, source)
        self.task: Any = object()
        self.log, self.seconds, self.fails = log, seconds, fails
        self.unit: Any = None  # not a kept unit (infra.keep): stopped like any other

    async def shutdown(self) -> None:
        self.log.append(("begin", self.ref.label, time.monotonic()))
        await asyncio.sleep(self.seconds)
        self.log.append(("end", self.ref.label, time.monotonic()))
        if self.fails:
            raise RuntimeError("would not stop")


class FakeService:
    def __init__(self, app: FakeRunner, sidecar: FakeRunner | None) -> None:
        self.app, self.sidecar = app, sidecar


def test_each_sidecar_follows_its_own_app_and_infra_comes_last() -> None:
    log: list[tuple[str, str, float]] = []
    slow = FakeService(FakeRunner(log, "slow", Source.APP, 0.3), FakeRunner(log, "slow", Source.SIDECAR, 0.01))
    quick = FakeService(FakeRunner(log, "quick", Source.APP, 0.01, fails=True),
                        FakeRunner(log, "quick", Source.SIDECAR, 0.01))
    infra = [FakeRunner(log, "redis", Source.INFRA, 0.01), FakeRunner(log, "zipkin", Source.INFRA, 0.01)]
    hub = Hub()
    asyncio.run(stop_stack(hub, [slow, quick], infra))  # type: ignore[arg-type]
    at = {(kind, label): when for kind, label, when in log}
    assert abs(at["begin", "slow"] - at["begin", "quick"]) < 0.05  # the apps together
    assert at["begin", "quick·dapr"] >= at["end", "quick"]  # a sidecar after its own app ...
    assert at["begin", "quick·dapr"] < at["end", "slow"]  # ... not after every app
    assert at["begin", "slow·dapr"] >= at["end", "slow"]
    assert at["begin", "redis"] >= max(at["end", "slow·dapr"], at["end", "quick·dapr"])  # infra last
    assert abs(at["begin", "zipkin"] - at["begin", "slow"]) < 0.05  # but an observer (in-memory) with the apps
    assert hub.notices == ["error while stopping: would not stop"]  # said, and the rest still stopped
