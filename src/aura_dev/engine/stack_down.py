"""`aura dev down`: stop the running stack from any terminal, or clean up after a killed
supervisor.  Kept apart from `session` (which imports the orchestrator and everything it
runs), and on the clock: a stop of a small stack takes about as long as Python takes to
import psutil and the typed snapshot, so the usual path uses the standard library only —
the lock probe (`run_files`), one line on the control socket (`control_wire`), and the
kernel's word that the supervisor has exited (a pidfd), not a polling loop.  Leftovers of
a killed supervisor, the rare case, load the rest."""

from __future__ import annotations

import os
import select
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING

from aura_dev.engine import run_files
from aura_dev.engine.control_wire import Unreachable, exchange

if TYPE_CHECKING:
    from aura_dev.workspace.locate import AtWorkspaceFile

SUPERVISOR_POLL_SECONDS = 0.01  # without a pidfd: how often `down` looks whether the supervisor has gone
DOWN_REQUEST = {"op": "down"}  # `engine.control.ControlRequest(Operation.DOWN)` on the wire


def bring_down(ws: AtWorkspaceFile, timeout: float = 60.0) -> tuple[float, list[str]]:
    """Stop the running stack (or clean up after a killed supervisor); (seconds, what was cleaned)."""
    return bring_down_at(ws.state_dir, timeout)


def bring_down_at(state_dir: Path, timeout: float = 60.0) -> tuple[float, list[str]]:
    began = time.monotonic()
    if run_files.supervisor_running(state_dir):
        supervisor = Supervisor.of(run_files.raw_state(state_dir))
        try:
            try:
                exchange(run_files.control_socket_path(state_dir), DOWN_REQUEST, timeout=10)
            except Unreachable:  # no control socket (yet, or any more): the signal asks the same
                supervisor.terminate()
            except (OSError, ValueError):
                pass  # the socket closed under the request: a stop is under way already (another `down`); wait for it
            supervisor.wait_gone(state_dir, began, timeout)
        finally:
            supervisor.close()
    if not run_files.state_path(state_dir).exists():  # the supervisor cleaned up after itself
        return time.monotonic() - began, []
    return time.monotonic() - began, _reap(state_dir)


def _reap(state_dir: Path) -> list[str]:
    """What a supervisor that died without cleaning up left, under its lock (a stack
    started since ours stopped — an `up` meanwhile — is not leftovers)."""
    from aura_dev.engine import leftovers, runstate
    from aura_dev.errors import AlreadyRunning

    if runstate.read_state(state_dir) is None:
        return []
    lock = runstate.SupervisorLock(state_dir)
    try:
        lock.acquire()
    except AlreadyRunning:
        return []
    try:
        return leftovers.reap(state_dir)
    finally:
        lock.release()


class Supervisor:
    """The supervisor process named in `state.json`, held by a pidfd once its create time
    has been checked: waiting on it cannot mistake a later process with a reused pid for it."""

    def __init__(self, pid: int | None, create_time: float | None, pidfd: int | None) -> None:
        self.pid = pid
        self.create_time = create_time
        self.pidfd = pidfd

    @classmethod
    def of(cls, state: dict[str, object] | None) -> Supervisor:
        about = state.get("supervisor") if state else None
        pid = about.get("pid") if isinstance(about, dict) else None
        created = about.get("create_time") if isinstance(about, dict) else None
        if not isinstance(pid, int) or not isinstance(created, (int, float)):
            return cls(None, None, None)
        try:
            pidfd = os.pidfd_open(pid)
        except AttributeError:  # no pidfds on this system: `wait_gone` polls
            return cls(pid, float(created), None)
        except OSError:  # gone already
            return cls(None, None, None)
        if not same_start(pid, float(created)):  # checked after the open: the fd holds this very process
            os.close(pidfd)
            return cls(None, None, None)
        return cls(pid, float(created), pidfd)

    def terminate(self) -> None:
        """SIGTERM: the supervisor's own clean stop (`engine.signals`), as a DOWN request."""
        try:
            if self.pidfd is not None:
                signal.pidfd_send_signal(self.pidfd, signal.SIGTERM)
            elif self.pid is not None:
                os.kill(self.pid, signal.SIGTERM)
        except OSError:
            pass  # gone meanwhile

    def wait_gone(self, state_dir: Path, began: float, timeout: float) -> None:
        """Until the supervisor process has exited (it lets go of its lock a moment before)."""
        from aura_dev.errors import StartupError

        if self.pidfd is not None:
            poller = select.poll()
            poller.register(self.pidfd, select.POLLIN)  # readable once the process has exited
            if not poller.poll(max(0.0, began + timeout - time.monotonic()) * 1000):
                raise StartupError(f"the supervisor did not stop within {timeout:g} s")
            return
        from aura_dev.engine.runstate import same_process  # psutil: only where there are no pidfds

        while run_files.supervisor_running(state_dir):
            if time.monotonic() - began > timeout:
                raise StartupError(f"the supervisor did not stop within {timeout:g} s")
            time.sleep(SUPERVISOR_POLL_SECONDS)
        while self.pid is not None and self.create_time is not None and same_process(self.pid, self.create_time):
            if time.monotonic() - began > timeout:
                raise StartupError(f"the supervisor did not exit within {timeout:g} s")
            time.sleep(SUPERVISOR_POLL_SECONDS)

    def close(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


def same_start(pid: int, create_time: float) -> bool:
    """Whether process `pid` started at `create_time` (as psutil gives it: boot time plus
    the start in clock ticks, both from /proc — read here without importing psutil)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        with open("/proc/stat", "rb") as system:
            boot = next(int(line.split()[1]) for line in system if line.startswith(b"btime"))
    except (OSError, ValueError, IndexError, StopIteration):
        return False
    if fields[0] == b"Z":
        return False
    started = boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    return abs(started - create_time) < 0.05

