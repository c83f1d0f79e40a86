"""Shared helpers for the benchmarks: timing, tables, tool discovery.

Benchmarks compare aura with a peer or a baseline run side by side in the same session,
as ratios: the machine is shared and noisy, so absolute seconds mean little on their own.
"""

from __future__ import annotations

import compileall
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"


def aura() -> str:
    return shutil.which("aura") or str(Path(sys.executable).parent / "aura")


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.01) -> float:
    """Seconds until `check()` is true (raises after `timeout`)."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"not done after {timeout:g} s")
        time.sleep(interval)
    return time.monotonic() - start


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def cell(value: object) -> str:
        return f"{value:.2f}" if isinstance(value, float) else str(value)
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def save(name: str, text: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.md"
    path.write_text(text + "\n")
    return path


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def machine() -> str:
    load = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {load[0]:.2f} at start, Python {sys.version.split()[0]}"


def run(cmd: Sequence[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]


def precompile() -> None:
    """Byte-compile aura's sources, as installing a wheel does: on a machine with
    PYTHONDONTWRITEBYTECODE set, an editable install would otherwise compile every module
    on every start and the tables would measure the compiler."""
    compileall.compile_dir(str(REPO / "src" / "aura_dev"), quiet=1)
