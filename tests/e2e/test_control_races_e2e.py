"""Commands that cross each other, through the real `aura` command: two `down`s at once,
`restart` while a `down` is under way, and `up` while a `down` is under way — each safe:
no error, no hang, nothing started under a stop, nothing of a new stack taken for
leftovers, nothing left at the end."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import psutil
import pytest

from aura_dev.engine.runstate import same_process
from conftest import aura_bin, run_aura
from support.sockets import listeners
from support.stack import TINY_APP, all_ports, state, tiny_workspace, wait_for

pytestmark = pytest.mark.e2e

# An app slow to stop: a `down` stays in flight long enough to cross it, however loaded the
# machine (a CLI can take seconds to start on two busy cores).  It stops once the test
# drops a `release` file in its folder, or after 4.5 s (aura's grace before SIGKILL is 5 s).
SLOW_TO_STOP = """\
import os, signal, sys, time
def _stop(*_):
    deadline = time.monotonic() + 4.5
    while time.monotonic() < deadline and not os.path.exists("release"):
        time.sleep(0.05)
    sys.exit(0)
signal.signal(signal.SIGTERM, _stop)
""" + TINY_APP


def slow_workspace(tmp_path: Path) -> Path:
    root = tiny_workspace(tmp_path / "ws", {"a": []})
    (root / "a" / "app.py").write_text(SLOW_TO_STOP)
    return root


def aura(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([aura_bin(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, NO_COLOR="1"))


def up(root: Path) -> dict[str, Any]:
    done = run_aura("dev", "up", "--detach", "-w", str(root), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    snap = state(root)
    assert snap is not None
    return snap


def stopping(root: Path) -> bool:
    snap = state(root)
    return bool(snap) and snap["units"]["a"]["state"] == "stopping"  # type: ignore[index]


def processes_of(root: Path) -> list[int]:
    """Every live process started for this workspace (its path is in their command line)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        try:
            text = " ".join(proc.info["cmdline"] or []) + " " + (proc.info["cwd"] or "")
            if str(root) in text and proc.pid != os.getpid() and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc.pid)
        except psutil.Error:
            continue
    return found


def finished(proc: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out + err


def test_two_downs_at_once(tmp_path: Path, runtime: Any, redis_server_bin: str) -> None:
    root = slow_workspace(tmp_path)
    snap = up(root)
    downs = [aura("dev", "down", "-w", str(root)) for _ in range(2)]
    results = [finished(proc) for proc in downs]
    for code, text in results:
        assert code == 0 and "stopped in" in text and "error" not in text.lower(), text
    assert processes_of(root) == [] and listeners(all_ports(snap)) == [] and state(root) is None


def down_under_way(root: Path) -> subprocess.Popen[str]:
    """A `down` started, and its stop under way (the slow app is stopping)."""
    down = aura("dev", "down", "-w", str(root))
    try:
        wait_for(lambda: stopping(root), timeout=30, interval=0.02, what="the down to be under way")
    except AssertionError:
        finished(down)
        raise
    return down


def test_restart_during_down_starts_nothing(tmp_path: Path, runtime: Any, redis_server_bin: str) -> None:
    root = slow_workspace(tmp_path)
    snap = up(root)
    down = down_under_way(root)
    try:
        restart = run_aura("dev", "restart", "a", "-w", str(root), timeout=60)
        assert restart.returncode == 2, restart.stdout + restart.stderr
        assert "tiny is stopping" in restart.stderr
    finally:
        (root / "a" / "release").write_text("")
        code, text = finished(down)
    assert code == 0, text
    assert processes_of(root) == [] and listeners(all_ports(snap)) == [] and state(root) is None


def test_up_while_down_is_in_flight_waits_then_starts(tmp_path: Path, runtime: Any, redis_server_bin: str) -> None:
    root = slow_workspace(tmp_path)
    first = up(root)
    down = down_under_way(root)
    try:
        again = run_aura("dev", "up", "--detach", "-w", str(root), timeout=180)
        assert again.returncode == 0, again.stdout + again.stderr  # waited for the stop, then started
        code, text = finished(down)
        assert code == 0 and "cleaned up" not in text, text  # the new stack is not anybody's leftovers
        second = state(root)
        assert second is not None and second["supervisor"]["pid"] != first["supervisor"]["pid"]
        assert same_process(second["supervisor"]["pid"], second["supervisor"]["create_time"])
        assert all(u["state"] == "ready" for label, u in second["units"].items() if label != "zipkin")
        assert not any(same_process(u["pid"], u["create_time"]) for u in first["units"].values() if u.get("pid"))
    finally:
        if down.poll() is None:
            finished(down)
        assert run_aura("dev", "down", "-w", str(root)).returncode == 0
    assert processes_of(root) == [] and state(root) is None
