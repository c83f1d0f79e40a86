"""Hot reload latency: from saving a file to the new code answering through its sidecar.

The sample workspace's FastAPI `conversation` service, measured side by side:

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
from aura_dev.runtime import DEFAULT_RUNTIME_VERSION, require_runtime  # noqa: E402

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


def rounds_through(app: Path, dapr_http: int, rounds: int, label: str) -> list[float]:
    url = f"http://127.0.0.1:{dapr_http}/v1.0/invoke/conversation/method/version"
    times = []
    for index in range(rounds):
        build = f"{label}-{index}-{time.time_ns()}"
        start = time.monotonic()
        bump(app, build)
        wait_until(lambda: (get(url) or b"").find(build.encode()) != -1, timeout=60, interval=0.005)
        times.append(time.monotonic() - start)
        time.sleep(0.3)  # let the previous reload settle before the next save
    return times


def bench_aura(work: Path, rounds: int) -> list[float]:
    root = work / "aura-sample"
    shutil.copytree(REPO / "sample-workspace", root, ignore=shutil.ignore_patterns(".aura", "node_modules"))
    (root / "services/notifications/node_modules").symlink_to(REPO / "sample-workspace/services/notifications/node_modules")
    up = subprocess.run([aura(), "dev", "up", "--detach", "-w", str(root)], capture_output=True, text=True)
    if up.returncode != 0:
        raise RuntimeError(up.stderr)
    try:
        state = json.loads((root / ".aura/run/state.json").read_text())
        return rounds_through(root / "services/conversation/app.py", state["services"]["conversation"]["daprHttpPort"],
                              rounds, "aura")
    finally:
        subprocess.run([aura(), "dev", "down", "-w", str(root)], capture_output=True)


def bench_uvicorn(work: Path, rounds: int) -> list[float]:
    runtime = require_runtime(DEFAULT_RUNTIME_VERSION)
    folder = work / "uvicorn-conversation"
    shutil.copytree(REPO / "sample-workspace/services/conversation", folder)
    resources = work / "empty-resources"
    resources.mkdir(exist_ok=True)
    env = dict(os.environ, APP_PORT=str(PORTS["app"]), DAPR_HTTP_PORT=str(PORTS["http"]),
               DAPR_GRPC_PORT=str(PORTS["grpc"]), PYTHONUNBUFFERED="1")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True}
    app = subprocess.Popen([sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port",
                            str(PORTS["app"]), "--reload"], cwd=folder, env=env, **quiet)  # type: ignore[call-overload]
    sidecar = subprocess.Popen([str(runtime.daprd), "--app-id", "conversation", "--app-port", str(PORTS["app"]),
                                "--dapr-http-port", str(PORTS["http"]), "--dapr-grpc-port", str(PORTS["grpc"]),
                                "--dapr-internal-grpc-port", str(PORTS["internal"]), "--metrics-port",
                                str(PORTS["metrics"]), "--resources-path", str(resources),
                                "--placement-host-address", "", "--scheduler-host-address", "",
                                "--dapr-listen-addresses", "127.0.0.1"],
                               env=dict(os.environ, DAPR_HOST_IP="127.0.0.1"), **quiet)  # type: ignore[call-overload]
    try:
        wait_until(lambda: get(f"http://127.0.0.1:{PORTS['http']}/v1.0/invoke/conversation/method/version") is not None,
                   timeout=60)
        return rounds_through(folder / "app.py", PORTS["http"], rounds, "uvicorn")
    finally:
        for proc in (app, sidecar):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()


def bench_cold(work: Path, rounds: int) -> list[float]:
    folder = REPO / "sample-workspace/services/conversation"
    env = dict(os.environ, DAPR_HTTP_PORT=str(PORTS["http"]), DAPR_GRPC_PORT=str(PORTS["grpc"]), PYTHONUNBUFFERED="1")
    times = []
    for _ in range(rounds):
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port",
                                 str(PORTS["cold"])], cwd=folder, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        wait_until(lambda: get(f"http://127.0.0.1:{PORTS['cold']}/healthz") is not None, timeout=60, interval=0.005)
        times.append(time.monotonic() - start)
        proc.terminate()
        proc.wait()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aura-bench-reload-") as tmp:
        work = Path(tmp)
        cold = bench_cold(work, args.rounds)
        ours = bench_aura(work, args.rounds)
        theirs = bench_uvicorn(work, args.rounds)
    base = median(cold)
    rows = [[name, median(v), percentile(v, 0.95), f"{median(v) - base:+.3f}"]
            for name, v in (("app cold boot (floor)", cold), ("aura (save → new code via sidecar)", ours),
                            ("uvicorn --reload (same)", theirs))]
    text = "\n".join([f"### Reload of the sample's conversation service, {args.rounds} saves each ({machine()})", "",
                      table(["method", "p50 s", "p95 s", "p50 above cold boot"], rows), "",
                      f"aura vs uvicorn --reload (p50): {median(ours) / median(theirs):.2f}×"])
    print(text)
    print(f"\nsaved to {save('reload', text)}")


if __name__ == "__main__":
    main()
