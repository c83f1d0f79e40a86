"""`aura dev export kubernetes` and `aura dev deploy` against a real kube-apiserver with Dapr's CRDs.

The server validates and stores what aura sends (strict field checking, CRD schemas);
with no kubelet, no pod ever runs — these tests prove acceptance, not execution.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import IN_CI, REPO, require, run_aura
from support.kubeapi import KubeAPI, dapr_crds_dir, free_port, go_binary, kube_binaries

pytestmark = [pytest.mark.kubernetes, pytest.mark.integration]

SAMPLE = REPO / "sample-workspace"
GOLDEN = REPO / "tests" / "golden" / "kubernetes-sample"
PART_OF = "app.kubernetes.io/part-of"


def _start(workdir: Path, *, with_dapr: bool) -> KubeAPI:
    etcd = shutil.which("etcd") or ("/usr/bin/etcd" if os.access("/usr/bin/etcd", os.X_OK) else None)
    require(etcd is not None, "etcd is not installed (apt-get install etcd-server)")
    require(shutil.which("openssl") is not None, "openssl is needed for the service-account keys")
    require(go_binary() is not None, "Go is needed to build kube-apiserver (scripts/kube-apiserver.sh build)")
    bin_dir, why = kube_binaries(build=True)
    require(bin_dir is not None, f"kube-apiserver/kubectl could not be built: {why}")
    assert etcd is not None and bin_dir is not None
    crds, why = dapr_crds_dir() if with_dapr else (None, "")
    if with_dapr:
        require(crds is not None, f"Dapr's CRDs (from the dapr module) are not available: {why}")
    api = KubeAPI(bin_dir=bin_dir, workdir=workdir, etcd=etcd)
    try:
        api.start()
        if crds is not None:
            api.kubectl("apply", "--server-side", "-f", str(crds))
            api.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
    except BaseException:
        api.stop()
        raise
    return api


@pytest.fixture(scope="session")
def kube() -> Iterator[KubeAPI]:
    """etcd + kube-apiserver with Dapr's CRDs, for the whole session; stopped at the end."""
    with tempfile.TemporaryDirectory(prefix="aura-kube-") as workdir:
        api = _start(Path(workdir), with_dapr=True)
        try:
            yield api
        finally:
            api.stop()


@pytest.fixture
def bare_kube(tmp_path: Path) -> Iterator[KubeAPI]:
    """A second API server without Dapr's CRDs."""
    api = _start(tmp_path / "bare", with_dapr=False)
    try:
        yield api
    finally:
        api.stop()


def workspace_copy(tmp_path: Path, edit: Any = None) -> Path:
    """A copy of the sample workspace (its node_modules and state left behind), optionally edited."""
    target = tmp_path / "ws"
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns("node_modules", ".aura", "__pycache__", ".venv"))
    if edit is not None:
        data = yaml.safe_load((target / "aura.yaml").read_text())
        edit(data, target)
        (target / "aura.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def deploy(api: KubeAPI, workspace: Path, *args: str) -> Any:
    return run_aura("dev", "deploy", "-w", str(workspace), *args, env=api.env(), timeout=180)


def objects(api: KubeAPI, namespace: str, workspace: str = "aura-assistant") -> set[tuple[str, str]]:
    """(kind, name) of every object of the workspace in `namespace`."""
    found = api.get_json("deployments,statefulsets,services,components.dapr.io,configurations.dapr.io,"
                         "subscriptions.dapr.io",
                         "-n", namespace, "-l", f"{PART_OF}={workspace}")
    return {(item["kind"], item["metadata"]["name"]) for item in found["items"]}  # type: ignore[index, union-attr]


def table_rows(stdout: str) -> dict[tuple[str, str], str]:
    """(kind, name) → result, from deploy's table."""
    rows = {}
    for line in stdout.splitlines():
        parts = [part for part in line.split() if part != "*"]  # "*": not checked by the server
        for width in (3, 2, 1):  # "would be created" spans three words
            if len(parts) > width + 1 and parts[width - 1] in {"created", "changed", "unchanged", "deleted"}:
                rows[(parts[width], parts[width + 1])] = " ".join(parts[:width])
                break
    return rows


# ---------------------------------------------------------------- export


def test_sample_export_matches_golden_and_is_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    for out in (first, second):
        done = run_aura("dev", "export", "kubernetes", "-w", str(SAMPLE), "-o", str(out))
        assert done.returncode == 0, done.stderr
    assert _tree(first) == _tree(second)
    if os.environ.get("AURA_UPDATE_GOLDEN") == "1":
        assert not IN_CI, "CI compares the golden folder, it never rewrites it"
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(first, GOLDEN)
    assert _tree(first) == _tree(GOLDEN), "export differs from the golden folder (AURA_UPDATE_GOLDEN=1 to renew)"
    # Every file is listed by the kustomization, and nothing else is.
    kustomization = yaml.safe_load((first / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    assert listed == {str(p.relative_to(first)) for p in first.rglob("*.yaml")} - {"kustomization.yaml"}
    # The one warning about local-only settings, and the missing Dockerfiles.
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert sum("no meaning in a cluster" in w for w in warnings) == 1, done.stderr
    assert "services.assistant-gateway.dependsOn" in done.stderr
    assert "no Dockerfile" in done.stderr and "docker build -t localhost:5000/conversation:latest" in done.stderr


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_export_refuses_to_replace_a_folder_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    done = run_aura("dev", "export", "kubernetes", "-w", str(SAMPLE), "-o", str(tmp_path / "mine"))
    assert done.returncode == 2
    assert "does not hold an aura export" in done.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_sample_export_passes_server_side_dry_run(kube: KubeAPI, tmp_path: Path) -> None:
    out = tmp_path / "k8s"
    assert run_aura("dev", "export", "kubernetes", "-w", str(SAMPLE), "-o", str(out)).returncode == 0
    # A server-side dry run cannot create the namespace the other objects go into.
    kube.kubectl("apply", "--server-side", "-f", str(out / "namespace.yaml"))
    done = kube.kubectl("apply", "--server-side", "--dry-run=server", "--field-manager=aura", "-k", str(out))
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 14, done.stdout  # namespace, 3 components (state, pub/sub, cron binding), redis ×2, 4 × (Deployment + Service)
    assert all("(server dry run)" in line for line in lines), done.stdout
    for name in ("deployment.apps/conversation", "service/notifications", "component.dapr.io/statestore",
                 "statefulset.apps/redis"):
        assert name in done.stdout


# ---------------------------------------------------------------- deploy


def test_deploy_creates_objects_then_reports_them_unchanged(kube: KubeAPI) -> None:
    ns = "aura-deploy"
    preview = deploy(kube, SAMPLE, "--namespace", ns, "--dry-run")
    assert preview.returncode == 0, preview.stderr
    assert set(table_rows(preview.stdout).values()) == {"would be created"}
    assert f"not checked by the server: namespace {ns} does not exist yet" in preview.stdout
    assert kube.kubectl("get", "namespace", ns, check=False).returncode != 0

    done = deploy(kube, SAMPLE, "--namespace", ns)
    assert done.returncode == 0, done.stderr
    rows = table_rows(done.stdout)
    assert rows[("Namespace", ns)] == "created"
    assert rows[("Deployment", "conversation")] == "created"
    assert set(rows.values()) == {"created"}, done.stdout
    assert len(rows) == 14

    deployment = kube.get_json("deployment", "conversation", "-n", ns, "--show-managed-fields")
    template: Any = deployment["spec"]
    notes = template["template"]["metadata"]["annotations"]
    assert notes["dapr.io/enabled"] == "true"
    assert notes["dapr.io/app-id"] == "conversation"
    assert notes["dapr.io/app-port"] == "8080"
    assert notes["dapr.io/app-health-check-path"] == "/healthz"
    container = template["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    managers = {entry["manager"] for entry in deployment["metadata"]["managedFields"]}  # type: ignore[index]
    assert managers == {"aura"}

    service: Any = kube.get_json("service", "conversation", "-n", ns)
    assert service["spec"]["type"] == "ClusterIP" and service["spec"]["ports"][0]["port"] == 8080
    assert service["spec"]["clusterIP"].startswith("10.0.0.")
    statestore: Any = kube.get_json("components.dapr.io", "statestore", "-n", ns)
    items = {item["name"]: item.get("value") for item in statestore["spec"]["metadata"]}
    assert items == {"redisHost": f"redis.{ns}.svc.cluster.local:6379", "actorStateStore": "true"}
    assert objects(kube, ns) >= {("Component", "pubsub"), ("StatefulSet", "redis"), ("Service", "sessions")}

    again = deploy(kube, SAMPLE, "--namespace", ns)
    assert again.returncode == 0, again.stderr
    assert set(table_rows(again.stdout).values()) == {"unchanged"}, again.stdout
    assert "14 unchanged" in again.stdout

    preview = deploy(kube, SAMPLE, "--namespace", ns, "--diff")
    assert preview.returncode == 0, preview.stderr
    assert set(table_rows(preview.stdout).values()) == {"would be unchanged"}
    assert "@@" not in preview.stdout and "not checked" not in preview.stdout


def test_diff_and_dry_run_show_a_change_without_making_it(kube: KubeAPI, tmp_path: Path) -> None:
    ns = "aura-diff"
    workspace = workspace_copy(tmp_path)
    assert deploy(kube, workspace, "--namespace", ns).returncode == 0

    def scale(data: dict[str, Any], _root: Path) -> None:
        data["services"]["conversation"]["replicas"] = 3

    workspace = workspace_copy(tmp_path / "edited", scale)
    preview = deploy(kube, workspace, "--namespace", ns, "--diff")
    assert preview.returncode == 0, preview.stderr
    assert table_rows(preview.stdout)[("Deployment", "conversation")] == "would be changed"
    assert "-  replicas: 1" in preview.stdout and "+  replicas: 3" in preview.stdout
    dry = deploy(kube, workspace, "--namespace", ns, "--dry-run")
    assert "nothing was changed" in dry.stdout
    assert kube.get_json("deployment", "conversation", "-n", ns)["spec"]["replicas"] == 1  # type: ignore[index]

    applied = deploy(kube, workspace, "--namespace", ns)
    rows = table_rows(applied.stdout)
    assert rows[("Deployment", "conversation")] == "changed"
    assert [kind for kind, result in rows.items() if result != "unchanged"] == [("Deployment", "conversation")]
    assert kube.get_json("deployment", "conversation", "-n", ns)["spec"]["replicas"] == 3  # type: ignore[index]


def test_prune_deletes_exactly_the_removed_service(kube: KubeAPI, tmp_path: Path) -> None:
    ns = "aura-prune"

    def subscribe_notifications(data: dict[str, Any], root: Path) -> None:
        # The service's own resources (a Subscription) go with it.
        (root / "services" / "notifications" / "dapr").mkdir()
        (root / "services" / "notifications" / "dapr" / "subscription.yaml").write_text(
            "apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata:\n  name: conversation-events\n"
            "spec:\n  pubsubname: pubsub\n  topic: conversation\n  routes:\n    default: /events\n")
        data["services"]["notifications"]["dapr"] = {"resources": ["dapr"]}

    workspace = workspace_copy(tmp_path, subscribe_notifications)
    done = deploy(kube, workspace, "--namespace", ns)
    assert done.returncode == 0, done.stderr
    before = objects(kube, ns)
    subscription: Any = kube.get_json("subscriptions.dapr.io", "conversation-events", "-n", ns)
    assert subscription["scopes"] == ["notifications"]

    def drop_notifications(data: dict[str, Any], _root: Path) -> None:
        del data["services"]["notifications"]
        data["services"]["assistant-gateway"]["dependsOn"].remove("notifications")

    edited = workspace_copy(tmp_path / "edited", drop_notifications)
    preview = deploy(kube, edited, "--namespace", ns, "--prune", "--dry-run")
    assert preview.returncode == 0, preview.stderr
    assert objects(kube, ns) == before
    assert table_rows(preview.stdout)[("Deployment", "notifications")] == "would be deleted"

    done = deploy(kube, edited, "--namespace", ns, "--prune")
    assert done.returncode == 0, done.stderr
    deleted = {key for key, result in table_rows(done.stdout).items() if result == "deleted"}
    assert deleted == {("Deployment", "notifications"), ("Service", "notifications"),
                       ("Subscription", "conversation-events")}
    assert before - objects(kube, ns) == deleted
    assert objects(kube, ns) == before - deleted

    # Without --prune nothing is ever deleted.
    kept = deploy(kube, workspace_copy(tmp_path / "third", drop_notifications), "--namespace", ns)
    assert "deleted" not in " ".join(table_rows(kept.stdout).values())


def test_a_misspelt_component_field_is_rejected_with_the_object_and_file(kube: KubeAPI, tmp_path: Path) -> None:
    def add_components(data: dict[str, Any], root: Path) -> None:
        (root / "components").mkdir()
        (root / "components" / "statestore.yaml").write_text(
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\n"
            "spec:\n  type: state.redis\n  version: v1\n  metdata:\n  - name: redisHost\n"
            "    value: \"{redis_host}\"\n")
        data["dapr"]["resources"] = ["components"]

    workspace = workspace_copy(tmp_path, add_components)
    done = deploy(kube, workspace, "--namespace", "aura-rejected")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "rejected" in done.stderr
    assert "Component statestore in dapr/component-statestore.yaml (from components/statestore.yaml)" in done.stderr
    assert ".spec.metdata: field not declared in schema" in done.stderr
    # Validation runs before any write: only the namespace exists.
    assert objects(kube, "aura-rejected") == set()


def test_deploy_reports_secret_references_instead_of_values(kube: KubeAPI, tmp_path: Path) -> None:
    def add_secret_env(data: dict[str, Any], _root: Path) -> None:
        data["services"]["conversation"]["env"] = {"LLM_API_KEY": "sk-very-secret", "MODE": "demo"}

    workspace = workspace_copy(tmp_path, add_secret_env)
    out = tmp_path / "k8s"
    assert run_aura("dev", "export", "kubernetes", "-w", str(workspace), "-o", str(out)).returncode == 0
    assert "sk-very-secret" not in "".join(p.read_text() for p in out.rglob("*.yaml"))
    done = deploy(kube, workspace, "--namespace", "aura-secrets")
    assert done.returncode == 0, done.stderr
    assert "sk-very-secret" not in done.stdout + done.stderr
    assert "aura-assistant-secrets" in done.stderr and "conversation.LLM_API_KEY" in done.stderr
    env: Any = kube.get_json("deployment", "conversation", "-n", "aura-secrets")
    variables = {e["name"]: e for e in env["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert variables["LLM_API_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "aura-assistant-secrets",
                                                                     "key": "conversation.LLM_API_KEY"}


# ---------------------------------------------------------------- clear errors


def test_without_dapr_crds_deploy_says_install_dapr_first(bare_kube: KubeAPI) -> None:
    done = deploy(bare_kube, SAMPLE)
    assert done.returncode == 1
    assert "install Dapr on the cluster first" in done.stderr
    assert "dapr init -k" in done.stderr and "helm upgrade --install dapr dapr/dapr" in done.stderr
    assert "Namespace" not in done.stdout  # nothing was applied
    assert bare_kube.kubectl("get", "namespace", "aura-assistant", check=False).returncode != 0


def test_no_kubeconfig_is_a_clear_error(tmp_path: Path) -> None:
    done = run_aura("dev", "deploy", "-w", str(SAMPLE), env={"KUBECONFIG": str(tmp_path / "missing"),
                                                             "HOME": str(tmp_path)})
    assert done.returncode == 1
    assert "no usable kubeconfig" in done.stderr and "KUBECONFIG" in done.stderr


def test_unreachable_cluster_is_a_clear_error(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there once the probe socket is closed
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    config = tmp_path / "kubeconfig"
    config.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "gone",
        "clusters": [{"name": "gone", "cluster": {"server": f"https://127.0.0.1:{port}"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "u"}}],
    }))
    done = run_aura("dev", "deploy", "-w", str(SAMPLE), env={"KUBECONFIG": str(config)}, timeout=60)
    assert done.returncode == 1
    assert f"the cluster at https://127.0.0.1:{port} (context gone) does not answer" in done.stderr
    unknown = run_aura("dev", "deploy", "-w", str(SAMPLE), "--context", "nope", env={"KUBECONFIG": str(config)})
    assert unknown.returncode == 1 and "no context 'nope'" in unknown.stderr

