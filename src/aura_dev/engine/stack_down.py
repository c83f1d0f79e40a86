"""`aura dev down`: stop the running stack from any terminal, or clean up after a killed
supervisor.  Kept apart from `session` (which imports the orchestrator and everything it
runs): a `down` only talks to the control socket and waits for the supervisor's lock."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from aura_dev.engine import leftovers, runstate
from aura_dev.engine.control import ControlRequest, Operation, request
from aura_dev.errors import AlreadyRunning, NotRunning, StartupError

if TYPE_CHECKING:
    from aura_dev.workspace.locate import AtWorkspaceFile

SUPERVISOR_POLL_SECONDS = 0.01  # how often `down` looks whether the supervisor has gone


def bring_down(ws: AtWorkspaceFile, timeout: float = 60.0) -> tuple[float, list[str]]:
    """Stop the running stack (or clean up after a killed supervisor); (seconds, what was cleaned)."""
    began = time.monotonic()
    cleaned: list[str] = []
    if runstate.supervisor_running(ws.state_dir):
        running = runstate.read_state(ws.state_dir)
        try:
            request(runstate.control_socket_path(ws.state_dir), ControlRequest(Operation.DOWN), timeout=10)
        except NotRunning:
            pid = runstate.supervisor_pid(ws.state_dir)
            if pid:
                os.kill(pid, 15)
        except ConnectionError:
            pass  # the socket closed under the request: a stop is under way already (another `down`); wait for it
        while runstate.supervisor_running(ws.state_dir):
            if time.monotonic() - began > timeout:
                raise StartupError(f"the supervisor did not stop within {timeout:g} s")
            time.sleep(SUPERVISOR_POLL_SECONDS)
        # It lets go of its lock a moment before its process ends: "nothing left running"
        # is said once the process is gone too.
        while running is not None and runstate.same_process(running.supervisor_pid, running.supervisor_create_time):
            if time.monotonic() - began > timeout:
                raise StartupError(f"the supervisor did not exit within {timeout:g} s")
            time.sleep(SUPERVISOR_POLL_SECONDS)
    if runstate.read_state(ws.state_dir) is None:
        return time.monotonic() - began, cleaned
    lock = runstate.SupervisorLock(ws.state_dir)
    try:
        lock.acquire()
    except AlreadyRunning:  # a stack started since ours stopped (an `up` meanwhile): not leftovers
        return time.monotonic() - began, cleaned
    try:
        cleaned = leftovers.reap(ws.state_dir)  # of a supervisor that died without cleaning up
    finally:
        lock.release()
    return time.monotonic() - began, cleaned
