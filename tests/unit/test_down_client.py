"""`aura dev down`'s client (`engine.stack_down`): it asks the supervisor to stop, then waits
on the kernel's word that the very process named in `state.json` has exited (a pidfd, the
create time checked) — not a moment sooner, and never on a process that merely got its
pid; and it gets there with the standard library only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil

from aura_dev.engine import stack_down
from aura_dev.engine.control import ControlRequest, Operation
from aura_dev.engine.stack_down import DOWN_REQUEST, Supervisor, bring_down_at, same_start

# A stand-in supervisor: holds the lock, writes state.json naming itself, serves the
# control socket; on "down" it takes its time, cleans up and exits.
FAKE_SUPERVISOR = textwrap.dedent("""\
    import fcntl, json, os, socket, sys, time
    import psutil
    run = sys.argv[1]; linger = float(sys.argv[2])
    lock = os.open(os.path.join(run, "supervisor.lock"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(lock, fcntl.LOCK_EX)
    me = psutil.Process()
    with open(os.path.join(run, "state.json"), "w") as f:
        json.dump({"name": "fake", "supervisor": {"pid": me.pid, "create_time": me.create_time()}}, f)
    server = socket.socket(socket.AF_UNIX); server.bind(os.path.join(run, "control.sock")); server.listen()
    print("ready", flush=True)
    conn, _ = server.accept()
    request = json.loads(conn.makefile().readline())
    conn.sendall(b'{"ok": true}\\n'); conn.close(); server.close()
    time.sleep(linger)  # stopping its units
    os.unlink(os.path.join(run, "state.json")); os.unlink(os.path.join(run, "control.sock"))
    fcntl.flock(lock, fcntl.LOCK_UN)  # lets go of its lock a moment before it exits
    time.sleep(linger)
    print(json.dumps(request), flush=True)
    """)


def fake_supervisor(tmp_path: Path, linger: float) -> tuple[Path, subprocess.Popen[str]]:
    state_dir = tmp_path / ".aura"
    (state_dir / "run").mkdir(parents=True)
    proc = subprocess.Popen([sys.executable, "-c", FAKE_SUPERVISOR, str(state_dir / "run"), str(linger)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return state_dir, proc


def test_down_returns_once_the_supervisor_process_has_exited_not_when_it_lets_go_of_its_lock(tmp_path: Path) -> None:
    state_dir, proc = fake_supervisor(tmp_path, linger=0.4)
    seconds, cleaned = bring_down_at(state_dir, timeout=30)
    assert proc.poll() is not None, "down returned while the supervisor was still running"
    assert seconds >= 0.8 and cleaned == []
    assert proc.stdout is not None and json.loads(proc.stdout.read()) == DOWN_REQUEST


def test_the_down_request_is_the_control_protocols_down() -> None:
    assert ControlRequest.from_json(DOWN_REQUEST) == ControlRequest(Operation.DOWN)


def test_the_start_time_from_proc_is_psutils_create_time() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        created = psutil.Process(child.pid).create_time()
        assert same_start(child.pid, created)
        assert not same_start(child.pid, created - 1.0)  # a pid reused by another process
    finally:
        child.kill()
        child.wait()
    assert not same_start(child.pid, created)  # gone


def test_a_pid_that_is_not_the_supervisors_any_more_is_not_waited_on() -> None:
    me = psutil.Process()
    assert Supervisor.of({"supervisor": {"pid": me.pid, "create_time": me.create_time() - 5}}).pidfd is None
    held = Supervisor.of({"supervisor": {"pid": me.pid, "create_time": me.create_time()}})
    try:
        assert held.pidfd is not None
    finally:
        held.close()
    assert Supervisor.of(None).pid is None and Supervisor.of({"supervisor": "garbage"}).pid is None


def test_the_down_client_imports_no_psutil_dataclasses_or_yaml() -> None:
    code = ("import sys, aura_dev.cli.fast, aura_dev.cli.console, aura_dev.cli.stack_start, "
            "aura_dev.engine.stack_down, aura_dev.workspace.discover; "
            "print(sorted({'psutil', 'dataclasses', 'yaml', 'asyncio'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=str(Path(stack_down.__file__).parents[2])))
    assert out.stdout.strip() == "[]"


def test_without_a_supervisor_down_is_a_no_op(tmp_path: Path) -> None:
    started = time.monotonic()
    seconds, cleaned = bring_down_at(tmp_path / ".aura")
    assert cleaned == [] and seconds <= time.monotonic() - started


def test_down_looks_for_kept_infra_where_infra_keep_records_it(tmp_path: Path) -> None:
    from aura_dev.engine import kept_record, run_files

    assert run_files.kept_path(tmp_path / ".aura") == kept_record.kept_path(tmp_path / ".aura")
