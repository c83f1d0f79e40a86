"""When whatever ran the stack goes away: a foreground `aura dev up` whose terminal closes,
or whose parent dies, stops its stack cleanly; a supervisor killed -9 takes its units with
it (they get SIGTERM from the kernel), and the next command reaps whatever they left."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import psutil
import pytest

from aura_dev.engine.runstate import same_process
from conftest import aura_bin, require, run_aura
from support.sockets import listeners
from support.stack import all_ports, state, tiny_workspace, wait_for

pytestmark = pytest.mark.e2e


def settled(root: Path) -> dict[str, Any] | None:
    snap = state(root)
    return snap if snap and snap.get("settled") and all(s["ready"] for s in snap["services"].values()) else None


def units_of(snap: dict[str, Any]) -> list[tuple[int, float]]:
    return [(u["pid"], u["create_time"]) for u in snap["units"].values() if isinstance(u.get("pid"), int)]


def nothing_left(root: Path, snap: dict[str, Any]) -> None:
    supervisor = snap["supervisor"]
    wait_for(lambda: not same_process(supervisor["pid"], supervisor["create_time"]), timeout=60,
             what="the supervisor to end")
    assert [pid for pid, created in units_of(snap) if same_process(pid, created)] == []
    assert listeners(all_ports(snap)) == []
    assert state(root) is None


def store_text(root: Path) -> str:
    return run_aura("dev", "logs", "-w", str(root), "-n", "400").stdout


def test_closing_the_terminal_stops_a_foreground_stack(tmp_path: Path, runtime: Any, redis_server_bin: str) -> None:
    require(shutil.which("tmux") is not None, "tmux is needed for a real terminal")
    root = tiny_workspace(tmp_path / "ws", {"a": [], "b": ["a"]})
    session = f"aura-hup-{os.getpid()}"
    # A tmux server of this test's own, kept alive by a second session: were the closed
    # session its last, the server (aura's parent) would exit too, and aura could stop for
    # that reason before it saw the hang-up this test is about (seen once in a full run).
    tmux = ["tmux", "-L", session]
    subprocess.run([*tmux, "new-session", "-d", "-s", "keeper", "sleep 600"], check=True)
    venv = str(Path(aura_bin()).parent)
    subprocess.run([*tmux, "new-session", "-d", "-s", session, "-x", "160", "-y", "40",
                    f"PATH={venv}:$PATH exec {aura_bin()} dev up -w {root}"], check=True)
    try:
        snap = wait_for(lambda: settled(root), timeout=120, what="the stack to be up in the terminal")
        pane = subprocess.run([*tmux, "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout
        assert "ready" in pane  # a person sees the stack in that terminal
        subprocess.run([*tmux, "kill-session", "-t", session], capture_output=True)  # the window closes
        nothing_left(root, snap)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    logged = store_text(root)
    # The hang-up, or its other face: the terminal's output gone (whichever aura meets first).
    assert "SIGHUP: stopping" in logged or "console output closed: stopping" in logged, logged
    assert "is gone: stopping" not in logged, logged  # not the parent's end: it lives on
    assert "stopped; nothing left running" in logged


def test_a_foreground_stack_stops_when_its_parent_dies(tmp_path: Path, runtime: Any, redis_server_bin: str) -> None:
    """No terminal, output to a file: nothing but the parent's end tells aura to stop."""
    root = tiny_workspace(tmp_path / "ws", {"a": []})
    out = tmp_path / "up.log"
    # A shell that stays the parent (it has more to do after aura), killed -9 like a crashed IDE.
    parent = subprocess.Popen(["sh", "-c", f"'{aura_bin()}' dev up -w '{root}' > '{out}' 2>&1 </dev/null; echo done"],
                              start_new_session=True)
    try:
        snap = wait_for(lambda: settled(root), timeout=120, what="the stack to be up")
        assert snap["supervisor"]["pid"] != parent.pid
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        nothing_left(root, snap)
    finally:
        if parent.poll() is None:
            parent.kill()
        run_aura("dev", "down", "-w", str(root))  # a no-op, unless the stack outlived its parent
    assert "the process that started aura" in store_text(root) and "is gone: stopping" in store_text(root)


def test_a_killed_supervisor_takes_its_units_with_it_and_the_next_command_reaps_the_rest(
        tmp_path: Path, runtime: Any, redis_server_bin: str) -> None:
    root = tiny_workspace(tmp_path / "ws", {"a": [], "b": []})
    # b's own process is a shell that started the real server in the background: the shell
    # dies with the supervisor, the server it started does not — the next command ends it.
    lines = (root / "aura.yaml").read_text().splitlines()
    lines[lines.index("  b:") + 2] = '    command: "python3 app.py & wait"'
    (root / "aura.yaml").write_text("\n".join(lines) + "\n")
    assert run_aura("dev", "up", "--detach", "-w", str(root), timeout=120).returncode == 0
    try:
        reaped_by_the_next_command(root)
    finally:
        run_aura("dev", "down", "-w", str(root))


def reaped_by_the_next_command(root: Path) -> None:
    snap = state(root)
    assert snap is not None
    b_leader = psutil.Process(snap["units"]["b"]["pid"])
    b_server = [child.pid for child in b_leader.children()]
    assert b_server, "b's shell should have started its server"

    supervisor = snap["supervisor"]
    os.kill(supervisor["pid"], signal.SIGKILL)
    # Every unit's own process ends with the supervisor (SIGTERM from the kernel)...
    wait_for(lambda: [pid for pid, created in units_of(snap) if same_process(pid, created)] == [], timeout=30,
             what="the units to end with their supervisor")
    # ...but not what b's shell had started: it holds b's port until aura reaps it.
    assert [pid for pid in b_server if psutil.pid_exists(pid)] == b_server
    down = run_aura("dev", "down", "-w", str(root))
    assert down.returncode == 0, down.stderr
    assert "cleaned up leftovers of a supervisor that did not stop: b" in down.stdout
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in b_server)
    assert listeners(all_ports(snap)) == []
    assert state(root) is None
