"""A port taken between aura's choice and the bind: the unit moves to new ports and
whatever points at it follows — on the real runtime, with the race forced.

The race cannot be timed from outside (Redis, placement and the scheduler bind within
milliseconds of being spawned), so the port check is told that a port held by this test
is free: exactly what happens when another program takes it right after the check.
"""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import pytest

import aura_dev.engine.portbook as portbook_module
from aura_dev.errors import InfraError
from aura_dev.engine.events import EventHub
from aura_dev.engine.orchestrator import Orchestrator, UpOptions
from aura_dev.infra.select import backend_factory
from aura_dev.net import can_bind
from aura_dev.engine.session import log_store
from aura_dev.workspace.load import load_workspace
from support.stack import tiny_workspace


def workspace(root: Path, infra: str = "{backend: native}") -> Path:
    return tiny_workspace(root, {"a": []}, infra=infra)


def held_port() -> socket.socket:
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    return blocker


def run_with_taken_saved_port(root: Path, runtime: Any, key: str, monkeypatch: pytest.MonkeyPatch,
                              blocker: socket.socket | None = None) -> tuple[int, dict[str, Any], int]:
    """Start the stack with `key`'s saved port held by us but reported free; return
    (the taken port, the snapshot once the start settled, the exit code)."""
    blocker = blocker or held_port()
    taken = blocker.getsockname()[1]
    run_dir = root / ".aura" / "run"
    run_dir.mkdir(parents=True)
    (run_dir / "ports.json").write_text(json.dumps({key: taken}))
    monkeypatch.setattr(portbook_module, "can_bind",
                        lambda port, host="127.0.0.1": port == taken or can_bind(port, host))
    ws = load_workspace(root / "aura.yaml")
    hub = EventHub(log_store(ws))
    seen: dict[str, Any] = {}

    def started(orch: Orchestrator) -> None:
        seen.update(orch.snapshot().to_json())
        orch.request_shutdown()

    orch = Orchestrator(ws, runtime, hub, UpOptions(reload=False), backend_factory(runtime), "native")
    try:
        code = asyncio.run(asyncio.wait_for(orch.run(on_started=started), 120))
    finally:
        hub.store.close()
        blocker.close()
    return taken, seen, code


def aura_lines(root: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in (root / ".aura" / "logs").rglob("*.log"))


@pytest.mark.parametrize("kind", ["placement", "redis", "scheduler"])
def test_an_infra_port_taken_before_its_bind_moves_it_and_the_sidecars_follow(
        tmp_path: Path, runtime: Any, redis_server_bin: str, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    root = workspace(tmp_path / "ws")
    taken, snap, code = run_with_taken_saved_port(root, runtime, f"infra.{kind}", monkeypatch)
    assert snap, "the start never settled"
    moved = snap["units"][kind]["ports"]["main"]
    assert moved != taken
    assert snap["units"][kind]["state"] == "ready"
    # daprd is healthy only once it reached Redis (components), placement and scheduler at
    # their new addresses.
    assert snap["services"]["a"]["ready"] and snap["units"]["a·dapr"]["state"] == "ready"
    assert "its port was taken before it could bind it; retrying on a new port" in aura_lines(root)
    assert json.loads((root / ".aura" / "run" / "ports.json").read_text())[f"infra.{kind}"] == moved
    assert code == 0


def test_an_app_port_taken_before_its_bind_moves_the_service(tmp_path: Path, runtime: Any, redis_server_bin: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    root = workspace(tmp_path / "ws")
    taken, snap, _code = run_with_taken_saved_port(root, runtime, "a.app", monkeypatch)
    assert snap["services"]["a"]["appPort"] != taken and snap["services"]["a"]["ready"]


def test_an_explicit_infra_port_taken_before_its_bind_is_not_moved(tmp_path: Path, runtime: Any,
                                                                   redis_server_bin: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = held_port()
    port = blocker.getsockname()[1]
    root = workspace(tmp_path / "ws", infra=f"{{backend: native, redis: {{port: {port}}}}}")
    with pytest.raises(InfraError, match="infrastructure failed to start"):
        run_with_taken_saved_port(root, runtime, "infra.redis", monkeypatch, blocker)
    logged = aura_lines(root)
    assert "retrying on a new port" not in logged  # the user asked for that port: it stays
    assert "FAILED: crashed" in logged  # counted by the restart policy, not moved in a loop
