"""Orchestrator.apply on a running stack (real runtime): an edited aura.yaml reaches every
unit of a changed service — the bug was that only the app got the new restart settings
and neither unit the new readiness timeout."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aura_dev.engine.events import EventHub
from aura_dev.engine.orchestrator import Orchestrator, UpOptions
from aura_dev.engine.session import log_store
from aura_dev.infra.select import backend_factory
from aura_dev.workspace.load import load_workspace
from support.stack import tiny_workspace


def test_apply_gives_both_units_the_new_restart_and_readiness_settings(tmp_path: Path, runtime: Any,
                                                                       redis_server_bin: str) -> None:
    root = tiny_workspace(tmp_path / "ws", {"a": []})
    ws = load_workspace(root / "aura.yaml")
    store = log_store(ws)
    seen: dict[str, Any] = {}

    async def serving(orch: Orchestrator) -> None:
        text = (root / "aura.yaml").read_text().replace(
            "    healthCheck: /\n", "    healthCheck: {http: /, timeout: 7s}\n"
                                   "    restart: {policy: always, maxRestarts: 9, window: 2m}\n")
        (root / "aura.yaml").write_text(text)
        changes = await orch.apply(load_workspace(root / "aura.yaml"))
        seen["changed"] = [c.name for c in changes.changed]
        run = orch.services["a"]
        seen["settings"] = {runner.ref.label: (runner.policy.settings.policy, runner.policy.settings.max_restarts,
                                               runner.policy.settings.window, runner.ready_timeout)
                            for runner in run.runners()}
        await asyncio.sleep(0.2)
        for runner in run.runners():
            await asyncio.wait_for(orch.until_settled(runner), 60)
        seen["ready"] = run.is_ready()
        orch.request_shutdown()

    async def scenario() -> int:
        orch = Orchestrator(ws, runtime, EventHub(store), UpOptions(reload=False), backend_factory(runtime), "native")
        return await asyncio.wait_for(orch.run(on_serving=serving), 120)

    try:
        assert asyncio.run(scenario()) == 0
    finally:
        store.close()
    assert seen["changed"] == ["a"]
    assert seen["settings"] == {"a": ("always", 9, 120.0, 7.0), "a·dapr": ("always", 9, 120.0, 7.0)}
    assert seen["ready"]
