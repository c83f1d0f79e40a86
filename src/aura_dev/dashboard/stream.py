"""Events for open pages, pushed as they happen: unit states (at once, and the full record
coalesced a moment later), aura's notices (reloads, restarts, failures) and log lines.

The broadcaster is a view on the engine's hub (`EventHub.attach`, a `LogSink`) and a state
listener, attached only while a page is open.  The hub calls it synchronously for every
chunk, so it only appends to each page's queue: never a wait, never a parse.  A page's
queue holds at most `max_lines` lines; when more arrive the oldest give way, counted, and the
page is told "N lines not shown" — the supervisor never slows down for a browser.  A page's sender
sends log lines at most every `BATCH_SECONDS` (a flood costs the supervisor a bounded
amount of work per page, not one write per line), and anything else at once.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from aura_dev.dashboard.lines import BrowserLine, chunk_lines, notice_line, service_colour, unit_wanted
from aura_dev.engine.events import EventHub, StateChange
from aura_dev.engine.snapshot import StackSnapshot, UnitRecord
from aura_dev.logs.query import LogFilter
from aura_dev.logs.record import Level, LogChunk, Source, UnitRef

# A page is sent at most MAX_QUEUED_LINES lines every BATCH_SECONDS (10,000 a second): more
# than a person can read, and what a browser draws without falling behind; in a flood the
# rest is counted, which keeps the supervisor's cost per open page small and bounded.
MAX_QUEUED_LINES = 1000
BATCH_SECONDS = 0.1
UNITS_COALESCE_SECONDS = 0.03
MAX_QUEUED_EVENTS = 2000  # far more than a stack makes between two sends; a bound all the same
HEARTBEAT_SECONDS = 20.0
Message = tuple[str, Any]  # (event name, JSON-able data)


@dataclass(frozen=True)
class Subscription:
    """What one page wants: log lines or not, and through which filter."""

    lines: bool = False
    flt: LogFilter | None = None
    units: frozenset[tuple[str, str]] = frozenset()  # (service, source); empty: every unit


@dataclass(eq=False)  # one per open page, kept in a set by identity
class Client:
    sub: Subscription
    max_lines: int = MAX_QUEUED_LINES
    events: deque[Message] = field(default_factory=lambda: deque(maxlen=MAX_QUEUED_EVENTS))  # states, notices
    pending: deque[tuple[int, Any]] = field(default_factory=deque)  # (line count, chunk or line): bounded
    queued_lines: int = 0
    dropped: int = 0
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False
    _colours_sent: set[str] = field(default_factory=set)

    def event(self, name: str, data: Any) -> None:
        self.events.append((name, data))
        self.wake.set()

    def chunk(self, chunk: LogChunk) -> None:
        sub = self.sub
        unit = chunk.unit
        if sub.flt is not None:
            flt = sub.flt
            if not flt.owner_wanted(unit.service) or (flt.sources and unit.source not in flt.sources):
                return
            if flt.grep is not None and flt.grep.search(chunk.data) is None:
                return  # one search over the whole chunk rules most of a flood out
        if not unit_wanted(sub.units, unit.service, unit.source):
            return
        self._queue(chunk.data.count(b"\n"), chunk)

    def notice_line(self, unit: UnitRef | None, text: str, level: Level, ts: float) -> None:
        service, source = (unit.service, unit.source) if unit else ("aura", Source.INFRA)
        if not unit_wanted(self.sub.units, service, source):
            return
        flt = self.sub.flt
        if flt is not None and not (flt.owner_wanted(service) and flt.accepts_text(source.value.encode(), text.encode())):
            return
        self._queue(1, notice_line(unit, text, level, ts))

    def _queue(self, count: int, item: Any) -> None:
        # Behind by more than the bound: the oldest waiting lines give way (counted), so the
        # page stays close to now — the end of a flood is what a person looks for.
        while self.pending and self.queued_lines + count > self.max_lines:
            gone, _item = self.pending.popleft()
            self.queued_lines -= gone
            self.dropped += gone
        self.pending.append((count, item))
        self.queued_lines += count
        self.wake.set()

    def take(self) -> list[Message]:
        """Everything queued, as messages: the events, then one `lines` message (led by
        "N lines not shown" when some gave way)."""
        messages = list(self.events)
        self.events.clear()
        lines: list[BrowserLine] = [dropped_line(self.dropped)] if self.dropped else []
        flt = self.sub.flt
        per_line = flt if flt is not None and (flt.sources or flt.grep or flt.min_level) else None
        for _count, item in self.pending:
            if isinstance(item, LogChunk):
                lines.extend(chunk_lines(item, per_line))
            else:
                lines.append(item)
        self.pending.clear()
        self.queued_lines = self.dropped = 0
        if lines:
            messages.append(self.lines_message(lines))
        return messages

    def lines_message(self, lines: list[BrowserLine], **extra: Any) -> Message:
        fresh = {str(line[1]) for line in lines} - self._colours_sent
        self._colours_sent |= fresh
        return "lines", {"lines": lines, "colours": {name: service_colour(name) for name in fresh}, **extra}

    async def messages(self) -> AsyncIterator[list[Message]]:
        """Batches of messages until the page goes away or the dashboard stops; an empty
        batch now and then keeps the connection (and proxies) awake."""
        while not (self.closed and not self.events and not self.pending):
            try:
                await asyncio.wait_for(self.wake.wait(), HEARTBEAT_SECONDS)
            except asyncio.TimeoutError:
                yield []
                continue
            self.wake.clear()
            batch = self.take()
            if batch:
                yield batch  # after `close`, what was queued still goes out (the "stopped" event)
            if self.closed:
                return
            if any(name == "lines" for name, _data in batch):
                await asyncio.sleep(BATCH_SECONDS)  # lines come in batches; a state change goes at once


def dropped_line(count: int) -> BrowserLine:
    return [0, "aura", "infra", "dropped", "warn",
            f"{count} lines not shown: the page did not keep up (all of them are in `aura dev logs`)", count]


def unit_json(label: str, record: UnitRecord) -> dict[str, Any]:
    return {"label": label, "colour": service_colour(record.service), **record.to_json()}


class Broadcaster:
    """The hub's view for the dashboard; attached to the hub only while a page is open."""

    def __init__(self, hub: EventHub, snapshot: Callable[[], StackSnapshot]) -> None:
        self.hub = hub
        self.snapshot = snapshot
        self.clients: set[Client] = set()
        self._dirty: set[str] = set()
        self._units_due: asyncio.TimerHandle | None = None

    def open(self, sub: Subscription) -> Client:
        client = Client(sub)
        if not self.clients:
            self.hub.attach(self)
            self.hub.state_listeners.append(self.on_state)
            self.hub.metrics_listeners.append(self.on_metrics)
        self.clients.add(client)
        return client

    def close(self, client: Client) -> None:
        client.closed = True
        client.wake.set()
        self.clients.discard(client)
        if not self.clients:
            self.hub.detach(self)
            if self.on_state in self.hub.state_listeners:
                self.hub.state_listeners.remove(self.on_state)
            if self.on_metrics in self.hub.metrics_listeners:
                self.hub.metrics_listeners.remove(self.on_metrics)

    def close_all(self) -> None:
        for client in list(self.clients):
            self.close(client)

    def publish(self, name: str, data: Any) -> None:
        for client in self.clients:
            client.event(name, data)

    def on_metrics(self, data: dict[str, Any]) -> None:
        """Each scrape of the sidecars' metrics, to every open page (event `metrics`)."""
        self.publish("metrics", data)

    # -- the hub's LogSink ------------------------------------------------------------

    def chunk(self, chunk: LogChunk) -> None:
        for client in self.clients:
            if client.sub.lines:
                client.chunk(chunk)

    def notice(self, unit: UnitRef | None, text: str, level: Level, ts: float) -> None:
        data = {"unit": unit.label if unit else None, "service": unit.service if unit else "aura",
                "text": text, "level": level.value, "ts": ts}
        for client in self.clients:
            if client.sub.lines:
                client.notice_line(unit, text, level, ts)
            else:
                client.event("notice", data)

    def flush(self) -> None:
        pass

    # -- unit states ----------------------------------------------------------------------

    def on_state(self, change: StateChange) -> None:
        label = change.unit.label
        self.publish("state", {"label": label, "state": change.state.value, "detail": change.detail,
                               "at": time.time()})
        self._dirty.add(label)
        if self._units_due is None:
            self._units_due = asyncio.get_running_loop().call_later(UNITS_COALESCE_SECONDS, self._send_units)

    def _send_units(self) -> None:
        self._units_due = None
        dirty, self._dirty = self._dirty, set()
        snap = self.snapshot()
        units = {label: unit_json(label, record) for label, record in snap.units.items() if label in dirty}
        self.publish("units", {"units": units, "labels": list(snap.units)})
