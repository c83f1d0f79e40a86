"""Where the workspace file is: the discovery of `aura.yaml`, with nothing heavier than
pathlib (no dataclasses, no YAML) — `aura dev down` finds its workspace through it on the
clock.  `locate` builds on it."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from aura_dev.errors import WorkspaceNotFound, os_reason

WORKSPACE_FILE = "aura.yaml"
STATE_DIR = ".aura"


class AtWorkspaceFile:
    """The folders that follow from where `aura.yaml` is (for `WorkspaceRef` and `Workspace`)."""

    file: Path

    @property
    def root(self) -> Path:
        return self.file.parent

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR


def discover(start: Path | None = None, explicit: str | os.PathLike[str] | None = None) -> Path:
    """The workspace file: `explicit` (file or folder), else $AURA_WORKSPACE, else the
    nearest `aura.yaml` in `start` or one of its parents."""
    chosen = explicit if explicit is not None else os.environ.get("AURA_WORKSPACE") or None
    if chosen is not None:
        candidate = Path(chosen).expanduser().absolute()
        if candidate.is_dir() and candidate.name != WORKSPACE_FILE:
            candidate = candidate / WORKSPACE_FILE
        _refuse_non_file(candidate)
        if not candidate.is_file():
            raise WorkspaceNotFound(f"no workspace file at {candidate}",
                                    hint="pass the folder that holds aura.yaml, or the file itself")
        return candidate
    here = (start or Path.cwd()).absolute()
    for folder in (here, *here.parents):
        candidate = folder / WORKSPACE_FILE
        if candidate.is_file():
            return candidate
        _refuse_non_file(candidate)  # the nearest aura.yaml is the one meant, even if it is not a file
    raise WorkspaceNotFound(
        f"no {WORKSPACE_FILE} in {here} or any folder above it",
        hint="run aura inside a workspace, pass -w/--workspace PATH, or create one with "
        "`aura dev import dapr.yaml` or `aura dev new service NAME`",
    )


def _refuse_non_file(candidate: Path) -> None:
    """A workspace file that exists but is not a regular file (a folder, a symlink loop, a
    fifo) gets its own true message, not "no aura.yaml"."""
    try:
        mode = candidate.stat().st_mode
    except FileNotFoundError:
        if candidate.is_symlink():
            raise WorkspaceNotFound(f"{candidate} is a symlink to {os.readlink(candidate)}, which does not exist",
                                    hint="fix or remove the symlink") from None
        return
    except OSError as exc:
        raise unreadable(candidate, exc) from None
    if stat.S_ISDIR(mode):
        raise WorkspaceNotFound(f"{candidate} is a folder, not a file",
                                hint=f"the workspace file must be a file: move the folder away, or pass "
                                     f"-w with the path of the workspace file")
    if not stat.S_ISREG(mode):
        raise WorkspaceNotFound(f"{candidate} is not a regular file", hint="aura.yaml must be a plain file")


def unreadable(file: Path, exc: OSError) -> WorkspaceNotFound:
    """The error for a workspace file that exists but cannot be read, with the system's reason."""
    hint = None
    if exc.errno in (errno.EACCES, errno.EPERM):
        hint = f"aura needs to read it: check its permissions and owner (ls -l {file})"
    elif exc.errno == errno.EISDIR:
        hint = "the workspace file must be a file, not a folder"
    return WorkspaceNotFound(f"cannot read {file}: {os_reason(exc)}", hint=hint)
