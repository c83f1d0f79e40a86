"""A small tmpfs of the test's own: a disk that fills up (or turns read-only) on demand."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import require


@contextmanager
def small_tmpfs(folder: Path, size: str = "1m") -> Iterator[Path]:
    require(os.geteuid() == 0 and shutil.which("mount") is not None, "mounting a tmpfs needs root and mount(8)")
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)  # still busy: detach it


def remount(folder: Path, options: str) -> None:
    """`size=8m` (space returns), `ro`, `rw`."""
    subprocess.run(["mount", "-o", f"remount,{options}", str(folder)], check=True)
