"""A unit's life as explicit states, and the restart policy that moves it between them.

    PENDING ─start─> STARTING ─ready─> READY
       ▲                │ exit            │ exit
       │                v                 v
       └──── BACKOFF <── (policy: restart after a capped exponential delay)
                        └── crash loop / policy "no" ──> FAILED
    any ─stop─> STOPPING ─exited─> STOPPED

Pure: the caller passes a monotonic `now`; nothing here sleeps or signals.  Exits that
aura caused (a stop, a reload, a restart asked for by the user) are not failures and
never count towards a crash loop.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum

from aura_dev.workspace.model import RestartSettings


class UnitState(str, Enum):
    PENDING = "pending"
    STARTING = "starting"
    READY = "ready"
    BACKOFF = "backoff"
    FAILED = "failed"
    STOPPING = "stopping"
    STOPPED = "stopped"
    EXITED = "exited"  # ended on its own with status 0 under policy on-failure / no


class Action(str, Enum):
    RESTART = "restart"
    FAIL = "fail"
    STAY_DOWN = "stay-down"


@dataclass(frozen=True)
class Decision:
    action: Action
    delay: float = 0.0
    reason: str = ""


class RestartPolicy:
    def __init__(self, settings: RestartSettings) -> None:
        self.settings = settings
        self.state = UnitState.PENDING
        self.restarts = 0
        self.failures: deque[float] = deque()
        self.last_exit_code: int | None = None

    def starting(self) -> None:
        self.state = UnitState.STARTING

    def ready(self) -> None:
        self.state = UnitState.READY

    def stopping(self) -> None:
        self.state = UnitState.STOPPING

    def stopped(self) -> None:
        self.state = UnitState.STOPPED

    def reset(self) -> None:
        """A fresh start asked for by the user or a reload: forget the crash history."""
        self.failures.clear()
        self.state = UnitState.PENDING

    def exited(self, code: int, now: float) -> Decision:
        """The unit ended without aura asking it to."""
        self.last_exit_code = code
        policy = self.settings.policy
        if code == 0 and policy in ("no", "on-failure"):
            self.state = UnitState.EXITED
            return Decision(Action.STAY_DOWN, reason="exited with status 0")
        if policy == "no":
            self.state = UnitState.FAILED
            return Decision(Action.FAIL, reason=f"exited with status {code} (restart policy: no)")
        self.failures.append(now)
        while self.failures and now - self.failures[0] > self.settings.window:
            self.failures.popleft()
        if len(self.failures) > self.settings.max_restarts:
            self.state = UnitState.FAILED
            return Decision(
                Action.FAIL,
                reason=f"crashed {len(self.failures)} times within {self.settings.window:g} s "
                f"(maxRestarts {self.settings.max_restarts}); last status {code}",
            )
        backoff = self.settings.backoff
        delay = min(backoff.max, backoff.initial * backoff.multiplier ** (len(self.failures) - 1))
        self.state = UnitState.BACKOFF
        self.restarts += 1
        return Decision(Action.RESTART, delay=delay, reason=f"exited with status {code}")
