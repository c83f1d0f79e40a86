"""The scheduler started again after a kill -9: how long until it serves (its cron holds
leadership, which is what sidecars wait for; /healthz says 200 long before), three ways,
interleaved round by round on the same ports:

- data deleted: what aura did before (jobs and reminders lost);
- data kept as is: the new scheduler waits for its dead predecessor's 20 s lease;
- data kept, stale lease revoked: what aura does now (`infra/scheduler_leadership.py`).

    python benchmarks/bench_scheduler_restart.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, machine, median, precompile, save, table

sys.path.insert(0, str(REPO / "src"))
from aura_dev.infra.native import NativeBackend  # noqa: E402
from aura_dev.infra.scheduler_leadership import SchedulerReadiness  # noqa: E402
from aura_dev.net import PortAllocator  # noqa: E402
from aura_dev.plan.infra import InfraKind, InfraPorts, InfraRequest, scheduler_data_dir  # noqa: E402
from aura_dev.runtime import require_runtime  # noqa: E402
from aura_dev.units.probes import wait_until  # noqa: E402
from aura_dev.versions import DEFAULT_RUNTIME_VERSION  # noqa: E402

MODES = ("data deleted", "data kept as is", "kept, stale lease revoked")


def request_in(state_dir: Path) -> InfraRequest:
    alloc = PortAllocator(seed=f"bench-scheduler-{os.getpid()}")
    main = alloc.allocate()
    extra = {name: alloc.allocate() for name in ("etcd_client", "etcd_peer")}
    return InfraRequest(InfraKind.SCHEDULER, InfraPorts(main, alloc.allocate(), alloc.allocate(), extra),
                        "benchsched", "bench", state_dir, DEFAULT_RUNTIME_VERSION)


async def serving_after_kill(backend: NativeBackend, request: InfraRequest, mode: str) -> float:
    """Run a scheduler until it serves, kill it -9, prepare the data as `mode` says, start
    the next one: seconds from that start until it serves."""
    first = backend.create(request, lambda chunk: None)
    await first.unit.start()
    assert await wait_until(first.probe, deadline=time.monotonic() + 60) is None
    pid = first.unit.identity().pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    await first.unit.wait()
    if mode == MODES[0]:
        shutil.rmtree(scheduler_data_dir(request.state_dir))
    second = backend.create(request, lambda chunk: None)
    # Serving: leadership held by a lease other than the dead scheduler's (which the probe
    # knows from the file it recorded); only the last mode revokes that lease.
    ready = SchedulerReadiness(request.state_dir, "127.0.0.1", healthz_port=request.ports.healthz or 0,
                               etcd_port=request.ports.extra["etcd_client"])
    assert ready.stale is not None
    ready.revoked = mode != MODES[2]
    began = time.monotonic()
    await second.unit.start()
    try:
        assert await wait_until(ready, deadline=began + 90, interval=0.01, max_interval=0.02) is None
        return time.monotonic() - began
    finally:
        await second.unit.stop(5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    precompile()
    backend = NativeBackend(require_runtime(DEFAULT_RUNTIME_VERSION))
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="aura-sched-") as folder:
        request = request_in(Path(folder))
        for number in range(args.rounds):
            for mode in MODES if number % 2 == 0 else reversed(MODES):
                seconds = asyncio.run(serving_after_kill(backend, request, mode))
                times[mode].append(seconds)
                print(f"round {number + 1}: {mode}: serving after {seconds:.2f} s", flush=True)
    floor = median(times[MODES[0]])
    rows = [[mode, median(v), f"{min(v):.2f}–{max(v):.2f}", f"{median(v) / floor:.1f}×"] for mode, v in times.items()]
    text = "\n".join([
        f"# scheduler serving again after kill -9 ({args.rounds} rounds, interleaved; {machine()})", "",
        table(["restart with", "median s", "range s", "vs data deleted"], rows)])
    print(text)
    print(f"saved to {save('scheduler-restart', text)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
