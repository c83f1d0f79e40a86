"""The Dapr resources of the export — what the sidecars load locally, as namespaced
custom resources with aura's placeholders resolved for the cluster and secret values
replaced by Secret references — and the bundled one-pod Redis."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from aura_dev.errors import UserError
from aura_dev.interop.kubernetes.model import (
    CONTROL_PLANE, DAPR_KINDS_WITHOUT_SCOPES, LABEL_NAME, LABEL_PART_OF, REDIS_NAME, REDIS_PASSWORD_STAND_IN,
    REDIS_PORT, ExportBuilder, Manifest, shown,
)
from aura_dev.plan.infra import InfraKind, default_image
from aura_dev.plan.resources import DEFAULT_PUBSUB, DEFAULT_STATESTORE, RESOURCE_SUFFIXES, render_text
from aura_dev.workspace.load import Workspace
from aura_dev.workspace.resolved import is_secret_name


def bundles_redis(ws: Workspace) -> bool:
    return ws.spec.infra.redis.enabled and ws.spec.kubernetes.redis.mode == "bundled"


def cluster_values(ws: Workspace, namespace: str) -> dict[str, str]:
    """What aura's placeholders mean in the cluster (service-specific ones are added per service)."""
    values = dict(CONTROL_PLANE)
    redis = ws.spec.kubernetes.redis
    if redis.mode == "external":
        if not redis.address:
            raise UserError("kubernetes.redis.mode is external but kubernetes.redis.address is not set",
                            hint="set kubernetes.redis.address: host:port, or use mode: bundled")
        host = redis.address
    else:
        host = f"{REDIS_NAME}.{namespace}.svc.cluster.local:{REDIS_PORT}"
    if ws.spec.infra.redis.enabled:
        values["redis_host"] = host
        values["redis_port"] = host.rsplit(":", 1)[1] if ":" in host else str(REDIS_PORT)
    values["redis_password"] = REDIS_PASSWORD_STAND_IN
    return values


def add_redis(b: ExportBuilder) -> None:
    """A single-replica Redis for dev clusters: no password, no volume (data lives as long as the pod)."""
    labels = b.labels(REDIS_NAME)
    selector = {LABEL_NAME: REDIS_NAME, LABEL_PART_OF: b.ws.name}
    port = {"name": "redis", "containerPort": REDIS_PORT}
    probe = {"tcpSocket": {"port": "redis"}, "periodSeconds": 5}
    statefulset = {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": b.meta(REDIS_NAME),
        "spec": {
            "serviceName": REDIS_NAME, "replicas": 1, "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{
                    "name": "redis", "image": default_image(InfraKind.REDIS, b.ws.spec.dapr.runtime_version),
                    "args": ["--save", "", "--appendonly", "no"], "ports": [port],
                    "readinessProbe": probe, "livenessProbe": {**probe, "periodSeconds": 10},
                }]},
            },
        },
    }
    b.manifests.append(Manifest("redis.yaml", statefulset, "kubernetes.redis"))
    b.manifests.append(Manifest("redis.yaml", service_object(b, REDIS_NAME, labels, selector, "redis", REDIS_PORT),
                                "kubernetes.redis"))


def service_object(b: ExportBuilder, name: str, labels: dict[str, str], selector: dict[str, str], port_name: str,
                    port: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Service", "metadata": b.meta(name, labels),
        "spec": {"type": "ClusterIP", "selector": selector,
                 "ports": [{"name": port_name, "port": port, "targetPort": port_name, "protocol": "TCP"}]},
    }


def add_dapr_resources(b: ExportBuilder) -> None:
    """The resources and configurations the sidecars load locally, in the same precedence."""
    ws = b.ws
    if ws.spec.dapr.resources:
        for folder in ws.spec.dapr.resources:
            for path, doc in _resource_documents(b, ws.root / folder):
                _add_dapr_object(b, path, doc, scope=None)
    elif ws.spec.infra.redis.enabled:
        # What aura writes locally when the workspace brings nothing: dapr init's two components.
        for template in (DEFAULT_STATESTORE, DEFAULT_PUBSUB):
            _add_dapr_object(b, None, yaml.safe_load(render_text(template, b.values)), scope=None)
    if ws.spec.dapr.config:
        _add_dapr_object(b, ws.root / ws.spec.dapr.config, _configuration(b, ws.root / ws.spec.dapr.config),
                         scope=None)
    for name in sorted(ws.services):
        service = ws.services[name]
        if not service.dapr.enabled:
            continue
        # Locally only this service's sidecar loads its own folders; in a namespace, scopes do that.
        for folder in service.dapr.resources:
            for path, doc in _resource_documents(b, ws.service_dir(name) / folder):
                _add_dapr_object(b, path, doc, scope=ws.app_id(name))
        if service.dapr.config:
            path = ws.service_dir(name) / service.dapr.config
            _add_dapr_object(b, path, _configuration(b, path), scope=None)
    b.manifests.sort(key=lambda m: (m.kind != "Namespace", m.kind, m.name))


def _resource_documents(b: ExportBuilder, folder: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in RESOURCE_SUFFIXES)
    for path in files:
        for doc in _load_documents(b, path):
            if not str(doc.get("apiVersion", "")).startswith("dapr.io/"):
                b.warnings.append(f"{shown(b.ws, path)}: {doc.get('kind', 'a document')} is not a Dapr resource; "
                                  "daprd ignores it locally and the export leaves it out")
                continue
            yield path, doc


def _load_documents(b: ExportBuilder, path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    if "{workspace_dir}" in text:
        b.not_exported(f"{{workspace_dir}} in {shown(b.ws, path)}", "a local folder (left unresolved)")
    try:
        docs = [d for d in yaml.safe_load_all(render_text(text, b.values)) if d is not None]
    except yaml.YAMLError as exc:
        raise UserError(f"{shown(b.ws, path)} is not valid YAML: {exc}") from None
    for doc in docs:
        if not isinstance(doc, dict) or not isinstance(doc.get("metadata"), dict) or not doc["metadata"].get("name"):
            raise UserError(f"{shown(b.ws, path)}: every document needs apiVersion, kind and metadata.name")
    return docs


def _configuration(b: ExportBuilder, path: Path) -> dict[str, Any]:
    docs = [d for d in _load_documents(b, path) if d.get("kind") == "Configuration"]
    if len(docs) != 1:
        raise UserError(f"{shown(b.ws, path)} should hold exactly one Dapr Configuration, found {len(docs)}")
    return docs[0]


def _add_dapr_object(b: ExportBuilder, path: Path | None, doc: dict[str, Any], *, scope: str | None) -> None:
    body = copy.deepcopy(doc)
    kind, name = str(body["kind"]), str(body["metadata"]["name"])
    meta = body["metadata"]
    meta["namespace"] = b.namespace
    meta["labels"] = b.labels(name, meta.get("labels") or {})
    if scope and kind not in DAPR_KINDS_WITHOUT_SCOPES and not body.get("scopes"):
        body["scopes"] = [scope]
    if kind == "Component":
        _component_secrets(b, body, path)
    if kind == "Configuration" and path is not None:
        b.config_names[path] = name
    key = (kind, name)
    if key in b.dapr_origin:
        first, first_body = b.dapr_origin[key]
        if first_body != body:
            raise UserError(f"two different Dapr {kind} resources are named '{name}': "
                            f"{shown(b.ws, first)} and {shown(b.ws, path)}",
                            hint="one namespace holds one object per name: rename one of them")
        return
    b.dapr_origin[key] = (path, body)
    b.manifests.append(Manifest(f"dapr/{kind.lower()}-{name}.yaml", body, shown(b.ws, path)))


def _component_secrets(b: ExportBuilder, body: dict[str, Any], path: Path | None) -> None:
    """Secret values become secretKeyRefs: a manifest never carries a password."""
    spec = body.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    spec.setdefault("metadata", [])  # the CRD requires the list; daprd accepts its absence
    redis = b.ws.spec.kubernetes.redis
    name = str(body["metadata"]["name"])
    items: list[Any] = []
    referenced = False
    for item in spec["metadata"] or []:
        value = item.get("value") if isinstance(item, dict) else None
        if value == REDIS_PASSWORD_STAND_IN:
            if redis.mode == "external" and redis.password_secret:
                items.append({"name": item["name"], "secretKeyRef": b.need_secret(redis.password_secret, "password")})
                referenced = True
            continue  # the bundled Redis has no password; an empty one is not worth a Secret
        if isinstance(value, str) and value and is_secret_name(str(item.get("name", ""))):
            key = f"{name}.{item['name']}"
            items.append({"name": item["name"], "secretKeyRef": b.need_secret(b.secret_name, key)})
            referenced = True
            continue
        items.append(item)
    spec["metadata"] = items
    store = (body.get("auth") or {}).get("secretStore")
    if referenced and store not in (None, "kubernetes"):
        b.warnings.append(f"{shown(b.ws, path)}: component {name} reads secrets from the store '{store}', "
                          "but its secret values now refer to Kubernetes Secrets; set auth.secretStore: kubernetes")
