"""Read-only commands leave the workspace byte for byte as it was: `config`, `schema`,
`status`, `logs`, `doctor`, and commands that are refused.  Checked twice, with the real
`aura` command: on a writable copy (a tree hash before and after, which also sees a file
created and removed again), and on a read-only bind mount of it (they still answer)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aura_dev.logs.record import Level, Source, UnitRef
from aura_dev.logs.store import LogStore
from conftest import require, run_aura
from support.stack import SAMPLE, copy_workspace

pytestmark = pytest.mark.e2e

RUN_FILE = """\
version: 1
apps:
  - appDirPath: ./services/conversation
    appPort: 6001
    command: [python3, app.py]
"""

# (arguments, expected exit code): what a user runs to look at a workspace, and commands
# refused before they do anything.
COMMANDS: list[tuple[tuple[str, ...], int]] = [
    (("dev", "config"), 0),
    (("dev", "config", "--json"), 0),
    (("dev", "schema"), 0),
    (("dev", "status"), 0),
    (("dev", "status", "--json"), 0),
    (("dev", "logs"), 0),
    (("dev", "logs", "-n", "20"), 0),
    (("dev", "logs", "conversation", "--json"), 0),
    (("dev", "new", "service", "conversation"), 2),  # exists already
    (("dev", "new", "component", "bogus"), 2),
    (("dev", "up", "no-such-service"), 2),
    (("dev", "restart", "conversation"), 2),  # nothing runs
    (("dev", "import", "dapr.yaml"), 2),  # aura.yaml exists: refused without --force
    (("dev", "logs", "no-such-service"), 2),
    (("dev", "traces"), 2),  # nothing runs: no Zipkin to ask
    (("dev", "traces", "--json", "--errors"), 2),
    (("dev", "top", "--json"), 2),
    (("dev", "logs", "--trace", "ab" * 16), 2),
]


def tree_state(root: Path) -> list[tuple[str, ...]]:
    """Every entry under `root`: its kind, mode, and content hash (files) or modification
    time (folders: a file created and removed again changes it)."""
    entries: list[tuple[str, ...]] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        base = Path(folder)
        info = base.lstat()
        entries.append((str(base.relative_to(root)), "dir", oct(info.st_mode), str(info.st_mtime_ns)))
        for name in sorted(files):
            path = base / name
            info = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() and not path.is_symlink() else ""
            entries.append((str(path.relative_to(root)), "file", oct(info.st_mode), str(info.st_size), digest,
                            str(info.st_mtime_ns)))
        dirs.sort()
    return entries


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A copy of the sample with the logs of an earlier run, and no editor schema yet."""
    root = copy_workspace(SAMPLE, tmp_path / "ws")
    (root / "dapr.yaml").write_text(RUN_FILE)
    store = LogStore(root / ".aura" / "logs", max_file_size=1 << 20, max_total_size=1 << 24)
    now = time.time()
    for index in range(30):
        store.notice(UnitRef("conversation", Source.APP), f"line {index}", Level.INFO, now + index / 1000)
    store.notice(UnitRef("redis", Source.INFRA), "Ready to accept connections", Level.INFO, now)
    store.close()
    assert not (root / ".aura" / "aura.schema.json").exists()
    return root


def run_all(root: Path) -> list[str]:
    """Run every command in `root`; the problems (wrong exit codes)."""
    wrong = []
    for args, expected in COMMANDS:
        where = () if args[1] in ("import", "schema") else ("-w", str(root))  # these read no workspace
        done = run_aura(*args, *where, cwd=root)
        if done.returncode != expected:
            wrong.append(f"aura {' '.join(args)} → {done.returncode}, expected {expected}\n{done.stdout}{done.stderr}")
    return wrong


def test_read_only_commands_leave_the_workspace_byte_for_byte(workspace: Path) -> None:
    before = tree_state(workspace)
    assert run_all(workspace) == []
    assert tree_state(workspace) == before
    doctor = run_aura("dev", "doctor", "--json", cwd=workspace)
    assert doctor.returncode in (0, 1), doctor.stderr
    assert tree_state(workspace) == before


@pytest.fixture
def read_only_mount(workspace: Path, tmp_path: Path) -> Iterator[Path]:
    mounted = tmp_path / "read-only"
    mounted.mkdir()
    done = subprocess.run(["mount", "--bind", str(workspace), str(mounted)], capture_output=True, text=True)
    require(done.returncode == 0, f"cannot bind-mount (needs root): {done.stderr.strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(mounted)], check=True, capture_output=True)
        yield mounted
    finally:
        subprocess.run(["umount", str(mounted)], check=True, capture_output=True)


def test_read_only_commands_answer_on_a_read_only_workspace(read_only_mount: Path) -> None:
    with pytest.raises(OSError):
        (read_only_mount / "probe").write_text("x")
    assert run_all(read_only_mount) == []
