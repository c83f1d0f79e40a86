"""What a workspace keeps between runs, and `aura dev down --wipe`, which deletes it.

Kept, all under `<workspace>/.aura/`: Redis data (`redis/`, its append-only file), the
scheduler's data (`scheduler/`: its etcd with jobs and actor reminders), and the logs
(`logs/`, and the detached supervisor's `run/supervisor.log`).  Wiping deletes exactly
these and never anything outside `.aura/`: a path that is a link is removed as a link, its
target left alone, and nothing below is followed.  It holds the supervisor lock while it
deletes, so a stack cannot start on half-deleted data.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from aura_dev.engine import kept_record, runstate
from aura_dev.errors import AuraError
from aura_dev.plan.infra import kept_output_dir, redis_data_dir, scheduler_dir


@dataclass(frozen=True)
class Kept:
    what: str
    path: Path
    size: int  # bytes


def kept_paths(state_dir: Path) -> list[tuple[str, Path]]:
    return [
        ("Redis data", redis_data_dir(state_dir)),
        ("scheduler data (jobs, actor reminders)", scheduler_dir(state_dir)),
        ("logs", state_dir / "logs"),
        ("supervisor log", runstate.run_dir(state_dir) / "supervisor.log"),
        ("kept infra's output (infra.keep)", kept_output_dir(state_dir)),
    ]


def kept_data(state_dir: Path) -> list[Kept]:
    """What this workspace keeps now (only what exists)."""
    return [Kept(what, path, _size(path)) for what, path in kept_paths(state_dir) if os.path.lexists(path)]


def wipe(state_dir: Path) -> list[Kept]:
    """Delete what `kept_data` lists; what was deleted.  The stack must be stopped."""
    lock = runstate.SupervisorLock(state_dir)
    lock.acquire()  # AlreadyRunning if a supervisor runs (or was started since the stop)
    try:
        kept_record.end_all(state_dir)  # infra.keep: a kept Redis would write into the data deleted here
        found = kept_data(state_dir)
        outside = [str(kept.path) for kept in found if not _inside(kept.path, state_dir)]
        if outside:  # checked before anything goes: all or nothing
            raise AuraError(f"refusing to wipe: {', '.join(outside)} is not inside {state_dir} (a linked folder)",
                            hint="nothing was deleted; remove the link, then wipe again")
        for kept in found:
            _remove(kept.path)
        return found
    finally:
        lock.release()


def _inside(path: Path, state_dir: Path) -> bool:
    """`path` is an entry of `state_dir` itself or of one of its real (not linked) folders."""
    parent = path.parent
    return parent.resolve() == state_dir.resolve() or (
        not parent.is_symlink() and parent.parent.resolve() == state_dir.resolve())


def _remove(path: Path) -> None:
    try:
        if path.is_symlink() or not path.is_dir():
            path.unlink(missing_ok=True)
        else:
            shutil.rmtree(path)  # removes links inside as links; follows none
    except OSError as exc:
        raise AuraError(f"cannot delete {path}: {exc.strerror or exc}",
                        hint=f"files there may belong to another user (a container's); remove them with "
                             f"`sudo rm -rf {path}`") from exc


def _size(path: Path) -> int:
    if path.is_symlink() or not path.is_dir():
        try:
            return path.lstat().st_size
        except OSError:
            return 0
    total = 0
    for folder, _dirs, files in os.walk(path):  # does not descend into linked folders
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total
