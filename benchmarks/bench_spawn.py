"""What it costs to give every unit a parent-death signal (so that it ends with a
supervisor killed -9), per spawn, measured the way aura spawns (asyncio, own session,
pipes) from a process with a supervisor-sized heap, interleaved:

- plain: what aura did before;
- `setpriv --pdeathsig TERM --` (util-linux): an extra exec — what aura does now;
- `preexec_fn` calling prctl(PR_SET_PDEATHSIG): Python code between fork and exec, which
  also rules out the fast vfork path (and is unsafe with threads).

For `true` (the bare cost) and for `python -c pass` (a unit that is a real program).

    python benchmarks/bench_spawn.py [--rounds 15] [--spawns 20]
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import shutil
import signal
import sys
import time
from typing import Any

from _common import machine, median, save, table

PR_SET_PDEATHSIG = 1


def prctl_pdeathsig() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


async def spawn(argv: list[str], **extra: Any) -> None:
    proc = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.DEVNULL,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                                                start_new_session=True, **extra)
    await proc.communicate()


async def measure(rounds: int, spawns: int) -> dict[tuple[str, str], list[float]]:
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is needed"
    programs = {"true": [shutil.which("true") or "/bin/true"], "python -c pass": [sys.executable, "-c", "pass"]}
    ways: dict[str, tuple[list[str], dict[str, Any]]] = {
        "plain": ([], {}), "setpriv --pdeathsig": ([setpriv, "--pdeathsig", "TERM", "--"], {}),
        "preexec_fn prctl": ([], {"preexec_fn": prctl_pdeathsig}),
    }
    heap = [bytearray(1 << 20) for _ in range(80)]  # a supervisor's ~80 MB: fork copies its page tables
    results: dict[tuple[str, str], list[float]] = {(p, w): [] for p in programs for w in ways}
    for _ in range(rounds):
        for program, argv in programs.items():
            for way, (prefix, extra) in ways.items():
                began = time.perf_counter()
                for _ in range(spawns):
                    await spawn(prefix + argv, **extra)
                results[(program, way)].append((time.perf_counter() - began) / spawns * 1000)
    del heap
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--spawns", type=int, default=20)
    args = parser.parse_args()
    results = asyncio.run(measure(args.rounds, args.spawns))
    rows = []
    for (program, way), values in results.items():
        plain = median(results[(program, "plain")])
        rows.append([program, way, median(values), f"{min(values):.2f}–{max(values):.2f}",
                     f"{median(values) / plain:.2f}×", f"+{median(values) - plain:.2f}"])
    text = "\n".join([f"# spawn cost of a parent-death signal ({args.rounds} rounds × {args.spawns} spawns, "
                      f"interleaved; {machine()})", "",
                      table(["program", "spawned", "median ms", "range ms", "vs plain", "extra ms"], rows)])
    print(text)
    print(f"saved to {save('spawn', text)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
