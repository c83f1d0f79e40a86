"""The reload watcher: a thin layer over watchfiles that watches folders one by one and
hands batches of changed paths to the engine until told to stop."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

from aura_dev.watch.routing import always_ignored

# Python 3.11 does not name it; Linux's value since 2.6.32.
LINUX_CLOCK_REALTIME_COARSE = getattr(time, "CLOCK_REALTIME_COARSE", 5)
ELSEWHERE_STAMP_MARGIN_NS = 20_000_000


def file_clock_ns() -> int:
    """Now, on the clock the kernel stamps written files with: its coarse real-time clock,
    up to a tick behind `time.time()`.  A file written after this call never carries an
    earlier stamp, so no margin is needed; one written in the same tick before it carries
    the same one and is reported once more (elsewhere a margin does the same)."""
    if sys.platform.startswith("linux"):
        return time.clock_gettime_ns(LINUX_CLOCK_REALTIME_COARSE)
    return time.time_ns() - ELSEWHERE_STAMP_MARGIN_NS


def watched_folders(roots: Iterable[Path]) -> list[Path]:
    """Every folder under `roots` in which a change can matter, each to be watched on its own.

    A recursive watch of the workspace would cover `.aura/` too — the log store writes there
    all the time, so a chatty service kept the watcher busy with events that are dropped
    anyway (measured: 0.15-0.5 CPU-s per million log lines) — and `node_modules`, `.git` and
    virtualenvs, thousands of folders that eat into the inotify watch limit.  Folders whose
    name is always ignored are left out; a root is kept even if its own name matches."""
    found: dict[Path, None] = {}
    for root in roots:
        for current, dirnames, _files in os.walk(root):
            found[Path(current)] = None
            dirnames[:] = [name for name in dirnames if not always_ignored(name)]
    return list(found)


async def watch(paths: list[Path], on_batch: Callable[[set[Path], float], Awaitable[None]],
                stop: asyncio.Event, *, debounce_ms: int = 200, step_ms: int = 10,
                since_ns: int | None = None) -> None:
    """Feed batches of changed paths to `on_batch` until `stop` is set.

    watchfiles is asked for small batches (10 ms of quiet); the per-service debounce is
    applied afterwards by the Coalescer, where each service has its own window.  Folders
    are watched one by one (see `watched_folders`); when a new folder appears the watch is
    set up again to include it, and the files already written into it are reported.

    With `since_ns` (a `file_clock_ns()` time), files modified after it but before the
    watch existed are reported once it does: the watch is set up after the stack comes
    up, and a save in between must not be lost."""
    from watchfiles import Change, awatch

    roots = [p for p in paths if p.is_dir()]
    if not roots:
        return
    while not stop.is_set():
        folders = await asyncio.to_thread(watched_folders, roots)  # a big tree takes a while to walk
        known = set(folders)
        added: list[Path] = []
        stream = awatch(*folders, watch_filter=_not_ignored, debounce=debounce_ms, step=step_ms,
                        stop_event=stop, ignore_permission_denied=True, recursive=False)
        first = asyncio.ensure_future(anext(stream, None))
        # One turn of the loop runs the generator up to its first thread hop, and it builds
        # its inotify watches before that: from here on every write is caught and buffered.
        await asyncio.sleep(0)
        if since_ns is not None:
            missed = await asyncio.to_thread(modified_since, folders, since_ns)
            if missed:
                await on_batch(missed, time.monotonic())
        changes = await first
        while changes is not None:
            detected, received = time.monotonic(), file_clock_ns()
            await on_batch({Path(path) for _change, path in changes}, detected)
            added = [Path(path) for change, path in changes
                     if change == Change.added and Path(path) not in known and Path(path).is_dir()]
            if added:
                # What this watch buffered after the batch goes with it: the next one looks
                # for it on disk, as it looked for saves made before the first watch.
                since_ns = received
                await stream.aclose()
                break  # watch again, with the new folders
            changes = await anext(stream, None)
        if not added:
            return
        early = {path for folder in watched_folders(added) for path in folder.iterdir()
                 if path.is_file() and _not_ignored(Change.added, str(path))}
        if early:  # written between the folder's creation and its watch
            await on_batch(early, time.monotonic())


def modified_since(folders: Iterable[Path], since_ns: int) -> set[Path]:
    """The files directly in `folders` (not filtered out) whose content changed since
    `since_ns`, a `file_clock_ns()` time: a write in the same tick carries the same stamp,
    whether it came just before or just after, so it counts."""
    found: set[Path] = set()
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:  # gone or unreadable: the watch reports what happens there
            continue
        for entry in entries:
            try:
                if entry.is_file() and entry.stat().st_mtime_ns >= since_ns and _not_ignored(None, entry.path):
                    found.add(Path(entry.path))
            except OSError:
                continue
    return found


def _not_ignored(_change: object, path: str) -> bool:
    """A cheap first cut inside watchfiles: drop names that are always ignored."""
    name = path.rsplit("/", 1)[-1]
    return not always_ignored(name) and "/node_modules/" not in path and "/.git/" not in path \
        and "/.aura/" not in path and "/__pycache__/" not in path and "/.venv/" not in path
