"""What keeping Redis data costs: Redis without persistence (aura before), with an
append-only file fsynced every second (aura now), and fsynced on every write, side by side.

Two measures, interleaved round by round, each Redis on its own folder of the same disk:

- the request path: sequential state saves through a real daprd (`POST
  /v1.0/state/statestore`, one at a time, as an app does), one sidecar per Redis;
- `redis-benchmark -t set`, one client (latency-bound) and 20 clients (throughput).

    python benchmarks/bench_redis_fsync.py [--rounds 5] [--saves 1000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, RESULTS, machine, median, precompile, save, table, wait_until

sys.path.insert(0, str(REPO / "src"))
from aura_dev.net import PortAllocator  # noqa: E402
from aura_dev.runtime import require_runtime  # noqa: E402
from aura_dev.versions import DEFAULT_RUNTIME_VERSION  # noqa: E402

MODES = {
    "no persistence (before)": ["--appendonly", "no"],
    "AOF, fsync every second (aura)": ["--appendonly", "yes", "--appendfsync", "everysec"],
    "AOF, fsync every write": ["--appendonly", "yes", "--appendfsync", "always"],
}
COMPONENT = """\
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: statestore}}
spec:
  type: state.redis
  version: v1
  metadata:
  - {{name: redisHost, value: "127.0.0.1:{port}"}}
"""


def start(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)


def saves_per_second(port: int, count: int) -> float:
    """Sequential state saves through daprd, as one app does them."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    began = time.perf_counter()
    for i in range(count):
        body = json.dumps([{"key": f"k{i % 200}", "value": {"n": i, "text": "x" * 100}}])
        conn.request("POST", "/v1.0/state/statestore", body, {"content-type": "application/json"})
        response = conn.getresponse()
        response.read()
        assert response.status == 204, response.status
    conn.close()
    return count / (time.perf_counter() - began)


def redis_benchmark(port: int, clients: int, requests: int) -> float:
    done = subprocess.run(["redis-benchmark", "-p", str(port), "-t", "set", "-n", str(requests), "-c", str(clients),
                           "-q"], capture_output=True, text=True, check=True)
    match = re.search(r"SET: ([\d.]+) requests per second", done.stdout.replace("\r", "\n"))
    assert match, done.stdout
    return float(match[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--saves", type=int, default=1000)
    args = parser.parse_args()
    precompile()
    daprd = str(require_runtime(DEFAULT_RUNTIME_VERSION).daprd)
    alloc = PortAllocator(seed=f"bench-fsync-{os.getpid()}")
    procs: list[subprocess.Popen[bytes]] = []
    results: dict[str, dict[str, list[float]]] = {mode: {"dapr": [], "c1": [], "c20": []} for mode in MODES}
    # In the repository (benchmarks/results, ignored by git), on the disk a workspace's
    # .aura would be on — not in /tmp, which may be a tmpfs where fsync costs nothing.
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="redis-fsync-", dir=RESULTS) as folder:
        ports: dict[str, tuple[int, int]] = {}
        try:
            for number, (mode, flags) in enumerate(MODES.items()):
                base = Path(folder) / str(number)
                (base / "redis").mkdir(parents=True)
                (base / "components").mkdir()
                redis_port, http_port = alloc.allocate(), alloc.allocate()
                procs.append(start([shutil.which("redis-server") or "redis-server", "--port", str(redis_port),
                                    "--bind", "127.0.0.1", "--save", "", "--dir", str(base / "redis"), *flags],
                                   base / "redis.log"))
                (base / "components" / "statestore.yaml").write_text(COMPONENT.format(port=redis_port))
                procs.append(start([daprd, "--app-id", f"bench{number}", "--dapr-http-port", str(http_port),
                                    "--dapr-grpc-port", str(alloc.allocate()), "--metrics-port", str(alloc.allocate()),
                                    "--dapr-internal-grpc-port", str(alloc.allocate()),
                                    "--dapr-listen-addresses", "127.0.0.1", "--placement-host-address", "",
                                    "--scheduler-host-address", "", "--resources-path", str(base / "components")],
                                   base / "daprd.log"))
                ports[mode] = (redis_port, http_port)
            for _mode, (_redis, http_port) in ports.items():
                wait_until(lambda p=http_port: _healthy(p), timeout=60)
            for number in range(args.rounds):
                order = list(MODES) if number % 2 == 0 else list(reversed(MODES))
                for mode in order:
                    redis_port, http_port = ports[mode]
                    results[mode]["dapr"].append(saves_per_second(http_port, args.saves))
                    results[mode]["c1"].append(redis_benchmark(redis_port, 1, 20000))
                    results[mode]["c20"].append(redis_benchmark(redis_port, 20, 100000))
                print(f"round {number + 1}/{args.rounds} done", flush=True)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(10)
    floor = {key: median(results["no persistence (before)"][key]) for key in ("dapr", "c1", "c20")}

    def cell(mode: str, key: str) -> str:
        values = results[mode][key]
        return f"{median(values):,.0f} ({min(values):,.0f}–{max(values):,.0f}) · {median(values) / floor[key]:.2f}×"

    rows = [[mode, cell(mode, "dapr"), cell(mode, "c1"), cell(mode, "c20")] for mode in MODES]
    text = "\n".join([
        f"# Redis persistence cost ({args.rounds} rounds, interleaved; {machine()})", "",
        "operations per second: median (range) · ratio to no persistence", "",
        table(["Redis", f"state saves through daprd, sequential ({args.saves}/round)",
               "redis-benchmark SET, 1 client", "redis-benchmark SET, 20 clients"], rows)])
    print(text)
    print(f"saved to {save('redis-fsync', text)}")
    return 0


def _healthy(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        conn.request("GET", "/v1.0/healthz")
        ok = conn.getresponse().status == 204
        conn.close()
        return ok
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
