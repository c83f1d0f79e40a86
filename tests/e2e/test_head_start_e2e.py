"""The head start, on the real runtime: a later `up` spawns the units the last start launched
at once before aura has loaded anything, and the engine adopts them — the same pids serve
the stack; a unit that changed since (its env file) is not adopted but started anew with
the change; a start that is refused leaves none of the early processes behind."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from aura_dev.engine.runstate import same_process
from conftest import run_aura
from support.sockets import listeners
from support.stack import all_ports, tiny_workspace

pytestmark = pytest.mark.e2e
SERVICES = {"hs21a": [], "hs21b": []}


def status(root: Path) -> dict[str, Any]:
    done = run_aura("dev", "status", "--json", "-w", str(root))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def up(root: Path) -> dict[str, Any]:
    done = run_aura("dev", "up", "--detach", "--no-reload", "-w", str(root), timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return status(root)


def down(root: Path, snap: dict[str, Any]) -> None:
    done = run_aura("dev", "down", "-w", str(root))
    assert done.returncode == 0, done.stderr
    assert listeners(all_ports(snap)) == []


def greeting(snap: dict[str, Any], service: str) -> str:
    port = snap["services"][service]["daprHttpPort"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1.0/invoke/{service}/method/", timeout=10) as answer:
        return str(answer.read().decode())


def adopted(timeline: dict[str, Any]) -> set[str]:
    """Units spawned before the engine had planned the run: the head start's."""
    return {label for label, t in timeline["units"].items() if t["spawned"] < timeline["engineReady"]}


def test_a_later_up_adopts_its_head_start_and_a_changed_unit_starts_anew(tmp_path: Path, runtime: Any,
                                                                           redis_server_bin: str) -> None:
    root = tiny_workspace(tmp_path / "ws", SERVICES)
    text = (root / "aura.yaml").read_text().replace("    path: hs21b\n", "    path: hs21b\n    envFiles: [.env]\n")
    (root / "aura.yaml").write_text(text)
    (root / "hs21b" / ".env").write_text("GREETING=old\n")

    first = up(root)  # nothing recorded yet: everything is spawned by the engine
    assert adopted(first["timeline"]) == set()
    down(root, first)
    assert (root / ".aura" / "run" / "launch.json").is_file()
    assert (root / ".aura" / "run" / "spec.pickle").is_file()  # the next start neither parses nor validates

    second = up(root)
    try:
        every_unit = {"redis", "placement", "scheduler", "hs21a", "hs21a·dapr", "hs21b", "hs21b·dapr"}
        assert adopted(second["timeline"]) == every_unit
        assert second["timeline"]["firstSpawn"] < second["timeline"]["engineReady"]
        assert greeting(second, "hs21b").endswith("old")  # the adopted processes really serve
        for unit in second["units"].values():
            assert unit["state"] == "ready"
    finally:
        down(root, second)

    (root / "hs21b" / ".env").write_text("GREETING=new\n")  # the record still applies; this app does not
    third = up(root)
    try:
        assert adopted(third["timeline"]) == every_unit - {"hs21b"}
        assert greeting(third, "hs21b").endswith("new")
    finally:
        down(root, third)
    idents = [(u["pid"], u["create_time"]) for snap in (second, third) for u in snap["units"].values()
              if isinstance(u.get("pid"), int)]
    assert [pid for pid, created in idents if same_process(pid, created)] == []


def test_a_refused_start_leaves_no_early_process(tmp_path: Path, runtime: Any, redis_server_bin: str) -> None:
    root = tiny_workspace(tmp_path / "ws", SERVICES)
    first = up(root)
    down(root, first)
    record = json.loads((root / ".aura" / "run" / "launch.json").read_text())
    ports = sorted({p for unit in record["units"] for p in unit["ports"]})
    assert ports
    assert (root / ".aura" / "run" / "spec.pickle").is_file()  # so is the validated file: the checks on disk still run
    (root / "hs21a" / "app.py").unlink()
    (root / "hs21a").rmdir()  # the workspace file is unchanged (the record applies) but now refused
    refused = run_aura("dev", "up", "--detach", "--no-reload", "-w", str(root), timeout=120)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "hs21a" in refused.stderr
    assert listeners(ports) == []
