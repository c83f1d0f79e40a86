"""Where the time of one `up` goes: for every unit, when it was spawned, wrote its first
line, listened, and was ready, and what it waited for before its spawn.

Fed from what already passes through the hub (state changes, output chunks) plus two
marks the engine gives (an app's own check passed; a unit held back for something), and
kept only until the start has settled: after that nothing is recorded.  Times are seconds
since `origin`, the moment the `aura dev up` process was created, so aura's own start-up
(imports, planning) shows as the gap before the first spawn.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from aura_dev.engine.events import EventHub, StateChange
from aura_dev.engine.unit_state import UnitState
from aura_dev.logs.record import Level, LogChunk, UnitRef
from aura_dev.units import head_start
from aura_dev.watch.watcher import file_clock_ns


@dataclass
class UnitTimes:
    """One unit's start, in seconds since the origin (None: it never got there)."""

    needs: tuple[str, ...] = ()  # what its readiness builds on (labels): the critical path follows them
    waited_for: list[str] = field(default_factory=list)  # what held its spawn back
    wait_began: float | None = None
    spawned: float | None = None
    first_line: float | None = None
    listening: float | None = None
    ready: float | None = None

    def to_json(self) -> dict[str, Any]:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 3)
        return {"needs": list(self.needs), "waitedFor": self.waited_for, "waitBegan": rounded(self.wait_began),
                "spawned": rounded(self.spawned), "firstLine": rounded(self.first_line),
                "listening": rounded(self.listening), "ready": rounded(self.ready)}


class StartTimeline:
    """A `LogSink` (for first lines) and a state listener (for spawns and readiness)."""

    def __init__(self, origin: float, cpu_before: float = 0.0) -> None:
        self.origin = origin  # wall-clock time the `aura dev up` process was created
        # CPU seconds aura used before its first spawn: on a loaded machine the wall clock
        # mostly says how long aura waited for a core; this says what it cost.
        self.cpu_before = cpu_before  # spent in a parent before it forked this supervisor
        self.first_spawn_cpu: float | None = None
        self.units: dict[str, UnitTimes] = {}
        self.settled: float | None = None
        self.settled_file_ns: int | None = None  # the same moment, on the clock files are stamped with
        self.engine_ready: float | None = None  # aura had loaded the workspace and planned the run
        self.settled_cpu: float | None = None  # aura's CPU seconds for the whole start (on 2 cores, the stack's too)
        self._hub: EventHub | None = None

    def _now(self) -> float:
        return time.time() - self.origin

    def _times(self, unit: UnitRef) -> UnitTimes:
        times = self.units.get(unit.label)
        if times is None:
            times = self.units[unit.label] = UnitTimes()
        return times

    # -- wiring ---------------------------------------------------------------------------

    def follow(self, hub: EventHub) -> None:
        self._hub = hub
        hub.attach(self)
        hub.state_listeners.append(self.on_state)

    def finish(self) -> None:
        """The start settled: stop recording (a restart later is not part of this start)."""
        if self.settled is None:
            self.settled = self._now()
            self.settled_file_ns = file_clock_ns()
            self.settled_cpu = self.cpu_before + time.process_time()
            self._head_start()
        if self._hub is not None:
            self._hub.detach(self)
            if self.on_state in self._hub.state_listeners:
                self._hub.state_listeners.remove(self.on_state)
            self._hub = None

    def planned(self) -> None:
        """The engine is loaded and the run planned: from here it spawns (or adopts) units."""
        if self.engine_ready is None:
            self.engine_ready = self._now()

    def _head_start(self) -> None:
        """Units adopted from the head start were spawned before the engine saw them."""
        for label, times in self.units.items():
            early = head_start.spawned_at(label)
            if early is not None:  # and it waited for nothing: what it "waited for" was the engine's start
                times.spawned = early - self.origin
                times.waited_for, times.wait_began = [], None
        cpu = head_start.first_spawn_cpu()
        if cpu is not None:
            self.first_spawn_cpu = self.cpu_before + cpu

    # -- what the engine tells it ---------------------------------------------------------

    def needs(self, unit: UnitRef, labels: list[str]) -> None:
        if self.settled is None:  # a service added later (an edited aura.yaml) is not part of this start
            self._times(unit).needs = tuple(labels)

    def waiting(self, unit: UnitRef, labels: list[str]) -> None:
        """`unit` is held back until these are ready (called again as the list shrinks)."""
        if self.settled is not None:
            return
        times = self._times(unit)
        if times.wait_began is None:
            times.wait_began = self._now()
        for label in labels:
            if label not in times.waited_for:
                times.waited_for.append(label)

    def listening(self, unit: UnitRef) -> None:
        times = self._times(unit)
        if times.listening is None and self.settled is None:
            times.listening = self._now()

    def on_state(self, change: StateChange) -> None:
        times = self._times(change.unit)
        if change.state is UnitState.STARTING and times.spawned is None:
            times.spawned = self._now()
            if self.first_spawn_cpu is None:
                self.first_spawn_cpu = self.cpu_before + time.process_time()
        elif change.state is UnitState.READY and times.ready is None:
            times.ready = self._now()
            if times.listening is None:
                times.listening = times.ready

    # -- LogSink ----------------------------------------------------------------------------

    def chunk(self, chunk: LogChunk) -> None:
        times = self.units.get(chunk.unit.label)
        if times is None or times.first_line is None:
            self._times(chunk.unit).first_line = self._now()

    def notice(self, unit: UnitRef | None, text: str, level: Level, ts: float) -> None:
        pass

    def flush(self) -> None:
        pass

    # -- the result -------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        spawns = [t.spawned for t in self.units.values() if t.spawned is not None]
        return {"origin": self.origin, "firstSpawn": round(min(spawns), 3) if spawns else None,
                "firstSpawnCpu": None if self.first_spawn_cpu is None else round(self.first_spawn_cpu, 3),
                "settled": None if self.settled is None else round(self.settled, 3),
                "engineReady": None if self.engine_ready is None else round(self.engine_ready, 3),
                "settledCpu": None if self.settled_cpu is None else round(self.settled_cpu, 3),
                "units": {label: times.to_json() for label, times in self.units.items()},
                "criticalPath": critical_path(self.units)}


def critical_path(units: dict[str, UnitTimes]) -> list[str]:
    """From the unit ready last back to the start: at each step the unit that held it
    back — what its spawn waited for, or what its readiness needed that came after it was
    listening itself — the one ready last.  The chain that set the total time."""
    ready = {label: t.ready for label, t in units.items() if t.ready is not None}
    if not ready:
        return []
    label: str | None = max(ready, key=lambda name: ready[name] or 0.0)
    path: list[str] = []
    while label is not None and label not in path:
        path.append(label)
        times = units[label]
        own = times.listening if times.listening is not None else times.spawned
        held = [d for d in times.waited_for if d in ready]
        held += [d for d in times.needs if d in ready and (own is None or (ready[d] or 0.0) > own)]
        label = max(held, key=lambda name: ready[name] or 0.0) if held else None
    return path
