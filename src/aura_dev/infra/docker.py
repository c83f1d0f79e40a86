"""Infra as Docker containers (like `dapr init`): named and labelled per workspace,
ports published on 127.0.0.1 only, removed when stopped.

The docker SDK is synchronous; its calls run in worker threads.  Output is read through
`attach(demux=True)` made between create and start, so no early line is lost, and
stdout and stderr stay apart.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from aura_dev.errors import InfraError
from aura_dev.infra.base import InfraService
from aura_dev.infra.scheduler_leadership import SchedulerReadiness
from aura_dev.plan.infra import (
    InfraKind, InfraRequest, default_image, redis_data_dir, redis_persistence_args, scheduler_data_dir,
    scheduler_snapshot_args,
)
from aura_dev.logs.record import LogChunk, Stream, UnitRef
from aura_dev.logs.splitter import LineSplitter
from aura_dev.net import LOOPBACK
from aura_dev.units.probes import http_status, redis_ping
from aura_dev.units.base import UnitIdentity
from aura_dev.units.process import OutputSink
from aura_dev.units.redis_stop import stop_redis

LABEL_WORKSPACE = "dev.aura.workspace"
LABEL_UNIT = "dev.aura.unit"
LABEL_PATH = "dev.aura.workspace-path"
REDIS_PORT = 6379
PLACEMENT_PORT = 50005
SCHEDULER_PORT = 50006
HEALTHZ_PORT = 8080
METRICS_PORT = 9090
ETCD_CLIENT_PORT = 2379
ZIPKIN_PORT = 9411
DATA = "/data"  # where a container keeps what must outlive it (a bind mount of a folder under .aura/)


def docker_client(timeout: float = 30.0) -> Any:
    """A client whose engine answered a ping, or InfraError saying why not."""
    import docker  # imported lazily: the SDK costs ~0.2 s of start-up

    try:
        client = docker.from_env(timeout=int(timeout))
        client.ping()
        return client
    except Exception as exc:  # the SDK raises several unrelated types here
        raise InfraError(
            f"the Docker engine does not answer: {exc}",
            hint="start it (`sudo systemctl start docker`, or `dockerd &`) or use infra.backend: native",
        ) from exc


def docker_available(timeout: float = 2.0) -> bool:
    try:
        client = docker_client(timeout)
    except InfraError:
        return False
    client.close()
    return True


def container_name(request: InfraRequest) -> str:
    return f"aura-{request.workspace_key}-{request.kind.value}"


class ContainerUnit:
    def __init__(self, unit: UnitRef, client: Any, *, name: str, image: str, run_kwargs: dict[str, Any],
                 labels: dict[str, str], sink: OutputSink) -> None:
        self.unit = unit
        self.client = client
        self.name = name
        self.image = image
        self.run_kwargs = run_kwargs
        self.labels = labels
        self.sink = sink
        self.container: Any = None
        self.container_id: str | None = None
        self.returncode: int | None = None
        self._exited: asyncio.Future[int] | None = None
        self._removal: asyncio.Future[None] | None = None
        self._log_thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.container is not None and self.returncode is None

    def identity(self) -> UnitIdentity:
        return UnitIdentity(container=self.container_id, name=self.name) if self.container_id else UnitIdentity()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.returncode = None
        self._removal = None
        self.container, output = await asyncio.to_thread(self._create_and_start)
        self.container_id = self.container.id
        self._exited = loop.create_future()
        self._log_thread = threading.Thread(target=self._pump_output, args=(loop, output), daemon=True,
                                            name=f"logs-{self.name}")
        self._log_thread.start()
        threading.Thread(target=self._wait_exit, args=(loop,), daemon=True, name=f"wait-{self.name}").start()

    def _create_and_start(self) -> tuple[Any, Any]:
        """Create, attach, then start: attaching before the start is what guarantees that
        not even the first line is missed (a replay with attach(logs=True) loses lines)."""
        import docker.errors

        remove_container(self.client, self.name, self.labels[LABEL_WORKSPACE])
        self._ensure_image()
        try:
            container = self.client.containers.create(self.image, name=self.name, labels=self.labels,
                                                      detach=True, **self.run_kwargs)
            output = self.client.api.attach(container.id, stdout=True, stderr=True, stream=True, demux=True)
            container.start()
            return container, output
        except docker.errors.APIError as exc:
            remove_container(self.client, self.name, self.labels[LABEL_WORKSPACE])
            raise InfraError(f"cannot start container {self.name} ({self.image}): {exc.explanation or exc}") from exc

    def _ensure_image(self) -> None:
        import docker.errors

        try:
            self.client.images.get(self.image)
            return
        except docker.errors.ImageNotFound:
            pass
        try:
            self.client.images.pull(self.image)
        except docker.errors.APIError as exc:
            raise InfraError(
                f"image {self.image} is not present and cannot be pulled: {exc.explanation or exc}",
                hint=f"load or build {self.image} locally, set infra.{self.unit.service}.image to an image you "
                "have, or use infra.backend: native",
            ) from exc

    def _pump_output(self, loop: asyncio.AbstractEventLoop, output: Any) -> None:
        def deliver(chunk: LogChunk) -> None:
            loop.call_soon_threadsafe(self.sink, chunk)

        splitters = {Stream.OUT: LineSplitter(self.unit, Stream.OUT, deliver),
                     Stream.ERR: LineSplitter(self.unit, Stream.ERR, deliver)}
        try:
            for out, err in output:
                if out:
                    splitters[Stream.OUT].feed(out)
                if err:
                    splitters[Stream.ERR].feed(err)
        except Exception:  # the container went away under the stream: nothing more to read
            pass
        for splitter in splitters.values():
            splitter.flush()

    def _wait_exit(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            code = int(self.container.wait().get("StatusCode", -1))
        except Exception:
            code = -1
        if self._log_thread is not None:
            self._log_thread.join(timeout=2.0)
        loop.call_soon_threadsafe(self._set_exited, code)

    def _set_exited(self, code: int) -> None:
        if self._exited is not None and not self._exited.done():
            self._exited.set_result(code)

    async def wait(self) -> int:
        assert self._exited is not None, "not started"
        code = await asyncio.shield(self._exited)
        self.returncode = code
        if self._removal is None:  # wait() has several callers; remove the container once
            self._removal = asyncio.ensure_future(
                asyncio.to_thread(remove_container, self.client, self.name, self.labels[LABEL_WORKSPACE]))
        await asyncio.shield(self._removal)
        return code

    async def stop(self, grace: float = 5.0) -> int | None:
        if self.container is None:
            return None
        if self.returncode is None:
            await asyncio.to_thread(self._stop_container, grace)
        return await self.wait()

    def _stop_container(self, grace: float) -> None:
        try:
            self.container.stop(timeout=max(1, int(round(grace))))
        except Exception:
            pass


class RedisContainer(ContainerUnit):
    """Redis in a container, stopped with its SHUTDOWN command beside `docker stop` (`units.redis_stop`)."""

    def __init__(self, *args: Any, address: tuple[str, int, str | None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.address = address

    async def stop(self, grace: float = 5.0) -> int | None:
        return await stop_redis(super().stop, grace, self.running, self.address)


def remove_container(client: Any, name: str, workspace_key: str) -> None:
    """Remove container `name` if it exists and carries our workspace label; never touch others."""
    import docker.errors

    try:
        container = client.containers.get(name)
    except docker.errors.NotFound:
        return
    if container.labels.get(LABEL_WORKSPACE) != workspace_key:
        raise InfraError(f"a container named {name} exists and was not made by aura for this workspace",
                         hint=f"remove or rename it: docker rm -f {name}")
    try:
        container.remove(force=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        if exc.status_code != 409:  # 409: a removal is already under way; wait for it below
            raise
    for _ in range(100):
        try:
            client.containers.get(name)
        except docker.errors.NotFound:
            return
        time.sleep(0.05)


def remove_workspace_containers(client: Any, workspace_key: str) -> list[str]:
    """Remove every container labelled with this workspace (leftovers of a killed supervisor)."""
    removed = []
    for container in client.containers.list(all=True, filters={"label": f"{LABEL_WORKSPACE}={workspace_key}"}):
        try:
            container.remove(force=True)
            removed.append(container.name)
        except Exception:
            pass
    return removed


async def _healthz_ok(port: int) -> bool:
    return await http_status(LOOPBACK, port, "/healthz") == 200


def _kept_in(host_dir: Path, target: str) -> dict[str, Any]:
    """Run options that keep a container's data in `host_dir` on the host.  The container
    runs as the user running aura, so that the files it writes there belong to that user
    (who can read, move and wipe them) — not to root, nor to the image's own user, which
    the official Redis image would otherwise `chown` the folder to."""
    host_dir.mkdir(parents=True, exist_ok=True)
    return {"volumes": {str(host_dir): {"bind": target, "mode": "rw"}}, "user": f"{os.getuid()}:{os.getgid()}"}


class DockerBackend:
    name = "docker"

    def __init__(self, client: Any | None = None) -> None:
        self.client = client if client is not None else docker_client()

    def create(self, request: InfraRequest, sink: OutputSink) -> InfraService:
        ports = request.ports
        image = request.image or default_image(request.kind, request.runtime_version)
        if request.kind is InfraKind.ZIPKIN and not self._image_present(image):
            # Nothing is pulled for an observer: the official jar runs natively instead.
            from aura_dev.infra.native import NativeBackend
            return NativeBackend(None).create(request, sink)
        labels = {LABEL_WORKSPACE: request.workspace_key, LABEL_UNIT: request.kind.value,
                  LABEL_PATH: str(request.state_dir.parent)}
        run: dict[str, Any]
        probe: Callable[[], Awaitable[bool]]
        if request.kind is InfraKind.ZIPKIN:
            from aura_dev.infra.native import zipkin_healthy
            run = {"ports": {f"{ZIPKIN_PORT}/tcp": (LOOPBACK, ports.main)}, "environment": {"JAVA_OPTS": "-Xmx160m"}}
            probe = partial(zipkin_healthy, ports.main)
        elif request.kind is InfraKind.REDIS:
            command = ["redis-server", "--port", str(REDIS_PORT), "--bind", "0.0.0.0", "--protected-mode", "no",
                       *redis_persistence_args(request.persist)]
            if request.password:
                command += ["--requirepass", request.password]
            run = {"command": command, "ports": {f"{REDIS_PORT}/tcp": (LOOPBACK, ports.main)}}
            if request.persist:
                command += ["--dir", DATA]
                run.update(_kept_in(redis_data_dir(request.state_dir), DATA))
            probe = partial(redis_ping, LOOPBACK, ports.main, request.password)
        elif request.kind is InfraKind.PLACEMENT:
            run = {
                "entrypoint": ["./placement"],
                "command": ["--port", str(PLACEMENT_PORT), "--healthz-port", str(HEALTHZ_PORT),
                            "--metrics-port", str(METRICS_PORT), "--log-level", request.log_level],
                "ports": {f"{PLACEMENT_PORT}/tcp": (LOOPBACK, ports.main),
                          f"{HEALTHZ_PORT}/tcp": (LOOPBACK, ports.healthz),
                          f"{METRICS_PORT}/tcp": (LOOPBACK, ports.metrics)},
            }
            assert ports.healthz is not None
            probe = partial(_healthz_ok, ports.healthz)
        else:
            run = {
                "entrypoint": ["./scheduler"],
                "command": ["--port", str(SCHEDULER_PORT), "--healthz-port", str(HEALTHZ_PORT),
                            "--metrics-port", str(METRICS_PORT), "--etcd-data-dir", DATA,
                            # Inside the container's own network; published on 127.0.0.1 only.
                            "--etcd-client-port", str(ETCD_CLIENT_PORT), "--etcd-client-listen-address", "0.0.0.0",
                            "--override-broadcast-host-port", f"localhost:{ports.main}",
                            "--log-level", request.log_level,
                            *scheduler_snapshot_args(scheduler_data_dir(request.state_dir))],
                "ports": {f"{SCHEDULER_PORT}/tcp": (LOOPBACK, ports.main),
                          f"{HEALTHZ_PORT}/tcp": (LOOPBACK, ports.healthz),
                          f"{METRICS_PORT}/tcp": (LOOPBACK, ports.metrics),
                          f"{ETCD_CLIENT_PORT}/tcp": (LOOPBACK, ports.extra["etcd_client"])},
                # Jobs and reminders in the same folder as the native backend's: they survive
                # the container, and a switch of backend.
                **_kept_in(scheduler_data_dir(request.state_dir), DATA),
            }
            assert ports.healthz is not None
            probe = SchedulerReadiness(request.state_dir, LOOPBACK, healthz_port=ports.healthz,
                                       etcd_port=ports.extra["etcd_client"])
        common: dict[str, Any] = {"name": container_name(request), "image": image, "run_kwargs": run,
                                  "labels": labels, "sink": sink}
        if request.kind is InfraKind.REDIS:
            unit: ContainerUnit = RedisContainer(request.kind.unit_ref, self.client, **common,
                                                 address=(LOOPBACK, ports.main, request.password))
        else:
            unit = ContainerUnit(request.kind.unit_ref, self.client, **common)
        return InfraService(request.kind, unit, self.name, LOOPBACK, ports, probe)

    def _image_present(self, image: str) -> bool:
        try:
            self.client.images.get(image)
            return True
        except Exception:  # ImageNotFound, or an engine that stopped answering
            return False
