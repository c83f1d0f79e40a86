"""The Dapr resources each sidecar loads, prepared under `.aura/run/resources/`.

A workspace that brings no resources gets what `dapr init` writes: a Redis state store
(usable by actors) and a Redis pub/sub, pointed at the Redis aura started.  A workspace
that brings its own has its files copied with `{redis_host}`-style placeholders resolved;
the user's folders are never written to.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from aura_dev.atomic import write_if_changed
from aura_dev.plan.model import InfraEndpoints
from aura_dev.workspace.load import Workspace

RESOURCE_SUFFIXES = {".yaml", ".yml", ".json"}
_PLACEHOLDER = re.compile(r"\{(redis_host|redis_port|redis_password|placement_host|scheduler_host|workspace_dir)\}")

DEFAULT_STATESTORE = """\
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: statestore
spec:
  type: state.redis
  version: v1
  metadata:
  - name: redisHost
    value: "{redis_host}"
  - name: redisPassword
    value: "{redis_password}"
  - name: actorStateStore
    value: "true"
"""

DEFAULT_PUBSUB = """\
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
spec:
  type: pubsub.redis
  version: v1
  metadata:
  - name: redisHost
    value: "{redis_host}"
  - name: redisPassword
    value: "{redis_password}"
"""


def component_values(ws: Workspace, infra: InfraEndpoints) -> dict[str, str]:
    return {"workspace_dir": str(ws.root), "redis_password": infra.redis_password or "", **infra.placeholders()}


def render_text(text: str, values: Mapping[str, str]) -> str:
    """Resolve only aura's placeholders; other braces (JSON, Go templates) are left alone."""
    return _PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), text)


def resources_root(ws: Workspace) -> Path:
    return ws.state_dir / "run" / "resources"


def prepare_resources(ws: Workspace, infra: InfraEndpoints) -> tuple[tuple[Path, ...], dict[str, tuple[Path, ...]]]:
    """Write the resource folders; return (shared folders, per-service folders)."""
    root = resources_root(ws)
    root.mkdir(parents=True, exist_ok=True)
    values = component_values(ws, infra)
    shared: list[Path] = []
    if ws.spec.dapr.resources:
        for index, folder in enumerate(ws.spec.dapr.resources):
            shared.append(render_folder(ws.root / folder, root / f"workspace-{index}", values))
    elif infra.redis_host:
        default = root / "default"
        default.mkdir(exist_ok=True)
        write_if_changed(default / "statestore.yaml", render_text(DEFAULT_STATESTORE, values))
        write_if_changed(default / "pubsub.yaml", render_text(DEFAULT_PUBSUB, values))
        shared.append(default)
    else:
        empty = root / "empty"
        empty.mkdir(exist_ok=True)  # daprd needs an existing folder (its resource watcher fails otherwise)
        shared.append(empty)
    per_service: dict[str, tuple[Path, ...]] = {}
    for name, service in ws.services.items():
        folders = [render_folder(ws.service_dir(name) / folder, root / f"service-{name}-{index}", values)
                   for index, folder in enumerate(service.dapr.resources)]
        if folders:
            per_service[name] = tuple(folders)
    # Folders no longer used (a changed workspace) go; the ones in use are updated in place,
    # because a running daprd watches them.
    used = {*shared, *(f for folders in per_service.values() for f in folders)}
    for stale in root.iterdir():
        if stale.is_dir() and stale not in used:
            shutil.rmtree(stale, ignore_errors=True)
    return tuple(shared), per_service


def render_folder(source: Path, target: Path, values: Mapping[str, str]) -> Path:
    """Copy the resource files of `source` into `target` with placeholders resolved."""
    target.mkdir(parents=True, exist_ok=True)
    wanted = {p.name for p in source.iterdir() if p.is_file() and p.suffix in RESOURCE_SUFFIXES}
    for stale in target.iterdir():
        if stale.name not in wanted and stale.is_file():
            stale.unlink()
    for name in sorted(wanted):
        write_if_changed(target / name, render_text((source / name).read_text(encoding="utf-8"), values))
    return target


def resource_sources(ws: Workspace) -> dict[Path, list[str]]:
    """Which user folders feed which services' sidecars (for reloads on component edits)."""
    sources: dict[Path, list[str]] = {}
    sidecars = [name for name in ws.services if ws.has_sidecar(name)]
    for folder in ws.spec.dapr.resources:
        sources.setdefault((ws.root / folder).resolve(), []).extend(sidecars)
    for name, service in ws.services.items():
        for folder in service.dapr.resources:
            sources.setdefault((ws.service_dir(name) / folder).resolve(), []).append(name)
    return sources
