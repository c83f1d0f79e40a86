"""What is at a path the workspace names, said as the reason that holds: missing, a file
where a folder belongs (or the reverse), a symlink loop, unreachable; and whether aura
can write in a folder before it starts writing there.

`Path.is_dir()` answers only yes or no (and raises on a name that is too long), which is
how "service folder afile does not exist" was said of a file that exists.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from aura_dev.atomic import sibling_temp
from aura_dev.errors import CannotWrite, os_hint, os_reason


class Want(Enum):
    FOLDER = "folder"
    FILE = "file"


@dataclass(frozen=True)
class PathProblem:
    reason: str  # completes "<what> <shown path> …", e.g. "does not exist"
    missing: bool  # nothing is there: creating it is the fix

    def hint(self, want: Want) -> str:
        if self.missing:
            return f"create the {want.value} or fix the path"
        return f"point the path at a {want.value}"


def path_problem(path: Path, want: Want) -> PathProblem | None:
    """Why `path` is not the existing `want` it should be, or None."""
    try:
        mode = path.stat().st_mode
    except ValueError:
        return PathProblem("cannot be a path: it contains a NUL character", missing=False)
    except FileNotFoundError:
        if path.is_symlink():
            return PathProblem(f"is a symlink to {os.readlink(path)}, which does not exist", missing=True)
        return PathProblem("does not exist", missing=True)
    except NotADirectoryError:
        return PathProblem("does not exist (a part of the path is a file)", missing=True)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return PathProblem("is a symlink loop", missing=False)
        if exc.errno == errno.ENAMETOOLONG:
            return PathProblem("is too long a name for this system", missing=False)
        return PathProblem(f"cannot be reached: {os_reason(exc)}", missing=False)
    if want is Want.FOLDER and not stat.S_ISDIR(mode):
        return PathProblem("is a file, not a folder" if stat.S_ISREG(mode) else "is not a folder", missing=False)
    if want is Want.FILE and not stat.S_ISREG(mode):
        return PathProblem("is a folder, not a file" if stat.S_ISDIR(mode) else "is not a regular file",
                           missing=False)
    return None


def require_writable(folder: Path, why: str) -> None:
    """Raise CannotWrite unless files can be created in `folder` (or, if it does not exist
    yet, in the nearest folder above it that does): asked before a command writes anything,
    so that a read-only or foreign folder leaves nothing half-written."""
    existing = folder
    while not existing.exists() and not existing.is_symlink() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise CannotWrite(f"{existing} is not a folder, but {why}",
                          hint=f"move {existing} away, or point aura at another folder")
    probe = sibling_temp(existing / "write-probe")
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        raise CannotWrite(f"cannot write in {existing}: {os_reason(exc)} ({why})", hint=os_hint(exc)) from None
    probe.unlink(missing_ok=True)
