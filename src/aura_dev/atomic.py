"""Writing files so that a reader sees the old content or the new, never half of one.

Every write goes to a uniquely named file beside the target (same folder, so the final
rename is atomic and two writers never share a temporary name), is flushed and, unless
told otherwise, fsynced, then renamed over the target.  A failure leaves the target as it
was and removes the temporary file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def sibling_temp(path: Path, tag: str = "tmp") -> Path:
    """A name beside `path` that no other writer uses: `.<name>.<random>.<tag>`."""
    import secrets  # here: `aura dev status` reads state through this package and writes nothing

    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.{tag}")


def _write_new(temp: Path, data: bytes, *, durable: bool, mode: int | None) -> None:
    # O_EXCL: a temporary name is never shared.  The usual permissions (umask) apply,
    # unlike mkstemp's 0600, unless a mode is given.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else mode)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)
    if mode is not None:
        os.chmod(temp, mode)


def write_atomic(path: Path, data: str | bytes, *, durable: bool = True, keep_mode: bool = True,
                 mode: int | None = None) -> None:
    """Replace `path` with `data` atomically.

    `durable=False` skips the fsync: for files rewritten many times a second whose loss in
    a power cut means nothing (the run state of a supervisor that died with the machine).
    `keep_mode` carries an existing file's permissions over to the new one.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None and keep_mode:
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = None
    temp = sibling_temp(path)
    try:
        _write_new(temp, payload, durable=durable, mode=mode)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: Any, *, durable: bool = True) -> None:
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True), durable=durable)


def write_if_changed(path: Path, text: str) -> bool:
    """Write `text` atomically unless the file already holds it; True if it was written.
    (A running daprd watches its resource files: an unchanged file must not be touched.)"""
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    write_atomic(path, text)
    return True


def create_exclusive(path: Path, data: str | bytes) -> None:
    """Create `path` whole or not at all, never over a file that exists: the content is
    written beside it and hard-linked into place (link fails if the name is taken)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    temp = sibling_temp(path)
    try:
        _write_new(temp, payload, durable=True, mode=None)
        os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)
