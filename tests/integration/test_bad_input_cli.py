"""The `aura` command under bad input (issue 22): one test per case, through the real
command.  Each gets a clear message (what, where, a fix), the right exit code (2: bad
input, nothing was started) and leaves nothing half-written.

Permissions do not stop root, so the cases about them run aura as root *without*
CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (`setpriv --bounding-set=-…`: after exec the
process keeps uid 0 but file permission bits apply to it).  A read-only file system is a
tmpfs remounted read-only.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from aura_dev.cli.app import app
from conftest import aura_bin, require, run_aura
from support.stack import tiny_workspace

WITHOUT_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def tree(root: Path) -> dict[str, bytes | str]:
    """Every path below `root` with its content (files) or kind: to compare before and after."""
    found: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        found[key] = path.read_bytes() if path.is_file() and not path.is_symlink() else (
            "link" if path.is_symlink() else "dir")
    return found


def said(stderr: str) -> str:
    """The words of a message, also when click draws it in a box and wraps it."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", stderr).split())


def without_dac(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    require(shutil.which("setpriv") is not None and os.geteuid() == 0,
            "needs root and setpriv (util-linux) to drop the permission override")
    return subprocess.run([*WITHOUT_DAC, aura_bin(), *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, NO_COLOR="1"))


@contextlib.contextmanager
def read_only_copy(source: Path, mount_point: Path) -> Iterator[Path]:
    """`source` copied onto a tmpfs that is then remounted read-only."""
    require(os.geteuid() == 0 and shutil.which("mount") is not None, "needs root to mount a tmpfs")
    mount_point.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)], check=True)
    try:
        shutil.copytree(source, mount_point, dirs_exist_ok=True, symlinks=True)
        subprocess.run(["mount", "-o", "remount,ro", str(mount_point)], check=True)
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


@pytest.fixture(autouse=True)
def wide_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Click draws usage errors in a box as wide as COLUMNS: wide enough for a whole path."""
    monkeypatch.setenv("COLUMNS", "400")


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return tiny_workspace(tmp_path / "ws", {"a": [], "b": ["a"]})


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if hasattr(command, "commands"):  # a group (typer carries its own click)
        for name, sub in command.commands.items():
            yield from _commands(sub, path + (name,))
    else:
        yield path


EVERY_COMMAND = sorted(_commands(get_command(app)))


def test_every_command_is_in_the_unknown_flag_case() -> None:
    assert ("dev", "up") in EVERY_COMMAND and ("dev", "new", "service") in EVERY_COMMAND and len(EVERY_COMMAND) > 15


@pytest.mark.parametrize("command", EVERY_COMMAND, ids=" ".join)
def test_an_unknown_flag_is_refused_before_anything(ws: Path, command: tuple[str, ...]) -> None:
    before = tree(ws)
    done = run_aura(*command, "--frobnicate", cwd=ws)
    assert done.returncode == 2, done.stderr
    assert "No such option: --frobnicate" in said(done.stderr)
    assert done.stdout == ""
    assert tree(ws) == before


@pytest.mark.parametrize("op", ["restart", "stop", "start"])
def test_app_and_sidecar_together_are_refused(ws: Path, op: str) -> None:
    done = run_aura("dev", op, "a", "--app", "--sidecar", "-w", str(ws))
    assert done.returncode == 2, done.stderr
    assert "--app and --sidecar exclude each other" in said(done.stderr)
    assert "not running" not in done.stderr  # refused for the flags, before looking for a stack


def test_a_negative_tail_is_refused(ws: Path) -> None:
    done = run_aura("dev", "logs", "-n", "-5", "-w", str(ws))
    assert done.returncode == 2
    assert "--tail must be 0 or more" in said(done.stderr)


def test_since_in_the_future_is_refused(ws: Path) -> None:
    future = (datetime.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    done = run_aura("dev", "logs", "--since", future, "-w", str(ws))
    assert done.returncode == 2, done.stderr
    assert f"--since {future} is in the future" in said(done.stderr)


@pytest.mark.parametrize("timeout", ["0", "-1", "nan"])
def test_a_start_timeout_that_cannot_be_met_starts_nothing(ws: Path, timeout: str) -> None:
    done = run_aura("dev", "up", "--timeout", timeout, "-w", str(ws), timeout=60)
    assert done.returncode == 2, done.stderr
    assert "is not a time a unit could be ready in" in said(done.stderr)
    assert not (ws / ".aura" / "run").exists()


def test_a_workspace_on_a_read_only_file_system(ws: Path, tmp_path: Path) -> None:
    with read_only_copy(ws, tmp_path / "ro") as ro:
        before = tree(ro)
        up = run_aura("dev", "up", "-d", "-w", str(ro), timeout=60)
        assert up.returncode == 2, up.stderr
        assert f"cannot write in {ro}: read-only file system (aura keeps the stack's run state" in said(up.stderr)
        assert "hint: the file system is mounted read-only" in said(up.stderr)
        new = run_aura("dev", "new", "service", "c", "-w", str(ro))
        assert new.returncode == 2, new.stderr
        assert "read-only file system" in said(new.stderr)
        for reading in (["config"], ["status"], ["logs"]):  # what only reads still works
            done = run_aura("dev", *reading, "-w", str(ro))
            assert done.returncode == 0, (reading, done.stderr)
        assert tree(ro) == before


def test_an_unreadable_workspace_file(ws: Path) -> None:
    (ws / "aura.yaml").chmod(0)
    done = without_dac("dev", "config", "-w", str(ws))
    assert done.returncode == 2, done.stderr
    assert f"cannot read {ws / 'aura.yaml'}: permission denied" in said(done.stderr)
    assert "hint: aura needs to read it: check its permissions and owner" in said(done.stderr)
    assert "Traceback" not in done.stderr


def test_a_folder_where_the_workspace_file_belongs(tmp_path: Path) -> None:
    (tmp_path / "aura.yaml").mkdir()
    for args, cwd in ((["dev", "config"], tmp_path), (["dev", "up", "-w", str(tmp_path / "aura.yaml")], None)):
        done = run_aura(*args, cwd=cwd, env={"AURA_WORKSPACE": ""})
        assert done.returncode == 2, done.stderr
        assert f"{tmp_path / 'aura.yaml'} is a folder, not a file" in said(done.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aura.yaml"]


def test_a_folder_where_an_output_file_belongs(tmp_path: Path) -> None:
    done = run_aura("dev", "schema", "-o", str(tmp_path))
    assert done.returncode == 2
    assert f"{tmp_path} is a folder; give the file to write" in said(done.stderr)
    assert list(tmp_path.iterdir()) == []


def test_a_file_where_the_service_folder_belongs(ws: Path) -> None:
    shutil.rmtree(ws / "b")
    (ws / "b").write_text("not a folder\n")
    done = run_aura("dev", "up", "-w", str(ws), timeout=60)
    assert done.returncode == 2, done.stderr
    assert "services.b.path: service folder b is a file, not a folder" in said(done.stderr)
    assert "hint: point the path at a folder" in said(done.stderr)
    assert not (ws / ".aura" / "run").exists()


def test_a_file_where_the_state_folder_belongs(ws: Path) -> None:
    (ws / ".aura").write_text("")
    done = run_aura("dev", "up", "-w", str(ws), timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"{ws / '.aura'} is not a folder, but aura keeps the stack's run state and logs there" in said(done.stderr)
    assert (ws / ".aura").read_text() == ""


def test_a_file_where_the_export_folder_belongs(ws: Path) -> None:
    (ws / "out").write_text("keep me\n")
    done = run_aura("dev", "export", "kubernetes", "-o", str(ws / "out"), "-w", str(ws))
    assert done.returncode == 2, done.stderr
    assert f"{ws / 'out'} is a file, but an export is a folder of manifests" in said(done.stderr)
    assert (ws / "out").read_text() == "keep me\n"


def test_a_service_path_that_is_a_symlink_loop(ws: Path) -> None:
    shutil.rmtree(ws / "b")
    (ws / "b").symlink_to("b")
    done = run_aura("dev", "config", "-w", str(ws))
    assert done.returncode == 2, done.stderr
    assert "services.b.path: service folder b is a symlink loop" in said(done.stderr)


def test_new_service_into_a_folder_that_is_not_writable(ws: Path) -> None:
    ws.chmod(0o555)
    try:
        before = tree(ws)
        done = without_dac("dev", "new", "service", "billing", "-w", str(ws))
        assert done.returncode == 2, done.stderr
        assert f"cannot write in {ws}: permission denied (aura writes aura.yaml there)" in said(done.stderr)
        assert "hint: check the owner and permissions" in said(done.stderr)
        assert tree(ws) == before  # nothing half-written: no folder, no staging files, aura.yaml as it was
    finally:
        ws.chmod(0o755)
