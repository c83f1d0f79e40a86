"""A crash loop is a process that cannot stay up, not one that was killed while healthy: an
app killed -9 again and again, each time after it had been ready for longer than
`restart.stableAfter`, comes back at once every time and is never marked failed."""

from __future__ import annotations

import os
import signal
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from conftest import run_aura
from support.stack import state, tiny_workspace, wait_for

pytestmark = pytest.mark.e2e

KILLS = 10
CALM_SECONDS = 6.0  # more than stableAfter's default 5 s


def ready_app(root: Path, label: str, not_pid: int | None = None) -> dict[str, Any] | None:
    snap = state(root)
    unit = snap["units"].get(label) if snap else None
    if unit and unit["state"] == "ready" and unit.get("pid") not in (None, not_pid):
        return unit
    return None


def test_a_healthy_app_killed_ten_times_comes_back_at_once_every_time(tmp_path: Path, runtime: Any,
                                                                      redis_server_bin: str) -> None:
    root = tiny_workspace(tmp_path / "ws", {"a": []})
    up = run_aura("dev", "up", "--detach", "-w", str(root), timeout=120)
    assert up.returncode == 0, up.stdout + up.stderr
    recoveries: list[float] = []
    try:
        unit = wait_for(lambda: ready_app(root, "a"), timeout=30, what="the app to be ready")
        url = state(root)["services"]["a"]["url"]  # type: ignore[index]
        for _ in range(KILLS):
            time.sleep(CALM_SECONDS)
            killed_at = time.monotonic()
            os.kill(unit["pid"], signal.SIGKILL)
            unit = wait_for(lambda old=unit["pid"]: ready_app(root, "a", not_pid=old), timeout=30, interval=0.01,
                            what="the app to be back")
            recoveries.append(time.monotonic() - killed_at)
            with urllib.request.urlopen(url, timeout=10) as response:
                assert response.read() == b"a hi"
        snap = state(root)
        assert snap is not None
        assert snap["units"]["a"]["restarts"] == KILLS
        logged = run_aura("dev", "logs", "a", "-w", str(root)).stdout
        # Each exit was a fault after a good run: restarted at once, never backed off, never failed.
        assert logged.count("restarting at once") == KILLS, logged
        assert "restarting in" not in logged and "FAILED" not in logged
    finally:
        print(f"recovery after kill -9 (s): {', '.join(f'{r:.2f}' for r in recoveries)}")
        assert run_aura("dev", "down", "-w", str(root)).returncode == 0
