"""The pure workspace → Kubernetes export: what each aura.yaml setting becomes."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from aura_dev.errors import UserError
from aura_dev.interop.kubernetes.export import KubernetesExport, export_workspace
from aura_dev.workspace.load import load_workspace
from conftest import require
from support.kubeapi import dapr_module_dir


def make_workspace(tmp_path: Path, text: str, files: dict[str, str] | None = None) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "aura.yaml").write_text(textwrap.dedent(text))
    for name, content in (files or {}).items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content))
    for service in yaml.safe_load((tmp_path / "aura.yaml").read_text()).get("services", {}).values():
        (tmp_path / service["path"]).mkdir(parents=True, exist_ok=True)
    return tmp_path / "aura.yaml"


def export(tmp_path: Path, text: str, files: dict[str, str] | None = None, **kwargs: Any) -> KubernetesExport:
    return export_workspace(load_workspace(make_workspace(tmp_path, text, files)), **kwargs)


def obj(result: KubernetesExport, kind: str, name: str) -> dict[str, Any]:
    return next(m.body for m in result.manifests if m.kind == kind and m.name == name)


def env_of(result: KubernetesExport, name: str) -> dict[str, Any]:
    container = obj(result, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


ONE_SERVICE = textwrap.dedent("""\
    name: shop
    services:
      api:
        path: api
        command: [python, app.py]
""")


def test_defaults_mirror_local_components_and_bundled_redis(tmp_path: Path) -> None:
    result = export(tmp_path, ONE_SERVICE)
    store = obj(result, "Component", "statestore")
    assert store["spec"]["metadata"] == [
        {"name": "redisHost", "value": "redis.shop.svc.cluster.local:6379"},
        {"name": "actorStateStore", "value": "true"},
    ]
    assert obj(result, "Component", "pubsub")["spec"]["type"] == "pubsub.redis"
    assert obj(result, "StatefulSet", "redis")["spec"]["replicas"] == 1
    assert list(result.files)[-1] == "kustomization.yaml"
    assert [m.kind for m in result.manifests][0] == "Namespace"


def test_service_settings_become_deployment_service_and_annotations(tmp_path: Path) -> None:
    result = export(tmp_path, """\
        name: shop
        kubernetes: {namespace: prod, registry: ghcr.io/acme/, tag: "1.2", imagePullPolicy: Always}
        dapr: {logLevel: warn, enableApiLogging: true}
        services:
          api:
            path: api
            command: [python, app.py]
            appPort: 5000
            appProtocol: grpc
            healthCheck: tcp
            replicas: 2
            labels: {team: cart}
            annotations: {prometheus.io/scrape: "true"}
            resources: {requests: {cpu: 100m}, limits: {memory: 256Mi}}
            dapr: {appId: cart-api, appMaxConcurrency: 4}
          worker:
            path: worker
            command: [python, worker.py]
            appPort: null
            image: acme/worker@sha256:abc
            dapr: {enabled: false}
    """)
    assert result.namespace == "prod"
    deployment = obj(result, "Deployment", "api")
    template = deployment["spec"]["template"]
    container = template["spec"]["containers"][0]
    assert deployment["spec"]["replicas"] == 2
    assert container["image"] == "ghcr.io/acme/api:1.2" and container["imagePullPolicy"] == "Always"
    assert container["resources"] == {"requests": {"cpu": "100m"}, "limits": {"memory": "256Mi"}}
    assert container["ports"] == [{"name": "grpc", "containerPort": 5000, "protocol": "TCP"}]
    assert container["readinessProbe"]["tcpSocket"] == {"port": "grpc"}
    assert template["metadata"]["labels"]["team"] == "cart"
    notes = template["metadata"]["annotations"]
    assert notes["prometheus.io/scrape"] == "true"
    assert {k: v for k, v in notes.items() if k.startswith("dapr.io/")} == {
        "dapr.io/enabled": "true", "dapr.io/app-id": "cart-api", "dapr.io/app-port": "5000",
        "dapr.io/app-protocol": "grpc", "dapr.io/log-level": "warn", "dapr.io/app-max-concurrency": "4",
        "dapr.io/enable-api-logging": "true",
    }
    assert obj(result, "Service", "api")["spec"]["ports"][0]["port"] == 5000
    worker = obj(result, "Deployment", "worker")["spec"]["template"]
    assert "annotations" not in worker["metadata"]
    assert worker["spec"]["containers"][0]["image"] == "acme/worker@sha256:abc"
    assert not [m for m in result.manifests if m.kind == "Service" and m.name == "worker"]


def test_annotation_names_are_daprs_own(tmp_path: Path) -> None:
    """Every dapr.io/* key aura writes is in the injector's list (dapr v1.18.2 annotations.go)."""
    module, why = dapr_module_dir()
    require(module is not None, f"the dapr module is not available: {why}")
    assert module is not None
    source = module / "pkg" / "injector" / "annotations" / "annotations.go"
    official = set(re.findall(r'"(dapr\.io/[a-z-]+)"', source.read_text()))
    result = export(tmp_path, """\
        name: shop
        dapr: {apiToken: true, enableApiLogging: true, config: config.yaml}
        services:
          api: {path: api, command: [python, app.py], healthCheck: /healthz}
    """, {"config.yaml": "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: c}\nspec: {}\n"})
    notes = obj(result, "Deployment", "api")["spec"]["template"]["metadata"]["annotations"]
    assert len(notes) == 14
    assert set(notes) <= official, set(notes) - official


def test_secret_values_become_secret_refs(tmp_path: Path) -> None:
    result = export(tmp_path, """\
        name: shop
        dapr: {resources: [components], apiToken: true}
        services:
          api:
            path: api
            command: [python, app.py]
            env: {OPENAI_API_KEY: sk-123, GREETING: hi, DB_PASSWORD: ""}
            dapr:
              resources: [own]
    """, {
        "components/state.yaml": """\
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata: {name: state}
            spec:
              type: state.postgresql
              version: v1
              metadata:
              - {name: connectionString, value: "host=db"}
              - {name: password, value: hunter2}
              - {name: redisPassword, value: "{redis_password}"}
        """,
        "api/own/sub.yaml": """\
            apiVersion: dapr.io/v2alpha1
            kind: Subscription
            metadata: {name: orders}
            spec: {pubsubname: pubsub, topic: orders, routes: {default: /orders}}
        """,
    })
    text = "".join(result.files.values())
    assert "hunter2" not in text and "sk-123" not in text
    state = obj(result, "Component", "state")
    assert state["spec"]["metadata"] == [
        {"name": "connectionString", "value": "host=db"},
        {"name": "password", "secretKeyRef": {"name": "shop-secrets", "key": "state.password"}},
    ]
    env = env_of(result, "api")
    assert env["OPENAI_API_KEY"] == {"secretKeyRef": {"name": "shop-secrets", "key": "api.OPENAI_API_KEY"}}
    assert env["GREETING"] == "hi" and env["DB_PASSWORD"] == ""
    assert env["DAPR_API_TOKEN"] == {"secretKeyRef": {"name": "shop-dapr-api-token", "key": "token"}}
    assert result.secrets == {"shop-dapr-api-token": ("token",),
                              "shop-secrets": ("api.OPENAI_API_KEY", "state.password")}
    assert any("kubectl -n shop create secret generic shop-secrets" in w for w in result.warnings)
    # Resources of one service are scoped to its app id, as only its sidecar loads them locally.
    assert obj(result, "Subscription", "orders")["scopes"] == ["api"]
    assert "scopes" not in state
    # A workspace that brings resources gets no defaults.
    assert not [m for m in result.manifests if m.name in ("statestore", "pubsub")]


def test_external_redis_uses_its_address_and_password_secret(tmp_path: Path) -> None:
    result = export(tmp_path, ONE_SERVICE + 'kubernetes:\n'
                    '  redis: {mode: external, address: "cache.example:6380", passwordSecret: redis-auth}\n')
    assert not [m for m in result.manifests if m.kind == "StatefulSet"]
    assert obj(result, "Component", "pubsub")["spec"]["metadata"] == [
        {"name": "redisHost", "value": "cache.example:6380"},
        {"name": "redisPassword", "secretKeyRef": {"name": "redis-auth", "key": "password"}},
    ]
    with pytest.raises(UserError, match="no address|address is not set"):
        export(tmp_path / "x", ONE_SERVICE + "kubernetes: {redis: {mode: external}}\n")


def test_config_file_becomes_configuration_and_annotation(tmp_path: Path) -> None:
    result = export(tmp_path, "dapr: {config: dapr/config.yaml}\n" + ONE_SERVICE, {
        "dapr/config.yaml": """\
            apiVersion: dapr.io/v1alpha1
            kind: Configuration
            metadata: {name: tracing}
            spec: {tracing: {samplingRate: "1"}}
        """})
    assert obj(result, "Configuration", "tracing")["metadata"]["namespace"] == "shop"
    notes = obj(result, "Deployment", "api")["spec"]["template"]["metadata"]["annotations"]
    assert notes["dapr.io/config"] == "tracing"


def test_local_only_settings_are_listed_in_one_warning(tmp_path: Path) -> None:
    result = export(tmp_path, """\
        name: shop
        infra: {backend: native, redis: {port: 6390}}
        logs: {maxFileSize: 1MB}
        services:
          api:
            path: api
            command: [python, app.py]
            reload: {debounce: 1s, watch: ["*.py"]}
            restart: {policy: always, backoff: {max: 3s}}
            dapr: {httpPort: 3600, args: [--enable-profiling]}
            env: {HERE: "{service_dir}"}
          web:
            path: web
            command: [node, web.js]
            dependsOn: [api]
    """)
    local = [w for w in result.warnings if "no meaning in a cluster" in w]
    assert len(local) == 1
    for key in ("infra.backend", "infra.redis.port", "logs.maxFileSize", "services.api.reload.{debounce,watch}",
                "services.api.restart.backoff.max", "services.api.restart.policy", "services.api.dapr.httpPort",
                "services.api.dapr.args", "services.web.dependsOn", "services.web.command"):
        assert key in local[0], key
    assert any("{service_dir}" in w for w in result.warnings)
    assert "HERE" not in env_of(result, "api")


def test_the_export_is_byte_for_byte_stable(tmp_path: Path) -> None:
    first = export(tmp_path, ONE_SERVICE)
    second = export_workspace(load_workspace(tmp_path / "aura.yaml"))
    assert first.files == second.files
    assert "&id" not in "".join(first.files.values())  # no YAML anchors


def test_names_kubernetes_refuses_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot be a Kubernetes namespace"):
        export(tmp_path, ONE_SERVICE.replace("name: shop", "name: Shop_Workspace"))
    with pytest.raises(UserError, match="collides with the bundled Redis"):
        export(tmp_path / "r", ONE_SERVICE.replace("  api:", "  redis:"))
    assert export(tmp_path / "n", ONE_SERVICE, namespace="other").namespace == "other"
