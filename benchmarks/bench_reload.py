"""Hot reload latency: from saving a file to the new code answering through its sidecar.

The sample workspace's FastAPI `conversation` service, measured side by side, the three
interleaved round by round:

- aura: the sample runs under `aura dev up --detach`; each round rewrites `app.py` with a
  new BUILD value and polls `GET /v1.0/invoke/conversation/method/version` on the
  service's own daprd until the new value answers.
- `uvicorn --reload`: the same app in a copy, run by `uvicorn --reload` beside a daprd of
  its own (how people get reloads with `dapr run`), same edit, same polling.
- the floor: the app's cold boot, from spawning `uvicorn app:app` to `/healthz` 200.

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


def rounds_through(app: Path, dapr_http: int, rounds: int, label: str, workspace: Path | None = None) -> list[float]:
    url = f"http://127.0.0.1:{dapr_http}/v1.0/invoke/conversation/method/version"
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
    """The sample under `aura dev up --detach`."""

    def __init__(self, work: Path) -> None:
        self.root = work / "aura-sample"
        shutil.copytree(REPO / "sample-workspace", self.root, ignore=shutil.ignore_patterns(".aura", "node_modules"))
        (self.root / "services/notifications/node_modules").symlink_to(
            REPO / "sample-workspace/services/notifications/node_modules")

    def __enter__(self) -> AuraSide:
        up = subprocess.run([aura(), "dev", "up", "--detach", "-w", str(self.root)], capture_output=True, text=True)
        if up.returncode != 0:
            raise RuntimeError(up.stderr)
        state = json.loads((self.root / ".aura/run/state.json").read_text())
        self.port = state["services"]["conversation"]["daprHttpPort"]
        return self

    def round(self, index: int) -> float:
        return rounds_through(self.root / "services/conversation/app.py", self.port, 1, f"aura{index}", self.root)[0]

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
            [str(runtime.daprd), "--app-id", "conversation", "--app-port", str(PORTS["app"]),
             "--dapr-http-port", str(PORTS["http"]), "--dapr-grpc-port", str(PORTS["grpc"]),
             "--dapr-internal-grpc-port", str(PORTS["internal"]), "--metrics-port", str(PORTS["metrics"]),
             "--resources-path", str(self.resources), "--placement-host-address", "", "--scheduler-host-address",
             "", "--dapr-listen-addresses", "127.0.0.1"], env=dict(os.environ, DAPR_HOST_IP="127.0.0.1"),
            **quiet))  # type: ignore[call-overload]
        wait_until(lambda: get(f"http://127.0.0.1:{PORTS['http']}/v1.0/invoke/conversation/method/version")
                   is not None, timeout=60)
        return self

    def round(self, index: int) -> float:
        return rounds_through(self.folder / "app.py", PORTS["http"], 1, f"uvicorn{index}")[0]

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
    cold: list[float] = []
    ours: list[float] = []
    theirs: list[float] = []
    with tempfile.TemporaryDirectory(prefix="aura-bench-reload-") as tmp:
        work = Path(tmp)
        with AuraSide(work) as aura_side, UvicornSide(work) as uvicorn_side:
            for index in range(args.rounds):  # interleaved: load changes hit every method alike
                cold.append(cold_boot())
                ours.append(aura_side.round(index))
                theirs.append(uvicorn_side.round(index))
    base = median(cold)
    rows = [[name, median(v), percentile(v, 0.95), f"{median(v) - base:+.3f}"]
            for name, v in (("app cold boot (floor)", cold), ("aura (save → new code via sidecar)", ours),
                            ("uvicorn --reload (same)", theirs))]
    rows.append(["aura minus cold boot, per round", median([o - c for o, c in zip(ours, cold)]),
                 percentile([o - c for o, c in zip(ours, cold)], 0.95), ""])
    text = "\n".join([f"### Reload of the sample's conversation service, {args.rounds} saves each ({machine()})", "",
                      table(["method", "p50 s", "p95 s", "p50 above cold boot"], rows), "",
                      f"aura vs uvicorn --reload (p50): {median(ours) / median(theirs):.2f}×"])
    print(text)
    print(f"\nsaved to {save('reload', text)}")


if __name__ == "__main__":
    main()
