"""What infra keeps, with each backend, on the real Redis and scheduler: Redis data and the
scheduler's etcd (jobs, reminders) survive a kill -9 of the unit, and a scheduler started
again on kept data takes leadership at once instead of waiting for its dead predecessor's
20 s lease."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from aura_dev.infra.base import InfraBackend, InfraService
from aura_dev.infra.docker import DockerBackend
from aura_dev.infra.native import NativeBackend
from aura_dev.infra.scheduler_leadership import recorded_lease
from aura_dev.plan.infra import InfraKind, InfraRequest
from aura_dev.units.probes import http_json, wait_until
from support.infra import requests_for

pytestmark = pytest.mark.integration

LEASE_TTL = 20.0  # go-etcd-cron's leadership lease; etcd cannot expire it sooner


def redis_at(port: int, password: str = "s3cret-pass") -> Any:
    import redis

    return redis.Redis(host="127.0.0.1", port=port, password=password, socket_timeout=5)


async def etcd(port: int, path: str, body: dict[str, Any]) -> Any:
    answer = await http_json("127.0.0.1", port, "POST", path, body)
    assert answer is not None and answer[0] == 200, answer
    return answer[1]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def started(backend: InfraBackend, request: InfraRequest) -> tuple[InfraService, float]:
    """A new unit of `request`, started and probed ready; and how long that took."""
    service = backend.create(request, lambda chunk: None)
    began = time.monotonic()
    await service.unit.start()
    assert await wait_until(service.probe, deadline=began + 60) is None
    return service, time.monotonic() - began


async def kill_hard(service: InfraService, docker_client: Any) -> None:
    ident = service.unit.identity()
    if ident.container:
        docker_client.api.kill(ident.container, "SIGKILL")
    else:
        assert ident.pid is not None
        os.kill(ident.pid, signal.SIGKILL)
    await service.unit.wait()


def kept_across_kill(backend: InfraBackend, state_dir: Path, images: dict[str, str] | None,
                     docker_client: Any = None) -> None:
    redis_request, _placement, scheduler_request = requests_for(state_dir, f"kept{os.getpid()}", images)
    redis_port = redis_request.ports.main
    etcd_port = scheduler_request.ports.extra["etcd_client"]

    async def scenario() -> None:
        redis, _ = await started(backend, redis_request)
        scheduler, _ = await started(backend, scheduler_request)
        try:
            redis_at(redis_port).hset("app||cart", "data", '"three apples"')
            await etcd(etcd_port, "/v3/kv/put", {"key": b64("dapr/jobs/app||default||a||nightly"), "value": b64("j")})
            first_lease = recorded_lease(state_dir)
            assert first_lease is not None  # the running scheduler's leadership lease, remembered

            await kill_hard(redis, docker_client)
            await kill_hard(scheduler, docker_client)
            redis, _ = await started(backend, redis_request)
            scheduler, seconds = await started(backend, scheduler_request)

            assert redis_at(redis_port).hget("app||cart", "data") == b'"three apples"'
            jobs = await etcd(etcd_port, "/v3/kv/range", {"key": b64("dapr/jobs/app||default||a||nightly")})
            assert jobs.get("count") == "1"
            # Leadership under a new lease, sooner than the dead one's could have expired:
            # aura revoked it rather than waiting.
            assert recorded_lease(state_dir) not in (None, first_lease)
            assert seconds < LEASE_TTL, f"the scheduler took {seconds:.1f} s to lead again"
            leases = await etcd(etcd_port, "/v3/lease/leases", {})
            assert first_lease not in {lease["ID"] for lease in leases.get("leases", [])}
        finally:
            await asyncio.gather(redis.unit.stop(5), scheduler.unit.stop(5))

    asyncio.run(scenario())


def test_native_redis_and_scheduler_keep_their_data_across_kill_9(tmp_path: Path, runtime: Any,
                                                                   redis_server_bin: str) -> None:
    kept_across_kill(NativeBackend(runtime), tmp_path, None)
    assert (tmp_path / "redis" / "appendonlydir").is_dir()


def test_docker_redis_and_scheduler_keep_their_data_in_the_workspace(tmp_path: Path, docker_client: Any,
                                                                     docker_images: dict[str, str]) -> None:
    backend = DockerBackend(docker_client)
    kept_across_kill(backend, tmp_path, docker_images, docker_client)
    for request in requests_for(tmp_path, "owner", docker_images)[::2]:  # Redis and the scheduler
        assert backend.create(request, lambda chunk: None).unit.run_kwargs["user"] == (  # type: ignore[attr-defined]
            f"{os.getuid()}:{os.getgid()}")
    # On the host, under .aura, and owned by whoever runs aura (not by the image's user).
    kept = [p for p in (tmp_path / "redis").rglob("*")] + [p for p in (tmp_path / "scheduler").rglob("*")]
    assert any(p.name.endswith(".aof") for p in kept)
    assert {p.stat().st_uid for p in kept} == {os.getuid()}


def test_persist_false_is_todays_in_memory_redis(tmp_path: Path, runtime: Any, redis_server_bin: str) -> None:
    from dataclasses import replace

    request = replace(requests_for(tmp_path, "volatile", None)[0], persist=False)
    service = NativeBackend(runtime).create(request, lambda chunk: None)
    argv = service.unit.argv  # type: ignore[attr-defined]
    assert argv[argv.index("--appendonly") + 1] == "no" and argv[argv.index("--save") + 1] == ""

    async def scenario() -> None:
        redis, _ = await started(NativeBackend(runtime), request)
        redis_at(request.ports.main).set("k", "v")
        await kill_hard(redis, None)
        redis, _ = await started(NativeBackend(runtime), request)
        assert redis_at(request.ports.main).get("k") is None
        await redis.unit.stop(5)

    asyncio.run(scenario())
    assert not (tmp_path / "redis" / "appendonlydir").exists()
