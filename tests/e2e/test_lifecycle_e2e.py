"""The life of a stack at its edges: interrupted starts, taken ports, killed supervisors,
a second `up`, a subset of services, restart from another terminal."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from aura_dev.engine.runstate import same_process
from conftest import aura_bin, run_aura
from support.sockets import listeners
from support.stack import all_ports, state, tiny_workspace, wait_for

pytestmark = pytest.mark.e2e

def status(root: Path) -> dict[str, Any]:
    done = run_aura("dev", "status", "--json", "-w", str(root))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def identities(snapshot: dict[str, Any]) -> list[tuple[int, float]]:
    return [(u["pid"], u["create_time"]) for u in snapshot.get("units", {}).values() if isinstance(u.get("pid"), int)]


def survivors(snapshots: list[dict[str, Any]]) -> list[int]:
    seen = {ident for snap in snapshots for ident in identities(snap)}
    return [pid for pid, created in seen if same_process(pid, created)]


def test_sigint_during_startup_leaves_nothing(tmp_path: Path, runtime: Any, redis_server_bin: str) -> None:
    root = tiny_workspace(tmp_path / "ws", {"a": [], "b": ["a"], "c": ["b"]})
    env = dict(os.environ, NO_COLOR="1")
    proc = subprocess.Popen([aura_bin(), "dev", "up", "-w", str(root)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env)
    seen: list[dict[str, Any]] = []

    def some_sidecar_starting() -> bool:
        snap = state(root)
        if snap:
            seen.append(snap)
            return any(u["source"] == "sidecar" and u["pid"] for u in snap["units"].values() if "pid" in u)
        return False

    # The state file is written as units start: interrupt as soon as a sidecar exists,
    # while later services are still waiting for their dependencies.
    wait_for(some_sidecar_starting, timeout=60, interval=0.01, what="a sidecar to start")
    assert not all(s["ready"] for s in seen[-1]["services"].values()), "startup finished before the interrupt"
    proc.send_signal(signal.SIGINT)
    output = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode is not None
    assert "stopped; nothing left running" in output
    assert survivors(seen) == []
    assert listeners(set().union(*(all_ports(s) for s in seen))) == []
    assert state(root) is None


def test_port_conflict_is_reported_and_nothing_starts(tmp_path: Path, runtime: Any) -> None:
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    try:
        root = tiny_workspace(tmp_path / "ws", {"a": []})
        text = (root / "aura.yaml").read_text().replace("    healthCheck: /", f"    healthCheck: /\n    appPort: {port}")
        (root / "aura.yaml").write_text(text)
        done = run_aura("dev", "up", "-w", str(root), timeout=60)
    finally:
        blocker.close()
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"services.a.appPort: port {port} is held by" in done.stderr
    assert f"pid {os.getpid()}" in done.stderr  # names the process holding it
    assert "nothing was started" in done.stderr
    assert state(root) is None
    assert not (root / ".aura" / "logs" / "infra" / "redis").exists()  # not even Redis was started


def test_an_auto_port_taken_before_the_app_binds_it_moves_the_service_to_new_ports(
        tmp_path: Path, runtime: Any, redis_server_bin: str) -> None:
    root = tiny_workspace(tmp_path / "ws", {"a": []})
    app = root / "a" / "app.py"
    app.write_text("import time; time.sleep(1.5)\n" + app.read_text())  # time for someone to take its port
    proc = subprocess.Popen([aura_bin(), "dev", "up", "--detach", "-w", str(root)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, NO_COLOR="1"))
    blocker = socket.socket()
    try:
        ports_file = root / ".aura" / "run" / "ports.json"
        chosen = wait_for(lambda: json.loads(ports_file.read_text()).get("a.app") if ports_file.exists() else None,
                          timeout=30, what="aura to choose the app's port")
        # As servers bind (and aura's own check): a connection of an earlier test left in
        # TIME_WAIT on this port must not stop us from taking it.
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", chosen))
        blocker.listen()
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, out + err
        snap = status(root)
        moved = snap["services"]["a"]["appPort"]
        assert moved != chosen and snap["units"]["a"]["state"] == "ready"
        assert snap["units"]["a·dapr"]["state"] == "ready"
        with urllib.request.urlopen(snap["services"]["a"]["url"], timeout=10) as response:
            assert response.read() == b"a hi"
        logged = run_aura("dev", "logs", "a", "-w", str(root)).stdout
        assert "its port was taken before it could bind it; retrying on a new port" in logged
    finally:
        blocker.close()
        if proc.poll() is None:
            proc.kill()
        assert run_aura("dev", "down", "-w", str(root)).returncode == 0


def test_second_up_is_refused_and_down_from_another_terminal(tmp_path: Path, runtime: Any,
                                                             redis_server_bin: str) -> None:
    root = tiny_workspace(tmp_path / "ws", {"a": [], "b": ["a"]})
    up = run_aura("dev", "up", "--detach", "-w", str(root), timeout=120)
    assert up.returncode == 0, up.stderr
    snap = status(root)
    try:
        again = run_aura("dev", "up", "-w", str(root))
        assert again.returncode == 2
        assert "already running" in again.stderr
        # restart one service from "another terminal": only its app changes pid.
        pids = {label: u["pid"] for label, u in snap["units"].items()}
        done = run_aura("dev", "restart", "b", "--app", "-w", str(root))
        assert done.returncode == 0, done.stderr
        after = status(root)
        assert after["units"]["b"]["pid"] != pids["b"]
        assert after["units"]["b"]["state"] == "ready"
        unchanged = {k: v for k, v in pids.items() if k != "b"}
        assert {k: after["units"][k]["pid"] for k in unchanged} == unchanged
        with urllib.request.urlopen(after["services"]["b"]["url"], timeout=10) as response:
            assert response.read() == b"b hi"
    finally:
        began = time.monotonic()
        down = run_aura("dev", "down", "-w", str(root))
        elapsed = time.monotonic() - began
    assert down.returncode == 0, down.stderr
    assert survivors([snap]) == []
    assert listeners(all_ports(snap)) == []
    assert elapsed < 30


def test_up_after_a_killed_supervisor_cleans_up_and_starts(tmp_path: Path, runtime: Any,
                                                           redis_server_bin: str) -> None:
    root = tiny_workspace(tmp_path / "ws", {"a": []})
    assert run_aura("dev", "up", "--detach", "-w", str(root), timeout=120).returncode == 0
    first = status(root)
    os.kill(first["supervisor"]["pid"], signal.SIGKILL)
    wait_for(lambda: not same_process(first["supervisor"]["pid"], first["supervisor"]["create_time"]), timeout=10)
    up = run_aura("dev", "up", "--detach", "-w", str(root), timeout=120)
    try:
        assert up.returncode == 0, up.stderr
        second = status(root)
        assert second["services"]["a"]["ready"]
        # The old units are gone (they end with their supervisor, or `up` ends what is left:
        # test_terminal_gone_e2e), the new ones run on the same ports.
        assert survivors([first]) == []
    finally:
        assert run_aura("dev", "down", "-w", str(root)).returncode == 0


def test_subset_starts_dependencies_only(tmp_path: Path, runtime: Any, redis_server_bin: str) -> None:
    root = tiny_workspace(tmp_path / "ws", {"a": [], "b": ["a"], "c": []})
    up = run_aura("dev", "up", "b", "--detach", "-w", str(root), timeout=120)
    try:
        assert up.returncode == 0, up.stderr
        snap = status(root)
        assert set(snap["services"]) == {"a", "b"}
        # A supervisor asked where it waits says so in its log, and carries on.
        log = root / ".aura" / "run" / "supervisor.log"
        os.kill(snap["supervisor"]["pid"], signal.SIGUSR1)
        # The dump is written line by line: wait for all of what is asserted, not one part.
        wanted = ("unit b·dapr:", "unit a:", "UnitRunner._loop")
        dump = wait_for(lambda: (lambda text: text if all(w in text for w in wanted) else None)(log.read_text()),
                        timeout=10, what="the task dump")
        assert all(w in dump for w in wanted)
        assert status(root)["units"]["b"]["state"] == "ready"
    finally:
        assert run_aura("dev", "down", "-w", str(root)).returncode == 0


def test_a_crash_loop_marks_the_service_failed_and_leaves_the_rest_running(tmp_path: Path, runtime: Any,
                                                                         redis_server_bin: str) -> None:
    root = tiny_workspace(tmp_path / "ws", {"a": []})
    (root / "crasher").mkdir()
    (root / "crasher" / "boom.py").write_text("print('starting and about to fail', flush=True)\nraise SystemExit(3)\n")
    with (root / "aura.yaml").open("a") as handle:
        handle.write("  crasher:\n    path: crasher\n    command: [python3, boom.py]\n    appPort: null\n"
                     "    restart: {maxRestarts: 2, window: 1m, backoff: {initial: 50ms, max: 200ms}}\n")
    up = run_aura("dev", "up", "--detach", "-w", str(root), timeout=120)
    try:
        assert up.returncode == 1  # not every service is ready: said in the exit code
        snap = wait_for(lambda: (lambda s: s if s["units"]["crasher"]["state"] == "failed" else None)(status(root)),
                        timeout=30, what="the crash loop to be declared")
        assert snap["units"]["crasher"]["restarts"] == 2
        assert "crashed 3 times within 60 s" in snap["units"]["crasher"]["detail"]
        assert snap["units"]["a"]["state"] == "ready" and snap["units"]["a·dapr"]["state"] == "ready"
        logged = run_aura("dev", "logs", "crasher", "-w", str(root)).stdout
        assert "FAILED: crashed 3 times" in logged
        assert "last lines:" in logged and "starting and about to fail" in logged
        assert logged.count("restarting in") == 2
    finally:
        assert run_aura("dev", "down", "-w", str(root)).returncode == 0


def test_an_edited_restart_policy_applies_to_the_sidecar_too(tmp_path: Path, runtime: Any,
                                                            redis_server_bin: str) -> None:
    """An aura.yaml edit gives a service's *sidecar* the new restart settings, not only its
    app (it used to keep the old policy and restart anyway)."""
    root = tiny_workspace(tmp_path / "ws", {"a": []})
    assert run_aura("dev", "up", "--detach", "-w", str(root), timeout=120).returncode == 0
    try:
        before = status(root)
        text = (root / "aura.yaml").read_text().replace("    healthCheck: /\n",
                                                          "    healthCheck: /\n    restart: \"no\"\n")
        (root / "aura.yaml").write_text(text)
        # The edit restarts the app (its settings changed) with the new policy in force.
        wait_for(lambda: (lambda s: s["units"]["a"].get("pid") not in (None, before["units"]["a"]["pid"])
                          and s["units"]["a"]["state"] == "ready")(status(root)),
                 timeout=30, what="the app to restart after the edit")
        sidecar = status(root)["units"]["a·dapr"]
        os.kill(sidecar["pid"], signal.SIGKILL)
        failed = wait_for(lambda: (lambda u: u if u["state"] in ("failed", "ready") and u.get("pid") != sidecar["pid"]
                                   else None)(status(root)["units"]["a·dapr"]), timeout=30,
                          what="the killed sidecar to be failed or back")
        assert failed["state"] == "failed", failed
        assert "restart policy: no" in failed["detail"]
    finally:
        assert run_aura("dev", "down", "-w", str(root)).returncode == 0
