"""Infra as native processes: `redis-server` from PATH, placement and scheduler from the
runtime install.  Every listener is bound to 127.0.0.1 and every port is our own."""

from __future__ import annotations

import os
import shutil
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from aura_dev.errors import InfraError
from aura_dev.infra.base import InfraService
from aura_dev.infra.scheduler_leadership import SchedulerReadiness
from aura_dev.plan.infra import (
    InfraKind, InfraRequest, kept_output_dir, redis_data_dir, redis_persistence_args, scheduler_data_dir,
    scheduler_snapshot_args,
)
from aura_dev.plan.tracing import zipkin_java_argv
from aura_dev.net import LOOPBACK
from aura_dev.units.probes import http_status, redis_ping
from aura_dev.units.base import Unit
from aura_dev.units.kept import KeptProcessUnit
from aura_dev.units.process import OutputSink, ProcessUnit
from aura_dev.units.redis_stop import stop_redis
from aura_dev.runtime import RuntimeInstall


async def _healthz_ok(port: int) -> bool:
    return await http_status(LOOPBACK, port, "/healthz") == 200


async def zipkin_healthy(port: int) -> bool:
    return await http_status(LOOPBACK, port, "/health") == 200


def zipkin_argv(request: InfraRequest) -> list[str]:
    """The Zipkin jar under Java, niced; InfraError when either is missing."""
    from aura_dev.runtime.zipkin import MIN_JAVA, installed_jar, jar_path, java_path

    java = java_path()
    if java is None:
        raise InfraError(f"no Zipkin this run: java (version {MIN_JAVA}+) is not on PATH",
                         hint="install Java 17+ (Debian: `apt-get install openjdk-17-jre-headless`) for traces; "
                         "or set infra.zipkin.enabled: false")
    jar = installed_jar()
    if jar is None:
        raise InfraError(f"no Zipkin this run: {jar_path()} is missing", hint="fetch it with `aura dev init`")
    return zipkin_java_argv(java, jar, request.ports.main, shutil.which("nice"))


class RedisProcess(ProcessUnit):
    """redis-server, stopped with its SHUTDOWN command beside the signals (`units.redis_stop`)."""

    def __init__(self, *args: Any, address: tuple[str, int, str | None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.address = address

    async def stop(self, grace: float = 5.0) -> int | None:
        return await stop_redis(super().stop, grace, self.running, self.address)


class NativeBackend:
    name = "native"

    def __init__(self, runtime: RuntimeInstall | None) -> None:
        self.runtime = runtime

    def create(self, request: InfraRequest, sink: OutputSink) -> InfraService:
        probe: Callable[[], Awaitable[bool]]
        if request.kind is InfraKind.REDIS:
            argv = self._redis_argv(request)
            probe = partial(redis_ping, LOOPBACK, request.ports.main, request.password)
        elif request.kind is InfraKind.ZIPKIN:
            argv = zipkin_argv(request)
            probe = partial(zipkin_healthy, request.ports.main)
        elif request.kind is InfraKind.PLACEMENT:
            argv = self._placement_argv(request)
            probe = partial(_healthz_ok, self._healthz(request))
        else:
            argv = self._scheduler_argv(request)
            probe = SchedulerReadiness(request.state_dir, LOOPBACK, healthz_port=self._healthz(request),
                                       etcd_port=request.ports.extra["etcd_client"])
        workdir = request.state_dir / request.kind.value
        workdir.mkdir(parents=True, exist_ok=True)
        unit: Unit
        if request.keep:  # infra.keep: outlives this supervisor, output to files (units.kept)
            unit = KeptProcessUnit(request.kind.unit_ref, argv, env=dict(os.environ), cwd=workdir, sink=sink,
                                   out_dir=kept_output_dir(request.state_dir))
        elif request.kind is InfraKind.REDIS:
            unit = RedisProcess(request.kind.unit_ref, argv, env=dict(os.environ), cwd=workdir, sink=sink,
                                address=(LOOPBACK, request.ports.main, request.password))
        else:
            unit = ProcessUnit(request.kind.unit_ref, argv, env=dict(os.environ), cwd=workdir, sink=sink)
        return InfraService(request.kind, unit, self.name, LOOPBACK, request.ports, probe)

    @staticmethod
    def _healthz(request: InfraRequest) -> int:
        assert request.ports.healthz is not None
        return request.ports.healthz

    def _binary(self, name: str) -> str:
        if self.runtime is None:
            raise InfraError(f"the native {name} needs the Dapr runtime", hint="run `aura dev init`")
        return str(self.runtime.binary(name))

    @staticmethod
    def _redis_argv(request: InfraRequest) -> list[str]:
        server = shutil.which("redis-server")
        if server is None:
            raise InfraError(
                "redis-server is not on PATH",
                hint="install it (Debian/Ubuntu: `apt-get install redis-server`; macOS: `brew install redis`) "
                "or use the docker backend (infra.backend: docker)",
            )
        argv = [
            server, "--port", str(request.ports.main), "--bind", LOOPBACK, *redis_persistence_args(request.persist),
            "--dir", str(redis_data_dir(request.state_dir)), "--daemonize", "no", "--loglevel", "notice",
        ]
        if request.password:
            argv += ["--requirepass", request.password]
        return argv

    def _control_plane_argv(self, binary: str, request: InfraRequest) -> list[str]:
        """What placement and the scheduler share: their ports, every listener on loopback."""
        ports = request.ports
        return [
            self._binary(binary),
            "--port", str(ports.main),
            "--listen-address", LOOPBACK,
            "--healthz-port", str(ports.healthz),
            # Dapr 1.18.2 parses but ignores this flag (its healthz server binds ":port");
            # passed anyway so the fix upstream takes effect without a change here.
            "--healthz-listen-address", LOOPBACK,
            "--metrics-port", str(ports.metrics),
            "--metrics-listen-address", LOOPBACK,
            "--log-level", request.log_level,
        ]

    def _placement_argv(self, request: InfraRequest) -> list[str]:
        return self._control_plane_argv("placement", request) + [
            "--initial-cluster", f"dapr-placement-0=127.0.0.1:{request.ports.extra['raft']}",
        ]

    def _scheduler_argv(self, request: InfraRequest) -> list[str]:
        ports = request.ports
        data = scheduler_data_dir(request.state_dir)
        data.mkdir(parents=True, exist_ok=True)
        return self._control_plane_argv("scheduler", request) + [
            "--etcd-data-dir", str(data),
            "--etcd-client-port", str(ports.extra["etcd_client"]),
            "--etcd-client-listen-address", LOOPBACK,
            "--etcd-initial-cluster", f"dapr-scheduler-server-0=http://127.0.0.1:{ports.extra['etcd_peer']}",
            "--override-broadcast-host-port", f"127.0.0.1:{ports.main}",
            *scheduler_snapshot_args(data),
        ]
