"""Start and stop times of a whole stack: aura vs `dapr run -f` vs the floor.

For the sample workspace and for generated workspaces of 1, 10 and 30 trivial services
(a tiny Python HTTP app each, with its daprd sidecar), measured side by side in one run:

- aura: `aura dev up --detach` (its defaults, live reload on, as users run it) until it
  returns with every service ready (its readiness
  is daprd `/v1.0/healthz` 204 plus the app's own check), and `aura dev down` until
  nothing is left.  Infra (Redis, placement, scheduler) is started by aura and included.
- `dapr run -f` (Dapr CLI 1.12.0, built from the Go module proxy, driving the same daprd
  1.18.2 through DAPR_RUNTIME_PATH): from launch until every sidecar answers 204, and
  `dapr stop -f` until every process is gone.  Its placement and Redis are started by the
  harness beforehand and NOT counted (that is how `dapr init` users run it).
- the floor: a plain script that starts placement, scheduler, Redis, every daprd and every
  app at once, no ordering, and polls until every `/v1.0/healthz` answers 204; stop is
  SIGTERM to everything until all exited.
- the floor with its scheduler's data kept: the same, the scheduler restarting on the etcd
  data of the run before, as aura's does (aura keeps state across `down`/`up`); etcd then
  waits out an election timeout before it serves.
- the floor with `dependsOn` (workspaces that have it, the sample): the same, except that
  an app that depends on others is started once their sidecars answer 204 — the least
  any tool that honours the dependency can do.

- aura with `infra.keep: true` (the 1- and 10-service workspaces, `--keep-sizes`): its Redis,
  placement and scheduler were started by an `up`/`down` of the same workspace before the
  runs and are reused (NOT counted, like `dapr run -f`'s pre-started infra); `down` stops the
  apps and sidecars and leaves that infra running; `down --all` at the end stops it.

aura's first start of each workspace (no `.aura` folder: no saved ports, no head-start
record) is measured once, apart; the interleaved runs are later starts, as a user's every
`up` after the first.

aura's own timeline (`up --timings`, kept in `state.json`) gives its first spawn, the CPU
it spent before it, and the critical path; the sample's last timeline is printed.  The
1-service case is always measured.

    python benchmarks/bench_up.py [--sizes 1,10,30] [--repeat 3] [--skip-dapr]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from _common import REPO, aura, machine, median, precompile, save, table, wait_until

sys.path.insert(0, str(REPO / "src"))
from aura_dev.loopback import can_bind as port_free  # noqa: E402
from aura_dev.runtime import require_runtime  # noqa: E402
from aura_dev.versions import DEFAULT_RUNTIME_VERSION  # noqa: E402

CLI_VERSION = "1.12.0"
APP = textwrap.dedent("""\
    import http.server, os
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"ok"
            self.send_response(200); self.send_header("content-length", "2"); self.end_headers()
            self.wfile.write(body)
        def log_message(self, *args): pass
    http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["APP_PORT"])), Handler).serve_forever()
    """)
BASE_PORT = 24000  # below the ephemeral range; aura's own auto ports are checked free
LEFTOVERS: list[int] = []


def kill_listeners(ports: list[int]) -> None:
    import psutil

    wanted = set(ports)
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port in wanted and conn.pid:
            try:
                psutil.Process(conn.pid).kill()
            except psutil.Error:
                pass


# ------------------------------------------------------------------ the Dapr CLI


def dapr_cli() -> Path:
    """Dapr CLI 1.12.0 built with the wrapper-module recipe (its go.mod and go.sum + a
    require), cached under ~/.cache/aura-dev/bench/."""
    out = Path.home() / ".cache" / "aura-dev" / "bench" / f"dapr-cli-{CLI_VERSION}"
    binary = out / "dapr"
    if binary.exists():
        return binary
    out.mkdir(parents=True, exist_ok=True)
    info = json.loads(subprocess.run(["go", "mod", "download", "-json", f"github.com/dapr/cli@v{CLI_VERSION}"],
                                     capture_output=True, text=True, check=True, cwd=out).stdout)
    gomod = Path(info["GoMod"]).read_text().splitlines()
    lines = ["module aura.local/dapr-cli-bench" if l.startswith("module ") else l for l in gomod]
    (out / "go.mod").write_text("\n".join(lines) + f"\n\nrequire github.com/dapr/cli v{CLI_VERSION}\n")
    shutil.copyfile(Path(info["Dir"]) / "go.sum", out / "go.sum")
    print(f"building Dapr CLI {CLI_VERSION} (about 2 minutes the first time)…", flush=True)
    subprocess.run(["go", "build", "-mod=mod", "-ldflags", f"-X main.version={CLI_VERSION} -X main.apiVersion=1.0",
                    "-o", str(binary), "github.com/dapr/cli"], cwd=out, check=True,
                   env=dict(os.environ, CGO_ENABLED="0"))
    return binary


# ------------------------------------------------------------------ helpers


def status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def all_healthy(ports: list[int]) -> bool:
    return all(status(f"http://127.0.0.1:{p}/v1.0/healthz") == 204 for p in ports)


def components_dir(folder: Path, redis_port: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, kind, extra in (("statestore", "state.redis", '\n  - name: actorStateStore\n    value: "true"'),
                              ("pubsub", "pubsub.redis", "")):
        (folder / f"{name}.yaml").write_text(
            f"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: {kind}\n"
            f"  version: v1\n  metadata:\n  - name: redisHost\n    value: 127.0.0.1:{redis_port}{extra}\n")
    return folder


class Service:
    def __init__(self, name: str, folder: Path, command: list[str], index: int,
                 depends_on: tuple[str, ...] = ()) -> None:
        self.name, self.folder, self.command, self.depends_on = name, folder, command, depends_on
        base = BASE_PORT + 10 + index * 5
        self.app, self.http, self.grpc, self.internal, self.metrics = base, base + 1, base + 2, base + 3, base + 4


def generated(root: Path, count: int) -> list[Service]:
    folder = root / "app"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(APP)
    return [Service(f"s{i:02d}", folder, ["python3", "app.py"], i) for i in range(count)]


def sample_services(root: Path) -> list[Service]:
    py = ["python3", "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", "{port}"]
    names = ["conversation", "notifications", "sessions", "assistant-gateway"]
    services = []
    for index, name in enumerate(names):
        command = ["node", "server.js"] if name == "notifications" else py
        deps = ("conversation", "sessions", "notifications") if name == "assistant-gateway" else ()
        service = Service(name, root / "services" / name, command, index, deps)
        service.command = [arg.replace("{port}", str(service.app)) for arg in command]
        services.append(service)
    return services


# ------------------------------------------------------------------ three ways


TIMELINES: dict[Path, dict[str, Any]] = {}  # the last timeline of each workspace
FIRST_SPAWNS: dict[Path, list[tuple[float | None, float | None]]] = {}  # (wall, CPU) seconds, each run


def run_aura(root: Path, binary: str | None = None, fresh: bool = False) -> tuple[float, float]:
    """One `up -d` and `down`.  `fresh`: without `.aura` (no saved ports, no head-start
    record: a workspace's very first start); otherwise as a user's every later start."""
    if fresh:
        shutil.rmtree(root / ".aura", ignore_errors=True)
    start = time.monotonic()
    done = subprocess.run([binary or aura(), "dev", "up", "--detach", "-w", str(root)],  # as users run it
                          capture_output=True, text=True)
    up = time.monotonic() - start
    if done.returncode != 0:
        raise RuntimeError(f"aura dev up failed: {done.stderr[-2000:]}")
    state = json.loads((root / ".aura" / "run" / "state.json").read_text())
    if binary is None and not fresh:
        TIMELINES[root] = state.get("timeline") or {}
        FIRST_SPAWNS.setdefault(root, []).append((TIMELINES[root].get("firstSpawn"),
                                                  TIMELINES[root].get("firstSpawnCpu")))
    ports = [p for u in state["units"].values() for p in (u.get("ports") or {}).values() if isinstance(p, int)]
    start = time.monotonic()
    subprocess.run([binary or aura(), "dev", "down", "-w", str(root)], capture_output=True, check=True)
    wait_until(lambda: all(port_free(p) for p in ports), timeout=60)
    return up, time.monotonic() - start


def infra_ports(state: dict[str, Any]) -> set[int]:
    return {p for label in ("redis", "placement", "scheduler") for p in
            ((state["units"].get(label) or {}).get("ports") or {}).values() if isinstance(p, int)}


def run_aura_kept(root: Path) -> tuple[float, float]:
    """`up` reusing kept infra, `down` leaving it running (until every other port is free)."""
    start = time.monotonic()
    done = subprocess.run([aura(), "dev", "up", "--detach", "-w", str(root)], capture_output=True, text=True)
    up = time.monotonic() - start
    if done.returncode != 0:
        raise RuntimeError(f"aura dev up (infra.keep) failed: {done.stderr[-2000:]}")
    state = json.loads((root / ".aura" / "run" / "state.json").read_text())
    kept = infra_ports(state)
    ports = [p for u in state["units"].values() for p in (u.get("ports") or {}).values()
             if isinstance(p, int) and p not in kept]
    start = time.monotonic()
    subprocess.run([aura(), "dev", "down", "-w", str(root)], capture_output=True, check=True)
    wait_until(lambda: all(port_free(p) for p in ports), timeout=60)
    return up, time.monotonic() - start


def start_infra(work: Path, runtime: Any, with_scheduler: bool,
                kept_data: bool = False) -> tuple[list[subprocess.Popen[bytes]], dict[str, int]]:
    ports = {"redis": BASE_PORT, "placement": BASE_PORT + 1, "placement_healthz": BASE_PORT + 2,
             "placement_metrics": BASE_PORT + 3, "raft": BASE_PORT + 4, "scheduler": BASE_PORT + 5,
             "scheduler_healthz": BASE_PORT + 6, "scheduler_metrics": BASE_PORT + 7, "etcd": BASE_PORT + 8,
             "etcd_peer": BASE_PORT + 9}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True}
    procs = [
        subprocess.Popen(["redis-server", "--port", str(ports["redis"]), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no"], **quiet),  # type: ignore[call-overload]
        subprocess.Popen([str(runtime.placement), "--port", str(ports["placement"]), "--listen-address", "127.0.0.1",
                          "--healthz-port", str(ports["placement_healthz"]), "--metrics-port",
                          str(ports["placement_metrics"]), "--initial-cluster",
                          f"dapr-placement-0=127.0.0.1:{ports['raft']}"], **quiet),  # type: ignore[call-overload]
    ]
    if with_scheduler:
        etcd = work / "etcd"
        if not kept_data:  # kept: the scheduler restarts on its etcd data, as aura's does (state survives)
            shutil.rmtree(etcd, ignore_errors=True)
        procs.append(subprocess.Popen(
            [str(runtime.scheduler), "--port", str(ports["scheduler"]), "--listen-address", "127.0.0.1",
             "--healthz-port", str(ports["scheduler_healthz"]), "--metrics-port", str(ports["scheduler_metrics"]),
             "--etcd-data-dir", str(etcd), "--etcd-client-port", str(ports["etcd"]),
             "--etcd-initial-cluster", f"dapr-scheduler-server-0=http://127.0.0.1:{ports['etcd_peer']}",
             "--override-broadcast-host-port", f"127.0.0.1:{ports['scheduler']}"], **quiet))  # type: ignore[call-overload]
    return procs, ports


def stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run_floor(work: Path, runtime: Any, services: list[Service], honour_deps: bool = False,
              kept_data: bool = False) -> tuple[float, float]:
    resources = components_dir(work / "floor-components", BASE_PORT)
    start = time.monotonic()
    procs, ports = start_infra(work, runtime, with_scheduler=True, kept_data=kept_data)

    def start_app(svc: Service) -> None:
        env = dict(os.environ, APP_ID=svc.name, APP_PORT=str(svc.app), DAPR_HTTP_PORT=str(svc.http),
                   DAPR_GRPC_PORT=str(svc.grpc), PYTHONUNBUFFERED="1")
        procs.append(subprocess.Popen(svc.command, cwd=svc.folder, env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True))

    held = [svc for svc in services if honour_deps and svc.depends_on]
    for svc in services:
        if svc not in held:
            start_app(svc)
        procs.append(subprocess.Popen(
            [str(runtime.daprd), "--app-id", svc.name, "--app-port", str(svc.app), "--dapr-http-port", str(svc.http),
             "--dapr-grpc-port", str(svc.grpc), "--dapr-internal-grpc-port", str(svc.internal), "--metrics-port",
             str(svc.metrics), "--placement-host-address", f"127.0.0.1:{ports['placement']}",
             "--scheduler-host-address", f"127.0.0.1:{ports['scheduler']}", "--resources-path", str(resources),
             "--dapr-listen-addresses", "127.0.0.1"], env=dict(os.environ, DAPR_HOST_IP="127.0.0.1"),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
    by_name = {svc.name: svc for svc in services}
    while held:  # an app whose dependencies are all healthy starts now
        for svc in [s for s in held if all_healthy([by_name[d].http for d in s.depends_on])]:
            held.remove(svc)
            start_app(svc)
        time.sleep(0.02)
    wait_until(lambda: all_healthy([s.http for s in services]), timeout=300, interval=0.02)
    up = time.monotonic() - start
    start = time.monotonic()
    stop_all(procs)
    return up, time.monotonic() - start


def run_dapr(work: Path, runtime: Any, cli: Path, services: list[Service]) -> tuple[float, float]:
    home = work / "dapr-home"
    bin_dir = home / ".dapr" / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in ("daprd", "placement", "scheduler"):
        link = bin_dir / name
        if not link.exists():
            link.symlink_to(runtime.binary(name))
    # `dapr run` gives every daprd `--config <home>/.dapr/config.yaml`, as `dapr init` writes it.
    (home / ".dapr" / "config.yaml").write_text(
        "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: daprConfig\nspec: {}\n")
    infra, ports = start_infra(work, runtime, with_scheduler=False)
    try:
        wait_until(lambda: status(f"http://127.0.0.1:{ports['placement_healthz']}/healthz") == 200, timeout=30)
        resources = components_dir(work / "dapr-components", ports["redis"])
        apps = []
        for svc in services:
            apps.append({
                "appID": svc.name, "appDirPath": str(svc.folder), "appPort": svc.app, "daprHTTPPort": svc.http,
                "daprGRPCPort": svc.grpc, "metricsPort": svc.metrics, "command": svc.command,
                "env": {"APP_PORT": str(svc.app), "PYTHONUNBUFFERED": "1"},
                "placementHostAddress": f"127.0.0.1:{ports['placement']}", "resourcesPaths": [str(resources)],
                "runtimePath": str(home),
            })
        runfile = work / "dapr.yaml"
        runfile.write_text(json.dumps({"version": 1, "apps": apps}, indent=2))
        env = dict(os.environ, DAPR_RUNTIME_PATH=str(home))
        start = time.monotonic()
        proc = subprocess.Popen([str(cli), "run", "-f", str(runfile)], cwd=work, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        wait_until(lambda: all_healthy([s.http for s in services]), timeout=600, interval=0.02)
        up = time.monotonic() - start
        start = time.monotonic()
        subprocess.run([str(cli), "stop", "-f", str(runfile)], cwd=work, env=env, capture_output=True)
        ports = [p for s in services for p in (s.http, s.app)]
        try:
            wait_until(lambda: all(port_free(p) for p in ports), timeout=20)
            down = time.monotonic() - start
        except TimeoutError:
            # dapr/cli#1184, #1292: what `dapr stop` leaves running (counted, then cleaned up).
            LEFTOVERS.append(sum(1 for p in ports if not port_free(p)))
            down = float("inf")
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        kill_listeners(ports)
        proc.wait(timeout=30)
        return up, down
    finally:
        stop_all(infra)


def aura_workspace(root: Path, services: list[Service], keep: bool = False) -> Path:
    body = ["name: upbench", f"infra: {{backend: native{', keep: true' if keep else ''}}}", "services:"]
    for svc in services:
        body += [f"  {svc.name}:", f"    path: {svc.folder.relative_to(root)}", "    command: [python3, app.py]",
                 "    healthCheck: tcp"]
    (root / "aura.yaml").write_text("\n".join(body) + "\n")
    return root


def spread(values: list[float]) -> str:
    """median (min–max)"""
    finite = [v for v in values if v != float("inf")]
    if not finite:
        return "-"
    mid = median(values) if len(finite) == len(values) else float("inf")
    return f"{mid:.2f} ({min(finite):.2f}–{max(values):.2f})"


def timeline_table(timeline: dict[str, Any]) -> str:
    sys.path.insert(0, str(REPO / "src"))
    from aura_dev.cli.timings_view import timeline_rows

    rows = timeline_rows(timeline)
    lines = [table(["unit", "spawned s", "first line s", "listening s", "ready s", "waited for"], rows), "",
             f"first spawn {timeline.get('firstSpawn')} s after `aura dev up` was created "
             f"({timeline.get('firstSpawnCpu')} s of CPU); settled {timeline.get('settled')} s; critical path: "
             + " ← ".join(timeline.get("criticalPath") or [])]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,10,30")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-dapr", action="store_true")
    parser.add_argument("--skip-sample", action="store_true")
    parser.add_argument("--keep-sizes", default="1,10", help="generated workspaces also measured with infra.keep")
    parser.add_argument("--baseline", help="another `aura` command (an older build) measured beside this one")
    args = parser.parse_args()
    precompile()
    runtime = require_runtime(DEFAULT_RUNTIME_VERSION)
    cli = None if args.skip_dapr else dapr_cli()
    sizes = sorted({1, *(int(s) for s in args.sizes.split(","))})  # the 1-service case in every run
    keep_sizes = {int(s) for s in args.keep_sizes.split(",") if s}
    rows, timings, baselines, kept_rows, sample_timeline = [], [], [], [], None
    load_at_start = machine()
    with tempfile.TemporaryDirectory(prefix="aura-bench-up-") as tmp:
        work = Path(tmp)
        cases: list[tuple[str, Path, list[Service]]] = []
        kept_roots: dict[Path, Path] = {}  # a generated workspace -> its twin with infra.keep
        if not args.skip_sample:
            sample = work / "sample"
            shutil.copytree(REPO / "sample-workspace", sample, ignore=shutil.ignore_patterns(".aura", "node_modules"))
            (sample / "services/notifications/node_modules").symlink_to(
                REPO / "sample-workspace/services/notifications/node_modules")
            cases.append(("sample (4)", sample, sample_services(sample)))
        for size in sizes:
            root = work / f"gen{size}"
            root.mkdir()
            services = generated(root, size)
            cases.append((f"{size} trivial", aura_workspace(root, services), services))
            if size in keep_sizes:
                twin = work / f"gen{size}-keep"
                shutil.copytree(root, twin)
                kept_roots[root] = aura_workspace(twin, generated(twin, size), keep=True)
        # The baseline runs on a copy of each workspace: each build keeps its own `.aura` (its
        # head-start record names its own files, e.g. the standby boot script: sharing one
        # made every Python app of both builds start anew instead of early).
        base_roots = {root: Path(shutil.copytree(root, root.with_name(root.name + "-baseline"), symlinks=True))
                      for _, root, _ in cases} if args.baseline else {}
        for label, root, services in cases:
            has_deps = any(s.depends_on for s in services)
            times: dict[str, list[tuple[float, float]]] = {"aura": [], "floor": [], "dapr": [], "deps": [],
                                                           "base": [], "first": [], "keep": [], "kept": []}
            # A workspace's first start (nothing saved in `.aura`) is measured once, apart;
            # the runs below are later starts, as a user's every `up` after the first.
            if args.baseline:
                run_aura(base_roots[root], args.baseline, fresh=True)
            times["first"].append(run_aura(root, fresh=True))
            twin = kept_roots.get(root)
            if twin is not None:  # the kept infra's own start: before the runs, not counted
                run_aura_kept(twin)
            for _ in range(args.repeat):  # interleaved: load changes hit every method alike
                times["floor"].append(run_floor(work, runtime, services))
                # The same, its scheduler restarting on the data the run above left (as aura's
                # does, state being kept): etcd then waits out an election timeout (1-2 s).
                times["kept"].append(run_floor(work, runtime, services, kept_data=True))
                if has_deps:
                    times["deps"].append(run_floor(work, runtime, services, honour_deps=True))
                times["aura"].append(run_aura(root))
                if args.baseline:
                    times["base"].append(run_aura(base_roots[root], args.baseline))
                if twin is not None:
                    times["keep"].append(run_aura_kept(twin))
                if cli is not None:
                    times["dapr"].append(run_dapr(work, runtime, cli, services))
                print(f"{label}: {[(k, v[-1]) for k, v in times.items() if v]}", flush=True)
            up = {k: [t[0] for t in v] for k, v in times.items()}
            down = {k: [t[1] for t in v] for k, v in times.items()}
            floor_up, aura_up = median(up["floor"]), median(up["aura"])
            deps_up = median(up["deps"]) if up["deps"] else None
            dapr_up = median(up["dapr"]) if up["dapr"] else None
            kept_up = median(up["kept"])
            rows.append([label, spread(up["floor"]), spread(up["kept"]), spread(up["deps"]) if deps_up else "-",
                         spread(up["aura"]), spread(up["dapr"]) if dapr_up else "-",
                         f"{aura_up / floor_up:.2f}× ({aura_up / kept_up:.2f}× kept-data floor"
                         + (f", {aura_up / deps_up:.2f}× dependsOn floor)" if deps_up else ")"),
                         f"{dapr_up / aura_up:.2f}×" if dapr_up else "-",
                         spread(down["floor"]), spread(down["aura"]), spread(down["dapr"]) if down["dapr"] else "-",
                         f"{median(down['aura']) / median(down['floor']):.2f}×"])
            if twin is not None:
                subprocess.run([aura(), "dev", "down", "--all", "-w", str(twin)], capture_output=True, check=True)
                keep_up = median(up["keep"])
                kept_rows.append([label, spread(up["floor"]), spread(up["aura"]), spread(up["keep"]),
                                  spread(up["dapr"]) if dapr_up else "-", f"{keep_up / floor_up:.2f}×",
                                  f"{aura_up - keep_up:.2f} s ({1 - keep_up / aura_up:.0%})",
                                  f"{dapr_up / keep_up:.2f}×" if dapr_up else "-",
                                  spread(down["aura"]), spread(down["keep"])])
            if args.baseline:
                baselines.append([label, spread(up["base"]), spread(up["aura"]),
                                  f"{median(up['aura']) / median(up['base']):.2f}×", spread(down["base"]),
                                  spread(down["aura"]), f"{median(down['aura']) / median(down['base']):.2f}×"])
            timeline = TIMELINES.get(root) or {}
            spawns = [s for s in FIRST_SPAWNS.get(root, []) if s[0] is not None and s[1] is not None]
            timings.append([label, f"{times['first'][0][0]:.2f}", spread([s[0] for s in spawns]) if spawns else "-",  # type: ignore[misc]
                            spread([s[1] for s in spawns]) if spawns else "-",  # type: ignore[misc]
                            " ← ".join(timeline.get("criticalPath") or []) or "-"])
            if root.name == "sample":
                sample_timeline = timeline
    text = "\n".join([
        f"### Stack up / down: median (min–max) of {args.repeat} interleaved runs", "",
        f"Machine: {load_at_start}; load average {os.getloadavg()[0]:.2f} at the end — shared with other "
        "engineers' test runs, so "
        "absolute seconds are inflated; compare the ratios.", "",
        table(["workspace", "floor up s", "floor, scheduler data kept, up s", "floor (dependsOn) up s", "aura up s",
               "dapr run -f up s", "aura / floor",
               "dapr / aura", "floor down s", "aura down s", "dapr stop down s", "aura / floor down"], rows), "",
        "up: from launch to every sidecar (and app) ready; aura and the floor include starting Redis, placement "
        "and scheduler, `dapr run -f` gets placement and Redis started beforehand. down: from launch of the stop "
        f"command until every port is free (inf: `dapr stop -f` left listeners running after 20 s — {LEFTOVERS} "
        "ports still held, runs in order).", "",
        "#### aura's start-up and critical path (`aura dev up --timings`)", "",
        table(["workspace", "first up of the workspace s (no `.aura`)", "first spawn s", "CPU before first spawn s",
               "critical path (last run)"], timings),
        *(["", "#### aura with `infra.keep: true` (kept Redis, placement, scheduler started before, not counted)",
           "", table(["workspace", "floor up s", "aura up s", "aura keep up s", "dapr run -f up s", "keep / floor",
                      "keep saves", "dapr / keep", "aura down s", "aura keep down s"], kept_rows), "",
           "keep down: apps and sidecars stopped, their ports free; the kept infra stays running."]
          if kept_rows else []),
        *(["", f"#### This build against `{args.baseline}`, same runs", "",
           table(["workspace", "baseline up s", "aura up s", "aura / baseline", "baseline down s", "aura down s",
                  "aura / baseline down"], baselines)] if baselines else []),
        *(["", "#### The sample's timeline (last run; seconds since `aura dev up` was created)", "",
           timeline_table(sample_timeline)] if sample_timeline else []),
    ])
    print(text)
    print(f"\nsaved to {save('up', text)}")


if __name__ == "__main__":
    main()
