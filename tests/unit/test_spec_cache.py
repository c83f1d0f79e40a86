"""The supervisor's copy of the last validated `aura.yaml` (`workspace.spec_cache`), and the
constants built without validation so that a start never builds pydantic's schema."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aura_dev.engine import kept_record
from aura_dev.engine.infra_start import INFRA_RESTART
from aura_dev.errors import WorkspaceInvalid
from aura_dev.workspace import spec_cache
from aura_dev.workspace.load import load_workspace
from aura_dev.workspace.model import InfraSettings, RestartSettings
from aura_dev.workspace.problems import Problem

WORKSPACE = """\
name: cached
infra: {redis: {password: s3cret, persist: false, port: 7000}}
services:
  api:
    path: api
    command: [python3, app.py]
    restart: {policy: always, window: 2m}
"""


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "app.py").write_text("")
    (tmp_path / "aura.yaml").write_text(WORKSPACE)
    return tmp_path / "aura.yaml"


def cache_file(file: Path) -> Path:
    return spec_cache.cache_path(file.parent / ".aura")


def load_and_keep(file: Path) -> None:
    load_workspace(file, reuse_validation=True).keep_validation()


def test_the_supervisor_keeps_what_it_validated_and_reads_it_back(workspace: Path) -> None:
    first = load_workspace(workspace, reuse_validation=True)
    assert not (workspace.parent / ".aura").exists()  # only once the start goes ahead (a refused `up` writes nothing)
    first.keep_validation()
    kept = cache_file(workspace).stat()
    again = load_workspace(workspace, reuse_validation=True)
    assert again.reused and again.spec == first.spec == load_workspace(workspace).spec
    assert again.spec.services["api"].restart.window == 120.0
    again.keep_validation()  # taken from the cache: not written again
    assert cache_file(workspace).stat().st_mtime_ns == kept.st_mtime_ns


def test_a_start_on_an_unchanged_file_builds_no_schema(workspace: Path) -> None:
    """What the cache is for: the models defer their schema, nothing on the way to a start
    validates (the infra restart policy, the kept infra's settings included), and the file is
    not parsed again (its YAML parser never imported)."""
    load_and_keep(workspace)
    code = (
        "import sys; from pathlib import Path; from aura_dev.workspace.load import load_workspace; "
        f"ws = load_workspace(Path({str(workspace)!r}), reuse_validation=True); "
        "import aura_dev.engine.session, aura_dev.cli.stack_view; "
        "from aura_dev.engine import kept_record; kept_record.settings_json(ws.spec.infra.redis); "
        "from aura_dev.workspace.model import WorkspaceSpec; "
        "print(WorkspaceSpec.__pydantic_complete__, 'importlib.metadata' in sys.modules, 'aura_dev.workspace.yamlsource' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=str(Path(spec_cache.__file__).parents[2])))
    assert out.stdout.split() == ["False", "False", "False"]


def test_an_edited_file_is_validated_afresh(workspace: Path) -> None:
    load_and_keep(workspace)
    workspace.write_text(WORKSPACE.replace("window: 2m", "window: 3m"))
    edited = load_workspace(workspace, reuse_validation=True)
    assert not edited.reused and edited.spec.services["api"].restart.window == 180.0
    workspace.write_text(WORKSPACE.replace("window: 2m", "window: soon"))
    with pytest.raises(WorkspaceInvalid, match="aura.yaml has 1 problem"):
        load_workspace(workspace, reuse_validation=True)


def test_the_key_is_the_file_and_its_text(workspace: Path) -> None:
    """A comment or a space changes the locations the checks point at, and the same text in
    another folder means other paths: each is another key."""
    text = workspace.read_text()
    assert spec_cache.key(workspace, text) == spec_cache.key(workspace, text)
    assert spec_cache.key(workspace, text) != spec_cache.key(workspace, "# moved\n" + text)
    assert spec_cache.key(workspace, text) != spec_cache.key(workspace.parent / "x" / "aura.yaml", text)


def test_a_cached_document_still_locates_problems_found_on_disk(workspace: Path) -> None:
    """The checks against the disk run on every start; with the cached document they still
    point at the line in the file."""
    load_and_keep(workspace)
    (workspace.parent / "api" / "app.py").unlink()
    (workspace.parent / "api").rmdir()
    with pytest.raises(WorkspaceInvalid) as refused:
        load_workspace(workspace, reuse_validation=True)
    problems = [p for p in refused.value.problems if isinstance(p, Problem)]
    assert [(p.location.line, "api" in p.message) for p in problems] == [(5, True)]


@pytest.mark.parametrize("damage", [b"", b"garbage", b"00\nnot a pickle", None])
def test_a_cache_that_cannot_be_used_is_ignored(workspace: Path, damage: bytes | None) -> None:
    load_and_keep(workspace)
    expected = load_workspace(workspace).spec
    path = cache_file(workspace)
    if damage is None:  # a valid pickle of something else under the right key
        key = path.read_bytes().partition(b"\n")[0]
        path.write_bytes(key + b"\n" + __import__("pickle").dumps({"not": "a spec"}))
    else:
        path.write_bytes(damage)
    assert load_workspace(workspace, reuse_validation=True).spec == expected


def test_other_commands_neither_read_nor_write_it(workspace: Path) -> None:
    load_workspace(workspace).keep_validation()
    assert not (workspace.parent / ".aura").exists()  # read-only commands write nothing


def test_the_constants_built_without_validation_equal_their_validated_form() -> None:
    assert INFRA_RESTART == RestartSettings.model_validate({"policy": "always", "maxRestarts": 5, "window": 60})
    infra = InfraSettings.model_validate({"redis": {"password": "p", "port": 7000, "persist": False},
                                          "scheduler": {"image": "x", "enabled": False}})
    for unit in (infra.redis, infra.scheduler, infra.placement, InfraSettings().redis):
        assert kept_record.settings_json(unit) == unit.model_dump(mode="json", by_alias=True)
