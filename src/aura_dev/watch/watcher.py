"""The reload watcher: a thin layer over watchfiles that watches folders one by one and
hands batches of changed paths to the engine until told to stop."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

from aura_dev.watch.routing import always_ignored

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
                stop: asyncio.Event, *, debounce_ms: int = 200, step_ms: int = 10) -> None:
    """Feed batches of changed paths to `on_batch` until `stop` is set.

    watchfiles is asked for small batches (10 ms of quiet); the per-service debounce is
    applied afterwards by the Coalescer, where each service has its own window.  Folders
    are watched one by one (see `watched_folders`); when a new folder appears the watch is
    set up again to include it, and the files already written into it are reported."""
    from watchfiles import Change, awatch

    roots = [p for p in paths if p.is_dir()]
    if not roots:
        return
    while not stop.is_set():
        folders = await asyncio.to_thread(watched_folders, roots)  # a big tree takes a while to walk
        known = set(folders)
        added: list[Path] = []
        async for changes in awatch(*folders, watch_filter=_not_ignored, debounce=debounce_ms, step=step_ms,
                                    stop_event=stop, ignore_permission_denied=True, recursive=False):
            detected = time.monotonic()
            await on_batch({Path(path) for _change, path in changes}, detected)
            added = [Path(path) for change, path in changes
                     if change == Change.added and Path(path) not in known and Path(path).is_dir()]
            if added:
                break  # watch again, with the new folders
        if not added:
            return
        early = {path for folder in watched_folders(added) for path in folder.iterdir()
                 if path.is_file() and _not_ignored(Change.added, str(path))}
        if early:  # written between the folder's creation and its watch
            await on_batch(early, time.monotonic())


def _not_ignored(_change: object, path: str) -> bool:
    """A cheap first cut inside watchfiles: drop names that are always ignored."""
    name = path.rsplit("/", 1)[-1]
    return not always_ignored(name) and "/node_modules/" not in path and "/.git/" not in path \
        and "/.aura/" not in path and "/__pycache__/" not in path and "/.venv/" not in path
