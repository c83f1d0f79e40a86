"""Finding and checking the Dapr runtime binaries (daprd, placement, scheduler).

An install lives in `<data dir>/runtime/<version>/`.  A folder counts as installed
only when its marker file exists; the marker is written inside a staging folder
that is renamed into place, so a half-finished install is never found.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from aura_dev.errors import RuntimeNotInstalled
from aura_dev.paths import runtime_root
from aura_dev.versions import DEFAULT_RUNTIME_VERSION

BINARIES = ("daprd", "placement", "scheduler")
MARKER = "aura-runtime.json"


@dataclass(frozen=True)
class RuntimeInstall:
    version: str
    bin_dir: Path
    source: str

    @property
    def daprd(self) -> Path:
        return self.bin_dir / "daprd"

    @property
    def placement(self) -> Path:
        return self.bin_dir / "placement"

    @property
    def scheduler(self) -> Path:
        return self.bin_dir / "scheduler"

    def binary(self, name: str) -> Path:
        return self.bin_dir / name


def normalize_version(version: str) -> str:
    return version[1:] if version.startswith("v") else version


def install_dir(version: str) -> Path:
    return runtime_root() / normalize_version(version)


def binaries_present(folder: Path) -> bool:
    return all(os.access(folder / name, os.X_OK) for name in BINARIES)


def find_installed(version: str = DEFAULT_RUNTIME_VERSION) -> RuntimeInstall | None:
    version = normalize_version(version)
    folder = install_dir(version)
    marker = folder / MARKER
    if not marker.is_file() or not binaries_present(folder):
        return None
    try:
        source = str(json.loads(marker.read_text()).get("source", "unknown"))
    except (OSError, ValueError):
        source = "unknown"
    return RuntimeInstall(version=version, bin_dir=folder, source=source)


def require_runtime(version: str = DEFAULT_RUNTIME_VERSION) -> RuntimeInstall:
    found = find_installed(version)
    if found is None:
        raise RuntimeNotInstalled(
            f"the Dapr runtime {normalize_version(version)} is not installed",
            hint=f"run `aura dev init --runtime-version {normalize_version(version)}`",
        )
    return found


def installed_versions() -> list[str]:
    root = runtime_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / MARKER).is_file() and not p.name.startswith("."))


def binary_version(path: Path, timeout: float = 20.0) -> str | None:
    """What `<binary> --version` prints (its last non-empty line), or None if it cannot run."""
    try:
        done = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = [line.strip() for line in (done.stdout + "\n" + done.stderr).splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        return None
    return lines[-1]
