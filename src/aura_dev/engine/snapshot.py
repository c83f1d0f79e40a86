"""The running stack as `state.json` holds it: a typed, versioned snapshot.

The supervisor writes it on every change; `status`, `down`, `logs` and a supervisor
cleaning up after a killed one read it back through the same types.  The JSON keeps the
shape scripts already read (`units.<label>.pid`, `services.<name>.url`, …) and adds a
`version`; a file of another version, or one that does not parse, reads as no snapshot.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aura_dev.atomic import write_atomic
from aura_dev.engine.unit_state import UnitState
from aura_dev.logs.record import Source
from aura_dev.units.base import UnitIdentity

SNAPSHOT_VERSION = 1


class SnapshotUnreadable(ValueError):
    pass


@dataclass(frozen=True)
class LastExit:
    """The last time a unit went down on its own, and why — in the console's words."""

    reason: str
    at: float  # wall-clock time
    state: UnitState  # where it went: backoff, failed or exited

    def to_json(self) -> dict[str, Any]:
        return {"reason": self.reason, "at": self.at, "state": self.state.value}

    @classmethod
    def from_json(cls, data: Any) -> LastExit | None:
        if not isinstance(data, dict) or _float(data.get("at")) is None:
            return None
        try:
            return cls(reason=str(data.get("reason") or ""), at=float(data["at"]), state=UnitState(data["state"]))
        except (KeyError, ValueError):
            return None


@dataclass(frozen=True)
class DashboardRecord:
    """Where the supervisor serves the dashboard (the login token is kept apart, private)."""

    url: str
    port: int

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "port": self.port}

    @classmethod
    def from_json(cls, data: Any) -> DashboardRecord | None:
        if not isinstance(data, dict) or _int(data.get("port")) is None or _str(data.get("url")) is None:
            return None
        return cls(url=str(data["url"]), port=int(data["port"]))


@dataclass(frozen=True)
class UnitRecord:
    service: str
    source: Source
    state: UnitState
    detail: str = ""
    restarts: int = 0
    ready_seconds: float | None = None
    since: float | None = None  # wall-clock time of the current process's start
    identity: UnitIdentity = field(default_factory=UnitIdentity)
    ports: dict[str, int | None] = field(default_factory=dict)
    backend: str | None = None
    command: str | None = None
    last_exit: LastExit | None = None

    @property
    def pid(self) -> int | None:
        return self.identity.pid

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "service": self.service, "source": self.source.value, "state": self.state.value, "detail": self.detail,
            "restarts": self.restarts, "readySeconds": self.ready_seconds, "since": self.since, "ports": self.ports,
            **self.identity.to_json(),
        }
        if self.backend is not None:
            data["backend"] = self.backend
        if self.command is not None:
            data["command"] = self.command
        data["lastExit"] = self.last_exit.to_json() if self.last_exit else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UnitRecord:
        ports = data.get("ports") if isinstance(data.get("ports"), dict) else {}
        return cls(
            service=str(data["service"]), source=Source(data["source"]), state=UnitState(data["state"]),
            detail=str(data.get("detail") or ""), restarts=_int(data.get("restarts")) or 0,
            ready_seconds=_float(data.get("readySeconds")), since=_float(data.get("since")),
            identity=UnitIdentity.from_json(data), backend=_str(data.get("backend")),
            command=_str(data.get("command")), last_exit=LastExit.from_json(data.get("lastExit")),
            ports={str(k): _int(v) for k, v in (ports or {}).items()},
        )


@dataclass(frozen=True)
class ServiceRecord:
    app_id: str | None
    url: str | None
    app_port: int | None
    ready: bool
    depends_on: tuple[str, ...] = ()
    dapr_http_port: int | None = None
    dapr_grpc_port: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"appId": self.app_id, "url": self.url, "appPort": self.app_port, "ready": self.ready,
                "dependsOn": list(self.depends_on), "daprHttpPort": self.dapr_http_port,
                "daprGrpcPort": self.dapr_grpc_port}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServiceRecord:
        return cls(app_id=_str(data.get("appId")), url=_str(data.get("url")), app_port=_int(data.get("appPort")),
                   ready=bool(data.get("ready")), depends_on=tuple(str(d) for d in data.get("dependsOn") or ()),
                   dapr_http_port=_int(data.get("daprHttpPort")), dapr_grpc_port=_int(data.get("daprGrpcPort")))


@dataclass(frozen=True)
class StackSnapshot:
    workspace: str
    file: str
    name: str
    key: str
    supervisor_pid: int
    supervisor_create_time: float
    started_at: float
    backend: str
    runtime_version: str
    control: str
    settled: bool
    units: dict[str, UnitRecord]
    services: dict[str, ServiceRecord]
    dashboard: DashboardRecord | None = None
    timeline: dict[str, Any] | None = None  # where the start's time went (`engine.timeline`), as JSON
    version: int = SNAPSHOT_VERSION

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version, "workspace": self.workspace, "file": self.file, "name": self.name,
            "key": self.key, "supervisor": {"pid": self.supervisor_pid, "create_time": self.supervisor_create_time},
            "startedAt": self.started_at, "backend": self.backend, "runtimeVersion": self.runtime_version,
            "control": self.control, "settled": self.settled,
            "units": {label: unit.to_json() for label, unit in self.units.items()},
            "services": {name: service.to_json() for name, service in self.services.items()},
            "dashboard": self.dashboard.to_json() if self.dashboard else None,
            "timeline": self.timeline,
        }

    @classmethod
    def from_json(cls, data: Any) -> StackSnapshot:
        if not isinstance(data, dict):
            raise SnapshotUnreadable("not a JSON object")
        # A file without a version was written by aura before snapshots had one: same shape.
        if data.get("version", SNAPSHOT_VERSION) != SNAPSHOT_VERSION:
            raise SnapshotUnreadable(f"snapshot version {data.get('version')!r}, expected {SNAPSHOT_VERSION}")
        try:
            supervisor = data["supervisor"]
            return cls(
                workspace=str(data["workspace"]), file=str(data["file"]), name=str(data["name"]),
                key=str(data["key"]), supervisor_pid=int(supervisor["pid"]),
                supervisor_create_time=float(supervisor["create_time"]), started_at=float(data["startedAt"]),
                backend=str(data["backend"]), runtime_version=str(data["runtimeVersion"]),
                control=str(data["control"]), settled=bool(data["settled"]),
                units={str(k): UnitRecord.from_json(v) for k, v in data["units"].items()},
                services={str(k): ServiceRecord.from_json(v) for k, v in data["services"].items()},
                dashboard=DashboardRecord.from_json(data.get("dashboard")),
                timeline=data["timeline"] if isinstance(data.get("timeline"), dict) else None,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SnapshotUnreadable(f"malformed snapshot: {type(exc).__name__}: {exc}") from None

    def has_containers(self) -> bool:
        return any(unit.identity.container for unit in self.units.values())


def write_snapshot(path: Path, snapshot: StackSnapshot) -> None:
    # Rewritten on every state change: atomic (readers never see half a file) but not
    # fsynced — after a power cut there is no supervisor for it to describe anyway.
    write_atomic(path, json.dumps(snapshot.to_json(), indent=2, sort_keys=True), durable=False)


def read_snapshot(path: Path) -> StackSnapshot | None:
    try:
        return StackSnapshot.from_json(json.loads(path.read_text()))
    except (OSError, ValueError):
        return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
