"""state.json is written from a typed snapshot and read back through the same type."""

from __future__ import annotations

import json
from pathlib import Path

from aura_dev.engine.snapshot import (DashboardRecord, LastExit, ServiceRecord, StackSnapshot, UnitRecord, read_snapshot,
                                     write_snapshot)
from aura_dev.engine.unit_state import UnitState
from aura_dev.logs.record import Source
from aura_dev.units.base import UnitIdentity


def sample() -> StackSnapshot:
    return StackSnapshot(
        workspace="/w", file="/w/aura.yaml", name="shop", key="abc", supervisor_pid=42,
        supervisor_create_time=1.5, started_at=2.0, backend="native", runtime_version="1.18.2",
        control="/w/.aura/run/control.sock", settled=True,
        units={
            "redis": UnitRecord("redis", Source.INFRA, UnitState.READY, identity=UnitIdentity(pid=7, create_time=3.0,
                                                                                             pgid=7),
                                ports={"main": 26000, "healthz": None}, backend="native"),
            "a": UnitRecord("a", Source.APP, UnitState.BACKOFF, "exited with status 1", restarts=2,
                            ports={"app": 26010}, command="python app.py",
                            last_exit=LastExit("exited with status 1", 9.5, UnitState.BACKOFF)),
            "a·dapr": UnitRecord("a", Source.SIDECAR, UnitState.READY,
                                 identity=UnitIdentity(container="c0ffee", name="aura-abc-x")),
        },
        services={"a": ServiceRecord("a", "http://127.0.0.1:26010", 26010, False, ("b",), 26011, 26012)},
        dashboard=DashboardRecord("http://127.0.0.1:26005/", 26005),
    )


def test_a_snapshot_round_trips_through_state_json(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    write_snapshot(path, sample())
    assert read_snapshot(path) == sample()
    data = json.loads(path.read_text())  # the shape scripts read
    assert data["version"] == 1 and data["units"]["redis"]["pid"] == 7 and data["units"]["redis"]["ports"]["main"] == 26000
    assert data["services"]["a"]["daprHttpPort"] == 26011 and data["supervisor"] == {"pid": 42, "create_time": 1.5}
    assert "pid" not in data["units"]["a"]  # not running: no identity
    assert data["dashboard"] == {"url": "http://127.0.0.1:26005/", "port": 26005}  # no token: that is kept private
    assert data["units"]["a"]["lastExit"] == {"reason": "exited with status 1", "at": 9.5, "state": "backoff"}
    assert data["units"]["redis"]["lastExit"] is None


def test_unreadable_or_foreign_files_read_as_no_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    assert read_snapshot(path) is None  # missing
    for text in ("{", "[]", json.dumps({**sample().to_json(), "version": 99}),
                 json.dumps({**sample().to_json(), "units": {"x": {"state": "dancing"}}})):
        path.write_text(text)
        assert read_snapshot(path) is None, text
    old = sample().to_json()
    del old["version"]  # written before snapshots carried a version: same shape
    path.write_text(json.dumps(old))
    assert read_snapshot(path) == sample()


def test_state_json_is_written_only_while_the_supervisor_lock_is_held(tmp_path: Path) -> None:
    # A state write scheduled before the run ended and carried out after it (a timer firing
    # while the event loop winds down) must not bring back a stopped stack's state.json.
    from aura_dev.engine import runstate

    runstate.write_state(tmp_path, sample())
    assert runstate.read_state(tmp_path) is None
    lock = runstate.SupervisorLock(tmp_path)
    lock.acquire()
    runstate.write_state(tmp_path, sample())
    assert runstate.read_state(tmp_path) == sample()
    runstate.clear_state(tmp_path)
    lock.release()
    runstate.write_state(tmp_path, sample())
    assert runstate.read_state(tmp_path) is None
