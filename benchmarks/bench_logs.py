"""Log pipeline throughput: 4 services each writing 250,000 lines as fast as they can.

Three ways side by side, interleaved and repeated: the raw processes writing to /dev/null
(the floor), `honcho start` on the same commands, and `aura dev up` in the foreground
with its output sent to a file.  Each writer ends with a `<name> DONE` line and then
sleeps, so that no runner's "one exit stops all" cuts the run short; a method is done
when every DONE line reached its output (and, for aura, its log store), watched by
reading only the new bytes of those files.  Every line is counted afterwards, untimed.
Also measures `aura dev logs --grep` and `--since` over a 1 GB log folder.

    python benchmarks/bench_logs.py [--lines 250000] [--services 4] [--repeat 3] [--gb 1]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from _common import aura, machine, median, save, table, wait_until

WRITER = textwrap.dedent("""\
    import sys, time
    name, count, hold = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "hold"
    write = sys.stdout.write
    for i in range(count):
        write(f"{name} line {i} level=info the quick brown fox jumps over the lazy dog\\n")
    write(f"{name} DONE\\n")
    sys.stdout.flush()
    if hold:
        time.sleep(3600)
    """)
DONE = b" DONE\n"


def cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def count_marker(path: Path, marker: bytes = b" line ") -> int:
    """Occurrences of `marker`, including those that straddle two read blocks."""
    total, carry = 0, b""
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            data = carry + block
            total += data.count(marker)
            carry = data[-(len(marker) - 1):]  # too short to hold a whole marker
    return total


class DoneWatcher:
    """Counts DONE lines in growing files, reading only their new bytes."""

    def __init__(self, files: list[Path] | None = None, glob: tuple[Path, str] | None = None) -> None:
        self.files = files or []
        self.glob = glob
        self.offsets: dict[Path, int] = {}
        self.carry: dict[Path, bytes] = {}
        self.found = 0

    def count(self) -> int:
        files = sorted(self.glob[0].glob(self.glob[1])) if self.glob else self.files
        for path in files:
            try:
                with path.open("rb") as handle:
                    handle.seek(self.offsets.get(path, 0))
                    new = handle.read()
            except FileNotFoundError:
                continue
            data = self.carry.get(path, b"") + new
            self.found += data.count(DONE)
            self.carry[path] = data[-(len(DONE) - 1):]
            self.offsets[path] = self.offsets.get(path, 0) + len(new)
        return self.found


def run_raw(work: Path, services: int, lines: int) -> tuple[float, float]:
    before = cpu_children()
    start = time.monotonic()
    procs = [subprocess.Popen([sys.executable, "-u", "writer.py", f"svc{i}", str(lines), "exit"], cwd=work,
                              stdout=subprocess.DEVNULL) for i in range(services)]
    for proc in procs:
        proc.wait()
    return time.monotonic() - start, cpu_children() - before


def run_honcho(work: Path, services: int, lines: int) -> tuple[float, float, int]:
    (work / "Procfile").write_text("".join(f"svc{i}: {sys.executable} -u writer.py svc{i} {lines} hold\n"
                                           for i in range(services)))
    out = work / "honcho.out"
    honcho = shutil.which("honcho") or str(Path(sys.executable).parent / "honcho")
    watcher = DoneWatcher([out])
    before = cpu_children()
    start = time.monotonic()
    with out.open("wb") as sink:
        proc = subprocess.Popen([honcho, "start"], cwd=work, stdout=sink, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        wait_until(lambda: watcher.count() >= services, timeout=900, interval=0.05)
        elapsed = time.monotonic() - start
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()
    return elapsed, cpu_children() - before, count_marker(out)


def aura_workspace(work: Path, services: int, lines: int) -> Path:
    root = work / "ws"
    root.mkdir(exist_ok=True)
    shutil.copy(work / "writer.py", root / "writer.py")
    body = ["name: logbench", "infra:", "  redis: {enabled: false}", "  placement: {enabled: false}",
            "  scheduler: {enabled: false}", "services:"]
    for i in range(services):
        body += [f"  svc{i}:", "    path: .", f"    command: [python3, -u, writer.py, svc{i}, '{lines}', hold]",
                 "    appPort: null", "    dapr: {enabled: false}", "    reload: false"]
    (root / "aura.yaml").write_text("\n".join(body) + "\n")
    return root


def run_aura(work: Path, services: int, lines: int) -> tuple[float, float, int, int]:
    root = aura_workspace(work, services, lines)
    shutil.rmtree(root / ".aura", ignore_errors=True)
    out = work / "aura.out"
    shown = DoneWatcher([out])
    stored = DoneWatcher(glob=(root / ".aura" / "logs" / "services", "*/*.log"))
    before = cpu_children()
    start = time.monotonic()
    with out.open("wb") as sink:
        proc = subprocess.Popen([aura(), "dev", "up", "-w", str(root)], stdout=sink, stderr=subprocess.STDOUT,
                                env=dict(os.environ, NO_COLOR="1"))
    try:
        wait_until(lambda: shown.count() >= services and stored.count() >= services, timeout=900, interval=0.05)
        elapsed = time.monotonic() - start
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    in_store = sum(count_marker(p) for p in (root / ".aura" / "logs" / "services").glob("*/*.log"))
    return elapsed, cpu_children() - before, count_marker(out), in_store


def bench_pipeline(args: argparse.Namespace, work: Path) -> str:
    (work / "writer.py").write_text(WRITER)
    results: dict[str, list[tuple[float, float]]] = {"raw": [], "aura": [], "honcho": []}
    counts: dict[str, tuple[int, ...]] = {}
    for _ in range(args.repeat):  # interleaved, so that load changes hit every method alike
        results["raw"].append(run_raw(work, args.services, args.lines))
        wall, cpu, shown, stored = run_aura(work, args.services, args.lines)
        results["aura"].append((wall, cpu))
        counts["aura"] = (shown, stored)
        if not args.skip_honcho:
            wall, cpu, shown = run_honcho(work, args.services, args.lines)
            results["honcho"].append((wall, cpu))
            counts["honcho"] = (shown,)
    raw = median([r[0] for r in results["raw"]])
    total = args.services * args.lines
    rows = []
    for name, runs in results.items():
        if runs:
            wall, cpu = median([r[0] for r in runs]), median([r[1] for r in runs])
            rows.append([name, wall, cpu, f"{total / wall / 1000:.0f}k", f"{wall / raw:.2f}×"])
    lines = [f"### Log pipeline: {args.services} services × {args.lines:,} lines, {args.repeat} runs each "
             f"({machine()})", "", table(["method", "wall s (median)", "CPU s (median)", "lines/s", "vs raw"], rows),
             "", f"aura, last run: {counts['aura'][0]:,} lines in its output, {counts['aura'][1]:,} in .aura/logs "
             f"(expected {total:,} each)"]
    if "honcho" in counts:
        lines.append(f"honcho, last run: {counts['honcho'][0]:,} lines in its output")
    return "\n".join(lines)


def make_big_folder(root: Path, gigabytes: float) -> float:
    """4 services' worth of logs, about `gigabytes` in all, spread over the last hour."""
    (root / "svc").mkdir(parents=True, exist_ok=True)
    (root / "aura.yaml").write_text("name: big\nservices:\n" + "".join(
        f"  s{i}: {{path: svc, command: [x], appPort: null, dapr: {{enabled: false}}}}\n" for i in range(4)))
    logs = root / ".aura" / "logs" / "services"
    per_service = int(gigabytes * (1 << 30)) // 4
    approx_lines = per_service // 95
    start_us = int((time.time() - 3600) * 1e6)
    for i in range(4):
        folder = logs / f"s{i}"
        folder.mkdir(parents=True, exist_ok=True)
        written, n, number = 0, 0, 1
        while written < per_service:
            parts, size = [], 0
            while size < 16 << 20 and written + size < per_service:
                ts = start_us + n * 3_600_000_000 // approx_lines
                if n % 100_000 == 7:
                    text = f"{ts}\tapp\terr\tERROR payment gateway timeout order={n}\n"
                else:
                    text = f"{ts}\tapp\tout\tINFO served /api/orders/{n} status=200 user=u{n % 997} took={n % 91}ms\n"
                parts.append(text)
                size += len(text)
                n += 1
            (folder / f"{number:08d}.log").write_text("".join(parts))
            written += size
            number += 1
    return sum(p.stat().st_size for p in logs.glob("*/*.log")) / (1 << 30)


def bench_query(args: argparse.Namespace, work: Path) -> str:
    root = work / "big"
    size_gb = make_big_folder(root, args.gb)
    rows = []
    for label, extra in (("--grep 'payment gateway timeout'", ["--grep", "payment gateway timeout"]),
                         ("--level error", ["--level", "error"]),
                         ("--since 5m", ["--since", "5m"]),
                         ("--since 5m --grep 'user=u42 '", ["--since", "5m", "--grep", "user=u42 "]),
                         ("-n 100", ["-n", "100"]),
                         ("s1 --since 30m -n 20", ["s1", "--since", "30m", "-n", "20"])):
        times, printed = [], 0
        for _ in range(args.repeat):
            start = time.monotonic()
            done = subprocess.run([aura(), "dev", "logs", "-w", str(root), *extra], capture_output=True)
            times.append(time.monotonic() - start)
            printed = done.stdout.count(b"\n")
        rows.append([f"`{label}`", median(times), printed])
    started = time.monotonic()
    subprocess.run(["grep", "-c", "payment gateway timeout", "-r", str(root / ".aura" / "logs")], capture_output=True)
    grep_seconds = time.monotonic() - started
    return "\n".join([f"### aura dev logs over {size_gb:.2f} GB (4 services, 1 h of records)", "",
                      table(["query", "seconds (median)", "lines printed"], rows), "",
                      f"for scale: `grep -r` for the same phrase over the folder took {grep_seconds:.2f} s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=250_000)
    parser.add_argument("--services", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--gb", type=float, default=1.0)
    parser.add_argument("--skip-honcho", action="store_true")
    parser.add_argument("--skip-query", action="store_true")
    parser.add_argument("--skip-pipeline", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aura-bench-logs-") as tmp:
        work = Path(tmp)
        report = [] if args.skip_pipeline else [bench_pipeline(args, work)]
        if not args.skip_query:
            report.append(bench_query(args, work))
    text = "\n\n".join(report)
    print(text)
    print(f"\nsaved to {save('logs', text)}")


if __name__ == "__main__":
    main()
