"""The real Redis, placement and scheduler, with each backend: ready, loopback-only, and
nothing left once stopped."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from aura_dev.infra.base import InfraService
from aura_dev.plan.infra import InfraKind, InfraPorts, InfraRequest
from aura_dev.infra.docker import LABEL_WORKSPACE, DockerBackend
from aura_dev.infra.native import NativeBackend
from aura_dev.logs.record import LogChunk
from aura_dev.net import PortAllocator
from aura_dev.units.probes import http_status, redis_ping, wait_until
from support.infra import requests_for
from support.sockets import alive, listeners, listeners_of, non_loopback

pytestmark = pytest.mark.integration


async def start_all(services: list[InfraService]) -> list[str | None]:
    await asyncio.gather(*(s.unit.start() for s in services))
    deadline = time.monotonic() + 60
    return list(await asyncio.gather(*(wait_until(s.probe, deadline=deadline) for s in services)))


def all_ports(requests: list[InfraRequest]) -> list[int]:
    return [port for r in requests for port in r.ports.all()]


def test_native_infra_is_ready_loopback_only_and_leaves_nothing(tmp_path: Path, runtime: Any,
                                                                 redis_server_bin: str) -> None:
    chunks: list[LogChunk] = []
    requests = requests_for(tmp_path, "nativetest", None)
    backend = NativeBackend(runtime)
    services = [backend.create(r, chunks.append) for r in requests]

    async def scenario() -> None:
        assert await start_all(services) == [None, None, None]
        pids = [s.unit.identity().pid for s in services]
        assert await redis_ping("127.0.0.1", requests[0].ports.main, "s3cret-pass")
        assert not await redis_ping("127.0.0.1", requests[0].ports.main, "wrong")
        for s in services[1:]:
            assert await http_status("127.0.0.1", s.ports.healthz or 0, "/healthz") == 200
        found = listeners_of(int(p) for p in pids)  # type: ignore[call-overload]
        assert {port for _ip, port, _pid in found} >= {r.ports.main for r in requests}
        # Dapr 1.18.2 ignores --healthz-listen-address (its healthz server binds ":port");
        # every other listener must be on loopback.
        healthz = {s.ports.healthz for s in services[1:]}
        exposed = non_loopback(found)
        assert {port for _ip, port, _pid in exposed} <= healthz, exposed
        await asyncio.gather(*(s.unit.stop(5) for s in services))
        assert alive(int(p) for p in pids) == []  # type: ignore[call-overload]

    asyncio.run(scenario())
    assert listeners(all_ports(requests)) == []
    text = b"".join(c.data for c in chunks).decode(errors="replace")
    assert "Ready to accept connections" in text  # Redis output reached the sink
    assert "s3cret-pass" not in text


def test_docker_infra_is_ready_published_on_loopback_and_removed(tmp_path: Path, docker_client: Any,
                                                                 docker_images: dict[str, str]) -> None:
    chunks: list[LogChunk] = []
    key = f"dockertest{int(time.time())}"
    requests = requests_for(tmp_path, key, docker_images)
    backend = DockerBackend(docker_client)
    services = [backend.create(r, chunks.append) for r in requests]

    async def scenario() -> None:
        assert await start_all(services) == [None, None, None]
        containers = docker_client.containers.list(filters={"label": f"{LABEL_WORKSPACE}={key}"})
        assert len(containers) == 3
        for container in containers:
            for bindings in container.attrs["NetworkSettings"]["Ports"].values():
                assert all(b["HostIp"] == "127.0.0.1" for b in bindings or [])
        assert non_loopback(listeners(all_ports(requests))) == []
        assert await redis_ping("127.0.0.1", requests[0].ports.main, "s3cret-pass")
        await asyncio.gather(*(s.unit.stop(2) for s in services))

    asyncio.run(scenario())
    assert docker_client.containers.list(all=True, filters={"label": f"{LABEL_WORKSPACE}={key}"}) == []
    assert listeners(all_ports(requests)) == []
    text = b"".join(c.data for c in chunks).decode(errors="replace")
    assert "Redis is starting" in text  # the very first line is not lost
    assert "Placement" in text or "placement" in text


def test_missing_image_is_a_clear_error(tmp_path: Path, docker_client: Any) -> None:
    from aura_dev.errors import InfraError

    request = InfraRequest(InfraKind.REDIS, InfraPorts(PortAllocator("x").allocate()), "missingimg", "t",
                           tmp_path, "1.18.2", image="aura-test/does-not-exist:0")
    service = DockerBackend(docker_client).create(request, lambda chunk: None)
    with pytest.raises(InfraError) as info:
        asyncio.run(service.unit.start())
    assert "aura-test/does-not-exist:0 is not present and cannot be pulled" in info.value.message
    assert docker_client.containers.list(all=True, filters={"label": f"{LABEL_WORKSPACE}=missingimg"}) == []
