"""A unit's life as explicit states, the one table of moves between them, and the restart
policy that decides where an unexpected exit leads.

    PENDING ─> WAITING (for its dependencies) ─> STARTING ─ready─> READY
                                                   │ exit             │ exit
                                                   v                  v
                         STARTING <── BACKOFF <── (policy: restart after a capped delay)
                                                   └── crash loop / policy "no" ──> FAILED
                                                   └── status 0, policy on-failure/no ──> EXITED
    STARTING | READY ─stop─> STOPPING ─exited─> STOPPED ─start─> STARTING

A crash loop is a process that cannot stay up, not one that was killed while healthy: an
exit after the unit was ready for at least `restart.stableAfter` is a *fault* — restarted
at once, its backoff reset, not counted toward `maxRestarts` (supervisord's `startsecs`,
Kubernetes resetting its back-off after a good run).  Only exits before that count.

`UnitLifecycle` is the single holder of a unit's state: every change goes through
`move()`, which refuses a move the table does not list.  The policy is pure — the caller
passes a monotonic `now` — and only *decides*: its `Decision` names the state to go to.
Exits that aura caused (a stop, a reload, a restart asked for by the user) are not
failures and never reach the policy.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from aura_dev.units.base import EXIT_CODE_UNKNOWN

if TYPE_CHECKING:  # a type only: importing the model (pydantic) would weigh on every importer of the hub
    from aura_dev.workspace.model import RestartSettings


class UnitState(str, Enum):
    PENDING = "pending"
    WAITING = "waiting"  # an app held back until the services it depends on are ready
    STARTING = "starting"
    READY = "ready"
    BACKOFF = "backoff"
    FAILED = "failed"
    STOPPING = "stopping"
    STOPPED = "stopped"
    EXITED = "exited"  # ended on its own with status 0 under policy on-failure / no

    @property
    def is_down(self) -> bool:
        """Down and not coming back by itself."""
        return self in (UnitState.FAILED, UnitState.EXITED, UnitState.STOPPED)


_S = UnitState
# Every allowed move.  A move to the state a unit is already in is a no-op unless listed
# (WAITING and STARTING repeat with a new detail: another dependency, another attempt).
TRANSITIONS: Mapping[UnitState, frozenset[UnitState]] = {
    _S.PENDING: frozenset({_S.WAITING, _S.STARTING, _S.STOPPED}),
    _S.WAITING: frozenset({_S.WAITING, _S.STARTING, _S.STOPPED}),
    _S.STARTING: frozenset({_S.STARTING, _S.READY, _S.BACKOFF, _S.FAILED, _S.EXITED, _S.STOPPING, _S.STOPPED}),
    _S.READY: frozenset({_S.STARTING, _S.BACKOFF, _S.FAILED, _S.EXITED, _S.STOPPING, _S.STOPPED}),
    _S.BACKOFF: frozenset({_S.STARTING, _S.FAILED, _S.STOPPING, _S.STOPPED}),
    _S.FAILED: frozenset({_S.STARTING, _S.STOPPING, _S.STOPPED}),
    _S.STOPPING: frozenset({_S.STARTING, _S.STOPPED, _S.FAILED}),
    _S.STOPPED: frozenset({_S.STARTING}),
    _S.EXITED: frozenset({_S.STARTING, _S.STOPPING, _S.STOPPED}),
}


class IllegalTransition(RuntimeError):
    """A move the table does not allow: a bug in aura, never the user's doing."""


class UnitLifecycle:
    """Where one unit is now, and why."""

    def __init__(self) -> None:
        self.state = UnitState.PENDING
        self.detail = ""

    def can_move(self, to: UnitState) -> bool:
        return to is self.state or to in TRANSITIONS[self.state]

    def move(self, to: UnitState, detail: str = "") -> bool:
        """Go to `to`; False if nothing changed (already there, and not a repeatable state)."""
        if to is self.state and to not in TRANSITIONS[self.state]:
            return False
        if to not in TRANSITIONS[self.state]:
            raise IllegalTransition(f"{self.state.value} -> {to.value} is not an allowed move")
        self.state, self.detail = to, detail
        return True

    def fail_from_anywhere(self, detail: str) -> None:
        """The one move allowed from every state: a fault of aura's own while supervising."""
        self.state, self.detail = UnitState.FAILED, detail


class Action(str, Enum):
    RESTART = "restart"
    FAIL = "fail"
    STAY_DOWN = "stay-down"


_ACTION_STATE = {Action.RESTART: UnitState.BACKOFF, Action.FAIL: UnitState.FAILED, Action.STAY_DOWN: UnitState.EXITED}


@dataclass(frozen=True)
class Decision:
    action: Action
    delay: float = 0.0
    reason: str = ""

    @property
    def state(self) -> UnitState:
        """The state this decision puts the unit in."""
        return _ACTION_STATE[self.action]


class RestartPolicy:
    def __init__(self, settings: RestartSettings) -> None:
        self.settings = settings
        self.restarts = 0
        self.failures: deque[float] = deque()
        self.last_exit_code: int | None = None
        self.last_decision: Decision | None = None

    @property
    def state(self) -> UnitState:
        """Where the last decision sent the unit (derived; the lifecycle holds the state)."""
        return self.last_decision.state if self.last_decision else UnitState.PENDING

    def configure(self, settings: RestartSettings) -> None:
        """New settings from an edited aura.yaml; the crash history is kept."""
        self.settings = settings

    def reset(self) -> None:
        """A fresh start asked for by the user or a reload: forget the crash history."""
        self.failures.clear()
        self.last_decision = None

    def exited(self, code: int, now: float, ready_since: float | None = None) -> Decision:
        """The unit ended without aura asking it to.  `ready_since`: when it became ready in
        the run that just ended (None: it never did)."""
        self.last_exit_code = code
        self.last_decision = decision = self._decide(code, now, ready_since)
        if decision.action is Action.RESTART:
            self.restarts += 1
        return decision

    def _decide(self, code: int, now: float, ready_since: float | None) -> Decision:
        policy = self.settings.policy
        exited = "exited" if code == EXIT_CODE_UNKNOWN else f"exited with status {code}"  # not our child: no status
        if code == 0 and policy in ("no", "on-failure"):
            return Decision(Action.STAY_DOWN, reason="exited with status 0")
        if policy == "no":
            return Decision(Action.FAIL, reason=f"{exited} (restart policy: no)")
        if ready_since is not None and now - ready_since >= self.settings.stable_after:
            # It ran well: a fault, not a loop.  The history of an earlier bad patch goes too,
            # so the next crash at boot starts again from the initial backoff.
            self.failures.clear()
            return Decision(Action.RESTART, reason=f"{exited} after {now - ready_since:.0f} s ready")
        self.failures.append(now)
        while self.failures and now - self.failures[0] > self.settings.window:
            self.failures.popleft()
        if len(self.failures) > self.settings.max_restarts:
            return Decision(
                Action.FAIL,
                reason=f"crashed {len(self.failures)} times within {self.settings.window:g} s "
                f"(maxRestarts {self.settings.max_restarts})" + ("" if code == EXIT_CODE_UNKNOWN else f"; last status {code}"),
            )
        backoff = self.settings.backoff
        delay = min(backoff.max, backoff.initial * backoff.multiplier ** (len(self.failures) - 1))
        return Decision(Action.RESTART, delay=delay, reason=exited)
