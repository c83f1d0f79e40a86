"""Projects written for `dapr init` run unchanged: each quickstart-shaped fixture
(tests/fixtures/quickstarts) is imported with `aura dev import`, brought up with the real
`aura dev up`, and the data of its building block is seen flowing — a published message
received, state read back, a cron binding firing an output binding, an actor answering.
Their components say `localhost:6379` (or `127.0.0.1:6379`), `dapr init`'s Redis: aura
points its rendered copies at its own Redis, says so once, and leaves the files alone."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from conftest import run_aura
from support.stack import http, wait_for

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "quickstarts"


def logs(root: Path, *args: str) -> str:
    done = run_aura("dev", "logs", *args, "--raw", "-n", "2000", "-w", str(root))
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextmanager
def quickstart(name: str, tmp_path: Path, mapped: dict[str, str]) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The fixture imported and running; `mapped` is {resource: address as written}.
    Yields (workspace root, `aura dev status --json`); stops the stack afterwards and
    checks that the user's files were never changed."""
    root = tmp_path / name
    shutil.copytree(FIXTURES / name, root)
    originals = {path: path.read_bytes() for path in root.rglob("*") if path.is_file()}
    imported = run_aura("dev", "import", str(root / "dapr.yaml"))
    assert imported.returncode == 0, imported.stderr
    for resource, address in mapped.items():
        assert f"{resource}: {address} → aura's Redis; write `{{redis_host}}` to make it explicit" in imported.stderr
    up = run_aura("dev", "up", "--detach", "--backend", "native", "-w", str(root), timeout=240)
    try:
        assert up.returncode == 0, up.stdout + up.stderr + logs(root)
        done = run_aura("dev", "status", "--json", "-w", str(root))
        snapshot = json.loads(done.stdout)
        redis_host = f"127.0.0.1:{snapshot['units']['redis']['ports']['main']}"
        said = logs(root, "aura")
        for resource, address in mapped.items():
            notice = f"{resource}: {address} → aura's Redis {redis_host}; write `{{redis_host}}` to make it explicit"
            assert said.count(notice) == 1, said  # once per run per resource
        rendered = "".join(p.read_text() for p in (root / ".aura/run/resources").rglob("*.yaml"))
        assert "6379" not in rendered and f'"{redis_host}"' in rendered
        yield root, snapshot
    finally:
        down = run_aura("dev", "down", "-w", str(root), timeout=120)
        assert down.returncode == 0, down.stderr
    assert {path: path.read_bytes() for path in originals} == originals  # the user's files, untouched


def redis_client(snapshot: dict[str, Any]) -> Any:
    import redis

    return redis.Redis(host="127.0.0.1", port=snapshot["units"]["redis"]["ports"]["main"])


def test_pub_sub_quickstart_delivers_published_orders(tmp_path: Path, runtime: Any, redis_server_bin: str) -> None:
    with quickstart("pub_sub", tmp_path, {"orderpubsub": "localhost:6379"}) as (root, snapshot):
        processor = snapshot["services"]["order-processor-sdk"]["url"]
        received = wait_for(lambda: http("GET", f"{processor}/received")[1]["orders"][:3] or None, timeout=30,
                            what="orders at the subscriber")
        assert all(isinstance(order["orderId"], int) for order in received), received
        published = logs(root, "checkout-sdk")
        assert all(f'Published data: {json.dumps(order)}' in published for order in received)
        assert snapshot["services"]["checkout-sdk"]["ready"]  # a worker: `appPort: null` from the import


def test_state_quickstart_reads_back_what_it_saved(tmp_path: Path, runtime: Any, redis_server_bin: str) -> None:
    with quickstart("state_management", tmp_path, {"statestore": "127.0.0.1:6379"}) as (root, snapshot):
        wait_for(lambda: 'Result after get: {"orderId": 2}' in logs(root, "order-processor"), timeout=30,
                 what="the order read back")
        stored = redis_client(snapshot).hget("order-processor||order_2", "data")
        assert stored is not None and json.loads(stored) == {"orderId": 2}  # Dapr keeps JSON as JSON


def test_bindings_quickstart_cron_fires_the_output_binding(tmp_path: Path, runtime: Any,
                                                          redis_server_bin: str) -> None:
    with quickstart("bindings", tmp_path, {"orders-cache": "localhost:6379"}) as (root, snapshot):
        store = redis_client(snapshot)
        written = wait_for(lambda: store.get("batch-2"), timeout=30, what="a batch written by the output binding")
        assert json.loads(written) == {"batch": 2, "orders": [20, 21, 22]}
        assert re.search(r"Processed batch: \{\"batch\": 2", logs(root, "batch-sdk"))


def test_actors_quickstart_answers_actor_calls(tmp_path: Path, runtime: Any, redis_server_bin: str) -> None:
    with quickstart("actors", tmp_path, {"statestore": "localhost:6379"}) as (root, snapshot):
        wait_for(lambda: "SmartDevice 1 status: on" in logs(root, "client"), timeout=45, what="the actor's answer")
        sidecar = snapshot["services"]["smart-device"]["daprHttpPort"]
        code, status = http("POST", f"http://127.0.0.1:{sidecar}/v1.0/actors/SmartDevice/1/method/GetStatus")
        assert (code, status) == (200, "on")
        assert redis_client(snapshot).exists("smart-device||SmartDevice||1||status")
