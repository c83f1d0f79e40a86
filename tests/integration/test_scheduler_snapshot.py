"""A scheduler restarting on kept data leads at once: its etcd finds a raft snapshot.

Without one, an embedded etcd on its own data does not know it is a cluster of one and
waits out a whole election timeout (1–1.9 s) before it leads; aura asks for a snapshot on
the first run of a data folder (`plan.infra.scheduler_snapshot_args`), so every later run
fast-forwards its election ticks.  Driven on the real scheduler binary.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest

from aura_dev.engine.kept_record import masked
from aura_dev.infra.native import NativeBackend
from aura_dev.logs.record import LogChunk
from aura_dev.plan.infra import SNAPSHOT_COUNT_FLAG, scheduler_data_dir, scheduler_snapshot_args
from aura_dev.units.head_start import comparable_argv
from aura_dev.units.probes import wait_until
from support.infra import requests_for

pytestmark = pytest.mark.integration

FAST_FORWARD = b"fast-forwarding election ticks"


def test_only_a_data_folder_without_a_snapshot_asks_for_one(tmp_path: Path) -> None:
    assert scheduler_snapshot_args(tmp_path) == [SNAPSHOT_COUNT_FLAG, "1"]
    snap = tmp_path / "default-dapr-scheduler-server-0" / "dapr-0.1" / "member" / "snap"
    snap.mkdir(parents=True)
    (snap / "0000000000000002-0000000000000003.snap").write_bytes(b"x")
    assert scheduler_snapshot_args(tmp_path) == []
    # A kept or early scheduler started with the flag is the one a start without it wants.
    with_flag = ["scheduler", SNAPSHOT_COUNT_FLAG, "1", "--port", "1"]
    assert masked(with_flag) == masked(["scheduler", "--port", "1"])
    assert comparable_argv(with_flag) == ["scheduler", "--port", "1"]


def test_second_run_on_kept_data_fast_forwards_its_election(tmp_path: Path, runtime: Any) -> None:
    request = requests_for(tmp_path, f"snap{os.getpid()}", None)[2]
    backend = NativeBackend(runtime)

    async def one_run() -> tuple[list[str], bytes, float]:
        output: list[bytes] = []

        def sink(chunk: LogChunk) -> None:
            output.append(chunk.data)

        service = backend.create(request, sink)
        argv = list(service.unit.argv)  # type: ignore[attr-defined]
        began = time.monotonic()
        await service.unit.start()
        try:
            assert await wait_until(service.probe, deadline=began + 60) is None
            seconds = time.monotonic() - began
        finally:
            await service.unit.stop(5)  # its output drained to the end
        return argv, b"".join(output), seconds

    first_argv, _, _ = asyncio.run(one_run())
    assert SNAPSHOT_COUNT_FLAG in first_argv
    assert list(scheduler_data_dir(tmp_path).glob("**/member/snap/*.snap")), "the first run left no snapshot"

    second_argv, output, seconds = asyncio.run(one_run())
    assert SNAPSHOT_COUNT_FLAG not in second_argv  # the snapshot exists: etcd's own default again
    assert FAST_FORWARD in output, output.decode(errors="replace")[-3000:]
    print(f"second run on kept data: leading and ready in {seconds:.2f} s")
