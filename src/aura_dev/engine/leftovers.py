"""What a supervisor killed without a chance to clean up (kill -9, OOM) left behind, and
ending it: its units' process groups (pid *and* create time checked, and whatever a dead
unit left in its session) and its workspace's containers.  Called by the next `up` (under
the supervisor lock it holds) and by `down` (which takes that lock for the moment, so that
a stack started meanwhile is never mistaken for leftovers)."""

from __future__ import annotations

from pathlib import Path

from aura_dev.engine import runstate


def reap(state_dir: Path) -> list[str]:
    """End the leftovers `state.json` names, and forget that state; the labels of what
    was still there."""
    state = runstate.read_state(state_dir)
    if not state:
        return []
    from aura_dev.engine.kept_record import live_pids

    cleaned = runstate.kill_process_groups(state, spare=live_pids(state_dir))  # infra.keep: left running on purpose
    if state.has_containers():
        from aura_dev.infra.select import remove_leftover_containers  # Docker's SDK only when there is a container

        cleaned += remove_leftover_containers(runstate.workspace_key(state_dir.parent))
    runstate.clear_state(state_dir)
    return cleaned
