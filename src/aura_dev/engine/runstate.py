"""Run state under `<workspace>/.aura/run/`: who supervises the stack, what it runs.

- `supervisor.lock` is held (flock) by the running supervisor for its whole life; the
  kernel drops it when that process dies, even by SIGKILL, so "is a supervisor running?"
  never depends on a pid that may have been reused.
- `state.json` is the typed snapshot (`engine.snapshot`), rewritten atomically on every change.
- Leftovers of a supervisor that was killed are found through `state.json` and ended only
  after checking pid *and* create time: a process that is not ours is never touched.
"""

from __future__ import annotations

import fcntl
import os
import signal
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from aura_dev.engine.run_files import LOCK_FILE as LOCK_FILE
from aura_dev.engine.run_files import RUN_DIR as RUN_DIR
from aura_dev.engine.run_files import STATE_FILE as STATE_FILE
from aura_dev.engine.run_files import control_socket_path as control_socket_path
from aura_dev.engine.run_files import run_dir as run_dir
from aura_dev.engine.run_files import state_path as state_path
from aura_dev.engine.run_files import supervisor_running as supervisor_running
from aura_dev.engine.run_files import workspace_key as workspace_key
from aura_dev.engine.snapshot import StackSnapshot, read_snapshot, write_snapshot
from aura_dev.errors import AlreadyRunning

STOPPING_FILE = "stopping"



def supervisor_log_path(state_dir: Path) -> Path:
    """Where a detached supervisor writes its own output (its units' lines go to the log store)."""
    return run_dir(state_dir) / "supervisor.log"


_HELD: set[Path] = set()  # the run folders whose supervisor lock this process holds


def write_state(state_dir: Path, snapshot: StackSnapshot) -> None:
    """Only while this process holds the supervisor lock: a write scheduled before the run
    ended and carried out after (a timer firing while the event loop winds down its last
    tasks) would leave a `state.json` describing a stack that has stopped."""
    if run_dir(state_dir) in _HELD:
        write_snapshot(state_path(state_dir), snapshot)


def read_state(state_dir: Path) -> StackSnapshot | None:
    return read_snapshot(state_path(state_dir))


def clear_state(state_dir: Path) -> None:
    state_path(state_dir).unlink(missing_ok=True)
    (run_dir(state_dir) / STOPPING_FILE).unlink(missing_ok=True)


def mark_stopping(state_dir: Path) -> None:
    """The supervisor is stopping the stack: an `up` now waits for it instead of refusing."""
    try:
        (run_dir(state_dir) / STOPPING_FILE).write_text(f"{os.getpid()}\n")
    except OSError:
        pass  # only a courtesy to a concurrent `up`; the stop goes on


def stopping(state_dir: Path) -> bool:
    return (run_dir(state_dir) / STOPPING_FILE).exists()


class SupervisorLock:
    """The lock a running supervisor holds; acquiring it means no supervisor runs."""

    def __init__(self, state_dir: Path) -> None:
        self.path = run_dir(state_dir) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = supervisor_pid(self.path.parent.parent)
            raise AlreadyRunning(
                "this workspace is already running" + (f" (supervisor pid {holder})" if holder else ""),
                hint="stop it with `aura dev down`, or see it with `aura dev status`",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        _HELD.add(self.path.parent)

    def release(self) -> None:
        if self._fd is not None:
            _HELD.discard(self.path.parent)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def supervisor_pid(state_dir: Path) -> int | None:
    state = read_state(state_dir)
    return state.supervisor_pid if state else None


@dataclass(frozen=True)
class Leftover:
    label: str
    pid: int | None = None
    container: str | None = None


# psutil is imported where used: reading the state (`status`, the summary `up -d` prints
# once its stack is ready) needs none of it, and it costs ~16 ms.


def same_process(pid: int, create_time: float) -> bool:
    import psutil

    try:
        proc = psutil.Process(pid)
        return abs(proc.create_time() - create_time) < 0.05 and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def find_leftovers(state: StackSnapshot) -> list[Leftover]:
    found = []
    for label, unit in state.units.items():
        ident = unit.identity
        if ident.pid is not None and ident.create_time is not None and same_process(ident.pid, ident.create_time):
            found.append(Leftover(label, pid=ident.pid))
        if ident.container:
            found.append(Leftover(label, container=ident.container))
    return found


def kill_process_groups(state: StackSnapshot, grace: float = 3.0, spare: Collection[int] = ()) -> list[str]:
    """SIGTERM, then SIGKILL, the process group of every unit still alive (pid + create
    time) — or of which something is still alive: a unit's leader may be gone (it died with
    its supervisor) while a child it started lives on in its group."""
    from aura_dev.units.process import signal_group  # asyncio: not for `status`, which imports this module

    targets = []
    for label, unit in state.units.items():
        ident = unit.identity
        if ident.pid is None or ident.create_time is None or ident.pid in spare:
            continue
        pgid = ident.pgid if ident.pgid is not None else ident.pid
        if same_process(ident.pid, ident.create_time):
            targets.append((label, ident.pid, pgid))
            continue
        left = _session_members(pgid, ident.create_time)
        if left:
            targets.append((label, left[0], pgid))
    for _label, _pid, pgid in targets:
        signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(pid) for _l, pid, _g in targets):
        time.sleep(0.05)
    for _label, _pid, pgid in targets:
        signal_group(pgid, signal.SIGKILL)
    return [label for label, _pid, _pgid in targets]


def _session_members(leader: int, leader_created: float) -> list[int]:
    """Live processes of the session (and group) a unit's leader `leader` started — each
    unit runs in a session of its own — created after it.  The kernel does not hand out a
    pid again while a group or session of that number has members, so these can only be
    what that unit left behind."""
    import psutil

    found = []
    for proc in psutil.process_iter(["create_time"]):
        try:
            if (os.getsid(proc.pid) == leader and os.getpgid(proc.pid) == leader
                    and proc.info["create_time"] >= leader_created - 0.05 and proc.status() != psutil.STATUS_ZOMBIE):
                found.append(proc.pid)
        except (OSError, psutil.Error):
            continue
    return found


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
