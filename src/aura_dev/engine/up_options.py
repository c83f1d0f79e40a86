"""What `aura dev up` asks of a run.  A module of its own, importing nothing heavy: the
command line builds it before the engine is loaded (the supervisor is forked first)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class UpOptions:
    selected: list[str] = field(default_factory=list)
    backend: str | None = None
    reload: bool = True
    ready_timeout: float | None = None
    stop_grace: float = 5.0
    invoked_at: float | None = None  # when the `aura dev up` process was created (the timeline's origin)
    cpu_before: float = 0.0  # CPU seconds a parent spent before forking this supervisor
