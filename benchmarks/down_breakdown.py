"""Where the time of one `aura dev down` goes: when each unit's process exits (held by a
pidfd from outside, so nothing in aura is instrumented), when the supervisor's run files
are gone and its process has exited, and when `down` returns — in seconds since `down`
was launched, per stage (apps, sidecars, each infra unit), over a few rounds.

A generated workspace of N trivial services (as `bench_up.py` builds it, native infra)
and the sample; each round is `aura dev up -d`, then the measured `down` at once (as
`bench_up.py` does it: the stack has just settled).

    python benchmarks/down_breakdown.py [--services 10] [--rounds 3] [--skip-sample] [--settle S] [--aura CMD]
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from _common import REPO, aura, machine
from bench_up import aura_workspace, generated

INFRA = ("redis", "placement", "scheduler", "zipkin")
RELOAD = os.environ.get("BREAKDOWN_RELOAD") == "1"  # live reload on (its standbys), as bench_up.py runs aura


def watch(pids: dict[str, int], run_dir: Path, began: list[float], seen: dict[str, float]) -> None:
    """Record when each process exits and when the run files go, until all have."""
    fds: dict[int, str] = {}
    for label, pid in pids.items():
        try:
            fds[os.pidfd_open(pid)] = label
        except OSError:
            seen[label] = 0.0  # gone before `down` started
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN)
    files = {"state.json gone": run_dir / "state.json", "control socket gone": run_dir / "control.sock"}
    while fds or files:
        for fd, _ in poller.poll(5):
            seen[fds.pop(fd)] = time.monotonic() - began[0]
            poller.unregister(fd)
            os.close(fd)
        for name, path in list(files.items()):
            if began and not path.exists():
                seen[name] = time.monotonic() - began[0]
                del files[name]


def one_round(command: str, root: Path, settle: float) -> dict[str, float]:
    shutil.rmtree(root / ".aura", ignore_errors=True)
    subprocess.run([command, "dev", "up", "-d", *([] if RELOAD else ["--no-reload"]), "-w", str(root)], check=True,
                   capture_output=True)
    time.sleep(settle)
    state = json.loads((root / ".aura" / "run" / "state.json").read_text())
    pids = {label: unit["pid"] for label, unit in state["units"].items() if unit.get("pid")}
    pids["supervisor"] = state["supervisor"]["pid"]
    began: list[float] = []
    seen: dict[str, float] = {}
    watcher = threading.Thread(target=watch, args=(pids, root / ".aura" / "run", began, seen), daemon=True)
    began.append(time.monotonic())
    watcher.start()
    subprocess.run([command, "dev", "down", "-w", str(root)], check=True, capture_output=True)
    returned = time.monotonic() - began[0]
    watcher.join(30)
    stages: dict[str, float] = {"down returned": returned}
    for label, at in seen.items():
        unit = state["units"].get(label, {})
        stage = label if label in INFRA or label == "supervisor" or "gone" in label else f"{unit.get('source')}s"
        if stage in ("apps", "sidecars"):
            stages[f"{stage} (first)"] = min(at, stages.get(f"{stage} (first)", float("inf")))
            stages[f"{stage} (last)"] = max(at, stages.get(f"{stage} (last)", 0.0))
        else:
            stages[stage] = at
    return stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-sample", action="store_true")
    parser.add_argument("--aura", default=None, help="the `aura` command to measure (default: this checkout's)")
    parser.add_argument("--settle", type=float, default=0.0,
                        help="seconds between `up -d` returning and `down` (0: at once, as bench_up.py does)")
    args = parser.parse_args()
    command = args.aura or aura()
    print(f"machine: {machine()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="aura-down-breakdown-") as tmp:
        work = Path(tmp)
        cases = []
        if not args.skip_sample:
            sample = work / "sample"
            shutil.copytree(REPO / "sample-workspace", sample, ignore=shutil.ignore_patterns(".aura", "node_modules"))
            (sample / "services/notifications/node_modules").symlink_to(
                REPO / "sample-workspace/services/notifications/node_modules")
            cases.append(("sample", sample))
        root = work / f"gen{args.services}"
        root.mkdir()
        cases.append((f"{args.services} trivial", aura_workspace(root, generated(root, args.services))))
        for label, root in cases:
            rounds = [one_round(command, root, args.settle) for _ in range(args.rounds)]
            keys = sorted({k for r in rounds for k in r}, key=lambda k: statistics.median(r.get(k, 0) for r in rounds))
            print(f"\n{label}: seconds since `aura dev down` was launched, median (min–max) of {args.rounds}")
            for key in keys:
                values = [r[key] for r in rounds if key in r]
                print(f"  {key:24s} {statistics.median(values):.3f} ({min(values):.3f}–{max(values):.3f})")
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
