"""Reloads faster than a cold boot: beside each running Python app, one idle interpreter
(a standby) that has already imported what the app imports from outside its folder.  A
reload hands the new code to it instead of starting Python from nothing; then a new
standby is prepared in the background, after the stack is up, one at a time, the
imports at low priority.

Correctness first: a standby that may be stale is thrown away and the reload is a plain
cold start (`Standby.unusable` says why); an app that does not boot from a standby (one
whose imports start threads, open sockets or set signal handlers, or that fails where a
cold start works) gets cold reloads from then on, said once.  `reload: {warm: false}` in
`aura.yaml` turns it off for a service.
"""

from __future__ import annotations

import asyncio

from aura_dev.engine.events import StateChange
from aura_dev.engine.orchestrator import Orchestrator
from aura_dev.engine.services import ServiceRun
from aura_dev.engine.unit_state import UnitState
from aura_dev.logs.record import Level, Source
from aura_dev.units.base import Unit
from aura_dev.units.process import ProcessUnit
from aura_dev.units.python_entry import PythonEntry, python_entry
from aura_dev.units.standby import TIMED_OUT, Standby, StandbyFiles, boot_argv

PREPARE_TIMEOUT = 300.0  # seconds a standby may take to import (a loaded laptop); then it is dropped
PREBOOT_WAIT = 30.0  # seconds a released app waits for its preboot still importing; then it starts cold
SETTLE_SECONDS = 0.3  # an app that just became ready answers its first requests before a standby imports


class WarmReload:
    def __init__(self, orch: Orchestrator) -> None:
        self.orch = orch
        self.standbys: dict[str, Standby] = {}
        self.cold_only: dict[str, str] = {}  # service -> why it does not start from a standby (said once)
        self.warm_boot: set[str] = set()  # started from a standby, not ready yet
        self.cold_retry: set[str] = set()  # a warm start failed at boot: the next start is cold, to tell why
        self.code_failed: set[str] = set()  # ... and that cold start failed too: the code is broken
        self.one_at_a_time = asyncio.Lock()
        self.folder = orch.ws.state_dir / "standby"
        self.preboots: dict[str, asyncio.Future[None]] = {}  # held apps whose standby is importing
        self.prebooted: set[str] = set()  # their first start runs from it
        orch.units.app_unit = self.app_unit
        orch.starter.on_held = self._held
        orch.starter.before_launch = self._released
        orch.hub.state_listeners.append(self._on_state)
        orch.spawn(self._close_at_shutdown())

    def _entry(self, run: ServiceRun) -> PythonEntry | None:
        if not run.plan.reload.warm or run.name in self.cold_only:
            return None
        spec = run.plan.app
        return python_entry(spec.argv, spec.env, spec.cwd)

    def _files(self, name: str) -> StandbyFiles:
        self.folder.mkdir(parents=True, exist_ok=True)
        return StandbyFiles(self.folder / f"{name}.modules.json", self.folder / f"{name}.standby.json")

    # -- starting an app ------------------------------------------------------------------

    def app_unit(self, run: ServiceRun) -> Unit:
        """The app's next process: its standby if it may serve, else a cold start (through
        the bootstrap, which records the modules the next standby preloads)."""
        name, spec, ref = run.name, run.plan.app, run.app.ref
        entry = self._entry(run)
        standby = self.standbys.get(name)
        if entry is None:
            self._discard(name)
            return ProcessUnit(ref, spec.argv, env=spec.env, cwd=spec.cwd, sink=self.orch.hub.chunk)
        if standby is not None and name not in self.cold_retry:
            why = standby.unusable(spec.argv, spec.env, spec.cwd)
            if why is None:
                del self.standbys[name]
                self.warm_boot.add(name)
                if name in self.prebooted:
                    self.prebooted.discard(name)
                    self.orch.hub.notice(ref, f"started from its preboot (pid {standby.process.pid}): its imports "
                                         "ran while its dependencies came up")
                else:
                    self.orch.hub.notice(ref, f"warm start: the standby (pid {standby.process.pid}) runs the new code")
                return standby.unit(bind_wait=self.orch.options.stop_grace)
            if standby.is_ready or (standby.exited is not None and standby.exited.done()):  # stale, or gone
                self._discard(name)
                self.orch.hub.notice(ref, f"cold start: {why}")
        self.warm_boot.discard(name)
        argv = boot_argv(entry, "run", self._files(name), run.plan.service_dir)
        return ProcessUnit(ref, argv, env=spec.env, cwd=spec.cwd, sink=self.orch.hub.chunk)

    def _on_state(self, change: StateChange) -> None:
        name = change.unit.service
        run = self.orch.services.get(name)
        if change.unit.source is not Source.APP or run is None or run.app.ref != change.unit:
            return
        if change.state is UnitState.READY:
            if name in self.warm_boot:
                self.code_failed.discard(name)  # booting from a standby works
            self.warm_boot.discard(name)
            if name in self.cold_retry:
                self.cold_retry.discard(name)
                self._go_cold(name, "it failed to boot from its standby, and boots cold")
            self.orch.spawn(self._prepare(name))
        elif change.state in (UnitState.BACKOFF, UnitState.FAILED):
            if name in self.warm_boot and name not in self.code_failed:
                # Its code, or the standby?  A cold start tells (once per failing streak:
                # a series of broken saves is the code's, not worth a cold try each).
                self.cold_retry.add(name)
                self.orch.hub.notice(change.unit, "it did not boot from its standby: trying a cold start, "
                                     "to tell whether the standby is the cause", Level.WARN)
                if change.state is UnitState.FAILED:  # after a change it would wait for the next save
                    self.orch.spawn(run.app.restart("starting it cold", after_change=True))
            elif name in self.cold_retry:
                self.cold_retry.discard(name)  # cold fails too: the code, not the standby
                self.code_failed.add(name)
            self.warm_boot.discard(name)

    def _go_cold(self, name: str, why: str) -> None:
        self._discard(name)
        if name not in self.cold_only:
            self.cold_only[name] = why
            run = self.orch.services.get(name)
            self.orch.hub.notice(run.app.ref if run else None, f"no warm reloads for this app ({why}); its "
                                 "reloads are cold starts from now on", Level.WARN)

    # -- preboots: a held app's interpreter and imports, while its dependencies come up -----

    def _held(self, run: ServiceRun) -> None:
        """`dependsOn` holds the app's *code* until its dependencies are ready, not its
        interpreter: a standby (at the app's own priority) imports what the app's last run
        imported — never the app's own modules — and runs the app once they are ready.
        Only with a record of a previous run: without one there is nothing to preload."""
        entry = self._entry(run)
        files = self._files(run.name)
        if entry is None or run.name in self.standbys or not files.record.is_file():
            return
        spec = run.plan.app
        standby = Standby(run.app.ref, entry, argv=spec.argv, env=spec.env, cwd=spec.cwd,
                          service_dir=run.plan.service_dir, files=files, sink=self.orch.hub.chunk, mode="preboot")
        self.standbys[run.name] = standby
        self.preboots[run.name] = asyncio.ensure_future(self._preboot(run.name, standby))

    async def _preboot(self, name: str, standby: Standby) -> None:
        try:
            refusal = await standby.prepare(PREPARE_TIMEOUT)
        except OSError as exc:
            refusal = f"its standby could not start: {exc}"
        if refusal is None:
            self.prebooted.add(name)
            return
        if self.standbys.get(name) is standby:
            del self.standbys[name]
        if refusal != TIMED_OUT and not self.orch.shutdown_requested.is_set():
            self._go_cold(name, refusal)

    async def _released(self, run: ServiceRun) -> None:
        """Its dependencies are ready: a preboot still importing began long before a cold
        start would, so it is waited for (bounded); then `app_unit` uses it if it may."""
        task = self.preboots.pop(run.name, None)
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), PREBOOT_WAIT)
        except asyncio.TimeoutError:
            self._discard(run.name)

    # -- standbys -------------------------------------------------------------------------

    async def _prepare(self, name: str) -> None:
        await self.orch.startup_settled.wait()  # `aura dev up` is never slowed by standbys
        await asyncio.sleep(SETTLE_SECONDS)
        async with self.one_at_a_time:
            run = self.orch.services.get(name)
            if run is None or not run.app.ready.is_set() or name in self.standbys \
                    or self.orch.shutdown_requested.is_set():
                return
            entry = self._entry(run)
            if entry is None:
                return
            spec = run.plan.app
            standby = Standby(run.app.ref, entry, argv=spec.argv, env=spec.env, cwd=spec.cwd,
                              service_dir=run.plan.service_dir, files=self._files(name), sink=self.orch.hub.chunk)
            self.standbys[name] = standby
            try:
                refusal = await standby.prepare(PREPARE_TIMEOUT)
            except OSError as exc:
                refusal = f"its standby could not start: {exc}"
            if refusal is None:
                return
            if self.standbys.get(name) is standby:
                del self.standbys[name]
            if refusal != TIMED_OUT and not self.orch.shutdown_requested.is_set():
                self._go_cold(name, refusal)

    def _discard(self, name: str) -> None:
        standby = self.standbys.pop(name, None)
        if standby is not None:
            self.orch.spawn(standby.discard())

    async def _close_at_shutdown(self) -> None:
        await self.orch.shutdown_requested.wait()
        standbys, self.standbys = list(self.standbys.values()), {}
        await asyncio.gather(*(s.discard() for s in standbys), return_exceptions=True)


def install(orch: Orchestrator) -> WarmReload:
    """Python apps of this run reload from standbys (call before the stack starts)."""
    return WarmReload(orch)
