"""A Python app held back by `dependsOn` boots its interpreter and imports while its
dependencies come up (a preboot), and runs its own code only once they are ready: on the
real stack, the app's process exists before its dependency is ready, its code runs after."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psutil
import pytest

from conftest import run_aura
from support.sockets import listeners
from support.stack import all_ports, tiny_workspace

pytestmark = pytest.mark.e2e
RAN = 'import time, pathlib\npathlib.Path("code-ran.txt").open("a").write(f"{time.time()}\\n")\n'


def status(root: Path) -> dict[str, Any]:
    done = run_aura("dev", "status", "--json", "-w", str(root))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def cycle(root: Path) -> tuple[dict[str, Any], str, float | None]:
    """up (reload on, as users run it), the status, the app's log, when its process was created; down."""
    up = run_aura("dev", "up", "--detach", "-w", str(root), timeout=180)
    assert up.returncode == 0, up.stdout + up.stderr
    snap = status(root)
    try:
        logs = run_aura("dev", "logs", "pb21top", "-n", "200", "-w", str(root)).stdout
        pid = snap["units"]["pb21top"]["pid"]
        created = psutil.Process(pid).create_time() if isinstance(pid, int) else None
    finally:
        down = run_aura("dev", "down", "-w", str(root))
        assert down.returncode == 0, down.stderr
    assert listeners(all_ports(snap)) == []
    return snap, logs, created


def test_a_held_python_app_imports_early_and_runs_its_code_after_its_dependency(tmp_path: Path, runtime: Any,
                                                                               redis_server_bin: str) -> None:
    root = tiny_workspace(tmp_path / "ws", {"pb21base": [], "pb21top": ["pb21base"]})
    base = root / "pb21base" / "app.py"
    base.write_text("import time; time.sleep(1.5)\n" + base.read_text())  # a slow dependency
    top = root / "pb21top" / "app.py"
    top.write_text(RAN + top.read_text())

    _snap, logs, _created = cycle(root)  # the first run records what the app imports
    assert "started from its preboot" not in logs

    snap, logs, created = cycle(root)
    timeline = snap["timeline"]
    base_ready = timeline["origin"] + max(timeline["units"]["pb21base"]["ready"],
                                          timeline["units"]["pb21base·dapr"]["ready"])
    pid = snap["units"]["pb21top"]["pid"]
    assert f"started from its preboot (pid {pid})" in logs
    assert created is not None and created < base_ready  # its interpreter booted while the dependency came up
    ran = [float(line) for line in (root / "pb21top" / "code-ran.txt").read_text().split()]
    assert len(ran) == 2 and ran[-1] >= base_ready  # its code ran only once the dependency was ready
