"""Where a supervisor keeps its run files, and whether one runs — with the standard library
only.  `aura dev down` starts here: psutil and the typed snapshot (`engine.runstate`) cost
more to import than the rest of a stop takes on a small stack."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

RUN_DIR = "run"
STATE_FILE = "state.json"
LOCK_FILE = "supervisor.lock"
KEPT_FILE = "kept.json"  # what `infra.keep` left running (`engine.kept_record`)


def workspace_key(root: Path) -> str:
    """Short, stable id of a workspace folder: names containers and picks its port block."""
    import hashlib  # here: `status` and `down` import this module and need neither hashlib nor tempfile

    return hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:10]


def run_dir(state_dir: Path) -> Path:
    return state_dir / RUN_DIR


def state_path(state_dir: Path) -> Path:
    return run_dir(state_dir) / STATE_FILE


def kept_path(state_dir: Path) -> Path:
    return run_dir(state_dir) / KEPT_FILE


def supervisor_running(state_dir: Path) -> bool:
    """Whether a supervisor holds this workspace's lock (the kernel drops it when that
    process dies, even by SIGKILL)."""
    path = run_dir(state_dir) / LOCK_FILE
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def raw_state(state_dir: Path) -> dict[str, Any] | None:
    """`state.json` as plain JSON (unchecked; `engine.snapshot` reads it typed), or None."""
    try:
        data = json.loads(state_path(state_dir).read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def control_socket_path(state_dir: Path) -> Path:
    """A unix socket path short enough for sun_path (108 bytes), inside .aura when possible."""
    preferred = run_dir(state_dir) / "control.sock"
    if len(str(preferred)) < 100:
        return preferred
    import tempfile

    runtime = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir())
    return runtime / f"aura-{workspace_key(state_dir.parent)}.sock"
