"""The workspace as Kubernetes manifests: a kustomize-ready folder for a Dapr-enabled cluster.

Pure apart from reading the workspace's files: the same workspace always gives the same
bytes (stable order, no timestamps), so the folder can be committed and diffed.  What
the Dapr sidecar injector needs is carried by `dapr.io/*` pod annotations that mirror the
flags `plan.sidecar_spec` gives daprd locally; the Dapr resources the sidecars load
locally become namespaced custom resources, with aura's placeholders resolved for the
cluster and secret values replaced by references to Kubernetes Secrets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from aura_dev.errors import UserError
from aura_dev.interop.kubernetes.model import (
    HEADER, REDIS_NAME, REDIS_PASSWORD_STAND_IN, SERVICE_NAME, ExportBuilder, KubernetesExport, Manifest,
)
from aura_dev.interop.kubernetes.resources import add_dapr_resources, add_redis, bundles_redis, cluster_values
from aura_dev.interop.kubernetes.warnings import images_warning, local_only_warning, secrets_warning
from aura_dev.interop.kubernetes.workloads import add_service
from aura_dev.workspace.disk import require_writable
from aura_dev.workspace.load import Workspace
from aura_dev.workspace.names import dns_label_problem

__all__ = ["KubernetesExport", "Manifest", "export_workspace", "is_export_folder", "write_folder"]


def export_workspace(ws: Workspace, *, namespace: str | None = None) -> KubernetesExport:
    """The manifests, files and warnings for `ws` (namespace: overrides kubernetes.namespace)."""
    settings = ws.spec.kubernetes
    ns = namespace or settings.namespace or ws.name
    reason = dns_label_problem(ns, "namespace")
    if reason:
        raise UserError(f"{reason}: it cannot be a Kubernetes namespace",
                        hint="set kubernetes.namespace in aura.yaml, or pass --namespace")
    bad = [name for name in ws.services if not SERVICE_NAME.match(name) or len(name) > 63]
    if bad:
        raise UserError(f"service name{'s' if len(bad) > 1 else ''} {', '.join(bad)} cannot name Kubernetes "
                        "objects (lowercase letters, digits and '-', starting with a letter)",
                        hint="rename the service in aura.yaml")
    if REDIS_NAME in ws.services and bundles_redis(ws):
        raise UserError(f"a service named '{REDIS_NAME}' collides with the bundled Redis",
                        hint="rename the service, or use kubernetes.redis.mode: external")

    builder = ExportBuilder(ws, ns, cluster_values(ws, ns))
    builder.manifests.append(Manifest("namespace.yaml", {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": ns, "labels": builder.labels(ns)},
    }, "kubernetes.namespace"))
    add_dapr_resources(builder)
    if bundles_redis(ws):
        add_redis(builder)
    for name in sorted(ws.services):
        add_service(builder, name)
    warnings = [w for w in (local_only_warning(ws, builder.local_only), *builder.warnings, images_warning(builder),
                            secrets_warning(builder)) if w]
    manifests = tuple(builder.manifests)
    for manifest in manifests:
        if REDIS_PASSWORD_STAND_IN in yaml.safe_dump(manifest.body):
            raise UserError(f"{{redis_password}} in {manifest.kind} {manifest.name} is part of a longer value; "
                            "in a cluster it can only be a whole component metadata value",
                            hint="use redisPassword: \"{redis_password}\" as its own metadata item")
    return KubernetesExport(
        workspace=ws.name, namespace=ns, manifests=manifests, files=_render_files(ws, manifests),
        warnings=tuple(warnings), secrets={k: tuple(sorted(v)) for k, v in sorted(builder.secrets.items())},
    )


def _render_files(ws: Workspace, manifests: tuple[Manifest, ...]) -> dict[str, str]:
    header = HEADER.format(file=ws.file.name, workspace=ws.name)
    grouped: dict[str, list[dict[str, Any]]] = {}
    for manifest in manifests:
        grouped.setdefault(manifest.file, []).append(manifest.body)
    files = {name: header + _dump_all(bodies) for name, bodies in grouped.items()}
    kustomization = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                     "resources": list(files)}
    files["kustomization.yaml"] = header + _dump_all([kustomization])
    return files


class _PlainDumper(yaml.SafeDumper):
    """No `&id001` anchors: objects share sub-dicts (labels, probe handlers), readers should not care."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _dump_all(bodies: list[dict[str, Any]]) -> str:
    return yaml.dump_all(bodies, Dumper=_PlainDumper, sort_keys=False, default_flow_style=False,
                         explicit_start=True, width=120)


def is_export_folder(folder: Path) -> bool:
    """Whether `folder` holds a previous export (so that replacing it loses nothing of the user's)."""
    marker = folder / "kustomization.yaml"
    return marker.is_file() and marker.read_text(encoding="utf-8").startswith(HEADER.split("`")[0])


def write_folder(export: KubernetesExport, folder: Path) -> None:
    """Write the files into `folder`, replacing a previous export whole (no stale files stay)."""
    import shutil
    import tempfile

    folder = folder.absolute()
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder} is a file, but an export is a folder of manifests",
                        hint="pass -o with a folder (it is created if it does not exist)")
    if folder.exists() and any(folder.iterdir()) and not is_export_folder(folder):
        raise UserError(f"{folder} exists and does not hold an aura export; refusing to replace it",
                        hint="choose another folder with -o, or empty this one")
    require_writable(folder.parent, "the export is written beside it and then moved into place")
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for name, text in export.files.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
