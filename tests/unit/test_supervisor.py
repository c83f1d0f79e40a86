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
