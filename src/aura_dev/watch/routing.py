"""Hot reload: one watcher over every service folder, the workspace file and the resource
folders; changes become restart requests for exactly what they affect.

- A file of a service → that service's app restarts (its sidecar keeps running).
- A component/resource file → it is re-rendered and the sidecars that load it restart.
- `aura.yaml` → reloaded and compared: changed services restart, added ones start,
  removed ones stop; an invalid edit is reported and the running stack is kept.

Bursts (an editor's write-and-rename, a formatter, `git checkout`) arrive as one batch per
debounce window, and a service already restarting gets one more restart, not one per file.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

DEFAULT_IGNORES = (
    ".git", ".hg", ".svn", ".aura", "__pycache__", "*.pyc", "*.pyo", "node_modules", ".venv", "venv",
    "dist", "build", "*.log", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis", ".tox",
    ".idea", ".vscode", ".DS_Store",
    # editor swap and temp files
    "*.swp", "*.swo", "*.swx", "*~", ".#*", "#*#", "4913", "*.tmp", "*.bak", ".*.kate-swp",
    "___jb_tmp___", "___jb_old___", "flycheck_*",
)


@lru_cache(maxsize=512)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """gitignore-like: `**` spans folders, `*`/`?` stay within one; a pattern without `/`
    matches a name at any depth (and everything below a folder of that name)."""
    anchored = "/" in pattern.strip("/")
    body = ""
    i = 0
    text = pattern.strip("/")
    while i < len(text):
        if text.startswith("**/", i):
            body += "(?:.*/)?"
            i += 3
        elif text.startswith("**", i):
            body += ".*"
            i += 2
        elif text[i] == "*":
            body += "[^/]*"
            i += 1
        elif text[i] == "?":
            body += "[^/]"
            i += 1
        else:
            body += re.escape(text[i])
            i += 1
    prefix = "^" if anchored else "^(?:.*/)?"
    return re.compile(prefix + body + "(?:/.*)?$")


def matches(relative: str, patterns: Iterable[str]) -> bool:
    return any(_glob_regex(p).match(relative) for p in patterns)


@dataclass(frozen=True)
class ServiceWatch:
    name: str
    root: Path
    watch: tuple[str, ...]
    ignore: tuple[str, ...]

    def relevant(self, path: Path) -> bool:
        try:
            relative = PurePosixPath(path.relative_to(self.root)).as_posix()
        except ValueError:
            return False
        if matches(relative, DEFAULT_IGNORES) or matches(relative, self.ignore):
            return False
        return not self.watch or matches(relative, self.watch)


@dataclass(frozen=True)
class Routed:
    services: dict[str, list[Path]]
    resources: dict[Path, list[Path]]
    workspace_file: bool


def route(changed: Iterable[Path], services: Iterable[ServiceWatch], resource_dirs: Iterable[Path],
          workspace_file: Path) -> Routed:
    """Which service, resource folder or the workspace file each changed path concerns.

    A path under a resource folder inside a service folder counts for the resources only:
    the sidecar restart covers it.
    """
    by_service: dict[str, list[Path]] = {}
    by_resources: dict[Path, list[Path]] = {}
    touched_workspace = False
    service_list = list(services)
    folders = [d.resolve() for d in resource_dirs]
    for raw in changed:
        path = Path(raw)
        if path == workspace_file:
            touched_workspace = True
            continue
        folder = next((d for d in folders if path.parent == d), None)
        if folder is not None:
            if path.suffix in (".yaml", ".yml", ".json") and not matches(path.name, DEFAULT_IGNORES):
                by_resources.setdefault(folder, []).append(path)
            continue
        for service in service_list:
            if service.relevant(path):
                by_service.setdefault(service.name, []).append(path)
    return Routed(by_service, by_resources, touched_workspace)


RestartService = Callable[[str, list[Path], float], Awaitable[None]]


class Coalescer:
    """Per service: wait until changes have been quiet for its debounce window (a storm of
    saves gives one restart, not one per save), then restart; changes that arrive while it
    restarts give one more restart afterwards, never several."""

    MAX_DELAY = 2.0  # a never-ending storm still restarts every so often
    BURST_WINDOW = 1.0  # seconds over which change batches are counted
    BURST_BATCHES = 3  # this many batches in the window: a storm (a checkout, a formatter, a script)
    BURST_QUIET = 0.3  # the quiet window during a storm

    def __init__(self, restart: RestartService, quiet: Callable[[str], float] = lambda name: 0.02) -> None:
        self.restart = restart
        self.quiet = quiet
        self.pending: dict[str, list[Path]] = {}
        self.detected_at: dict[str, float] = {}
        self.timers: dict[str, asyncio.TimerHandle] = {}
        self.running: dict[str, asyncio.Task[None]] = {}
        self.recent: dict[str, list[float]] = {}

    def request(self, name: str, files: list[Path], detected_at: float) -> None:
        self.pending.setdefault(name, []).extend(files)
        first = self.detected_at.setdefault(name, detected_at)
        timer = self.timers.pop(name, None)
        if timer is not None:
            timer.cancel()
        # A single save restarts after the short window; a storm of saves (whose gaps on a
        # busy machine exceed it) is recognised and waited out with a longer one.
        recent = self.recent.setdefault(name, [])
        recent.append(detected_at)
        del recent[: -self.BURST_BATCHES * 4]
        burst = sum(1 for t in recent if detected_at - t <= self.BURST_WINDOW) >= self.BURST_BATCHES
        quiet = max(self.quiet(name), self.BURST_QUIET) if burst else self.quiet(name)
        delay = max(0.0, min(quiet, first + self.MAX_DELAY - time.monotonic()))
        self.timers[name] = asyncio.get_running_loop().call_later(delay, self._fire, name)

    def _fire(self, name: str) -> None:
        self.timers.pop(name, None)
        if name not in self.running:
            self.running[name] = asyncio.ensure_future(self._drain(name))

    async def _drain(self, name: str) -> None:
        try:
            while name in self.pending and name not in self.timers:
                files = self.pending.pop(name)
                detected = self.detected_at.pop(name)
                await self.restart(name, files, detected)
        finally:
            self.running.pop(name, None)
            if name in self.pending and name not in self.timers:
                self._fire(name)  # changes that came in during the restart

    async def idle(self) -> None:
        while self.running or self.timers:
            await asyncio.sleep(0.01)


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
            dirnames[:] = [name for name in dirnames if not matches(name, DEFAULT_IGNORES)]
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
    return not matches(name, DEFAULT_IGNORES) and "/node_modules/" not in path and "/.git/" not in path \
        and "/.aura/" not in path and "/__pycache__/" not in path and "/.venv/" not in path
