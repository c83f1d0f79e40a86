"""Which backend runs the infra: `docker` when asked for, `native` when asked for, and for
`auto` docker only when the engine answers *and* already has every image (nothing can be
pulled on an offline laptop), else native processes.  Zipkin's image does not count: the
docker backend runs Zipkin's jar natively when its image is absent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aura_dev.errors import InfraError
from aura_dev.infra.base import InfraBackend
from aura_dev.plan.infra import InfraKind, default_image
from aura_dev.runtime import RuntimeInstall
from aura_dev.workspace.load import Workspace


def resolve_backend(choice: str, ws: Workspace, runtime_version: str) -> tuple[str, str | None]:
    """(backend, why) — `why` explains an `auto` that fell back to native."""
    if ws.spec.infra.keep:  # the docker backend cannot keep its containers yet
        if choice == "docker":
            raise InfraError("infra.keep is not supported by the docker backend yet: nothing was started",
                             hint="use infra.backend: native or auto (kept Redis, placement and scheduler run as "
                             "native processes), or remove infra.keep")
        return "native", None if choice == "native" else "infra.keep runs infra as native processes"
    if choice != "auto":
        return choice, None
    from aura_dev.infra import docker_probe

    wanted = sorted({_settings(ws, kind).image or default_image(kind, runtime_version)
                     for kind in InfraKind if _settings(ws, kind).enabled and kind.gates_stack})
    if not wanted:
        return "native", None  # no infra to run
    sock = docker_probe.socket_path()
    if sock is None:  # a remote engine: ask through the SDK
        return _resolve_with_sdk(wanted)
    if not docker_probe.engine_answers(sock):
        return "native", "the Docker engine does not answer"
    missing = [image for image in wanted if not docker_probe.image_present(image, sock)]
    if missing:
        return "native", f"images not present locally: {', '.join(missing)}"
    return "docker", None


def _settings(ws: Workspace, kind: InfraKind) -> Any:
    return getattr(ws.spec.infra, kind.value)


def _resolve_with_sdk(images: list[str]) -> tuple[str, str | None]:
    from aura_dev.infra.docker import docker_client

    try:
        client = docker_client(timeout=3)
    except InfraError:
        return "native", "the Docker engine does not answer"
    try:
        missing = []
        for image in images:
            try:
                client.images.get(image)
            except Exception:
                missing.append(image)
        return ("native", f"images not present locally: {', '.join(missing)}") if missing else ("docker", None)
    finally:
        client.close()


def backend_factory(runtime: RuntimeInstall) -> Callable[[str], InfraBackend]:
    def make(name: str) -> InfraBackend:
        if name == "docker":
            from aura_dev.infra.docker import DockerBackend
            return DockerBackend()
        from aura_dev.infra.native import NativeBackend
        return NativeBackend(runtime)
    return make


def remove_leftover_containers(workspace_key: str, timeout: float = 10.0) -> list[str]:
    """Containers of this workspace left by a supervisor that was killed; their names."""
    from aura_dev.infra.docker import docker_client, remove_workspace_containers

    try:
        return remove_workspace_containers(docker_client(timeout), workspace_key)
    except InfraError:
        return []
