"""What an edit of aura.yaml means for a running stack (plan.changes, pure)."""

from __future__ import annotations

from pathlib import Path

from aura_dev.plan.changes import diff_workspaces
from aura_dev.workspace.load import Workspace, load_workspace

BASE = """\
name: shop
services:
  a: {path: a, command: [python, a.py]}
  b: {path: b, command: [python, b.py], dependsOn: [a]}
  c: {path: c, command: [python, c.py]}
"""


def workspace(tmp_path: Path, text: str, name: str) -> Workspace:
    root = tmp_path / name
    for service in "abcd":
        (root / service).mkdir(parents=True, exist_ok=True)
    (root / "aura.yaml").write_text(text)
    return load_workspace(root / "aura.yaml")


def test_nothing_changed(tmp_path: Path) -> None:
    old, new = workspace(tmp_path, BASE, "old"), workspace(tmp_path, BASE, "new")
    assert diff_workspaces(old, new, ["a", "b", "c"]).nothing


def test_added_removed_and_restarted(tmp_path: Path) -> None:
    old = workspace(tmp_path, BASE, "old")
    edited = (BASE.replace("  c: {path: c, command: [python, c.py]}\n", "").replace("[python, b.py]", "[python, b2.py]")
              + "  d: {path: d, command: [python, d.py]}\n")
    changes = diff_workspaces(old, workspace(tmp_path, edited, "new"), ["a", "b", "c"])
    assert changes.added == ("d",) and changes.removed == ("c",)
    assert [(c.name, c.restart_sidecar, c.new_ports) for c in changes.changed] == [("b", False, False)]
    assert changes.selected == ("a", "b", "d")


def test_sidecar_settings_restart_the_sidecar_and_ports_are_forgotten(tmp_path: Path) -> None:
    old = workspace(tmp_path, BASE, "old")
    new = workspace(tmp_path, BASE.replace("{path: a, command: [python, a.py]}",
                                           "{path: a, command: [python, a.py], dapr: {httpPort: 3999}}")
                    .replace("{path: c, command: [python, c.py]}",
                             "{path: c, command: [python, c.py], healthCheck: tcp, restart: always}"), "new")
    changes = {c.name: c for c in diff_workspaces(old, new, ["a", "b", "c"]).changed}
    assert changes["a"].restart_sidecar and changes["a"].new_ports
    assert changes["c"].restart_sidecar and not changes["c"].new_ports
    assert "b" not in changes


def test_shared_dapr_settings_restart_everything_and_infra_waits(tmp_path: Path) -> None:
    old = workspace(tmp_path, BASE, "old")
    new = workspace(tmp_path, BASE.replace("name: shop\n", "name: shop\ndapr: {logLevel: debug}\n"
                                                            "infra: {backend: native}\n"), "new")
    changes = diff_workspaces(old, new, ["a", "b", "c"])
    assert changes.shared_dapr_changed and changes.infra_changed
    assert {c.name for c in changes.changed if c.restart_sidecar} == {"a", "b", "c"}


def test_a_subset_keeps_its_dependencies(tmp_path: Path) -> None:
    old = workspace(tmp_path, BASE, "old")
    new = workspace(tmp_path, BASE, "new")
    changes = diff_workspaces(old, new, ["a", "b", "c"], requested=["b"])
    assert changes.selected == ("a", "b") and changes.removed == ("c",)
