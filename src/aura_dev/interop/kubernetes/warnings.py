"""The export's warnings: one naming every setting with no meaning in a cluster (grouped
by why), one for services no image can be built for, one for the Secrets to create."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from pydantic import BaseModel

from aura_dev.interop.kubernetes.model import ExportBuilder
from aura_dev.interop.kubernetes.workloads import image_of
from aura_dev.workspace.load import Workspace

# Settings with no meaning in a cluster, by the first keys of their path, and why.
LOCAL_ONLY: tuple[tuple[tuple[str, ...], str], ...] = (
    (("dapr", "runtimeVersion"), "the cluster's Dapr control plane decides the daprd version"),
    (("infra",), "local Redis/placement/scheduler; the cluster uses kubernetes.redis and Dapr's control plane"),
    (("logs",), "aura's local log store; use `kubectl logs` in a cluster"),
    (("command",), "the image's own entrypoint runs in the cluster"),
    (("dependsOn",), "Kubernetes starts every pod at once; Dapr retries calls until the target answers"),
    (("reload",), "no hot reload in a cluster: build and push a new image"),
    (("restart",), "a Deployment always restarts crashed pods, with the kubelet's own back-off"),
    (("dapr", "httpPort"), "a local port; each pod has its own network and the sidecar uses Dapr's defaults"),
    (("dapr", "grpcPort"), "a local port; each pod has its own network and the sidecar uses Dapr's defaults"),
    (("dapr", "internalGrpcPort"), "a local port; each pod has its own network and the sidecar uses Dapr's "
                                   "defaults"),
    (("dapr", "metricsPort"), "a local port; each pod has its own network and the sidecar uses Dapr's defaults"),
    (("dapr", "args"), "extra daprd flags: the injector only reads dapr.io/* annotations (add them under "
                       "`annotations`)"),
)



def _explicit_paths(model: BaseModel, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The aliased key paths the user wrote (defaults are not settings of theirs)."""
    for field_name in sorted(model.model_fields_set):
        info = type(model).model_fields[field_name]
        key = info.alias or field_name
        value = getattr(model, field_name)
        if isinstance(value, BaseModel) and value.model_fields_set:
            yield from _explicit_paths(value, prefix + (key,))
        else:
            yield prefix + (key,)


def local_only_warning(ws: Workspace, extra: Mapping[str, list[str]]) -> str | None:
    """ONE warning naming every setting the export cannot carry, grouped by the reason."""
    found: dict[str, list[str]] = {}
    spec_paths = [p for p in _explicit_paths(ws.spec) if p[0] != "services"]
    service_paths = [(name, p) for name in sorted(ws.services) for p in _explicit_paths(ws.services[name])]
    for path in spec_paths:
        reason = _local_reason(path, service=False)
        if reason:
            found.setdefault(reason, []).append(".".join(path))
    for name, path in service_paths:
        reason = _local_reason(path, service=True)
        if reason:
            found.setdefault(reason, []).append(f"services.{name}.{'.'.join(path)}")
    grouped = {reason: _compact(paths) for reason, paths in found.items()}
    for reason, settings in extra.items():
        grouped.setdefault(reason, []).extend(settings)
    if not grouped:
        return None
    lines = ["these settings have no meaning in a cluster and are not exported:"]
    lines += [f"  {', '.join(settings)}: {reason}" for reason, settings in grouped.items()]
    return "\n".join(lines)


def _local_reason(path: tuple[str, ...], *, service: bool) -> str | None:
    if path == ("infra", "redis", "enabled"):
        return None  # meaningful: no Redis locally means no bundled Redis and no default components
    workspace_level = {("dapr", "runtimeVersion"), ("infra",), ("logs",)}
    for prefix, reason in LOCAL_ONLY:
        if (prefix in workspace_level) != (not service):
            continue
        if path[:len(prefix)] == prefix:
            return reason
    return None


def _compact(paths: Iterable[str]) -> list[str]:
    """`services.a.reload.enabled, services.a.reload.debounce` → `services.a.reload.{enabled,debounce}`."""
    grouped: dict[str, list[str]] = {}
    for path in paths:
        head, _, tail = path.rpartition(".")
        grouped.setdefault(head, []).append(tail)
    return [f"{head}.{tails[0]}" if len(tails) == 1 else f"{head}.{{{','.join(tails)}}}"
            for head, tails in grouped.items()]


def images_warning(b: ExportBuilder) -> str | None:
    if not b.unbuildable:
        return None
    lines = ["no image can be built for these services (no `image` set and no Dockerfile in their folder); "
             "write a Dockerfile there, then build and push from the workspace folder:"]
    for name in b.unbuildable:
        lines.append(f"  docker build -t {image_of(b.ws, name)} {b.ws.services[name].path} && "
                     f"docker push {image_of(b.ws, name)}")
    return "\n".join(lines)


def secrets_warning(b: ExportBuilder) -> str | None:
    if not b.secrets:
        return None
    lines = ["the manifests refer to Secrets that aura does not write (values never go into manifests); "
             "create them before the pods start:"]
    for name, keys in sorted(b.secrets.items()):
        literals = " ".join(f"--from-literal={key}=..." for key in sorted(keys))
        lines.append(f"  kubectl -n {b.namespace} create secret generic {name} {literals}")
    return "\n".join(lines)
