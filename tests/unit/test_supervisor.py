from aura_dev.engine.unit_state import Action, RestartPolicy, UnitState
from aura_dev.workspace.model import RestartSettings


def settings(**kw: object) -> RestartSettings:
    return RestartSettings.model_validate(kw)


def test_backoff_grows_exponentially_and_is_capped() -> None:
    policy = RestartPolicy(settings(maxRestarts=10, window="10m", backoff={"initial": 0.5, "max": 3, "multiplier": 2}))
    delays = [policy.exited(1, now=float(i)).delay for i in range(6)]
    assert delays == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    assert policy.state is UnitState.BACKOFF
    assert policy.restarts == 6


def test_crash_loop_marks_failed_after_max_restarts_in_window() -> None:
    policy = RestartPolicy(settings(maxRestarts=3, window=60))
    decisions = [policy.exited(2, now=float(i)) for i in range(4)]
    assert [d.action for d in decisions] == [Action.RESTART] * 3 + [Action.FAIL]
    assert policy.state is UnitState.FAILED
    assert "crashed 4 times within 60 s" in decisions[-1].reason


def test_failures_outside_the_window_are_forgotten() -> None:
    policy = RestartPolicy(settings(maxRestarts=2, window=10))
    for now in (0.0, 1.0, 20.0, 21.0, 40.0):
        assert policy.exited(1, now).action is Action.RESTART


def test_policies_for_a_clean_exit() -> None:
    assert RestartPolicy(settings(policy="on-failure")).exited(0, 0).action is Action.STAY_DOWN
    assert RestartPolicy(settings(policy="no")).exited(0, 0).action is Action.STAY_DOWN
    assert RestartPolicy(settings(policy="always")).exited(0, 0).action is Action.RESTART
    assert RestartPolicy(settings(policy="no")).exited(3, 0).action is Action.FAIL


def test_reset_forgets_the_crash_history() -> None:
    policy = RestartPolicy(settings(maxRestarts=1, window=60))
    policy.exited(1, 0.0)
    policy.reset()
    assert policy.exited(1, 1.0).action is Action.RESTART


class FakeClock:
    """Monotonic seconds the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def tick(self, seconds: float) -> float:
        self.now += seconds
        return self.now


def test_an_exit_after_a_stable_run_restarts_at_once_and_is_not_a_crash() -> None:
    clock = FakeClock()
    policy = RestartPolicy(settings(maxRestarts=2, window=60))  # stableAfter defaults to 5 s
    for _ in range(10):  # killed ten times, each after 6 s of being ready: never a loop
        ready_at = clock.tick(1.0)
        decision = policy.exited(-9, clock.tick(6.0), ready_since=ready_at)
        assert (decision.action, decision.delay) == (Action.RESTART, 0.0)
        assert "after 6 s ready" in decision.reason
    assert policy.restarts == 10 and not policy.failures


def test_an_exit_before_stable_after_counts_and_keeps_the_capped_backoff() -> None:
    clock = FakeClock()
    policy = RestartPolicy(settings(maxRestarts=2, window=60, stableAfter="5s",
                                    backoff={"initial": 0.5, "max": 3, "multiplier": 2}))
    decisions = []
    for _ in range(3):  # ready, but for only 4.9 s each time
        ready_at = clock.tick(0.5)
        decisions.append(policy.exited(1, clock.tick(4.9), ready_since=ready_at))
    assert [d.delay for d in decisions[:2]] == [0.5, 1.0]
    assert decisions[2].action is Action.FAIL and "crashed 3 times" in decisions[2].reason


def test_a_unit_never_ready_keeps_todays_backoff_and_fails() -> None:
    clock = FakeClock()
    policy = RestartPolicy(settings(maxRestarts=1, window=60))
    assert policy.exited(1, clock.tick(30.0), ready_since=None).delay == 0.5  # up long, never ready
    assert policy.exited(1, clock.tick(30.0), ready_since=None).action is Action.FAIL


def test_a_stable_run_resets_the_backoff_of_an_earlier_bad_patch() -> None:
    clock = FakeClock()
    policy = RestartPolicy(settings(maxRestarts=5, window="10m"))
    assert [policy.exited(1, clock.tick(1.0)).delay for _ in range(3)] == [0.5, 1.0, 2.0]
    ready_at = clock.tick(1.0)
    assert policy.exited(1, clock.tick(20.0), ready_since=ready_at).delay == 0.0
    assert policy.exited(1, clock.tick(1.0)).delay == 0.5  # the next crash at boot starts over


def test_stable_after_is_configurable_and_policy_no_still_fails() -> None:
    ready_long = RestartPolicy(settings(stableAfter="1m"))
    assert ready_long.exited(1, 30.0, ready_since=0.0).delay == 0.5  # 30 s < 1 m: counted
    assert ready_long.exited(1, 100.0, ready_since=30.0).delay == 0.0
    assert RestartPolicy(settings(policy="no")).exited(1, 100.0, ready_since=0.0).action is Action.FAIL
    assert RestartPolicy(settings(policy="on-failure")).exited(0, 100.0, ready_since=0.0).action is Action.STAY_DOWN
