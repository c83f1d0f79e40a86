"""`aura dev new service` then `aura dev up`: the new service answers through Dapr at once.

A copy of the sample workspace gets a Python service (billing) and a Node service (ledger),
one stack runs them all, and each new service is called through *another* service's
sidecar (assistant-gateway's): its state round trip through the Redis state store, its
publish reaching its own subscription, its call to conversation by app id.  Then `down`
must leave no process of the run state alive.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aura_dev.engine.runstate import same_process
from conftest import require, run_aura
from support.sockets import listeners
from support.stack import SAMPLE, all_ports, copy_workspace, http, state, wait_for

pytestmark = pytest.mark.e2e

NEW_SERVICES = {"python": "billing", "node": "ledger"}


@dataclass(frozen=True)
class Stack:
    root: Path
    env: dict[str, str]
    snapshot: dict[str, Any]  # the run state while everything ran

    def invoke(self, app_id: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Call `app_id` through assistant-gateway's sidecar, as that service would."""
        port = self.snapshot["services"]["assistant-gateway"]["daprHttpPort"]
        return http(method, f"http://127.0.0.1:{port}/v1.0/invoke/{app_id}/method/{path}", body, timeout=30)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, runtime: Any) -> Iterator[Stack]:
    require(shutil.which("npm") is not None, "npm is not installed")
    require(importlib.util.find_spec("dapr") is not None, "the dapr SDK is missing: pip install -e '.[sample]'")
    require(all((p.parent / "node_modules").is_dir() for p in SAMPLE.glob("services/*/package.json")),
            "the sample's Node services need `npm ci` (scripts/bootstrap.sh does it)")
    root = copy_workspace(SAMPLE, tmp_path_factory.mktemp("scaffold") / "ws")
    # The services' `python` must be the one with the SDK, whatever PATH pytest was started with.
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for language, name in NEW_SERVICES.items():
        done = run_aura("dev", "new", "service", name, "--lang", language, "--depends-on", "conversation",
                        "-w", str(root), env=env, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
    up = run_aura("dev", "up", "--detach", "-w", str(root), env=env, timeout=300)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        snapshot = json.loads(run_aura("dev", "status", "--json", "-w", str(root), env=env).stdout)
        assert snapshot["running"]
        yield Stack(root, env, snapshot)
    finally:
        run_aura("dev", "down", "-w", str(root), env=env, timeout=120)


@pytest.mark.parametrize("language", sorted(NEW_SERVICES))
def test_new_service_answers_through_another_sidecar(stack: Stack, language: str) -> None:
    name = NEW_SERVICES[language]
    assert stack.snapshot["services"][name]["ready"]
    assert stack.snapshot["services"][name]["dependsOn"] == ["conversation"]

    # State: saved and read back through the Redis state store.
    order = {"amount": 42, "by": language}
    assert stack.invoke(name, "POST", "state/order-1", order) == (200, {"key": "order-1", "value": order})
    assert stack.invoke(name, "GET", "state/order-1") == (200, {"key": "order-1", "value": order})
    assert stack.invoke(name, "GET", "state/missing")[0] == 404

    # Pub/sub: what it publishes reaches its own subscription through daprd.
    code, body = stack.invoke(name, "POST", "publish", {"hello": language})
    assert (code, body["topic"]) == (200, f"{name}-events")
    wait_for(lambda: stack.invoke(name, "GET", "events")[1]["received"] == [{"hello": language}],
             timeout=20, what=f"{name}'s subscription to receive the event")

    # Invocation: it calls another service by app id, through its own sidecar.
    assert stack.invoke(name, "GET", "invoke/conversation/healthz") == (200, {"status": "ok"})


def test_down_leaves_nothing(stack: Stack) -> None:
    done = run_aura("dev", "down", "-w", str(stack.root), env=stack.env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    units = stack.snapshot["units"]
    assert {"billing", "billing·dapr", "ledger", "ledger·dapr"} <= set(units)
    alive = [label for label, unit in units.items()
             if isinstance(unit.get("pid"), int) and same_process(unit["pid"], unit["create_time"])]
    assert alive == [], f"still running after down: {alive}"
    assert listeners(all_ports(stack.snapshot)) == []
    assert state(stack.root) is None
