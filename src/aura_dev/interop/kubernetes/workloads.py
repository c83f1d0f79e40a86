"""Each service as a Deployment (and a ClusterIP Service for its port): its image, env,
probes and the `dapr.io/*` annotations that mirror the flags aura gives daprd locally."""

from __future__ import annotations

import math
from typing import Any

from aura_dev.interop.kubernetes.model import (
    APP_HEALTH_PROBE, CLUSTER_APP_PORT, LABEL_NAME, LABEL_PART_OF, SIDECAR_PORTS, ExportBuilder, Manifest,
)
from aura_dev.interop.kubernetes.resources import service_object
from aura_dev.plan.env import read_env_file
from aura_dev.workspace.load import Workspace
from aura_dev.workspace.model import HealthCheck, Service
from aura_dev.workspace.placeholders import placeholders_in, resolve
from aura_dev.workspace.resolved import is_secret_name


def add_service(b: ExportBuilder, name: str) -> None:
    ws = b.ws
    service = ws.services[name]
    port = _cluster_port(service)
    labels = b.labels(name, service.labels)
    selector = {LABEL_NAME: name, LABEL_PART_OF: ws.name}
    protocol = service.app_protocol
    container: dict[str, Any] = {
        "name": name,
        "image": image_of(ws, name),
        "imagePullPolicy": ws.spec.kubernetes.image_pull_policy,
    }
    if port is not None:
        container["ports"] = [{"name": protocol, "containerPort": port, "protocol": "TCP"}]
    env = _container_env(b, name, port)
    if env:
        container["env"] = env
    resources = {kind: {k: v for k, v in getattr(service.resources, kind).model_dump().items() if v}
                 for kind in ("requests", "limits")}
    resources = {k: v for k, v in resources.items() if v}
    if resources:
        container["resources"] = resources
    container.update(_probes(b, name, service.health_check, port))
    annotations = dict(service.annotations)
    if service.dapr.enabled:
        annotations.update(_dapr_annotations(b, name, port))
    template_meta: dict[str, Any] = {"labels": labels}
    if annotations:
        template_meta["annotations"] = annotations
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": b.meta(name, labels),
        "spec": {
            "replicas": service.replicas, "selector": {"matchLabels": selector},
            "template": {"metadata": template_meta, "spec": {"containers": [container]}},
        },
    }
    file, source = f"services/{name}.yaml", f"{ws.file.name} services.{name}"
    b.manifests.append(Manifest(file, deployment, source))
    if port is not None:
        b.manifests.append(Manifest(file, service_object(b, name, labels, selector, protocol, port), source))
    if service.image is None and not (ws.service_dir(name) / "Dockerfile").is_file():
        b.unbuildable.append(name)


def _cluster_port(service: Service) -> int | None:
    if service.app_port is None:
        return None
    return CLUSTER_APP_PORT if service.app_port == "auto" else service.app_port


def image_of(ws: Workspace, name: str) -> str:
    explicit = ws.services[name].image
    if explicit:
        return explicit
    registry = ws.spec.kubernetes.registry.rstrip("/")
    return f"{registry + '/' if registry else ''}{name}:{ws.spec.kubernetes.tag}"


def _container_env(b: ExportBuilder, name: str, port: int | None) -> list[dict[str, Any]]:
    """The env aura gives the app locally, resolved for the pod; secret values by reference.
    DAPR_HTTP_PORT, DAPR_GRPC_PORT and APP_PROTOCOL are left to the injector, which sets them."""
    ws = b.ws
    service = ws.services[name]
    plain: dict[str, str] = {}
    if port is not None:
        plain["APP_PORT"] = plain["PORT"] = str(port)
    if service.dapr.enabled:
        plain["APP_ID"] = ws.app_id(name)
    for env_file in service.env_files:
        plain.update(read_env_file(ws.service_dir(name) / env_file))
    values = {**b.values, "name": name, **({"port": str(port), "app_port": str(port)} if port else {})}
    if service.dapr.enabled:
        values.update(SIDECAR_PORTS, app_id=ws.app_id(name))
    for key, value in service.env.items():
        unknown = [p for p in placeholders_in(value) if p not in values]  # syntax was checked at load
        if unknown:
            b.not_exported(f"services.{name}.env.{key}",
                           f"uses {', '.join('{' + p + '}' for p in unknown)}, a local path: left out")
            plain.pop(key, None)
            continue
        plain[key] = resolve(value, values)
    env: list[dict[str, Any]] = []
    for key, value in plain.items():
        if value and is_secret_name(key):
            env.append({"name": key, "valueFrom": {"secretKeyRef": b.need_secret(b.secret_name, f"{name}.{key}")}})
        else:
            env.append({"name": key, "value": value})
    if service.dapr.enabled and ws.spec.dapr.api_token:
        # The injector gives the token to daprd only; the app needs the same one to call it.
        env.append({"name": "DAPR_API_TOKEN",
                    "valueFrom": {"secretKeyRef": b.need_secret(_api_token_secret(ws), "token")}})
    return env


def _api_token_secret(ws: Workspace) -> str:
    return f"{ws.name}-dapr-api-token"


def _probes(b: ExportBuilder, name: str, health: HealthCheck, port: int | None) -> dict[str, Any]:
    """Startup probe from the start timeout; readiness and liveness at the rhythm daprd probes the app."""
    if not health.enabled or not (health.http or health.tcp):
        return {}
    if port is None:
        b.not_exported(f"services.{name}.healthCheck", "a probe needs an appPort in a cluster")
        return {}
    protocol = b.ws.services[name].app_protocol
    handler: dict[str, Any] = ({"httpGet": {"path": health.http, "port": protocol}} if health.http
                               else {"tcpSocket": {"port": protocol}})
    period = max(1, math.ceil(health.interval))  # Kubernetes probes at most once a second
    return {
        "startupProbe": {**handler, "periodSeconds": period, "timeoutSeconds": 1,
                         "failureThreshold": max(1, math.ceil(health.timeout / period))},
        "readinessProbe": {**handler, "periodSeconds": int(APP_HEALTH_PROBE["interval"]), "timeoutSeconds": 1,
                           "failureThreshold": int(APP_HEALTH_PROBE["threshold"])},
        "livenessProbe": {**handler, "periodSeconds": 10, "timeoutSeconds": 1,
                          "failureThreshold": int(APP_HEALTH_PROBE["threshold"])},
    }


def _dapr_annotations(b: ExportBuilder, name: str, port: int | None) -> dict[str, str]:
    """The injector's names for the flags `plan.sidecar_spec` gives daprd locally."""
    ws = b.ws
    service = ws.services[name]
    dapr = service.dapr
    notes = {
        "dapr.io/enabled": "true",
        "dapr.io/app-id": ws.app_id(name),
        "dapr.io/app-protocol": service.app_protocol,
        "dapr.io/log-level": dapr.log_level or ws.spec.dapr.log_level,
        "dapr.io/app-max-concurrency": str(dapr.app_max_concurrency),
    }
    if port is not None:
        notes["dapr.io/app-port"] = str(port)
    config = _configuration_name(b, name)
    if config:
        notes["dapr.io/config"] = config
    if dapr.enable_api_logging if dapr.enable_api_logging is not None else ws.spec.dapr.enable_api_logging:
        notes["dapr.io/enable-api-logging"] = "true"
    if ws.spec.dapr.api_token:
        notes["dapr.io/api-token-secret"] = _api_token_secret(ws)
    health = service.health_check
    if health.enabled and health.http and port is not None and service.app_protocol == "http":
        notes.update({
            "dapr.io/enable-app-health-check": "true",
            "dapr.io/app-health-check-path": health.http,
            "dapr.io/app-health-probe-interval": APP_HEALTH_PROBE["interval"],
            "dapr.io/app-health-probe-timeout": APP_HEALTH_PROBE["timeout"],
            "dapr.io/app-health-threshold": APP_HEALTH_PROBE["threshold"],
        })
    return dict(sorted(notes.items()))


def _configuration_name(b: ExportBuilder, name: str) -> str | None:
    ws = b.ws
    service = ws.services[name]
    path = (ws.service_dir(name) / service.dapr.config if service.dapr.config
            else ws.root / ws.spec.dapr.config if ws.spec.dapr.config else None)
    return b.config_names.get(path) if path is not None else None
