"""The start overlaps what has no real dependency, and its timeline says so: a dependent
service's sidecar starts with everything else; only its app waits, for its dependencies to
be really ready.  `down` then leaves nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aura_dev.engine.runstate import same_process
from conftest import run_aura
from support.sockets import listeners
from support.stack import all_ports, tiny_workspace

pytestmark = pytest.mark.e2e
SLOW_BOOT_SECONDS = 2.0  # the dependency binds its port this late: long after every sidecar is spawned


def status(root: Path) -> dict[str, Any]:
    done = run_aura("dev", "status", "--json", "-w", str(root))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_only_the_dependent_app_waits_and_the_timeline_shows_it(tmp_path: Path, runtime: Any,
                                                                redis_server_bin: str) -> None:
    root = tiny_workspace(tmp_path / "ws", {"i21base": [], "i21top": ["i21base"]})
    app = root / "i21base" / "app.py"
    app.write_text(f"import time; time.sleep({SLOW_BOOT_SECONDS})\n" + app.read_text())
    up = run_aura("dev", "up", "--detach", "--no-reload", "--timings", "-w", str(root), timeout=180)
    snap: dict[str, Any] = {}
    try:
        assert up.returncode == 0, up.stderr
        assert "start timeline" in up.stdout and "critical path: i21top ← i21base" in up.stdout
        snap = status(root)
        timeline = snap["timeline"]
        units = timeline["units"]
        for label, times in units.items():
            assert times["spawned"] is not None and times["ready"] is not None, label
            assert times["spawned"] <= times["listening"] <= times["ready"], label
        base_ready = max(units["i21base"]["ready"], units["i21base·dapr"]["ready"])
        # The dependent's sidecar did not wait for the dependency (only for Redis) ...
        assert units["i21top·dapr"]["spawned"] < units["i21base"]["listening"]
        assert set(units["i21top·dapr"]["waitedFor"]) <= {"redis"}
        # ... its app did, until the dependency was really ready.
        assert units["i21top"]["spawned"] >= base_ready
        assert "i21base" in units["i21top"]["waitedFor"]
        assert timeline["criticalPath"][:2] == ["i21top", "i21base"]
        assert 0 < timeline["firstSpawn"] <= min(t["spawned"] for t in units.values())
        assert timeline["settled"] >= max(t["ready"] for t in units.values())
    finally:
        down = run_aura("dev", "down", "-w", str(root))
        assert down.returncode == 0, down.stderr
    idents = [(u["pid"], u["create_time"]) for u in snap.get("units", {}).values() if isinstance(u.get("pid"), int)]
    assert [pid for pid, created in idents if same_process(pid, created)] == []
    assert listeners(all_ports(snap)) == [] if snap else True
