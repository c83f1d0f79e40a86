"""What the infrastructure of a stack is, as data: the kinds of infra unit, their ports,
the request a backend turns into a running unit, and the images each kind runs by default.

Pure: the backends in `aura_dev.infra` act on these; the workspace export, the scaffolder
and the engine read them, so the names live in one enum here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from aura_dev.logs.record import Source, UnitRef


class InfraKind(str, Enum):
    REDIS = "redis"
    PLACEMENT = "placement"
    SCHEDULER = "scheduler"
    ZIPKIN = "zipkin"

    @property
    def unit_ref(self) -> UnitRef:
        return UnitRef(self.value, Source.INFRA)

    @property
    def gates_stack(self) -> bool:
        """Whether `up` waits for it: a trace backend is an observer, never on the
        request path, so the stack is up without it (and keeps running when it dies)."""
        return self is not InfraKind.ZIPKIN

    @property
    def optional(self) -> bool:
        """A unit that cannot be created (no Java) is a warning, not a failed start."""
        return self is InfraKind.ZIPKIN


INFRA_LABELS = tuple(kind.value for kind in InfraKind)
ZIPKIN_VERSION = "3.6.1"
ZIPKIN_IMAGE = f"openzipkin/zipkin:{ZIPKIN_VERSION}"


@dataclass(frozen=True)
class InfraPorts:
    """Host ports of one infra unit.  `extra` holds what only one kind needs:
    placement `raft`; scheduler `etcd_client`, `etcd_peer`."""

    main: int
    healthz: int | None = None
    metrics: int | None = None
    extra: dict[str, int] = field(default_factory=dict)

    def all(self) -> list[int]:
        return [self.main, *(p for p in (self.healthz, self.metrics) if p is not None), *self.extra.values()]

    def named(self) -> dict[str, int | None]:
        """Every port by name, as `aura dev status` shows them."""
        return {"main": self.main, "healthz": self.healthz, "metrics": self.metrics, **self.extra}


@dataclass(frozen=True)
class InfraRequest:
    kind: InfraKind
    ports: InfraPorts
    workspace_key: str
    workspace_name: str
    state_dir: Path
    runtime_version: str
    image: str | None = None
    password: str | None = None
    log_level: str = "info"
    persist: bool = True  # Redis: keep its data under .aura/redis (AOF)
    keep: bool = False  # infra.keep: a process that outlives `down` (native backend only)


def ports_needed(kind: InfraKind) -> tuple[str, ...]:
    """Which ports a unit of `kind` needs allocated (beyond the main one)."""
    if kind in (InfraKind.REDIS, InfraKind.ZIPKIN):
        return ()
    if kind is InfraKind.PLACEMENT:
        return ("healthz", "metrics", "raft")
    return ("healthz", "metrics", "etcd_client", "etcd_peer")


def default_image(kind: InfraKind, runtime_version: str) -> str:
    """The container image of `kind` for the docker backend (and a Kubernetes export)."""
    if kind is InfraKind.ZIPKIN:
        return ZIPKIN_IMAGE
    return "redis:7" if kind is InfraKind.REDIS else f"daprio/dapr:{runtime_version}"


def kept_output_dir(state_dir: Path) -> Path:
    """Where kept infra (`infra.keep`) writes its output: files, not pipes to a supervisor
    that may be gone; the running supervisor follows them into its log stream."""
    return state_dir / "run" / "kept"


def redis_data_dir(state_dir: Path) -> Path:
    return state_dir / "redis"


def scheduler_dir(state_dir: Path) -> Path:
    """The scheduler's own folder: its etcd data (jobs, actor reminders) and what aura
    remembers about it."""
    return state_dir / "scheduler"


def scheduler_data_dir(state_dir: Path) -> Path:
    return scheduler_dir(state_dir) / "etcd"


# etcd's raft snapshot-count flag, as the scheduler passes it on to its embedded etcd.
SNAPSHOT_COUNT_FLAG = "--etcd-snapshot-count"


def scheduler_snapshot_args(data_dir: Path) -> list[str]:
    """A first raft snapshot as soon as the scheduler's etcd has data, when it has none yet.

    An embedded etcd restarting on its data learns that it is a cluster of one from its
    latest raft snapshot; without one (the scheduler's default asks for one every 100,000
    writes, which a dev stack never reaches) it does not know, so it waits out a whole
    randomised election timeout (1–1.9 s) before it leads, and the scheduler serves no
    sidecar until then — on every `up` but the first.  With a snapshot it fast-forwards
    9 of its 10 election ticks and leads after 0.1–1 s.  A snapshot after every write costs
    ~30 % of etcd's write rate (measured with 400 puts), so it is asked for only until the
    first one exists; etcd keeps its newest snapshots, so that one stays."""
    if any(data_dir.glob("**/member/snap/*.snap")):
        return []
    return [SNAPSHOT_COUNT_FLAG, "1"]


def redis_persistence_args(persist: bool) -> list[str]:
    """Redis flags for keeping its data.  An append-only file fsynced every second: an
    acknowledged write survives a kill -9 of Redis or of aura (it is in the page cache
    before the reply goes out); only a crash of the machine can lose the last second.  No
    RDB snapshots: the AOF already holds everything, and a snapshot forks the server."""
    if not persist:
        return ["--save", "", "--appendonly", "no"]
    return ["--save", "", "--appendonly", "yes", "--appendfsync", "everysec"]

