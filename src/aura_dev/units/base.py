"""What the engine needs from anything it runs — a process or a container — and how a
later `aura` recognises that thing again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from aura_dev.logs.record import UnitRef

EXIT_CODE_UNKNOWN = -1000  # a unit that is not our child (adopted) exited: its status cannot be read


@dataclass(frozen=True)
class UnitIdentity:
    """Enough to find a unit's process or container again, and be sure it is still ours:
    a pid is only trusted together with its create time (pids are reused)."""

    pid: int | None = None
    create_time: float | None = None
    pgid: int | None = None
    container: str | None = None
    name: str | None = None  # the container's name

    def to_json(self) -> dict[str, Any]:
        keys = ("pid", "create_time", "pgid", "container", "name")
        return {key: getattr(self, key) for key in keys if getattr(self, key) is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UnitIdentity:
        def number(value: Any, kind: type) -> Any:
            return kind(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

        pid, pgid = data.get("pid"), data.get("pgid")
        return cls(pid=pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
                   create_time=number(data.get("create_time"), float),
                   pgid=pgid if isinstance(pgid, int) and not isinstance(pgid, bool) else None,
                   container=data.get("container") if isinstance(data.get("container"), str) else None,
                   name=data.get("name") if isinstance(data.get("name"), str) else None)


class Unit(Protocol):
    unit: UnitRef

    @property
    def running(self) -> bool: ...

    async def start(self) -> None: ...

    async def wait(self) -> int:
        """Until the unit exits on its own or is stopped; its exit code."""
        ...

    async def stop(self, grace: float = 5.0) -> int | None: ...

    def identity(self) -> UnitIdentity:
        """How a later `aura` finds this unit again (pid + create time, or container id)."""
        ...
