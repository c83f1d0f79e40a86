"""The dashboard's costs and speeds, measured side by side in one run (medians, ranges,
ratios against a floor or the same stack without the dashboard):

- up: `aura dev up -d` of 10 trivial services (each with its daprd) with the dashboard on
  and off, interleaved — the dashboard must not slow the start (it is imported after it).
- page load: a 30-service stack (93 units); Chromium loads the units page until every row is
  painted; the floor is the same rendered table as a static file (no script, no request).
- state change to DOM: with the page open, apps restarted one by one; every state change
  from the supervisor's StateChange (its wall clock) to the row being redrawn (p50/p95).
- idle CPU of the supervisor with 10 services: dashboard off, on with no page, on with the
  units page open (target ≤ 1 %).
- log throughput into an open page: 4 services × 250,000 lines (benchmarks/bench_logs.py's
  writers) through `aura dev up` in the foreground, until every line is in the log store:
  dashboard off (aura's own rate), on, and on with the logs page following every unit; what
  the page showed and counted as not shown.

    python benchmarks/bench_dashboard.py [--repeat 3] [--lines 250000] [--skip-up] [--skip-logs]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

from _common import REPO, aura, machine, median, percentile, precompile, save, table, wait_until
from bench_logs import WRITER, DoneWatcher, aura_workspace as log_workspace, clear_markers, count_marker, store_segments
from bench_up import aura_workspace as up_workspace, generated

sys.path.insert(0, str(REPO / "tests"))
from support.browser import chromium  # noqa: E402

# bench_logs' writer, held back until the page is open: the run starts at the `go` file.
GATED_WRITER = "import os\n" + WRITER.replace(
    "write = sys.stdout.write\n", 'while not os.path.exists(f"{markers}/go"):\n    time.sleep(0.01)\nwrite = sys.stdout.write\n', 1)


def set_dashboard(root: Path, enabled: bool) -> None:
    path = root / "aura.yaml"
    text = "\n".join(line for line in path.read_text().splitlines() if not line.startswith("dashboard:"))
    path.write_text(text + f"\ndashboard: {{enabled: {'true' if enabled else 'false'}}}\n")


def up(root: Path) -> float:
    start = time.monotonic()
    done = subprocess.run([aura(), "dev", "up", "-d", "--no-reload", "-w", str(root)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stdout[-2000:] + done.stderr[-2000:])
    return time.monotonic() - start


def down(root: Path) -> None:
    subprocess.run([aura(), "dev", "down", "-w", str(root)], capture_output=True, check=True)


def login(root: Path) -> str:
    done = subprocess.run([aura(), "dev", "dashboard", "--no-open", "-w", str(root)], capture_output=True, text=True,
                          check=True)
    return done.stdout.strip()


def supervisor(root: Path) -> psutil.Process:
    state = json.loads((root / ".aura" / "run" / "state.json").read_text())
    return psutil.Process(state["supervisor"]["pid"])


@contextmanager
def running(root: Path) -> Iterator[None]:
    up(root)
    try:
        yield
    finally:
        down(root)


def spread(values: list[float], scale: float = 1.0, unit: str = "") -> str:
    return f"{median(values) * scale:.0f}{unit} ({min(values) * scale:.0f}–{max(values) * scale:.0f})"


# ------------------------------------------------------------------ up, with and without


def bench_up(work: Path, repeat: int) -> str:
    root = work / "up10"
    root.mkdir()
    up_workspace(root, generated(root, 10))
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(repeat):
        for enabled in (False, True):
            set_dashboard(root, enabled)
            shutil.rmtree(root / ".aura" / "run", ignore_errors=True)
            times[enabled].append(up(root))
            down(root)
    ratios = sorted(on / off for on, off in zip(times[True], times[False]))
    return "\n".join([
        "#### `aura dev up -d`, 10 trivial services with their sidecars", "",
        table(["dashboard", "up s (median)", "range s"],
              [["off", median(times[False]), f"{min(times[False]):.2f}–{max(times[False]):.2f}"],
               ["on", median(times[True]), f"{min(times[True]):.2f}–{max(times[True]):.2f}"]]), "",
        f"on / off: {median(times[True]) / median(times[False]):.2f}× (pairs {ratios[0]:.2f}–{ratios[-1]:.2f}×)"])


# ------------------------------------------------------------------ page load and state → DOM


ROWS_PAINTED = """() => new Promise(resolve => {
  const want = %d;
  const check = () => document.querySelectorAll('tr.unit').length >= want
      ? requestAnimationFrame(() => resolve(performance.now())) : requestAnimationFrame(check);
  check();
})"""


def bench_page(work: Path, repeat: int) -> str:
    root = work / "page30"
    root.mkdir()
    up_workspace(root, generated(root, 30))
    rows: list[list[Any]] = []
    with running(root), chromium() as context:
        units = len(json.loads(subprocess.run([aura(), "dev", "status", "--json", "-w", str(root)],
                                              capture_output=True, text=True).stdout)["units"])
        page = context.new_page()
        page.goto(login(root))
        base = page.url.split("?")[0]
        loads, floors, fcp = [], [], []
        static = work / "static-units.html"
        for attempt in range(repeat * 3 + 1):
            page.goto(base)
            painted = page.evaluate(ROWS_PAINTED % units)
            paint = page.evaluate("() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime")
            if attempt == 0:  # a warm-up load; its page is the floor's static copy
                css = (REPO / "src/aura_dev/dashboard/static/dashboard.css").read_text()
                html = page.evaluate("() => document.documentElement.outerHTML")
                html = html.replace('<link rel="stylesheet" href="/static/dashboard.css">', f"<style>{css}</style>")
                while "<script" in html:
                    start = html.index("<script")
                    html = html[:start] + html[html.index("</script>", start) + 9:]
                static.write_text("<!doctype html>" + html)
                continue
            loads.append(painted)
            fcp.append(paint or 0.0)
            page.goto(static.as_uri())
            floors.append(page.evaluate(ROWS_PAINTED % units))
        rows.append([f"units page, {units} units", spread(loads, unit=" ms"), spread(fcp, unit=" ms"),
                     spread(floors, unit=" ms"), f"{median(loads) / median(floors):.1f}×"])

        page.goto(base)
        page.evaluate(ROWS_PAINTED % units)
        page.evaluate("() => { aura.timings.length = 0; }")
        names = [f"s{i:02d}" for i in range(30)]
        for name in names[: max(6, repeat * 4)]:
            subprocess.run([aura(), "dev", "restart", name, "--app", "-w", str(root)], capture_output=True, check=True)
        time.sleep(0.5)
        timings = page.evaluate("() => aura.timings")
    latency = [t * 1000 for t in timings]
    return "\n".join([
        "#### Page load, 30 services (Chromium, warm)", "",
        table(["page", "every row painted, ms", "first contentful paint, ms", "floor: same table as a static file, ms",
               "vs floor"], rows), "",
        f"#### A unit's state change to the DOM, {len(latency)} changes (apps restarted one by one, page open)", "",
        table(["p50 ms", "p95 ms", "max ms"],
              [[f"{percentile(latency, 0.5):.1f}", f"{percentile(latency, 0.95):.1f}", f"{max(latency):.1f}"]])])


# ------------------------------------------------------------------ idle CPU


def cpu_share(proc: psutil.Process, seconds: float) -> float:
    before = proc.cpu_times()
    start = time.monotonic()
    time.sleep(seconds)
    after = proc.cpu_times()
    return ((after.user - before.user) + (after.system - before.system)) / (time.monotonic() - start) * 100


def bench_idle(work: Path, seconds: float, repeat: int) -> str:
    root = work / "idle10"
    root.mkdir()
    up_workspace(root, generated(root, 10))
    shares: dict[str, list[float]] = {"off": [], "on, no page open": [], "on, units page open": [],
                                      "on, logs page open": []}
    for _ in range(repeat):  # interleaved: the machine's load moves
        for enabled in (False, True):
            set_dashboard(root, enabled)
            with running(root):
                proc = supervisor(root)
                time.sleep(2.0)  # after the start's own work
                if not enabled:
                    shares["off"].append(cpu_share(proc, seconds))
                    continue
                shares["on, no page open"].append(cpu_share(proc, seconds))
                with chromium() as context:
                    page = context.new_page()
                    page.goto(login(root))
                    for label, path in (("on, units page open", ""), ("on, logs page open", "logs")):
                        page.goto(page.url.split("?")[0] + path)
                        page.wait_for_selector("#conn[data-state='live']")
                        time.sleep(1.0)
                        shares[label].append(cpu_share(proc, seconds))
    off = median(shares["off"])
    rows = [[label, f"{median(values):.2f} % ({min(values):.2f}–{max(values):.2f})",
             f"{median(values) - off:+.2f}"] for label, values in shares.items()]
    return "\n".join([f"#### Supervisor CPU, idle, 10 services, {repeat} × {seconds:g} s each, interleaved", "",
                      table(["dashboard", "supervisor CPU (median, range)", "vs off, points"], rows)])


# ------------------------------------------------------------------ log throughput into an open page


def log_run(work: Path, services: int, lines: int, mode: str) -> dict[str, Any]:
    clear_markers(work)
    (work / "go").unlink(missing_ok=True)
    root = log_workspace(work, services, lines)
    set_dashboard(root, mode != "off")
    shutil.rmtree(root / ".aura", ignore_errors=True)
    out = work / "aura.out"
    names = [f"svc{i}" for i in range(services)]
    watcher = DoneWatcher(work, [(lambda: [out], names)] + [(store_segments(root, n), [n]) for n in names])
    with out.open("wb") as sink:
        proc = subprocess.Popen([aura(), "dev", "up", "-w", str(root)], stdout=sink, stderr=subprocess.STDOUT,
                                env=dict(os.environ, NO_COLOR="1"))
    result: dict[str, Any] = {}
    try:
        wait_until(lambda: (root / ".aura" / "run" / "state.json").exists() and "services ready" in out.read_text(
            errors="replace"), timeout=120)
        sup = supervisor(root)
        with chromium() if mode in ("units", "page") else _nothing() as context:
            page = None
            if context is not None:
                page = context.new_page()
                page.goto(login(root))
                if mode == "page":
                    page.goto(page.url.split("?")[0] + "logs")
                page.wait_for_selector("#conn[data-state='live']")
            cpu_before = sup.cpu_times()
            start = time.monotonic()
            (work / "go").write_text("")
            wait_until(watcher.done, timeout=900, interval=0.005)
            done_at = time.time()
            result["wall"] = time.monotonic() - start
            after = sup.cpu_times()
            result["cpu"] = (after.user - cpu_before.user) + (after.system - cpu_before.system)
            # The supervisor's own lag: from the last writer's last write to its last line in the store.
            result["lag"] = done_at - max(m.stat().st_mtime for m in work.glob("svc*.done"))
            if mode != "page":
                page = None
            if page is not None:
                # Until the page has taken everything in: what it drew plus what it counted stays put.
                taken = "() => document.getElementById('log-count').textContent + document.getElementById('log-hidden').textContent"
                last, still = None, time.monotonic()
                while time.monotonic() - still < 1.0 and time.monotonic() - start < 180:
                    now = page.evaluate(taken)
                    if now != last:
                        last, still = now, time.monotonic()
                    time.sleep(0.1)
                result["page_wall"] = still - start
                result["shown"] = int(page.inner_text("#log-count"))
                hidden = page.inner_text("#log-hidden").strip(" ·").split(" ")[0]
                result["not_shown"] = int(hidden) if hidden.isdigit() else 0
                result["done_shown"] = page.evaluate(
                    "() => [...document.querySelectorAll('#log .line')].filter(l => / DONE$/.test(l.textContent)).length")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    result["stored"] = sum(count_marker(p) for p in (root / ".aura" / "logs" / "services").glob("*/*.log"))
    return result


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


def bench_logs(work: Path, repeat: int, lines: int, services: int = 4) -> str:
    (work / "writer.py").write_text(GATED_WRITER)
    modes = {"off": "dashboard off (aura dev up's own rate)", "on": "dashboard on, no page",
             "units": "dashboard on, units page open", "page": "dashboard on, logs page following every unit"}
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    for _ in range(repeat):
        for mode in modes:
            runs[mode].append(log_run(work, services, lines, mode))
    total = services * lines
    off = median([r["wall"] for r in runs["off"]])
    rows = []
    for mode, label in modes.items():
        walls = [r["wall"] for r in runs[mode]]
        cpu = median([r["cpu"] for r in runs[mode]])
        rows.append([label, f"{median(walls):.2f} ({min(walls):.2f}–{max(walls):.2f})", f"{cpu:.2f}",
                     f"{cpu / median(walls) * 100:.0f} %", spread([r["lag"] for r in runs[mode]], 1000, " ms"),
                     f"{total / median(walls) / 1000:.0f}k", f"{median(walls) / off:.2f}×",
                     f"{runs[mode][-1]['stored']:,}"])
    page_runs = runs["page"]
    notes = [f"logs page, per run: shown {[r.get('shown') for r in page_runs]}, counted as not shown "
             f"{[r.get('not_shown') for r in page_runs]} (history from before the run included), the page had taken "
             f"everything in after {[round(r.get('page_wall', 0), 1) for r in page_runs]} s, showing "
             f"{[r.get('done_shown') for r in page_runs]} of the {services} DONE lines (the last line of each writer)"]
    return "\n".join([
        f"#### Log throughput with the page open: {services} services × {lines:,} lines, until every line is in "
        "the log store", "",
        table(["supervisor", "wall s (median, range)", "supervisor CPU s", "supervisor busy", "supervisor lag",
               "lines/s", "vs off", "lines stored"], rows),
        "", *notes,
        "supervisor busy: its CPU time over the wall time (100 % would mean it is what everyone waits for); "
        "supervisor lag: from the last writer's last write to the last line in the log store. Chromium drawing "
        "on the same two cores slows the writers themselves: compare with the units page open."])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lines", type=int, default=250_000)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    for part in ("up", "page", "idle", "logs"):
        parser.add_argument(f"--skip-{part}", action="store_true")
    args = parser.parse_args()
    precompile()
    sections = [f"### Dashboard ({machine()})"]
    with tempfile.TemporaryDirectory(prefix="aura-bench-dash-") as tmp:
        work = Path(tmp)
        for part, run in (("up", lambda: bench_up(work, args.repeat)), ("page", lambda: bench_page(work, args.repeat)),
                          ("idle", lambda: bench_idle(work, args.idle_seconds, args.repeat)),
                          ("logs", lambda: bench_logs(work, args.repeat, args.lines))):
            if not getattr(args, f"skip_{part}"):
                sections.append(run())
                print(sections[-1] + "\n", flush=True)
    text = "\n\n".join(sections)
    print(f"saved to {save('dashboard', text)}")


if __name__ == "__main__":
    main()
