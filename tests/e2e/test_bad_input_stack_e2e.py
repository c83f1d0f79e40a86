"""Bad input under a running stack (issue 22), on the real daprd, placement, scheduler and
Redis: a symlink loop in a service folder, a service folder deleted while the stack runs."""

from __future__ import annotations

import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import run_aura
from support.stack import running, stack_status, tiny_workspace, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(tmp_path: Path, runtime: Any, redis_server_bin: str) -> Iterator[Path]:
    root = tiny_workspace(tmp_path / "ws", {"a": [], "b": ["a"]})
    for name, target in (("loop", "loop"), ("here", "."), ("above", "..")):  # loops a walk could fall into
        (root / "a" / name).symlink_to(target)
    with running(root):
        yield root


status = stack_status


def lines(root: Path, *args: str) -> list[str]:
    return run_aura("dev", "logs", "-w", str(root), *args).stdout.splitlines()


def answers(snapshot: dict[str, Any], unit: str) -> bool:
    port = snapshot["units"][unit]["ports"]["app"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as reply:
        return reply.status == 200 and reply.read().decode().startswith(unit)


def test_symlink_loops_in_a_service_folder_neither_stop_the_stack_nor_its_reload(stack: Path) -> None:
    before = status(stack)
    assert all(unit["state"] == "ready" for label, unit in before["units"].items() if label != "zipkin")
    (stack / "a" / "app.py").write_text((stack / "a" / "app.py").read_text() + "# saved\n")
    wait_for(lambda: any("reloaded in" in line for line in lines(stack, "a", "--grep", "reloaded in")),
             timeout=30, what="a's reload")
    after = status(stack)
    assert after["units"]["a"]["pid"] != before["units"]["a"]["pid"]
    assert after["units"]["a·dapr"]["pid"] == before["units"]["a·dapr"]["pid"]
    assert run_aura("dev", "config", "-w", str(stack)).returncode == 0


def test_a_service_folder_deleted_while_running_keeps_the_stack_running_and_says_so(stack: Path) -> None:
    before = status(stack)
    kept = stack.parent / "b-kept"
    shutil.copytree(stack / "b", kept)
    shutil.rmtree(stack / "b")
    wait_for(lambda: lines(stack, "b", "--grep", "was deleted"), timeout=30, what="the deletion to be reported")
    said = lines(stack, "b", "--grep", "was deleted")[-1]
    assert f"the service folder {stack / 'b'} was deleted: the app keeps running as it is" in said
    during = status(stack)
    assert during["running"] and all(unit["state"] == "ready" for label, unit in during["units"].items()
                                     if label != "zipkin")
    assert during["units"]["b"]["pid"] == before["units"]["b"]["pid"]  # not restarted into a missing folder
    assert answers(during, "b")
    shutil.copytree(kept, stack / "b")  # back (a `git checkout`): the next change reloads it again
    (stack / "b" / "app.py").write_text((stack / "b" / "app.py").read_text() + "# back\n")
    wait_for(lambda: status(stack)["units"]["b"].get("pid") not in (None, before["units"]["b"]["pid"])
             and status(stack)["units"]["b"]["state"] == "ready", timeout=30, what="b reloaded from its folder")
    assert answers(status(stack), "b")
