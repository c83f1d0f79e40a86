"""The Dapr resources each sidecar loads, prepared under `.aura/run/resources/`.

A workspace that brings no resources gets what `dapr init` writes: a Redis state store
(usable by actors) and a Redis pub/sub, pointed at the Redis aura started.  A workspace
that brings its own has its files copied with `{redis_host}`-style placeholders resolved
and `dapr init`'s default addresses pointed at aura's infra (`plan.dapr_init`); the user's
folders are never written to.  A Configuration file (`dapr.config`) is used as it is,
unless it names such a default that aura can point elsewhere: then sidecars get a copy.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aura_dev.atomic import write_if_changed
from aura_dev.plan.dapr_init import DefaultAddress, InfraTargets, map_defaults
from aura_dev.plan.model import InfraEndpoints
from aura_dev.plan.traced_configs import TracingNote, with_tracing
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


@dataclass(frozen=True)
class PreparedResources:
    shared: tuple[Path, ...]  # folders every sidecar loads
    per_service: dict[str, tuple[Path, ...]]  # a service's own folders
    configs: dict[Path, Path] = field(default_factory=dict)  # a Configuration file -> the copy sidecars get
    defaults: tuple[DefaultAddress, ...] = ()  # `dapr init` addresses found, and where they point now
    default_config: Path | None = None  # for sidecars without a Configuration of their own (tracing)
    tracing_notes: tuple[TracingNote, ...] = ()


def targets(infra: InfraEndpoints) -> InfraTargets:
    """Where `dapr init`'s default addresses point instead."""
    return InfraTargets(redis_host=infra.redis_host, zipkin_host=infra.zipkin)


def prepare_resources(ws: Workspace, infra: InfraEndpoints) -> PreparedResources:
    """Write the resource folders (and Configuration copies) the sidecars load."""
    root = resources_root(ws)
    root.mkdir(parents=True, exist_ok=True)
    renderer = _Renderer(component_values(ws, infra), targets(infra))
    shared: list[Path] = []
    if ws.spec.dapr.resources:
        for index, folder in enumerate(ws.spec.dapr.resources):
            shared.append(renderer.folder(ws.root / folder, root / f"workspace-{index}"))
    elif infra.redis_host:
        default = root / "default"
        default.mkdir(exist_ok=True)
        write_if_changed(default / "statestore.yaml", render_text(DEFAULT_STATESTORE, renderer.values))
        write_if_changed(default / "pubsub.yaml", render_text(DEFAULT_PUBSUB, renderer.values))
        shared.append(default)
    else:
        empty = root / "empty"
        empty.mkdir(exist_ok=True)  # daprd needs an existing folder (its resource watcher fails otherwise)
        shared.append(empty)
    per_service: dict[str, tuple[Path, ...]] = {}
    for name, service in ws.services.items():
        folders = [renderer.folder(ws.service_dir(name) / folder, root / f"service-{name}-{index}")
                   for index, folder in enumerate(service.dapr.resources)]
        if folders:
            per_service[name] = tuple(folders)
    configs = {source: copy for source in config_files(ws)
               if (copy := renderer.config(source, root / f"config-{len(renderer.configs)}")) is not None}
    traced = with_tracing(config_files(ws), infra.zipkin, configs, root) if infra.zipkin else None
    if traced is not None:
        configs = traced.configs
    # Folders no longer used (a changed workspace) go; the ones in use are updated in place,
    # because a running daprd watches them.
    used = {*shared, *(f for folders in per_service.values() for f in folders), *(c.parent for c in configs.values())}
    if traced is not None and traced.default is not None:
        used.add(traced.default.parent)
    for stale in root.iterdir():
        if stale.is_dir() and stale not in used:
            shutil.rmtree(stale, ignore_errors=True)
    return PreparedResources(tuple(shared), per_service, configs, tuple(renderer.defaults),
                             default_config=traced.default if traced else None,
                             tracing_notes=traced.notes if traced else ())


def config_files(ws: Workspace) -> list[Path]:
    """The Configuration files sidecars are given, each once."""
    files = [ws.root / ws.spec.dapr.config] if ws.spec.dapr.config else []
    files += [ws.service_dir(name) / service.dapr.config for name, service in ws.services.items() if service.dapr.config]
    return list(dict.fromkeys(files))


class _Renderer:
    """Renders resource files, collecting the `dapr init` defaults it points elsewhere."""

    def __init__(self, values: Mapping[str, str], infra: InfraTargets) -> None:
        self.values = values
        self.infra = infra
        self.defaults: list[DefaultAddress] = []
        self.configs: list[Path] = []

    def text(self, source: Path) -> str:
        rendered, found = map_defaults(render_text(source.read_text(encoding="utf-8"), self.values), source,
                                       self.infra)
        self.defaults += found
        return rendered

    def folder(self, source: Path, target: Path) -> Path:
        """Copy the resource files of `source` into `target`, rendered."""
        target.mkdir(parents=True, exist_ok=True)
        wanted = {p.name for p in source.iterdir() if p.is_file() and p.suffix in RESOURCE_SUFFIXES}
        for stale in target.iterdir():
            if stale.name not in wanted and stale.is_file():
                stale.unlink()
        for name in sorted(wanted):
            write_if_changed(target / name, self.text(source / name))
        return target

    def config(self, source: Path, folder: Path) -> Path | None:
        """A rendered copy of a Configuration file when aura changes an address in it;
        None when the file serves as it is."""
        original = source.read_text(encoding="utf-8")
        rendered, found = map_defaults(original, source, self.infra)
        self.defaults += found
        if rendered == original:
            return None
        folder.mkdir(parents=True, exist_ok=True)
        self.configs.append(source)
        write_if_changed(folder / source.name, rendered)
        return folder / source.name


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
