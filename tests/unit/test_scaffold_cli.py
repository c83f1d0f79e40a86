"""`aura dev new service|component` through the real command: what it writes, and that a
refusal (exit 2) leaves the workspace exactly as it was."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest

from aura_dev.plan.resources import DEFAULT_PUBSUB, DEFAULT_STATESTORE
from aura_dev.scaffold.components import HEADER, component_text
from conftest import run_aura

WORKSPACE = """\
# yaml-language-server: $schema=./.aura/aura.schema.json
# Team workspace: keep this comment.
name: demo   # and this one

services:
  api:   # the entry point
    path: services/api
    command: [python, -m, http.server, "{port}"]
    appPort: 25001
    healthCheck: tcp

  worker:
    path: services/worker
    command:
      - python
      - worker.py
    appPort: null
# closing comment
"""

BILLING = """\

  billing:
    path: services/billing
    command: [python, -m, uvicorn, app:app, --host, 127.0.0.1, --port, "{port}"]
    healthCheck: /healthz
"""


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    for folder in ("services/api", "services/worker"):
        (root / folder).mkdir(parents=True)
    (root / "aura.yaml").write_text(WORKSPACE)
    return root


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file and folder of the workspace but aura's own state."""
    return {p.relative_to(root).as_posix(): p.read_bytes() if p.is_file() else None
            for p in sorted(root.rglob("*")) if ".aura" not in p.relative_to(root).parts}


def aura_new(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_aura("dev", "new", *args, "-w", str(root))


def test_new_python_service_is_rendered_and_registered(ws: Path) -> None:
    done = aura_new(ws, "service", "billing")
    assert done.returncode == 0, done.stderr
    assert "created service billing (python) in services/billing/" in done.stdout
    # The entry joins the services after their last one; the closing comment stays last.
    assert (ws / "aura.yaml").read_text() == WORKSPACE.replace("# closing comment\n", BILLING + "# closing comment\n")
    assert sorted(p.name for p in (ws / "services" / "billing").iterdir()) == [
        ".dockerignore", "Dockerfile", "README.md", "app.py", "requirements-dev.txt", "requirements.txt",
        "test_app.py"]
    assert not [p for p in (ws / "services").iterdir() if p.name.startswith(".")], "staging folder left behind"
    assert run_aura("dev", "config", "-w", str(ws)).returncode == 0


def test_node_service_with_port_path_and_dependencies(ws: Path) -> None:
    done = aura_new(ws, "service", "ledger", "--lang", "node", "--port", "24555", "--path", "apps/ledger",
                    "--depends-on", "api,worker", "--no-install")
    assert done.returncode == 0, done.stderr
    text = (ws / "aura.yaml").read_text()
    assert ("  ledger:\n    path: apps/ledger\n    command: [node, server.js]\n    appPort: 24555\n"
            "    healthCheck: /healthz\n    dependsOn: [api, worker]\n# closing comment\n") in text
    assert (ws / "apps" / "ledger" / "server.js").is_file()
    assert "(cd apps/ledger && npm install)" in done.stdout


def test_a_folder_without_workspace_gets_one(tmp_path: Path) -> None:
    done = aura_new(tmp_path, "service", "billing")
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "aura.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=./.aura/aura.schema.json\n")
    assert "\nservices:\n  billing:\n    path: services/billing\n" in text
    assert (tmp_path / ".aura" / "aura.schema.json").is_file()
    assert run_aura("dev", "config", "-w", str(tmp_path)).returncode == 0


@pytest.mark.parametrize("args, message", [
    (["api"], "the workspace already has a service 'api'"),
    (["Billing"], "holds 'B': only lowercase letters"),
    (["bill.ing"], "contains a dot"),
    (["bill_ing"], "holds '_': only lowercase letters"),
    (["redis"], "one of aura's own units"),
    (["billing", "--path", "../outside"], "is outside the workspace"),
    (["billing", "--path", "services/../../outside"], "is outside the workspace"),
    (["billing", "--path", "/tmp/aura-scaffold-elsewhere"], "is outside the workspace"),
    (["billing", "--path", ".aura/billing"], "inside aura's state folder"),
    (["billing", "--path", "services/api/billing"], "inside the folder of service 'api'"),
    (["billing", "--path", "services/api"], "already exists"),
    (["billing", "--lang", "rust"], "unknown language 'rust'"),
    (["billing", "--lang", "pyhton"], "did you mean 'python'"),
    (["billing", "--depends-on", "wroker"], "did you mean 'worker'"),
    # Passes every check up front; the edited aura.yaml fails validation, and is rolled back.
    (["billing", "--port", "25001"], "port 25001 is also used by services.api.appPort"),
])
def test_refusals_change_nothing(ws: Path, args: list[str], message: str) -> None:
    before = snapshot(ws)
    done = aura_new(ws, "service", *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in " ".join(done.stderr.split())
    assert snapshot(ws) == before
    assert not Path("/tmp/aura-scaffold-elsewhere").exists()


def test_an_existing_folder_is_never_overwritten(ws: Path) -> None:
    (ws / "services" / "billing").mkdir()
    (ws / "services" / "billing" / "notes.txt").write_text("mine")
    before = snapshot(ws)
    done = aura_new(ws, "service", "billing")
    assert done.returncode == 2 and "already exists" in done.stderr
    assert snapshot(ws) == before


def test_component_in_a_workspace_without_resources_adopts_components_folder(ws: Path) -> None:
    done = aura_new(ws, "component", "statestore", "--name", "cache")
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())
    assert "dapr.resources: [components]" in out and "instead of generating its default statestore and pubsub" in out
    folder = ws / "components"
    assert sorted(p.name for p in folder.iterdir()) == ["cache.yaml", "pubsub.yaml", "statestore.yaml"]
    # The defaults as aura generated them, placeholders and all; the new store leaves actors to them.
    assert (folder / "statestore.yaml").read_text() == HEADER + DEFAULT_STATESTORE
    assert (folder / "pubsub.yaml").read_text() == HEADER + DEFAULT_PUBSUB
    cache = (folder / "cache.yaml").read_text()
    assert "name: cache" in cache and '"{redis_host}"' in cache and "actorStateStore" not in cache
    assert (ws / "aura.yaml").read_text() == WORKSPACE.replace(
        "name: demo   # and this one\n", "name: demo   # and this one\n\ndapr:\n  resources: [components]\n")
    assert run_aura("dev", "config", "-w", str(ws)).returncode == 0

    # Now the folder is the workspace's: the next component only adds its file.
    yaml_before = (ws / "aura.yaml").read_text()
    done = aura_new(ws, "component", "pubsub", "--name", "events")
    assert done.returncode == 0, done.stderr
    assert (folder / "events.yaml").read_text() == component_text(DEFAULT_PUBSUB, "events")
    assert (ws / "aura.yaml").read_text() == yaml_before

    before = snapshot(ws)
    done = aura_new(ws, "component", "pubsub", "--name", "cache")
    assert done.returncode == 2 and "a component named 'cache' already exists" in done.stderr
    assert snapshot(ws) == before


@pytest.mark.parametrize("args, prepare, message", [
    (["queue"], None, "unknown component kind 'queue'"),
    (["pubsub", "--name", "Events"], None, "holds 'E': only lowercase letters"),
    (["pubsub", "--name", "statestore"], None, "the name of aura's default statestore"),
    (["pubsub"], "components", "does not list it under dapr.resources"),
])
def test_component_refusals_change_nothing(ws: Path, args: list[str], prepare: str | None, message: str) -> None:
    if prepare:
        (ws / prepare).mkdir()
    before = snapshot(ws)
    done = aura_new(ws, "component", *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in " ".join(done.stderr.split())
    assert snapshot(ws) == before


def test_default_component_text_is_aura_default() -> None:
    assert component_text(DEFAULT_STATESTORE, "statestore") == HEADER + DEFAULT_STATESTORE
    assert "actorStateStore" not in component_text(DEFAULT_STATESTORE, "cache", actor_store=False)
    assert textwrap.dedent(component_text(DEFAULT_PUBSUB, "pubsub")) == HEADER + DEFAULT_PUBSUB
