"""Keeping one unit alive: start it, wait until it is really ready, watch it exit, and
apply the restart policy — until aura asks it to stop.

A runner's task is never cancelled from outside: stopping is a request the loop honours
at its next step, so a process being spawned is always known (and stopped) rather than
leaked by a cancellation that lands mid-fork.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from enum import Enum

from aura_dev.errors import AuraError
from aura_dev.engine.events import EventHub, StateChange
from aura_dev.logs.record import Level, UnitRef
from aura_dev.units.probes import wait_until
from aura_dev.engine.unit_state import Action, RestartPolicy, UnitLifecycle, UnitState
from aura_dev.units.base import Unit
from aura_dev.workspace.model import RestartSettings

PORT_TAKEN = re.compile(r"(?i)address already in use|port is already allocated")  # a process; Docker
SPAWN_FAILED = 127
DOWN_ON_ITS_OWN = (UnitState.BACKOFF, UnitState.FAILED, UnitState.EXITED)  # what "last exit" remembers


class Request(str, Enum):
    NONE = "none"
    RESTART = "restart"
    STOP = "stop"
    SHUTDOWN = "shutdown"


class UnitRunner:
    def __init__(
        self,
        ref: UnitRef,
        *,
        make_unit: Callable[[], Unit],
        probe: Callable[[], Awaitable[bool]],
        policy: RestartPolicy,
        hub: EventHub,
        ready_timeout: float,
        stop_grace: float = 5.0,
        on_ready: Callable[[UnitRunner], None] | None = None,
        on_port_conflict: Callable[[UnitRunner], bool] | None = None,
        poll_interval: float = 0.1,
    ) -> None:
        self.ref = ref
        self.make_unit = make_unit
        self.probe = probe
        self.policy = policy
        self.hub = hub
        self.ready_timeout = ready_timeout
        self.stop_grace = stop_grace
        self.on_ready = on_ready
        self.on_port_conflict = on_port_conflict
        self.poll_interval = poll_interval
        self.unit: Unit | None = None
        self.after_change = False  # this start follows a code change: a boot crash waits for the next one
        self._ready_this_run = False
        self._replace = asyncio.Event()
        self._retiring: asyncio.Future[int | None] | None = None
        self._same_port_retries = 0
        self.ready = asyncio.Event()
        self.finished = asyncio.Event()  # the unit went down and will not come back by itself
        self._wake = asyncio.Event()
        self._request = Request.NONE
        self._restart_reason = ""
        self.started_at: float | None = None
        self.ready_at: float | None = None
        self.last_ready_seconds: float | None = None
        self.lifecycle = UnitLifecycle()  # the one holder of this unit's state
        self.last_exit: tuple[UnitState, str, float] | None = None  # went down on its own: where, why, when
        self.task: asyncio.Task[None] | None = None

    @property
    def state(self) -> UnitState:
        return self.lifecycle.state

    @property
    def detail(self) -> str:
        return self.lifecycle.detail

    def configure(self, restart: RestartSettings, ready_timeout: float) -> None:
        """New restart and readiness settings (an edited aura.yaml); they apply from the
        next start or exit on."""
        self.policy.configure(restart)
        self.ready_timeout = ready_timeout

    def waiting(self, detail: str) -> None:
        """Held back before its first start (an app whose dependencies are not ready yet)."""
        if self.task is None:
            self._set(UnitState.WAITING, detail)

    def starting_detail(self, detail: str) -> None:
        """Why a starting unit is not ready yet (status and the start-up view show it)."""
        if self.state is UnitState.STARTING:
            self._set(UnitState.STARTING, detail)

    # -- requests from the orchestrator -------------------------------------------------

    def launch(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._loop(), name=f"unit {self.ref.label}")

    async def restart(self, reason: str = "restart requested", *, after_change: bool = False,
                      overlap: bool = False) -> None:
        """Stop the unit (gracefully) and start it again; not counted as a crash.

        With `overlap`, the new process is spawned while the old one is still shutting down:
        an app spends hundreds of milliseconds importing before it binds its port, and the
        old one is usually gone by then.  If it is not, the new one's "address already in
        use" is answered by waiting for the old one and starting again.
        """
        if self._request is Request.SHUTDOWN:
            return  # the stack is stopping: nothing starts again
        self._request, self._restart_reason = Request.RESTART, reason
        self.after_change = after_change
        unit = self.unit
        if overlap and unit is not None and unit.running and self.state is UnitState.READY:
            self.ready.clear()  # from now on, waiting for "ready" means the new process
            self._retiring = asyncio.ensure_future(unit.stop(self.stop_grace))
            self._replace.set()
            self._wake.set()
            return
        self._wake.set()
        await self._stop_current()

    async def stop(self) -> None:
        """Stop and stay down until `start()`."""
        if self._request is Request.SHUTDOWN:
            return
        self._request = Request.STOP
        self._wake.set()
        await self._stop_current()

    def start(self) -> None:
        if self._request is Request.SHUTDOWN:
            return
        if self._request is Request.STOP or self.state in (UnitState.STOPPED, UnitState.FAILED, UnitState.EXITED):
            self._request, self._restart_reason = Request.RESTART, "start requested"
            self._wake.set()

    async def shutdown(self) -> None:
        self._request = Request.SHUTDOWN
        self._wake.set()
        await self._stop_current()
        if self.task is not None:
            await self.task
        await self._retired()

    async def _retired(self) -> None:
        """Until a process being replaced has exited."""
        retiring, self._retiring = self._retiring, None
        if retiring is not None:
            try:
                await retiring
            except Exception:  # it is going away either way; its stop errors are not ours
                pass

    async def _probe(self) -> bool:
        # While a replaced process still shuts down it may answer on the port: not us (unless
        # the new one says it took the port, which the old one must have let go: a standby's).
        if self._retiring is not None and not self._retiring.done() and not getattr(self.unit, "listening", False):
            return False
        return await self.probe()

    async def _stop_current(self) -> None:
        unit = self.unit
        if unit is not None and unit.running:
            self._set(UnitState.STOPPING)
            await unit.stop(self.stop_grace)

    # -- the loop -------------------------------------------------------------------------

    def _set(self, state: UnitState, detail: str = "") -> None:
        if self.lifecycle.move(state, detail):
            if state in DOWN_ON_ITS_OWN:
                self.last_exit = (state, detail, time.time())
            self.hub.state(StateChange(self.ref, state, detail))

    async def _loop(self) -> None:
        try:
            while self._request is not Request.SHUTDOWN:
                if self._request is Request.STOP:
                    self._set(UnitState.STOPPED)
                    self.finished.set()
                    await self._wait_for_request()
                    continue
                if self._request is Request.RESTART:
                    self.policy.reset()
                    self._request = Request.NONE
                await self._run_once()
        except Exception as exc:
            # A fault of ours (a probe, a callback): this unit is no longer supervised.  Say
            # so with the traceback, stop its process, and mark it failed, so that nobody
            # waits for it (a start would never settle on a silently "stopped" unit).
            import traceback

            trace = "".join(traceback.format_exception(exc)).rstrip().replace("\n", "\n    ")
            self.hub.notice(self.ref, f"supervision failed (an error in aura; please report it):\n    {trace}",
                            Level.ERROR)
            if self.unit is not None and self.unit.running:
                await self.unit.stop(self.stop_grace)
            self.ready.clear()
            detail = f"an error in aura: {type(exc).__name__}: {exc}"
            self.lifecycle.fail_from_anywhere(detail)
            self.last_exit = (UnitState.FAILED, detail, time.time())
            self.hub.state(StateChange(self.ref, UnitState.FAILED, detail))
        finally:
            self.ready.clear()
            if self.state is not UnitState.FAILED:
                self._set(UnitState.STOPPED)
            self.finished.set()

    async def _wait_for_request(self) -> None:
        self._wake.clear()
        if self._request in (Request.NONE, Request.STOP):
            await self._wake.wait()

    async def _run_once(self) -> None:
        self.ready.clear()
        self.finished.clear()
        self._ready_this_run = False
        self.hub.forget_tail(self.ref)
        self.unit = unit = self.make_unit()
        self._set(UnitState.STARTING)
        self.started_at = time.monotonic()
        try:
            await asyncio.shield(unit.start())
        except Exception as exc:
            # Anything else is a fault of ours, but it must not end this runner's task: a
            # unit whose runner died stays "starting" for ever and the start never settles.
            # Said loudly, stopped if it got as far as a process, and counted as a failed start.
            if isinstance(exc, AuraError):
                message = exc.message
            elif isinstance(exc, OSError):
                message = f"cannot start: {exc}"
            else:
                message = f"cannot start (an error in aura): {type(exc).__name__}: {exc}"
            self.hub.notice(self.ref, message, Level.ERROR)
            if unit.running:
                await unit.stop(self.stop_grace)
            await self._after_exit(SPAWN_FAILED, spawn_error=message)
            return
        exit_task = asyncio.ensure_future(unit.wait())
        self._replace.clear()
        # After a code change someone is waiting for this very process: poll it tightly.
        fastest = 0.01 if self.after_change else min(0.02, self.poll_interval)
        outcome = await wait_until(
            self._probe, deadline=self.started_at + self.ready_timeout, interval=fastest,
            max_interval=fastest if self.after_change else self.poll_interval,
            abort=lambda: "exited" if exit_task.done() else ("stopping" if self._request is not Request.NONE else None),
            wake=self.hub.output_seen(self.ref.service),
        )
        if outcome == "stopping" and unit.running and self.state is not UnitState.STOPPING:
            # The request came while the process was being spawned, when `_stop_current`
            # had nothing to stop yet: stop it now, or this run would wait on it for ever.
            # (If the requester is already stopping it, a second SIGTERM could cut short
            # the app's own shutdown.)
            await self._stop_current()
        if outcome is None:
            self.ready_at = time.monotonic()
            self.last_ready_seconds = self.ready_at - self.started_at
            self._ready_this_run = True
            self.after_change = False
            self._same_port_retries = 0
            self.ready.set()  # before the state change: listeners look at the event
            self.hub.notice(self.ref, f"ready in {self.last_ready_seconds:.2f} s")
            self._set(UnitState.READY, f"{self.last_ready_seconds:.2f} s")
            if self.on_ready is not None:
                self.on_ready(self)
        elif outcome == "timeout":
            lines = self.hub.last_lines(self.ref)
            why = f": {self.detail}" if self.state is UnitState.STARTING and self.detail else ""
            self.hub.notice(self.ref, f"not ready after {self.ready_timeout:g} s{why}; stopping it", Level.ERROR)
            self._show_tail(lines)
            self._set(UnitState.FAILED, f"not ready after {self.ready_timeout:g} s{why}")
            await unit.stop(self.stop_grace)
            await exit_task
            self.finished.set()
            await self._wait_for_request()
            return
        replaced = asyncio.ensure_future(self._replace.wait())
        await asyncio.wait([exit_task, replaced], return_when=asyncio.FIRST_COMPLETED)
        replaced.cancel()
        self.ready.clear()
        if not exit_task.done():  # handed over: the old process stops in the background
            self.hub.notice(self.ref, self._restart_reason)
            return
        await self._after_exit(exit_task.result())

    async def _after_exit(self, code: int, spawn_error: str | None = None) -> None:
        if self._request is not Request.NONE:
            if self._request is Request.RESTART:
                self.hub.notice(self.ref, self._restart_reason)
            return  # aura asked for this exit
        tail = self.hub.last_lines(self.ref, 40)
        port_taken = self.state is UnitState.STARTING and (
            any(PORT_TAKEN.search(line) for line in tail[-10:])
            or (spawn_error is not None and PORT_TAKEN.search(spawn_error) is not None))
        if port_taken and (self._retiring is not None or self.after_change) and self._same_port_retries < 3:
            # The process it replaces (or one just stopped) still held the port: wait for it
            # and start again on the same port, which the sidecar and the user know.
            await self._retired()
            self._same_port_retries += 1
            await asyncio.sleep(0.1 * self._same_port_retries)
            self.hub.notice(self.ref, "the previous process held the port a little longer; starting again")
            return
        if port_taken:
            if self.on_port_conflict is not None and self.on_port_conflict(self):
                self.hub.notice(self.ref, "its port was taken before it could bind it; retrying on a new port",
                                Level.WARN)
                return
        if self.after_change and not self._ready_this_run:
            # New code that cannot boot: restarting it again and again helps nobody.
            self.hub.notice(self.ref, f"crashed at boot after the change (status {code}); "
                            "fix it and save again", Level.ERROR)
            self._show_tail(tail[-15:])
            self._set(UnitState.FAILED, "crashed at boot after a change; waiting for the next one")
            self.finished.set()
            await self._wait_for_request()
            return
        ready_since = self.ready_at if self._ready_this_run else None
        decision = self.policy.exited(code, time.monotonic(), ready_since=ready_since)
        reason = spawn_error or decision.reason
        if decision.action is Action.RESTART:
            when = f"in {decision.delay:.1f} s" if decision.delay else "at once"
            self.hub.notice(self.ref, f"{reason}; restarting {when} (restart {self.policy.restarts})", Level.WARN)
            self._set(decision.state, reason)
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), decision.delay)
            except asyncio.TimeoutError:
                pass
            return
        if decision.action is Action.FAIL:
            self.hub.notice(self.ref, f"FAILED: {reason}", Level.ERROR)
            self._show_tail(tail[-15:])
        else:
            self.hub.notice(self.ref, reason)
        self._set(decision.state, reason)
        self.finished.set()
        await self._wait_for_request()

    def _show_tail(self, lines: list[str]) -> None:
        if lines:
            self.hub.notice(self.ref, "last lines:\n    " + "\n    ".join(lines), Level.ERROR)
