"""The file watcher on a real folder (inotify through watchfiles): what it watches, what it
reports, and that aura's own log writes never reach it."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from aura_dev.watch import watcher as reload
from aura_dev.watch.watcher import watch, watched_folders


def make_tree(root: Path) -> None:
    for folder in ("svc/pkg", "svc/node_modules/dep/lib", ".aura/logs/services/svc", ".git/objects",
                   "svc/__pycache__", "dist/svc2"):
        (root / folder).mkdir(parents=True)


def test_watched_folders_leave_out_aura_state_dependencies_and_vcs(tmp_path: Path) -> None:
    make_tree(tmp_path)
    folders = {p.relative_to(tmp_path).as_posix() for p in watched_folders([tmp_path])}
    assert folders == {".", "svc", "svc/pkg"}
    # a root is watched even below an ignored name (a service may live in dist/svc2)
    assert tmp_path / "dist" / "svc2" in watched_folders([tmp_path, tmp_path / "dist" / "svc2"])


async def collect(root: Path, actions: list[tuple[float, str, str]], settle: float = 0.6) -> set[Path]:
    """Run the watcher over `root` while doing `actions` (delay, kind, relative path)."""
    stop = asyncio.Event()
    seen: set[Path] = set()

    async def on_batch(paths: set[Path], _detected: float) -> None:
        seen.update(paths)

    task = asyncio.create_task(watch([root], on_batch, stop, debounce_ms=50, step_ms=10))
    await asyncio.sleep(0.3)  # the watch is set up
    for delay, kind, relative in actions:
        await asyncio.sleep(delay)
        target = root / relative
        if kind == "mkdir":
            target.mkdir(parents=True)
        elif kind == "append":
            with target.open("a") as handle:
                handle.write("x\n")
        else:
            target.write_text(kind)
    await asyncio.sleep(settle)
    stop.set()
    await asyncio.wait_for(task, 5)
    return {p.relative_to(root) for p in seen}


def test_changes_are_reported_and_log_store_writes_never_reach_the_watcher(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    filtered: list[str] = []  # every event the kernel delivered passes the filter first
    original = reload._not_ignored
    monkeypatch.setattr(reload, "_not_ignored", lambda change, path: filtered.append(path) or original(change, path))
    make_tree(tmp_path)
    (tmp_path / ".aura" / "logs" / "services" / "svc" / "00000001.log").write_text("")
    actions = [(0, "append", ".aura/logs/services/svc/00000001.log")] * 50
    actions += [(0, "v2", "svc/app.py"), (0, "v1", "svc/node_modules/dep/lib/index.js"), (0, "name: x", "aura.yaml")]
    seen = asyncio.run(collect(tmp_path, actions))
    assert seen == {Path("svc/app.py"), Path("aura.yaml")}
    assert filtered and not [path for path in filtered if "/.aura/" in path or "/node_modules/" in path]


def test_a_new_folder_is_watched_and_its_early_files_reported(tmp_path: Path) -> None:
    make_tree(tmp_path)
    actions = [(0, "mkdir", "svc/routes/v2"), (0, "early", "svc/routes/v2/early.py"),
               (0.5, "late", "svc/routes/v2/late.py"), (0.1, "pkg", "svc/pkg/mod.py")]
    seen = asyncio.run(collect(tmp_path, actions))
    assert {Path("svc/routes/v2/early.py"), Path("svc/routes/v2/late.py"), Path("svc/pkg/mod.py")} <= seen


async def watch_while_saving(root: Path, delay: float, since_ns: int | None) -> set[Path]:
    """Start the watcher and save `svc/app.py` `delay` seconds later, before the watch may
    exist: what the watcher reported."""
    stop = asyncio.Event()
    seen: set[Path] = set()

    async def on_batch(paths: set[Path], _detected: float) -> None:
        seen.update(paths)

    task = asyncio.create_task(watch([root], on_batch, stop, debounce_ms=50, step_ms=10, since_ns=since_ns))
    await asyncio.sleep(delay)
    (root / "svc" / "app.py").write_text("saved while the watch was being set up")
    await asyncio.sleep(0.6)
    stop.set()
    await asyncio.wait_for(task, 5)
    return {p.relative_to(root) for p in seen}


@pytest.mark.parametrize("delay", [0, 0.001, 0.005, 0.02, 0.1])
def test_a_save_made_while_the_watch_is_set_up_is_never_lost(tmp_path: Path, delay: float) -> None:
    # `up -d` can return before the supervisor's watch exists (CI: a save right after
    # `up` never reloaded); whenever the save lands, it is reported once.
    make_tree(tmp_path)
    since_ns = reload.file_clock_ns()
    assert Path("svc/app.py") in asyncio.run(watch_while_saving(tmp_path, delay, since_ns))


def test_files_older_than_the_start_are_not_reported_as_changes(tmp_path: Path) -> None:
    make_tree(tmp_path)
    for relative in ("svc/old.py", "svc/pkg/older.py", "svc/node_modules/dep/lib/new.js", "svc/fresh.py"):
        (tmp_path / relative).write_text("x")
    since_ns = reload.file_clock_ns()
    for relative in ("svc/old.py", "svc/pkg/older.py"):
        os.utime(tmp_path / relative, ns=(since_ns - 5 * 10**9, since_ns - 5 * 10**9))
    os.utime(tmp_path / "svc" / "fresh.py", ns=(since_ns + 10**9, since_ns + 10**9))
    folders = watched_folders([tmp_path])
    assert {p.relative_to(tmp_path) for p in reload.modified_since(folders, since_ns)} == {Path("svc/fresh.py")}


def test_the_start_is_read_on_the_clock_files_are_stamped_with(tmp_path: Path) -> None:
    # The kernel stamps a write from its coarse clock, up to a tick behind time.time(): a
    # start read from time.time() would miss a save made right after it (no margin covers
    # that without also reporting what was written just before).
    folder = tmp_path / "svc"
    folder.mkdir()
    missed = []
    for attempt in range(300):
        since_ns = reload.file_clock_ns()
        (folder / f"save{attempt}.py").write_text("x")
        if folder / f"save{attempt}.py" not in reload.modified_since([folder], since_ns):
            missed.append(attempt)
        for old in folder.iterdir():
            old.unlink()
    assert missed == []
    (folder / "before.py").write_text("x")
    time.sleep(3 * time.clock_getres(reload.LINUX_CLOCK_REALTIME_COARSE))  # three ticks: no margin reports it
    assert reload.modified_since([folder], reload.file_clock_ns()) == set()
