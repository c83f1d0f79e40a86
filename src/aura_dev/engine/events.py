"""The one place every unit's output and every state change passes through.

Units push chunks here; the hub fans them out to the log store (always), the console
renderer (in the foreground) and a small per-unit tail kept for error messages.  Plain
synchronous calls, no queue: a chunk costs one store write and one render.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from aura_dev.logs.record import Level, LogChunk, Source, UnitRef
from aura_dev.logs.render import ConsoleRenderer
from aura_dev.logs.store import LogStore

TAIL_BYTES = 16 * 1024
AURA_UNIT = UnitRef("aura", Source.INFRA)  # aura's own lines (start, stop, cleanup) are kept too


@dataclass(frozen=True)
class StateChange:
    unit: UnitRef
    state: str
    detail: str = ""


StateListener = Callable[[StateChange], None]


class EventHub:
    def __init__(self, store: LogStore, renderer: ConsoleRenderer | None = None) -> None:
        self.store = store
        self.renderer = renderer
        self._tails: dict[UnitRef, deque[bytes]] = {}
        self.state_listeners: list[StateListener] = []

    def chunk(self, chunk: LogChunk) -> None:
        self.store.write(chunk)
        # The last chunks by reference (copying every chunk into one buffer costs a copy of
        # all output); joined only when a failure message needs them.
        tail = self._tails.get(chunk.unit)
        if tail is None:
            tail = self._tails[chunk.unit] = deque()
        tail.append(chunk.data)
        size = sum(len(part) for part in tail)
        while len(tail) > 1 and size - len(tail[0]) >= TAIL_BYTES:
            size -= len(tail.popleft())
        if self.renderer is not None:
            self.renderer.chunk(chunk)

    def notice(self, unit: UnitRef | None, text: str, level: Level = Level.INFO) -> None:
        self.store.note(unit or AURA_UNIT, text, time.time())
        if self.renderer is not None:
            self.renderer.notice(unit, text, level)

    def state(self, change: StateChange) -> None:
        for listener in list(self.state_listeners):
            listener(change)

    def last_lines(self, unit: UnitRef, count: int = 15) -> list[str]:
        text = b"".join(self._tails.get(unit, ()))[-TAIL_BYTES:].decode("utf-8", "replace")
        return text.splitlines()[-count:]

    def forget_tail(self, unit: UnitRef) -> None:
        self._tails.pop(unit, None)

    def flush(self) -> None:
        self.store.flush()
        if self.renderer is not None:
            self.renderer.flush()
