"""The one place every unit's output and every state change passes through.

Units push chunks here; the hub fans them out to its sinks — the log store first (the
record; always there), then whatever views are attached (the console renderer in the
foreground, later the dashboard) — and keeps a small per-unit tail for error messages.
Plain synchronous calls, no queue: a chunk costs one store write and one call per view.
"""

from __future__ import annotations

import asyncio

import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aura_dev.engine.unit_state import UnitState
from aura_dev.logs.record import Level, LogChunk, UnitRef

TAIL_BYTES = 16 * 1024


class LogSink(Protocol):
    """Anything that takes the stack's output: the store, a console, a browser stream."""

    def chunk(self, chunk: LogChunk) -> None: ...

    def notice(self, unit: UnitRef | None, text: str, level: Level, ts: float) -> None:
        """A line of aura's own about `unit` (None: about the whole stack)."""
        ...

    def flush(self) -> None: ...


@dataclass(frozen=True)
class StateChange:
    unit: UnitRef
    state: UnitState
    detail: str = ""


StateListener = Callable[[StateChange], None]


class EventHub:
    def __init__(self, store: LogSink, *views: LogSink) -> None:
        self.store = store
        self.views: list[LogSink] = list(views)
        self._tails: dict[UnitRef, deque[bytes]] = {}
        self.state_listeners: list[StateListener] = []
        self.metrics_listeners: list[Callable[[dict[str, Any]], None]] = []  # each scrape (`metrics_scraper`)
        self._output_seen: dict[str, asyncio.Event] = {}  # service -> set by its app's or sidecar's output

    def output_seen(self, service: str) -> asyncio.Event:
        """Set whenever the app or the sidecar of `service` (or the infra unit of that
        name) writes: readiness probes wake on it (`units.probes.wait_until`)."""
        event = self._output_seen.get(service)
        if event is None:
            event = self._output_seen[service] = asyncio.Event()
        return event

    def metrics(self, data: dict[str, Any]) -> None:
        for listener in list(self.metrics_listeners):
            listener(data)

    def attach(self, view: LogSink) -> None:
        self.views.append(view)

    def detach(self, view: LogSink) -> None:
        if view in self.views:
            self.views.remove(view)

    def chunk(self, chunk: LogChunk) -> None:
        self.store.chunk(chunk)
        seen = self._output_seen.get(chunk.unit.service)
        if seen is not None:
            seen.set()
        # The last chunks by reference (copying every chunk into one buffer costs a copy of
        # all output); joined only when a failure message needs them.
        tail = self._tails.get(chunk.unit)
        if tail is None:
            tail = self._tails[chunk.unit] = deque()
        tail.append(chunk.data)
        size = sum(len(part) for part in tail)
        while len(tail) > 1 and size - len(tail[0]) >= TAIL_BYTES:
            size -= len(tail.popleft())
        for view in self.views:
            view.chunk(chunk)

    def notice(self, unit: UnitRef | None, text: str, level: Level = Level.INFO) -> None:
        now = time.time()
        self.store.notice(unit, text, level, now)
        for view in self.views:
            view.notice(unit, text, level, now)

    def tell_views(self, text: str, level: Level = Level.WARN) -> None:
        """A line about the store itself (it cannot take it): for the views — or, with none
        attached (a detached supervisor), its stderr, the supervisor's log."""
        now = time.time()
        for view in self.views:
            view.notice(None, text, level, now)
        if not self.views:
            try:
                print(f"aura: {text}", file=sys.stderr, flush=True)
            except OSError:
                pass  # on the same full disk, perhaps: `aura dev status` still works

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
        for view in self.views:
            view.flush()
