"""Saying where a resource written for `dapr init` now points: once per run per resource
and address, through the events hub (the console and the log store)."""

from __future__ import annotations

from collections.abc import Iterable

from aura_dev.engine.events import EventHub
from aura_dev.logs.record import Level
from aura_dev.plan.dapr_init import DefaultAddress
from aura_dev.plan.tracing import TracingNote


class DefaultAddressNotices:
    def __init__(self, hub: EventHub) -> None:
        self.hub = hub
        self._said: set[tuple[object, ...]] = set()

    def report(self, found: Iterable[DefaultAddress], tracing: Iterable[TracingNote] = ()) -> None:
        for note in tracing:
            key: tuple[object, ...] = (note.file, note.message)
            if key not in self._said:
                self._said.add(key)
                self.hub.notice(None, note.notice(), Level.WARN)
        for address in found:
            key = (address.file, address.resource, address.address, address.new_address)
            if key not in self._said:
                self._said.add(key)
                # Pointed elsewhere, it works: information.  Left as is, it will not reach anything.
                self.hub.notice(None, address.notice(), Level.INFO if address.new_address else Level.WARN)
