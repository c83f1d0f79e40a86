"""The start's timeline: what it records from the hub, and the critical path it derives."""

from __future__ import annotations

from aura_dev.cli.timings_view import timeline_rows
from aura_dev.engine.events import EventHub, StateChange
from aura_dev.engine.timeline import StartTimeline, UnitTimes, critical_path
from aura_dev.engine.unit_state import UnitState
from aura_dev.logs.record import Level, LogChunk, Source, Stream, UnitRef

APP = UnitRef("gateway", Source.APP)
SIDECAR = UnitRef("gateway", Source.SIDECAR)


class NullStore:
    def chunk(self, chunk: LogChunk) -> None: ...
    def notice(self, unit: UnitRef | None, text: str, level: Level, ts: float) -> None: ...
    def flush(self) -> None: ...


def test_records_spawn_first_line_listening_ready_and_stops_at_finish() -> None:
    hub = EventHub(NullStore())
    timeline = StartTimeline(origin=0.0)
    timeline.follow(hub)
    timeline.waiting(APP, ["redis"])
    hub.state(StateChange(APP, UnitState.STARTING))
    hub.chunk(LogChunk(APP, Stream.OUT, 0.0, b"hello\n"))
    timeline.listening(APP)
    hub.state(StateChange(APP, UnitState.READY))
    times = timeline.units[APP.label]
    assert times.waited_for == ["redis"]
    assert times.wait_began is not None and times.spawned is not None and times.first_line is not None
    assert times.spawned <= times.first_line <= times.listening <= times.ready  # type: ignore[operator]
    timeline.finish()
    assert timeline not in hub.views and timeline.on_state not in hub.state_listeners
    hub.state(StateChange(SIDECAR, UnitState.STARTING))  # after the start: not part of it
    assert SIDECAR.label not in timeline.units
    data = timeline.to_json()
    assert data["firstSpawn"] == round(times.spawned, 3) and data["criticalPath"] == [APP.label]


def test_critical_path_follows_what_held_each_unit_back() -> None:
    units = {
        "redis": UnitTimes(spawned=0.1, ready=0.2),
        "scheduler": UnitTimes(spawned=0.1, ready=1.5),
        "a·dapr": UnitTimes(needs=("redis",), waited_for=["redis"], spawned=0.2, ready=0.6),
        # a's app listened at 0.9 but its readiness needed the scheduler (1.5): that held it
        "a": UnitTimes(needs=("a·dapr", "scheduler"), spawned=0.1, listening=0.9, ready=1.6),
        "b·dapr": UnitTimes(spawned=0.2, ready=0.6),
        # b waited for a, then booted for a second: a is on its path, b·dapr is not
        "b": UnitTimes(needs=("b·dapr", "a"), waited_for=["a", "a·dapr"], spawned=1.6, listening=2.5, ready=2.6),
    }
    assert critical_path(units) == ["b", "a", "scheduler"]


def test_rows_in_spawn_order_with_the_wait() -> None:
    timeline = {"units": {"b": {"spawned": 1.5, "waitBegan": 0.5, "waitedFor": ["a"], "ready": 2.0},
                          "a": {"spawned": 0.1, "firstLine": 0.2, "listening": None, "ready": 1.4}}}
    rows = timeline_rows(timeline)
    assert [row[0] for row in rows] == ["a", "b"]
    assert rows[0][1:5] == ["0.10", "0.20", "-", "1.40"]
    assert rows[1][5] == "a (1.00 s)"
