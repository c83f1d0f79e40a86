"""The cost of tracing: on `aura dev up` (with vs without Zipkin, vs the floor) and on the
sample's request path (p50/p95 of `/chat` with every span sampled and sent to Zipkin vs
no tracing), measured side by side in one run.

- up: the sample workspace, `aura dev up --detach` until every service is ready, with
  `infra.zipkin` on (the default) and off, interleaved with `bench_up`'s floor (a plain
  script starting placement, scheduler, Redis, every daprd and app at once).  Zipkin does
  not gate the stack, so what it can cost is CPU taken from the rest while the JVM starts.
- request path: two copies of the sample up at the same time (app ids of their own), one
  traced (samplingRate "1", spans to Zipkin), one not (no Zipkin, daprd's default 1/10000);
  `/chat` requests alternate between them, so load hits both alike.

    python benchmarks/bench_tracing.py [--repeat 3] [--requests 200]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from _common import REPO, aura, machine, median, percentile, precompile, save, table
from bench_up import run_floor, sample_services

sys.path.insert(0, str(REPO / "src"))
from aura_dev.runtime import require_runtime  # noqa: E402
from aura_dev.versions import DEFAULT_RUNTIME_VERSION  # noqa: E402


def sample_copy(target: Path, *, zipkin: bool, tag: str) -> Path:
    shutil.copytree(REPO / "sample-workspace", target, ignore=shutil.ignore_patterns(".aura", "node_modules"))
    (target / "services/notifications/node_modules").symlink_to(
        REPO / "sample-workspace/services/notifications/node_modules")
    path = target / "aura.yaml"
    data = yaml.safe_load(path.read_text())
    for name, service in data["services"].items():
        service.setdefault("dapr", {})["appId"] = f"{tag}-{name}"
    data["services"]["assistant-gateway"]["env"] = {"CONVERSATION_APP_ID": f"{tag}-conversation"}
    data["infra"] = {"backend": "native", "zipkin": {"enabled": zipkin}}
    data["dashboard"] = {"enabled": False}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def up(root: Path) -> float:
    shutil.rmtree(root / ".aura", ignore_errors=True)
    start = time.monotonic()
    done = subprocess.run([aura(), "dev", "up", "--detach", "--no-reload", "-w", str(root)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise RuntimeError(f"aura dev up failed: {done.stderr[-2000:]}")
    return time.monotonic() - start


def down(root: Path) -> None:
    subprocess.run([aura(), "dev", "down", "-w", str(root)], capture_output=True, check=True)


def gateway(root: Path) -> str:
    state = json.loads((root / ".aura/run/state.json").read_text())
    return str(state["services"]["assistant-gateway"]["url"])


def zipkin_ready(root: Path) -> bool:
    state = json.loads((root / ".aura/run/state.json").read_text())
    return bool(state["units"].get("zipkin", {}).get("state") == "ready")


def chat(url: str) -> float:
    body = json.dumps({"user": "bench", "text": "hello"}).encode()
    request = urllib.request.Request(f"{url}/chat", data=body, method="POST",
                                     headers={"content-type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
    return (time.perf_counter() - start) * 1000


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}–{max(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    precompile()
    runtime = require_runtime(DEFAULT_RUNTIME_VERSION)
    start_load = machine()
    with tempfile.TemporaryDirectory(prefix="aura-bench-tracing-") as tmp:
        work = Path(tmp)
        traced = sample_copy(work / "traced", zipkin=True, tag="bt-on")
        plain = sample_copy(work / "plain", zipkin=False, tag="bt-off")
        times: dict[str, list[float]] = {"floor": [], "zipkin on": [], "zipkin off": []}
        for _ in range(args.repeat):  # interleaved: load changes hit every method alike
            times["floor"].append(run_floor(work, runtime, sample_services(plain))[0])
            for label, root in (("zipkin on", traced), ("zipkin off", plain)):
                times[label].append(up(root))
                down(root)
            print({k: round(v[-1], 2) for k, v in times.items()}, flush=True)
        floor = median(times["floor"])
        up_rows = [[label, median(v), spread(v), f"{median(v) / floor:.2f}×"] for label, v in times.items()]

        up(traced)
        up(plain)
        try:
            deadline = time.monotonic() + 180
            while not zipkin_ready(traced) and time.monotonic() < deadline:
                time.sleep(0.5)
            urls = {"traced": gateway(traced), "untraced": gateway(plain)}
            for url in urls.values():  # warm both (first calls load SDK code, open connections)
                for _ in range(10):
                    chat(url)
            latencies: dict[str, list[float]] = {"traced": [], "untraced": []}
            for i in range(args.requests):
                order = ("traced", "untraced") if i % 2 == 0 else ("untraced", "traced")
                for label in order:
                    latencies[label].append(chat(urls[label]))
        finally:
            down(traced)
            down(plain)
    base = latencies["untraced"]
    path_rows = [[label, percentile(v, 0.5), percentile(v, 0.95),
                  f"{percentile(v, 0.5) / percentile(base, 0.5):.2f}×",
                  f"{percentile(v, 0.95) / percentile(base, 0.95):.2f}×"] for label, v in latencies.items()]
    text = "\n".join([
        f"### `aura dev up` of the sample with and without Zipkin, median of {args.repeat} interleaved runs "
        f"({start_load})", "",
        table(["stack", "up s (median)", "range s", "vs floor"], up_rows), "",
        f"### `/chat` latency with tracing on vs off, {args.requests} requests each, alternating, same run", "",
        table(["sample", "p50 ms", "p95 ms", "p50 vs off", "p95 vs off"], path_rows), "",
        "traced: samplingRate \"1\", every daprd exporting to aura's Zipkin; untraced: no Zipkin, no tracing "
        "section (daprd samples 1/10000)."])
    print(text)
    print(f"\nsaved to {save('tracing', text)}")


if __name__ == "__main__":
    main()
