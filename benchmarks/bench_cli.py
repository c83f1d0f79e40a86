"""How fast the commands people run all the time answer: `aura --help`, `aura dev status`,
`aura dev logs -n 20`, `aura dev config`.

Side by side with the floor (`python -c pass`: an interpreter that starts and does nothing)
and with the same commands through the typer application (what every command cost before
the fast path, `cli/fast.py`).  Everything is interleaved round by round against the sample
workspace running under `aura dev up --detach` (native infra), so status has a real stack to
read and logs real lines.  `config` is measured twice: answered from its remembered answer,
and right after `aura.yaml` changed (a comment line, new each round), when it validates.

    python benchmarks/bench_cli.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, aura, machine, median, precompile, save, table

TYPER = "import sys; from aura_dev.cli.app import main; sys.argv[0] = 'aura'; main()"


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - started
    if done.returncode not in (0,):
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    options = parser.parse_args()
    precompile()
    scratch = Path(tempfile.mkdtemp(prefix="aura-bench-cli-"))
    root = scratch / "ws"
    sys.path.insert(0, str(REPO / "tests"))
    from support.stack import SAMPLE, copy_workspace, use_backend

    copy_workspace(SAMPLE, root)
    use_backend(root, "native")
    env = {**os.environ, "AURA_CACHE_DIR": str(scratch / "cache"), "NO_COLOR": "1"}
    up = subprocess.run([aura(), "dev", "up", "--detach", "-w", str(root)], env=env, capture_output=True, text=True)
    if up.returncode != 0:
        raise SystemExit(f"the sample did not start:\n{up.stdout}{up.stderr}")
    text = (root / "aura.yaml").read_text()
    rows: dict[str, tuple[str, list[str], bool]] = {
        "floor: `python -c pass`": ("floor", [sys.executable, "-c", "pass"], False),
        "`aura --help`": ("aura", [aura(), "--help"], False),
        "`aura dev status`": ("aura", [aura(), "dev", "status"], False),
        "`aura dev logs -n 20`": ("aura", [aura(), "dev", "logs", "-n", "20"], False),
        "`aura dev config`": ("aura", [aura(), "dev", "config"], False),
        "`aura dev config`, aura.yaml just changed": ("aura", [aura(), "dev", "config"], True),
        "typer: `aura --help`": ("typer", [sys.executable, "-c", TYPER, "--help"], False),
        "typer: `aura dev status`": ("typer", [sys.executable, "-c", TYPER, "dev", "status"], False),
        "typer: `aura dev logs -n 20`": ("typer", [sys.executable, "-c", TYPER, "dev", "logs", "-n", "20"], False),
        "typer: `aura dev config`": ("typer", [sys.executable, "-c", TYPER, "dev", "config"], False),
    }
    times: dict[str, list[float]] = {name: [] for name in rows}
    load = machine()
    try:
        for argv in ([aura(), "--help"], [aura(), "dev", "config"]):  # remembered before the rounds
            timed(argv, root, env)
        for round_number in range(options.rounds):
            for name, (_kind, argv, edit) in rows.items():
                if edit:
                    (root / "aura.yaml").write_text(text + f"# round {round_number}\n")
                times[name].append(timed(argv, root, env))
                if edit:
                    (root / "aura.yaml").write_text(text)
    finally:
        subprocess.run([aura(), "dev", "down", "-w", str(root)], env=env, capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)
    floor = median(times["floor: `python -c pass`"])
    result = [
        (name, f"{median(values) * 1000:.0f} ms", f"{min(values) * 1000:.0f}–{max(values) * 1000:.0f} ms",
         f"{median(values) / floor:.1f}×")
        for name, values in times.items()
    ]
    report = "\n".join([
        f"# CLI latency ({options.rounds} rounds, interleaved; {load})", "",
        table(["command", "median", "range", "vs floor"], result), "",
        "typer rows: the same command through the typer application, as every command ran before the fast path.",
    ])
    print(report)
    print(f"\nsaved to {save('bench_cli', report)}")


if __name__ == "__main__":
    main()
