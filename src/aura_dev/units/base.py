"""What the orchestrator needs from anything it runs: a process or a container."""

from __future__ import annotations

from typing import Protocol

from aura_dev.logs.record import UnitRef


class Unit(Protocol):
    unit: UnitRef

    @property
    def running(self) -> bool: ...

    async def start(self) -> None: ...

    async def wait(self) -> int:
        """Until the unit exits on its own or is stopped; its exit code."""
        ...

    async def stop(self, grace: float = 5.0) -> int | None: ...

    def identity_record(self) -> dict[str, object]:
        """How a later `aura` finds this unit again (pid + create time, or container id)."""
        ...
