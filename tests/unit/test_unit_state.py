"""The unit state machine: every move in the table is allowed, every other one refused."""

from __future__ import annotations

import itertools

import pytest

from aura_dev.engine.unit_state import (
    TRANSITIONS, Action, Decision, IllegalTransition, UnitLifecycle, UnitState,
)


def at(state: UnitState) -> UnitLifecycle:
    lifecycle = UnitLifecycle()
    lifecycle.state = state  # a test fixture: put the unit where the case starts
    return lifecycle


@pytest.mark.parametrize("origin,target", [(o, t) for o in UnitState for t in TRANSITIONS[o]])
def test_every_listed_move_is_allowed(origin: UnitState, target: UnitState) -> None:
    lifecycle = at(origin)
    assert lifecycle.move(target, "why") is True
    assert (lifecycle.state, lifecycle.detail) == (target, "why")


@pytest.mark.parametrize("origin,target", [(o, t) for o, t in itertools.product(UnitState, UnitState)
                                           if t not in TRANSITIONS[o] and t is not o])
def test_every_other_move_is_refused(origin: UnitState, target: UnitState) -> None:
    lifecycle = at(origin)
    with pytest.raises(IllegalTransition, match=f"{origin.value} -> {target.value}"):
        lifecycle.move(target)
    assert lifecycle.state is origin


def test_the_table_is_the_picture_of_a_life() -> None:
    # A stopped unit only starts; a ready one never goes back to waiting; nothing returns to pending.
    assert TRANSITIONS[UnitState.STOPPED] == {UnitState.STARTING}
    assert UnitState.WAITING not in TRANSITIONS[UnitState.READY]
    assert all(UnitState.PENDING not in targets for targets in TRANSITIONS.values())


def test_staying_in_a_state_is_a_no_op_unless_it_repeats() -> None:
    ready = at(UnitState.READY)
    assert ready.move(UnitState.READY, "again") is False and ready.detail == ""
    waiting = at(UnitState.WAITING)
    assert waiting.move(UnitState.WAITING, "for b") is True and waiting.detail == "for b"


def test_a_fault_of_aura_fails_a_unit_from_anywhere() -> None:
    for state in UnitState:
        lifecycle = at(state)
        lifecycle.fail_from_anywhere("an error in aura")
        assert lifecycle.state is UnitState.FAILED


def test_a_decision_names_the_state_it_leads_to() -> None:
    assert Decision(Action.RESTART).state is UnitState.BACKOFF
    assert Decision(Action.FAIL).state is UnitState.FAILED
    assert Decision(Action.STAY_DOWN).state is UnitState.EXITED
