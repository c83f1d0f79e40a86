"""Hot reload latency: from saving a file to the new code answering through its sidecar.

The sample workspace's FastAPI `conversation` service, measured side by side, the four
interleaved round by round:

- aura warm: the sample's `conversation` under `aura dev up conversation --detach` (warm
  reloads, the default); each round rewrites `app.py` with a new BUILD value and polls
  `GET /v1.0/invoke/<app id>/method/version` on the service's own daprd until the new
  value answers.  Before each save, and after it, it waits (untimed) for the standby to be
  ready, as a person's next save would find it, and so that its imports never overlap the
  other methods' rounds; the rounds that still started cold are counted.
- aura cold: the same, in a second copy with `reload: {warm: false}`.
- `uvicorn --reload`: the same app in a copy, run by `uvicorn --reload` beside a daprd of
  its own (how people get reloads with `dapr run`), same edit, same polling.
- the floor: the app's cold boot, from spawning `uvicorn app:app` to `/healthz` 200.

Each side has an app id of its own (sidecars of one machine find each other over mDNS).
At the end, the idle standby's memory and CPU are measured.

    python benchmarks/bench_reload.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from _common import REPO, aura, machine, median, percentile, save, table, wait_until

sys.path.insert(0, str(REPO / "src"))
from aura_dev.runtime import require_runtime  # noqa: E402
from aura_dev.versions import DEFAULT_RUNTIME_VERSION  # noqa: E402

UVICORN_APP_ID = f"conversation-bench-uvicorn-{os.getpid()}"
PORTS = {"app": 25500, "http": 25501, "grpc": 25502, "internal": 25503, "metrics": 25504, "cold": 25510}


def get(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.read()
    except (urllib.error.URLError, OSError):
        return None


def bump(app: Path, build: str) -> None:
    text = re.sub(r'BUILD = "[^"]*"', f'BUILD = "{build}"', app.read_text())
    app.write_text(text)


def rounds_through(app: Path, dapr_http: int, rounds: int, label: str, workspace: Path | None = None,
                   app_id: str = "conversation") -> list[float]:
    url = f"http://127.0.0.1:{dapr_http}/v1.0/invoke/{app_id}/method/version"
    times = []
    for index in range(rounds):
        build = f"{label}-{index}-{time.time_ns()}"
        start = time.monotonic()
        bump(app, build)
        try:
            wait_until(lambda: (get(url) or b"").find(build.encode()) != -1, timeout=60, interval=0.005)
        except TimeoutError:
            if workspace is not None:  # say why before giving up
                for args in (["logs", "conversation", "-n", "60"], ["status"]):
                    print(subprocess.run([aura(), "dev", *args, "-w", str(workspace)], capture_output=True,
                                         text=True).stdout, file=sys.stderr)
            print(f"last answer: {get(url)!r}", file=sys.stderr)
            raise
        times.append(time.monotonic() - start)
        time.sleep(0.3)  # let the previous reload settle before the next save
    return times


class AuraSide:
    """The sample's conversation service under `aura dev up --detach`, warm reloads on or off."""

    def __init__(self, work: Path, warm: bool) -> None:
        self.warm = warm
        self.root = work / f"aura-{'warm' if warm else 'cold'}"
        self.app_id = f"conversation-bench-{'warm' if warm else 'cold'}-{os.getpid()}"
        shutil.copytree(REPO / "sample-workspace", self.root, ignore=shutil.ignore_patterns(".aura", "node_modules"))
        config = self.root / "aura.yaml"
        text = config.read_text().replace("      resources: [components]", "      resources: [components]\n"
                                          f"      appId: {self.app_id}", 1)
        if not warm:
            text = text.replace("    healthCheck: /healthz\n    dapr:", "    healthCheck: /healthz\n"
                                "    reload: {warm: false}\n    dapr:", 1)
        config.write_text(text)
        self.manifest = self.root / ".aura/standby/conversation.standby.json"
        self.last_round = 0.0

    def __enter__(self) -> AuraSide:
        up = subprocess.run([aura(), "dev", "up", "conversation", "--detach", "-w", str(self.root)],
                            capture_output=True, text=True)
        if up.returncode != 0:
            raise RuntimeError(up.stderr)
        state = json.loads((self.root / ".aura/run/state.json").read_text())
        self.port = state["services"]["conversation"]["daprHttpPort"]
        return self

    def standby_ready(self) -> bool:
        return self.manifest.exists() and self.manifest.stat().st_mtime > self.last_round

    def round(self, index: int) -> float:
        self.settle()
        seconds = rounds_through(self.root / "services/conversation/app.py", self.port, 1,
                                 f"aura{'w' if self.warm else 'c'}{index}", self.root, self.app_id)[0]
        self.last_round = time.time()
        self.settle()  # the next standby's imports must not overlap the other methods' rounds
        return seconds

    def settle(self) -> None:
        if self.warm:
            try:
                wait_until(self.standby_ready, timeout=60, interval=0.05)
            except TimeoutError:
                pass  # measured as it is: the log says whether it started cold

    def warm_starts(self) -> int:
        logs = subprocess.run([aura(), "dev", "logs", "conversation", "-n", "100000", "-w", str(self.root)],
                              capture_output=True, text=True).stdout
        return logs.count("warm start: the standby")

    def standby_costs(self, seconds: float = 10.0) -> tuple[float, float, float]:
        """The idle standby's RSS and USS (MB) and its CPU share over `seconds`."""
        import psutil

        wait_until(self.standby_ready, timeout=60, interval=0.05)
        app_pid = json.loads((self.root / ".aura/run/state.json").read_text())["units"]["conversation"]["pid"]
        standby = next(p for p in psutil.process_iter(["cmdline"]) if p.pid != app_pid
                       and str(self.manifest) in (p.info["cmdline"] or []))
        before = sum(standby.cpu_times()[:2])
        time.sleep(seconds)
        memory = standby.memory_full_info()
        return memory.rss / 1e6, memory.uss / 1e6, (sum(standby.cpu_times()[:2]) - before) / seconds

    def __exit__(self, *exc: object) -> None:
        subprocess.run([aura(), "dev", "down", "-w", str(self.root)], capture_output=True)


class UvicornSide:
    """The same app under `uvicorn --reload`, beside a daprd of its own."""

    def __init__(self, work: Path) -> None:
        self.folder = work / "uvicorn-conversation"
        shutil.copytree(REPO / "sample-workspace/services/conversation", self.folder)
        self.resources = work / "empty-resources"
        self.resources.mkdir(exist_ok=True)
        self.procs: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> UvicornSide:
        runtime = require_runtime(DEFAULT_RUNTIME_VERSION)
        env = dict(os.environ, APP_PORT=str(PORTS["app"]), DAPR_HTTP_PORT=str(PORTS["http"]),
                   DAPR_GRPC_PORT=str(PORTS["grpc"]), PYTHONUNBUFFERED="1")
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True}
        self.procs.append(subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", str(PORTS["app"]),
             "--reload"], cwd=self.folder, env=env, **quiet))  # type: ignore[call-overload]
        self.procs.append(subprocess.Popen(
            [str(runtime.daprd), "--app-id", UVICORN_APP_ID, "--app-port", str(PORTS["app"]),
             "--dapr-http-port", str(PORTS["http"]), "--dapr-grpc-port", str(PORTS["grpc"]),
             "--dapr-internal-grpc-port", str(PORTS["internal"]), "--metrics-port", str(PORTS["metrics"]),
             "--resources-path", str(self.resources), "--placement-host-address", "", "--scheduler-host-address",
             "", "--dapr-listen-addresses", "127.0.0.1"], env=dict(os.environ, DAPR_HOST_IP="127.0.0.1"),
            **quiet))  # type: ignore[call-overload]
        wait_until(lambda: get(f"http://127.0.0.1:{PORTS['http']}/v1.0/invoke/{UVICORN_APP_ID}/method/version")
                   is not None, timeout=60)
        return self

    def round(self, index: int) -> float:
        return rounds_through(self.folder / "app.py", PORTS["http"], 1, f"uvicorn{index}", app_id=UVICORN_APP_ID)[0]

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()


def cold_boot() -> float:
    folder = REPO / "sample-workspace/services/conversation"
    env = dict(os.environ, DAPR_HTTP_PORT=str(PORTS["http"]), DAPR_GRPC_PORT=str(PORTS["grpc"]), PYTHONUNBUFFERED="1")
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port",
                             str(PORTS["cold"])], cwd=folder, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_until(lambda: get(f"http://127.0.0.1:{PORTS['cold']}/healthz") is not None, timeout=60, interval=0.005)
    elapsed = time.monotonic() - start
    proc.terminate()
    proc.wait()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"cold boot": [], "warm": [], "cold": [], "uvicorn": []}
    started = machine()
    with tempfile.TemporaryDirectory(prefix="aura-bench-reload-") as tmp:
        work = Path(tmp)
        with AuraSide(work, warm=True) as warm, AuraSide(work, warm=False) as cold, UvicornSide(work) as uvicorn:
            for index in range(args.rounds):  # interleaved: load changes hit every method alike
                times["cold boot"].append(cold_boot())
                times["warm"].append(warm.round(index))
                times["cold"].append(cold.round(index))
                times["uvicorn"].append(uvicorn.round(index))
            warm_rounds = warm.warm_starts()
            rss, uss, cpu = warm.standby_costs()
    base = median(times["cold boot"])
    names = {"cold boot": "the app's cold boot (floor)", "warm": "aura, warm reload (save → new code via sidecar)",
             "cold": "aura, `reload: {warm: false}` (same)", "uvicorn": "`uvicorn --reload` (same)"}
    rows = [[names[key], median(v), percentile(v, 0.95), f"{min(v):.2f}–{max(v):.2f}", f"{median(v) / base:.2f}×"]
            for key, v in times.items()]
    text = "\n".join([
        f"### Reload of the sample's conversation service, {args.rounds} saves each ({started})", "",
        table(["method", "p50 s", "p95 s", "range s", "p50 / cold boot"], rows), "",
        f"aura warm: {warm_rounds} of {args.rounds} saves started from the standby; "
        f"p95 / cold boot {percentile(times['warm'], 0.95) / base:.2f}×; "
        f"vs aura cold (p50) {median(times['warm']) / median(times['cold']):.2f}×; "
        f"vs `uvicorn --reload` (p50) {median(times['warm']) / median(times['uvicorn']):.2f}×.", "",
        f"Idle standby: RSS {rss:.0f} MB (USS, its own pages, {uss:.0f} MB), CPU {cpu * 100:.2f} % over 10 s."])
    print(text)
    print(f"\nsaved to {save('reload', text)}")


if __name__ == "__main__":
    main()
