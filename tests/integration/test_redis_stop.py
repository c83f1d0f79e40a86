"""Stopping Redis with its SHUTDOWN command (`units.redis_stop`), on the real redis-server:
it exits at once rather than at its timer's next tick, still gracefully — what was written
before the stop is in the append-only file when it starts again — and without the signal."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from aura_dev.infra.native import NativeBackend, RedisProcess
from aura_dev.logs.record import LogChunk
from aura_dev.units.probes import wait_until
from aura_dev.units.redis_stop import ask_to_shut_down
from support.infra import requests_for

pytestmark = pytest.mark.integration


def test_a_native_redis_stops_on_its_command_and_keeps_what_was_written(tmp_path: Path, runtime: Any,
                                                                      redis_server_bin: str) -> None:
    import redis

    request = requests_for(tmp_path, f"rstop{os.getpid()}", None)[0]
    lines: list[str] = []

    def sink(chunk: LogChunk) -> None:
        lines.extend(chunk.data.decode(errors="replace").splitlines())

    async def started() -> Any:
        service = NativeBackend(runtime).create(request, sink)
        await service.unit.start()
        assert await wait_until(service.probe, deadline=asyncio.get_running_loop().time() + 30) is None
        return service

    async def scenario() -> None:
        service = await started()
        assert isinstance(service.unit, RedisProcess)
        client = redis.Redis(host="127.0.0.1", port=request.ports.main, password=request.password, socket_timeout=5)
        client.set("order", "three apples")
        client.close()
        await service.unit.stop(5.0)
        assert not service.unit.running
        assert any("User requested shutdown" in line for line in lines), lines[-10:]
        assert not any("Received SIGTERM" in line for line in lines), "stopped by the signal, not the command"
        again = await started()
        try:
            client = redis.Redis(host="127.0.0.1", port=request.ports.main, password=request.password, socket_timeout=5)
            assert client.get("order") == b"three apples"
            client.close()
        finally:
            await again.unit.stop(5.0)

    asyncio.run(scenario())


def test_nobody_listening_is_a_plain_no(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert asyncio.run(ask_to_shut_down("127.0.0.1", port, None, timeout=1.0)) is False
