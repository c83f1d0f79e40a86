"""`infra.keep` inside a supervisor: which kept units this run adopts, which it replaces
(and why, in one line each), and the record of every kept unit it spawns.  `InfraSet`
calls `held_ports` before ports are chosen, `take` for every unit it creates, and
`release_unused` once all are created; `engine.shutdown` lets kept units go at `down`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from aura_dev.engine import kept_record
from aura_dev.engine.kept_record import KeptRecord, Wanted
from aura_dev.infra.base import InfraService
from aura_dev.infra.scheduler_leadership import SchedulerReadiness
from aura_dev.logs.record import Level, UnitRef
from aura_dev.plan.infra import InfraKind, InfraRequest
from aura_dev.units.kept import KeptProcessUnit
from aura_dev.units.process import ProcessIdentity
from aura_dev.workspace.model import InfraUnit

Notice = Callable[[UnitRef | None, str, Level], None]


class KeptUnits:
    """The kept units of one supervisor's run."""

    def __init__(self, state_dir: Path, notice: Notice) -> None:
        self.state_dir = state_dir
        self.notice = notice
        self.records = kept_record.load(state_dir)
        self.live = {kind: record for kind, record in self.records.items() if record.alive()}
        self._decided: set[InfraKind] = set()

    def held_ports(self) -> set[int]:
        """Ports our kept units hold: free for this run (the unit is adopted, or ended first)."""
        return {port for record in self.live.values() for port in record.wanted.ports.values() if port}

    def take(self, kind: InfraKind, request: InfraRequest, service: InfraService, settings: InfraUnit) -> None:
        """A unit was created for `kind`: adopt the kept one if it is what this unit would
        be, else end it; and have a newly spawned kept unit recorded."""
        unit = service.unit
        wanted = None
        if isinstance(unit, KeptProcessUnit):
            wanted = Wanted(kept_record.masked(unit.argv), request.ports.named(), request.runtime_version,
                            kept_record.masked_settings(kept_record.settings_json(settings)))
            unit.on_spawned = partial(self._spawned, kind, wanted)
        if kind in self._decided:
            return  # a restart of this run: it spawns anew (and is recorded)
        self._decided.add(kind)
        record = self.live.pop(kind, None)
        if record is None:
            gone = self.records.get(kind)
            if gone is not None and wanted is not None:
                self.notice(kind.unit_ref, f"the kept {gone.describe()} is no longer running: starting a new one",
                            Level.WARN)
            return
        why = "infra.keep is off" if wanted is None else kept_record.mismatch(record, wanted)
        if why is None and isinstance(unit, KeptProcessUnit):
            unit.adopt_from = ProcessIdentity(record.pid, record.create_time, record.pgid)
            if isinstance(service.probe, SchedulerReadiness):
                service.probe.adopting()  # its recorded leadership lease is its own, live one
            since = time.strftime("%H:%M:%S", time.localtime(record.started_at))
            self.notice(kind.unit_ref, f"reusing the kept {record.describe()}, running since {since}", Level.INFO)
            return
        self.notice(kind.unit_ref, f"the kept {record.describe()} {why}: stopping it and starting a new one",
                    Level.WARN)
        self._end(kind, record)

    def release_unused(self, created: Iterable[InfraKind]) -> None:
        """Kept units of kinds this run does not start at all (disabled since): ended."""
        for kind in [k for k in self.live if k not in set(created)]:
            record = self.live.pop(kind)
            self.notice(kind.unit_ref, f"the kept {record.describe()} is not part of this run: stopping it",
                        Level.WARN)
            self._end(kind, record)

    def _end(self, kind: InfraKind, record: KeptRecord) -> None:
        kept_record.end(record)
        self.records.pop(kind, None)
        kept_record.save(self.state_dir, self.records)

    def _spawned(self, kind: InfraKind, wanted: Wanted, process: ProcessIdentity) -> None:
        self.records[kind] = KeptRecord(kind, process.pid, process.create_time, process.pgid, wanted, time.time())
        kept_record.save(self.state_dir, self.records)

    def pids(self) -> set[int]:
        """The kept units' pids (a forced stop spares them too)."""
        return kept_record.live_pids(self.state_dir)

    def kept_now(self) -> list[KeptRecord]:
        """What is left running at the end of this run."""
        return [record for record in kept_record.load(self.state_dir).values() if record.alive()]


def stopped_line(kept: list[KeptRecord]) -> str:
    """The supervisor's last line."""
    return "stopped; " + kept_record.left_running(kept)
