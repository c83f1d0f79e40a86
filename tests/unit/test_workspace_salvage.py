"""A service with invalid entries is still checked across services (issue 22): the problems
found in its valid entries are located at those entries, as the file numbers them."""

from __future__ import annotations

from pathlib import Path

import pytest

from aura_dev.errors import WorkspaceInvalid
from aura_dev.workspace.load import load_workspace


def problems_of(tmp_path: Path, body: str) -> list[tuple[tuple[object, ...], int, str]]:
    for folder in ("api", "worker"):
        (tmp_path / folder).mkdir(exist_ok=True)
    (tmp_path / "aura.yaml").write_text(body)
    with pytest.raises(WorkspaceInvalid) as caught:
        load_workspace(tmp_path / "aura.yaml")
    return [(p.path, p.location.line, p.message) for p in caught.value.problems]


def test_an_unknown_dependency_after_an_invalid_entry_is_located_at_its_own_entry(tmp_path: Path) -> None:
    found = problems_of(tmp_path, "name: demo\nservices:\n  api: {path: api, command: [x]}\n"
                                  "  worker:\n    path: worker\n    command: [x]\n    dependsOn:\n"
                                  "    - [api]\n    - api\n    - apy\n")
    assert (("services", "worker", "dependsOn", 2), 10,
            "depends on 'apy', which is not a service of this workspace") in found


def test_every_valid_entry_is_checked_when_several_are_invalid(tmp_path: Path) -> None:
    found = problems_of(tmp_path, "name: demo\nservices:\n  api: {path: api, command: [x]}\n"
                                  "  worker:\n    path: worker\n    command: [x]\n"
                                  "    dependsOn: [[a], nope1, [b], nope2]\n")
    unknown = [(path, message.split(",")[0]) for path, _line, message in found if message.startswith("depends")]
    assert unknown == [(("services", "worker", "dependsOn", 1), "depends on 'nope1'"),
                       (("services", "worker", "dependsOn", 3), "depends on 'nope2'")]


def test_a_missing_env_file_after_an_invalid_entry_is_located_at_its_own_entry(tmp_path: Path) -> None:
    found = problems_of(tmp_path, "name: demo\nservices:\n  api:\n    path: api\n    command: [x]\n"
                                  "    envFiles:\n    - 5.5\n    - {a: b}\n    - missing.env\n")
    assert [(path, line) for path, line, message in found if "missing.env" in message] == [
        (("services", "api", "envFiles", 2), 9)]
