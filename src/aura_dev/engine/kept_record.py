"""What `infra.keep` left running, as `.aura/run/kept.json` records it: per infra unit its
pid with create time, argv, ports, runtime version and settings.  A later `up` adopts a
unit only if it is alive, the same process, and what that run would start; `down --all`
and `down --wipe` end it; `status` shows it; the leftovers reaper spares it.

No asyncio here: `status` and `down` read this on their fast paths.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from aura_dev.atomic import write_json_atomic
from aura_dev.engine import runstate
from aura_dev.plan.infra import InfraKind
from aura_dev.units.head_start import comparable_argv

if TYPE_CHECKING:
    from aura_dev.workspace.model import InfraUnit

KEPT_FILE = "kept.json"
KEPT_KINDS = (InfraKind.REDIS, InfraKind.PLACEMENT, InfraKind.SCHEDULER)  # not Zipkin: an observer, slow to start
SECRET_FLAGS = ("--requirepass",)


@dataclass(frozen=True)
class Wanted:
    """What this run would start for one infra unit, in the terms a record keeps."""

    argv: tuple[str, ...]
    ports: dict[str, int | None]
    runtime_version: str
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class KeptRecord:
    kind: InfraKind
    pid: int
    create_time: float
    pgid: int
    wanted: Wanted
    started_at: float

    def alive(self) -> bool:
        """Still running, and still the process we started (a pid alone may be reused)."""
        return runstate.same_process(self.pid, self.create_time)

    def describe(self) -> str:
        main = self.wanted.ports.get("main")
        return f"{self.kind.value} (pid {self.pid}" + (f", port {main})" if main else ")")

    def to_json(self) -> dict[str, Any]:
        return {"pid": self.pid, "create_time": self.create_time, "pgid": self.pgid, "argv": list(self.wanted.argv),
                "ports": self.wanted.ports, "runtime_version": self.wanted.runtime_version,
                "settings": self.wanted.settings, "started_at": self.started_at}

    @classmethod
    def from_json(cls, kind: InfraKind, data: Any) -> KeptRecord | None:
        try:
            ports = {str(k): (int(v) if v is not None else None) for k, v in dict(data["ports"]).items()}
            wanted = Wanted(tuple(str(a) for a in data["argv"]), ports, str(data["runtime_version"]),
                            dict(data.get("settings") or {}))
            return cls(kind, int(data["pid"]), float(data["create_time"]), int(data.get("pgid", data["pid"])),
                       wanted, float(data.get("started_at", 0.0)))
        except (KeyError, TypeError, ValueError):
            return None


def masked(argv: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """`argv` with secrets (Redis's password) replaced by a digest: the record compares them
    without holding them; without the flags that do not make it another process
    (`head_start.ADOPTION_NEUTRAL_FLAGS`: no reason to replace a kept scheduler)."""
    out = list(argv)
    for i, arg in enumerate(out[:-1]):
        if arg in SECRET_FLAGS:
            out[i + 1] = "sha256:" + hashlib.sha256(out[i + 1].encode()).hexdigest()[:16]
    return tuple(comparable_argv(out))


def settings_json(settings: InfraUnit) -> dict[str, Any]:
    """`settings.model_dump(mode="json", by_alias=True)` for these flat models of scalars,
    without pydantic's serializer, whose schema a start would otherwise build on its critical
    path (the models defer it; see `workspace.spec_cache`).  A unit test holds the two equal."""
    return {field.alias or name: getattr(settings, name) for name, field in type(settings).model_fields.items()}


def masked_settings(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: ("sha256:" + hashlib.sha256(str(v).encode()).hexdigest()[:16] if k == "password" and v else v)
            for k, v in settings.items()}


def mismatch(record: KeptRecord, wanted: Wanted) -> str | None:
    """Why the kept unit is not what this run would start (None: it is).  Pure."""
    have = record.wanted
    if have.runtime_version != wanted.runtime_version:
        return f"runs Dapr {have.runtime_version}, this run wants {wanted.runtime_version}"
    changed = sorted(k for k in set(have.settings) | set(wanted.settings)
                     if have.settings.get(k) != wanted.settings.get(k))
    if changed:
        return f"has other settings ({', '.join(f'infra.{record.kind.value}.{k}' for k in changed)} changed)"
    if have.ports != wanted.ports:
        moved = sorted(k for k in set(have.ports) | set(wanted.ports) if have.ports.get(k) != wanted.ports.get(k))
        return "listens on other ports (" + ", ".join(
            f"{k} {have.ports.get(k)} → {wanted.ports.get(k)}" for k in moved) + ")"
    if have.argv != wanted.argv:
        return "was started with another command line"
    return None


def kept_path(state_dir: Path) -> Path:
    return runstate.run_dir(state_dir) / KEPT_FILE


def load(state_dir: Path) -> dict[InfraKind, KeptRecord]:
    try:
        data = json.loads(kept_path(state_dir).read_text())
    except (OSError, ValueError):
        return {}
    records = {}
    for kind in KEPT_KINDS:
        record = KeptRecord.from_json(kind, data.get(kind.value)) if isinstance(data, dict) else None
        if record is not None:
            records[kind] = record
    return records


def save(state_dir: Path, records: dict[InfraKind, KeptRecord]) -> None:
    if not records:
        kept_path(state_dir).unlink(missing_ok=True)
        return
    write_json_atomic(kept_path(state_dir), {kind.value: record.to_json() for kind, record in records.items()})


def live(state_dir: Path) -> dict[InfraKind, KeptRecord]:
    return {kind: record for kind, record in load(state_dir).items() if record.alive()}


def live_pids(state_dir: Path) -> set[int]:
    return {record.pid for record in live(state_dir).values()}


def end(record: KeptRecord, grace: float = 5.0) -> None:
    """SIGTERM to its group, SIGKILL after `grace`: only if it is still the same process."""
    if not record.alive():
        return
    _signal_group(record.pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while record.alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    _signal_group(record.pgid, signal.SIGKILL)
    while record.alive() and time.monotonic() < deadline + 2:
        time.sleep(0.02)


def end_all(state_dir: Path, grace: float = 5.0) -> list[str]:
    """End every kept unit and forget them (`down --all`, `--wipe`); what was running.
    The caller holds the supervisor lock."""
    records = load(state_dir)
    running = [record for record in records.values() if record.alive()]
    for record in running:
        _signal_group(record.pgid, signal.SIGTERM)  # all at once; each is then waited for
    for record in running:
        end(record, grace)
    save(state_dir, {})
    return [record.describe() for record in running]


def stop_kept(state_dir: Path) -> list[str]:
    """`aura dev down --all` once the stack (if any) has stopped: under the supervisor lock,
    so a stack started meanwhile keeps its infra."""
    if not kept_path(state_dir).exists():
        return []
    lock = runstate.SupervisorLock(state_dir)
    lock.acquire()
    try:
        return end_all(state_dir)
    finally:
        lock.release()


def status(state_dir: Path) -> list[dict[str, Any]]:
    """Kept units as `status --json` shows them."""
    now = time.time()
    return [{"unit": kind.value, "pid": record.pid, "alive": record.alive(), "state": "kept" if record.alive()
             else "gone", "ports": record.wanted.ports, "runtimeVersion": record.wanted.runtime_version,
             "uptime": round(now - record.started_at, 1)} for kind, record in load(state_dir).items()]


def left_running(kept: list[KeptRecord]) -> str:
    """How a stop ends its last line: what `infra.keep` left running, and how to stop it."""
    if not kept:
        return "nothing left running"
    return ("kept running (infra.keep): " + ", ".join(r.describe() for r in kept)
            + " — `aura dev down --all` stops them")


def left_running_now(state_dir: Path) -> str:
    return left_running(list(live(state_dir).values()))


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
