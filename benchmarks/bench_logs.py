"""Log pipeline throughput: 4 services each writing 250,000 lines as fast as they can.

Side by side, interleaved and repeated: the raw processes writing to /dev/null (the floor),
`honcho start` on the same commands, and `aura dev up` in the foreground with its output
sent to a file.  Two more rows split aura's time: the same writers each piped into `cat`
(what a pipe costs the writers on this machine, with the simplest reader there is), and
aura's log pipeline alone — its process units, event hub, log store and console renderer
in one process, no CLI start-up — so the table shows what is start-up and what is pipeline.

Each writer ends with a `<name> DONE` line, then leaves a marker file and (under a runner)
sleeps, so that no runner's "one exit stops all" cuts the run short.  A runner is done when
every DONE line is in its output (and, for aura, in its log store).  Watching must not
steal the CPU it measures: until every writer has left its marker the watcher only stats
four files; then it searches the outputs backwards from their ends.  Every line is counted
afterwards, untimed.  Also measures `aura dev logs --grep` and `--since` over a 1 GB folder.

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
from collections.abc import Callable
from pathlib import Path

from _common import aura, machine, median, precompile, save, table, wait_until

WRITER = textwrap.dedent("""\
    import sys, time
    name, count, hold, markers = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "hold", sys.argv[4]
    write = sys.stdout.write
    for i in range(count):
        write(f"{name} line {i} level=info the quick brown fox jumps over the lazy dog\\n")
    write(f"{name} DONE\\n")
    sys.stdout.flush()
    open(f"{markers}/{name}.done", "w").close()
    if hold:
        time.sleep(3600)
    """)

# aura's pipeline without its CLI: the classes `aura dev up` wires together, in one process.
PIPELINE_ONLY = textwrap.dedent("""\
    import asyncio, os, sys
    from pathlib import Path
    from aura_dev.engine.events import EventHub
    from aura_dev.logs.record import Source, UnitRef
    from aura_dev.logs.render import ConsoleRenderer
    from aura_dev.logs.store import LogStore
    from aura_dev.units.process import ProcessUnit

    async def main(work, services, lines):
        store = LogStore(work / "pipeline" / "logs", max_file_size=16 << 20, max_total_size=16 << 30)
        names = [f"svc{i}" for i in range(services)]
        with open(work / "pipeline.out", "wb") as out:
            hub = EventHub(store, ConsoleRenderer(out.write, colour=False, labels=names, flush=out.flush))
            units = [ProcessUnit(UnitRef(name, Source.APP),
                                 [sys.executable, "-u", "writer.py", name, str(lines), "exit", str(work)],
                                 env=dict(os.environ), cwd=work, sink=hub.chunk) for name in names]
            for unit in units:
                await unit.start()
            for unit in units:
                await unit.wait()
            hub.flush()
        store.close()

    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
    """)


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


def read_region(path: Path, start: int, end: int) -> bytes:
    try:
        with path.open("rb") as handle:
            handle.seek(start)
            return handle.read(end - start)
    except FileNotFoundError:
        return b""


Files = Callable[[], list[Path]]  # an output: its files, listed afresh at every look (rotation adds some)


class DoneWatcher:
    """Done when each output holds the DONE line of every writer it shows.

    Cheap enough not to steal the CPU it measures: until a writer leaves its marker nothing
    is read (four stats a poll); a writer's DONE line can only be in bytes written after the
    poll before its marker appeared, so only those bytes are searched, and each search goes
    on where the last one ended."""

    def __init__(self, markers: Path, outputs: list[tuple[Files, list[str]]]) -> None:
        self.markers = markers
        self.outputs = outputs
        self.pending = [(index, name) for index, (_files, names) in enumerate(outputs) for name in names]
        self.previous: dict[int, dict[Path, int]] = {}  # each output's file sizes at the previous poll
        self.search_from: dict[tuple[int, str], dict[Path, int]] = {}

    def done(self) -> bool:
        sizes = {index: {path: path.stat().st_size for path in files() if path.exists()}
                 for index, (files, _names) in enumerate(self.outputs)}
        waiting = []
        for index, name in self.pending:
            needle = f"{name} DONE\n".encode()
            key = (index, name)
            if key not in self.search_from:
                if not (self.markers / f"{name}.done").exists():
                    waiting.append(key)
                    continue
                self.search_from[key] = self.previous.get(index, {})
            start = self.search_from[key]
            now = sizes[index]
            if any(needle in read_region(path, max(0, start.get(path, 0) - len(needle) + 1), size)
                   for path, size in now.items() if size > start.get(path, 0)):
                continue
            self.search_from[key] = now
            waiting.append(key)
        self.previous = sizes
        self.pending = waiting
        return not waiting


def clear_markers(work: Path) -> None:
    for marker in work.glob("*.done"):
        marker.unlink()


def run_raw(work: Path, services: int, lines: int) -> tuple[float, float]:
    clear_markers(work)
    before = cpu_children()
    start = time.monotonic()
    procs = [subprocess.Popen([sys.executable, "-u", "writer.py", f"svc{i}", str(lines), "exit", str(work)],
                              cwd=work, stdout=subprocess.DEVNULL) for i in range(services)]
    for proc in procs:
        proc.wait()
    return time.monotonic() - start, cpu_children() - before


def run_cat(work: Path, services: int, lines: int) -> tuple[float, float]:
    """The writers each piped into `cat > /dev/null`: the pipe's cost with the plainest reader."""
    clear_markers(work)
    script = " & ".join(f"{sys.executable} -u writer.py svc{i} {lines} exit {work} | cat > /dev/null"
                        for i in range(services)) + " & wait"
    before = cpu_children()
    start = time.monotonic()
    subprocess.run(["bash", "-c", script], cwd=work, check=True)
    return time.monotonic() - start, cpu_children() - before


def run_pipeline_only(work: Path, services: int, lines: int) -> tuple[float, float, int, int]:
    clear_markers(work)
    shutil.rmtree(work / "pipeline", ignore_errors=True)
    (work / "pipeline_only.py").write_text(PIPELINE_ONLY)
    before = cpu_children()
    start = time.monotonic()
    subprocess.run([sys.executable, "pipeline_only.py", str(work), str(services), str(lines)], cwd=work, check=True)
    elapsed = time.monotonic() - start
    stored = sum(count_marker(p) for p in (work / "pipeline" / "logs" / "services").glob("*/*.log"))
    return elapsed, cpu_children() - before, count_marker(work / "pipeline.out"), stored


def run_honcho(work: Path, services: int, lines: int) -> tuple[float, float, int]:
    clear_markers(work)
    (work / "Procfile").write_text("".join(f"svc{i}: {sys.executable} -u writer.py svc{i} {lines} hold {work}\n"
                                           for i in range(services)))
    out = work / "honcho.out"
    watcher = DoneWatcher(work, [(lambda: [out], [f"svc{i}" for i in range(services)])])
    honcho = shutil.which("honcho") or str(Path(sys.executable).parent / "honcho")
    before = cpu_children()
    start = time.monotonic()
    with out.open("wb") as sink:
        proc = subprocess.Popen([honcho, "start"], cwd=work, stdout=sink, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        wait_until(watcher.done, timeout=900, interval=0.005)
        elapsed = time.monotonic() - start
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()
    return elapsed, cpu_children() - before, count_marker(out)


def aura_workspace(work: Path, services: int, lines: int) -> Path:
    root = work / "ws"
    root.mkdir(exist_ok=True)
    shutil.copy(work / "writer.py", root / "writer.py")
    # a total cap above what the run writes, so that every line stays in the store to be counted
    body = ["name: logbench", "logs: {maxTotalSize: 16GiB}", "infra:", "  redis: {enabled: false}",
            "  placement: {enabled: false}", "  scheduler: {enabled: false}", "services:"]
    for i in range(services):
        body += [f"  svc{i}:", "    path: .",
                 f"    command: [python3, -u, writer.py, svc{i}, '{lines}', hold, '{work}']",
                 "    appPort: null", "    dapr: {enabled: false}", "    reload: false"]
    (root / "aura.yaml").write_text("\n".join(body) + "\n")
    return root


def store_segments(root: Path, name: str) -> Files:
    return lambda: sorted((root / ".aura" / "logs" / "services" / name).glob("*.log"))


def run_aura(work: Path, services: int, lines: int) -> tuple[float, float, int, int]:
    clear_markers(work)
    root = aura_workspace(work, services, lines)
    shutil.rmtree(root / ".aura", ignore_errors=True)
    out = work / "aura.out"
    names = [f"svc{i}" for i in range(services)]
    outputs: list[tuple[Files, list[str]]] = [(lambda: [out], names)]
    outputs += [(store_segments(root, name), [name]) for name in names]
    watcher = DoneWatcher(work, outputs)
    before = cpu_children()
    start = time.monotonic()
    with out.open("wb") as sink:
        proc = subprocess.Popen([aura(), "dev", "up", "-w", str(root)], stdout=sink, stderr=subprocess.STDOUT,
                                env=dict(os.environ, NO_COLOR="1"))
    try:
        wait_until(watcher.done, timeout=900, interval=0.005)
        elapsed = time.monotonic() - start
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    in_store = sum(count_marker(p) for p in (root / ".aura" / "logs" / "services").glob("*/*.log"))
    return elapsed, cpu_children() - before, count_marker(out), in_store


def bench_pipeline(args: argparse.Namespace, work: Path) -> str:
    precompile()
    (work / "writer.py").write_text(WRITER)
    methods = ["raw", "cat", "aura pipeline only", "aura dev up"] + ([] if args.skip_honcho else ["honcho"])
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in methods}
    counts: dict[str, tuple[int, ...]] = {}
    for _ in range(args.repeat):  # interleaved, so that load changes hit every method alike
        results["raw"].append(run_raw(work, args.services, args.lines))
        results["cat"].append(run_cat(work, args.services, args.lines))
        wall, cpu, shown, stored = run_pipeline_only(work, args.services, args.lines)
        results["aura pipeline only"].append((wall, cpu))
        counts["aura pipeline only"] = (shown, stored)
        wall, cpu, shown, stored = run_aura(work, args.services, args.lines)
        results["aura dev up"].append((wall, cpu))
        counts["aura dev up"] = (shown, stored)
        if not args.skip_honcho:
            wall, cpu, shown = run_honcho(work, args.services, args.lines)
            results["honcho"].append((wall, cpu))
            counts["honcho"] = (shown,)
    raw = median([r[0] for r in results["raw"]])
    total = args.services * args.lines
    rows = []
    for name, runs in results.items():
        wall, cpu = median([r[0] for r in runs]), median([r[1] for r in runs])
        ratios = sorted(r[0] / raw for r in runs)
        rows.append([name, wall, cpu, f"{total / wall / 1000:.0f}k", f"{wall / raw:.2f}×",
                     f"{ratios[0]:.2f}–{ratios[-1]:.2f}×"])
    lines = [f"### Log pipeline: {args.services} services × {args.lines:,} lines, {args.repeat} runs each "
             f"({machine()})", "",
             table(["method", "wall s (median)", "CPU s (median)", "lines/s", "vs raw", "range vs raw median"], rows),
             ""]
    for name in ("aura dev up", "aura pipeline only"):
        shown, stored = counts[name]
        lines.append(f"{name}, last run: {shown:,} lines in its output, {stored:,} in its log store "
                     f"(expected {total:,} each)")
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
