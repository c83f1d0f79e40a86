"""Hot reload's routing: which service, resource folder or the workspace file each
changed path concerns.

- A file of a service → that service's app restarts (its sidecar keeps running).
- A component/resource file → it is re-rendered and the sidecars that load it restart.
- `aura.yaml` → reloaded and compared: changed services restart, added ones start,
  removed ones stop; an invalid edit is reported and the running stack is kept.

Paths are matched with gitignore patterns (pathspec's GitIgnoreSpec: `**`, a leading `/`
anchoring to the service folder, a trailing `/` for folders, `!` to take a path back):
the ignores every service gets, then each service's own `reload.watch` and `reload.ignore`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pathspec


RESOURCE_SUFFIXES = (".yaml", ".yml", ".json")
DEFAULT_IGNORES = (
    ".git", ".hg", ".svn", ".aura", "__pycache__", "*.pyc", "*.pyo", "node_modules", ".venv", "venv",
    "dist", "build", "*.log", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis", ".tox",
    ".idea", ".vscode", ".DS_Store",
    # data an app writes while it runs (SQLite next to the code, a pid file): never code, and
    # a reload on every write would restart the app on every request that writes
    "*.db", "*.sqlite", "*.sqlite3", "*.db-journal", "*.db-wal", "*.db-shm", "*.sqlite-journal",
    "*.sqlite-wal", "*.sqlite-shm", "*.sqlite3-journal", "*.sqlite3-wal", "*.sqlite3-shm", "*.pid",
    # editor swap and temp files (`#` starts a comment in gitignore syntax: escaped)
    "*.swp", "*.swo", "*.swx", "*~", ".#*", "\\#*#", "4913", "*.tmp", "*.bak", ".*.kate-swp",
    "___jb_tmp___", "___jb_old___", "flycheck_*",
)


@lru_cache(maxsize=256)
def _spec(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    # Imported here: the engine imports this module before a start, the watch matches
    # paths only once the stack is up, and pathspec costs ~10 ms of CPU to import.
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(patterns)


def matches(relative: str, patterns: Iterable[str]) -> bool:
    """Whether `relative` (a POSIX path below the folder the patterns belong to) matches,
    as git would decide for a .gitignore holding `patterns`."""
    return _spec(tuple(patterns)).match_file(relative)


def always_ignored(relative: str) -> bool:
    return matches(relative, DEFAULT_IGNORES)


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
        if always_ignored(relative) or (self.ignore and matches(relative, self.ignore)):
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
            if path.suffix in RESOURCE_SUFFIXES and not always_ignored(path.name):
                by_resources.setdefault(folder, []).append(path)
            continue
        for service in service_list:
            if service.relevant(path):
                by_service.setdefault(service.name, []).append(path)
    return Routed(by_service, by_resources, touched_workspace)
