"""`aura dev status`: what a running stack's snapshot says, checked against the processes.

Kept apart from `session` (which imports the orchestrator and everything it runs) so that a
status answers quickly: it reads `state.json` and asks the kernel about a few pids.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aura_dev.engine import kept_record, runstate

if TYPE_CHECKING:
    from aura_dev.workspace.load import Workspace
    from aura_dev.workspace.locate import FoundWorkspace, WorkspaceRef


def status(ws: Workspace | WorkspaceRef | FoundWorkspace) -> dict[str, Any]:
    """`aura dev status --json`: the snapshot, and for each unit whether it is alive and
    for how long it has been ready."""
    state = runstate.read_state(ws.state_dir) if runstate.supervisor_running(ws.state_dir) else None
    kept = kept_record.status(ws.state_dir)  # infra.keep: what outlives the stack
    if not state:
        return {"running": False, "workspace": str(ws.root), "name": ws.name, **({"kept": kept} if kept else {})}
    now = time.time()
    data = state.to_json()
    for label, unit in state.units.items():
        record = data["units"][label]
        ident = unit.identity
        if ident.pid is not None and ident.create_time is not None:
            record["alive"] = runstate.same_process(ident.pid, ident.create_time)
        elif ident.container:
            record["alive"] = unit.state.value == "ready"
        else:
            record["alive"] = False
        ready = unit.since is not None and unit.state.value == "ready"
        record["uptime"] = round(now - unit.since, 1) if ready and unit.since is not None else None
    return {"running": True, **data, **({"kept": kept} if kept else {})}
