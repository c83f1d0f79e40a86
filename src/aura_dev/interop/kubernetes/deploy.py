"""`aura dev deploy`: the export applied to the cluster of the user's kubeconfig.

Server-side apply (field manager `aura`) through the official client's dynamic client, in
two passes: every object is first applied as a server-side dry run — the server validates
it strictly and returns what it would store, which tells created / changed / unchanged —
and only when the server accepts all of them is anything written.  A rejected object
therefore never leaves the workspace half-deployed.
"""

from __future__ import annotations

import difflib
import enum
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from aura_dev.errors import ClusterError
from aura_dev.interop.kubernetes.export import export_workspace
from aura_dev.interop.kubernetes.model import MANAGER, KubernetesExport, Manifest
from aura_dev.workspace.load import Workspace

# What `--prune` may delete: every kind an export can hold, except the Namespace.
PRUNABLE_BUILTIN = (("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"), ("v1", "Service"))
PRUNABLE_DAPR = ("Component", "Configuration", "Resiliency", "Subscription", "HTTPEndpoint")
REQUEST_TIMEOUT = (5, 30)  # connect, read (seconds)
VOLATILE_METADATA = ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink")


class Action(enum.Enum):
    CREATED = "created"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    DELETED = "deleted"


@dataclass(frozen=True)
class ObjectResult:
    kind: str
    name: str
    file: str  # the export file holding it; "" for a pruned object
    action: Action
    diff: str = ""
    checked: bool = True  # False: previewed in a namespace that does not exist, so the server never saw it


@dataclass(frozen=True)
class DeployReport:
    context: str
    server: str
    namespace: str
    dry_run: bool
    results: tuple[ObjectResult, ...]
    warnings: tuple[str, ...]
    missing_secrets: tuple[str, ...] = ()

    def count(self, action: Action) -> int:
        return sum(1 for r in self.results if r.action is action)


@dataclass
class Cluster:
    """A connected dynamic client and where it points."""

    context: str
    server: str
    client: Any  # kubernetes.dynamic.DynamicClient
    _resources: dict[tuple[str, str], Any] = field(default_factory=dict)

    def resource(self, api_version: str, kind: str) -> Any:
        key = (api_version, kind)
        if key not in self._resources:
            self._resources[key] = self.client.resources.get(api_version=api_version, kind=kind)
        return self._resources[key]


def connect(context: str | None, cache_dir: Path) -> Cluster:
    """The cluster of the kubeconfig ($KUBECONFIG or ~/.kube/config), checked to answer."""
    from kubernetes import client
    from kubernetes import config as kube_config
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.dynamic import DynamicClient

    config: Any = kube_config  # its loader functions carry no annotations

    configuration = client.Configuration()
    try:
        contexts, active = config.list_kube_config_contexts()
        chosen = context or (active or {}).get("name", "")
        if context and context not in {c.get("name") for c in contexts or []}:
            raise ClusterError(f"the kubeconfig has no context '{context}'",
                               hint="contexts: " + ", ".join(sorted(str(c.get("name")) for c in contexts or [])))
        config.load_kube_config(context=context, client_configuration=configuration)
    except ConfigException as exc:
        raise ClusterError(f"no usable kubeconfig: {exc}",
                           hint="point $KUBECONFIG at a kubeconfig file (or create ~/.kube/config), "
                                "e.g. with your cloud's `get-credentials` command or `kind create cluster`") from None
    if not configuration.verify_ssl:
        import urllib3

        # The kubeconfig asks for insecure-skip-tls-verify; one warning per request would bury the output.
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    configuration.retries = 1  # an unreachable cluster should fail in seconds, not after urllib3's retries
    api_client = client.ApiClient(configuration)
    server = str(configuration.host)
    try:
        client.VersionApi(api_client).get_code(_request_timeout=REQUEST_TIMEOUT)
        # A discovery cache of this run only: a shared one could predate Dapr's CRDs.
        cache = str(cache_dir / "discovery.json")
        dynamic = DynamicClient(api_client, cache_file=cache)  # type: ignore[no-untyped-call]
    except Exception as exc:  # urllib3 and the client raise unrelated types for the same failure
        raise ClusterError(f"the cluster at {server} (context {chosen}) does not answer: {_reason(exc)}",
                           hint="check that the cluster is running and reachable, and `kubectl --context "
                                f"{chosen} get ns` works") from None
    return Cluster(context=chosen, server=server, client=dynamic)


def deploy(ws: Workspace, *, context: str | None = None, namespace: str | None = None, dry_run: bool = False,
           diff: bool = False, prune: bool = False) -> DeployReport:
    """Apply the workspace's export; with `dry_run` or `diff` the server only says what it would do."""
    export = export_workspace(ws, namespace=namespace)
    preview = dry_run or diff
    with tempfile.TemporaryDirectory(prefix="aura-kube-") as cache:
        cluster = connect(context, Path(cache))
        try:
            _require_dapr(cluster, export, ws.spec.dapr.runtime_version)
            results = _apply_all(cluster, export, preview=preview, with_diff=diff)
            if prune:
                results += _prune(cluster, export, preview=preview, with_diff=diff)
            missing = tuple(_missing_secrets(cluster, export))
        except ClusterError:
            raise
        except Exception as exc:
            raise ClusterError(f"the cluster at {cluster.server} failed a request: {_reason(exc)}") from None
    return DeployReport(context=cluster.context, server=cluster.server, namespace=export.namespace,
                        dry_run=preview, results=tuple(results), warnings=export.warnings,
                        missing_secrets=missing)


def _require_dapr(cluster: Cluster, export: KubernetesExport, runtime_version: str) -> None:
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

    missing = []
    for api_version, kind in dict.fromkeys((m.api_version, m.kind) for m in export.manifests):
        try:
            cluster.resource(api_version, kind)
        except ResourceNotFoundError:
            missing.append(f"{kind} ({api_version})")
    if not missing:
        return
    if any("dapr.io/" in item for item in missing):
        raise ClusterError(
            f"the cluster at {cluster.server} does not know Dapr's resources ({', '.join(missing)}): "
            "install Dapr on the cluster first",
            hint=f"`dapr init -k --runtime-version {runtime_version} --wait`, or with Helm: "
                 "`helm repo add dapr https://dapr.github.io/helm-charts && helm upgrade --install dapr dapr/dapr "
                 f"--version {runtime_version} --namespace dapr-system --create-namespace --wait`")
    raise ClusterError(f"the cluster at {cluster.server} does not serve {', '.join(missing)}")


def _apply_all(cluster: Cluster, export: KubernetesExport, *, preview: bool, with_diff: bool) -> list[ObjectResult]:
    """Validate everything with a dry run, then write what differs (unless previewing)."""
    from kubernetes.dynamic.exceptions import DynamicApiError

    ns_manifest = next(m for m in export.manifests if m.kind == "Namespace")
    ns_missing = _live(cluster, ns_manifest) is None
    if ns_missing and not preview:
        # Namespaced objects cannot even be dry-run in a namespace that does not exist yet.
        _apply(cluster, ns_manifest, dry_run=False)
    planned: list[tuple[Manifest, Any, Any]] = []  # manifest, live object, what the server would store
    rejected: list[str] = []
    for manifest in export.manifests:
        if ns_missing and (preview or manifest is ns_manifest):
            # Just created; or, in a preview, not checkable before its namespace exists.
            planned.append((manifest, None, None))
            continue
        try:
            planned.append((manifest, _live(cluster, manifest), _apply(cluster, manifest, dry_run=True)))
        except DynamicApiError as exc:
            rejected.append(f"{manifest.kind} {manifest.name} in {manifest.file} (from {manifest.source}): "
                            f"{_reason(exc)}")
    if rejected:
        raise ClusterError(f"the API server rejected {len(rejected)} object{'s' if len(rejected) > 1 else ''}; "
                           "nothing else of the workspace was applied", details=rejected,
                           hint="fix the resource (or aura.yaml) and deploy again")
    results = []
    for manifest, live, would in planned:
        before = _comparable(live)
        after = _comparable(would) if would is not None else _comparable(manifest.body)
        action = Action.CREATED if live is None else Action.UNCHANGED if before == after else Action.CHANGED
        if would is not None and action is not Action.UNCHANGED and not preview:
            _apply(cluster, manifest, dry_run=False)
        shown = _diff(manifest, before, after) if with_diff and action is not Action.UNCHANGED else ""
        results.append(ObjectResult(manifest.kind, manifest.name, manifest.file, action, shown,
                                    checked=would is not None or manifest is ns_manifest))
    return results


def _apply(cluster: Cluster, manifest: Manifest, *, dry_run: bool) -> Any:
    resource = cluster.resource(manifest.api_version, manifest.kind)
    options: dict[str, Any] = {
        "field_manager": MANAGER,
        "force_conflicts": True,  # aura.yaml is the source of truth, like `kubectl apply --force-conflicts`
        # Without Strict the server drops unknown fields with a warning: a misspelt key would vanish.
        "query_params": [("fieldValidation", "Strict")],
        "_request_timeout": REQUEST_TIMEOUT,
    }
    if dry_run:
        options["dry_run"] = "All"
    return resource.server_side_apply(body=manifest.body, name=manifest.name, namespace=manifest.namespace,
                                      **options)


def _live(cluster: Cluster, manifest: Manifest) -> Any:
    from kubernetes.dynamic.exceptions import NotFoundError

    resource = cluster.resource(manifest.api_version, manifest.kind)
    try:
        return resource.get(name=manifest.name, namespace=manifest.namespace, _request_timeout=REQUEST_TIMEOUT)
    except NotFoundError:
        return None


def _prune(cluster: Cluster, export: KubernetesExport, *, preview: bool, with_diff: bool) -> list[ObjectResult]:
    """Delete the workspace's objects (by its labels) that the export no longer holds."""
    wanted = {(m.kind, m.name) for m in export.manifests}
    results = []
    for resource in _prunable_resources(cluster):
        found = resource.get(namespace=export.namespace, label_selector=export.selector,
                             _request_timeout=REQUEST_TIMEOUT)
        for item in sorted(found.items, key=lambda i: str(i.metadata.name)):
            name = str(item.metadata.name)
            if (resource.kind, name) in wanted:
                continue
            if not preview:
                resource.delete(name=name, namespace=export.namespace, propagation_policy="Background",
                                _request_timeout=REQUEST_TIMEOUT)
            shown = ""
            if with_diff:
                shown = "".join(difflib.unified_diff(_yaml_lines(_comparable(item)), [],
                                                     f"live/{resource.kind}/{name}", "/dev/null"))
            results.append(ObjectResult(resource.kind, name, "", Action.DELETED, shown))
    return results


def _prunable_resources(cluster: Cluster) -> Iterator[Any]:
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

    for api_version, kind in PRUNABLE_BUILTIN:
        yield cluster.resource(api_version, kind)
    for kind in PRUNABLE_DAPR:
        try:
            found = cluster.client.resources.search(group="dapr.io", kind=kind)
        except ResourceNotFoundError:
            continue
        # One version of a kind is enough to list its objects: the server converts.
        preferred = [r for r in found if getattr(r, "preferred", False)] or list(found)
        if preferred:
            yield preferred[0]


def _missing_secrets(cluster: Cluster, export: KubernetesExport) -> Iterator[str]:
    from kubernetes.dynamic.exceptions import NotFoundError

    secrets = cluster.resource("v1", "Secret")
    for name, keys in export.secrets.items():
        try:
            live = secrets.get(name=name, namespace=export.namespace, _request_timeout=REQUEST_TIMEOUT)
        except NotFoundError:
            yield f"{name} (keys: {', '.join(keys)})"
            continue
        absent = [k for k in keys if k not in (live.to_dict().get("data") or {})]
        if absent:
            yield f"{name} lacks keys {', '.join(absent)}"


def _comparable(obj: Any) -> dict[str, Any] | None:
    """The object without what the server changes on every write (for equality and diffs)."""
    if obj is None:
        return None
    data: dict[str, Any] = obj.to_dict() if hasattr(obj, "to_dict") else json.loads(json.dumps(obj))
    metadata = data.get("metadata") or {}
    for key in VOLATILE_METADATA:
        metadata.pop(key, None)
    data.pop("status", None)
    return data


def _yaml_lines(data: dict[str, Any] | None) -> list[str]:
    if data is None:
        return []
    return yaml.safe_dump(data, sort_keys=True, default_flow_style=False).splitlines(keepends=True)


def _diff(manifest: Manifest, before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    label = f"{manifest.kind}/{manifest.name}"
    return "".join(difflib.unified_diff(_yaml_lines(before), _yaml_lines(after),
                                        f"live/{label}" if before is not None else "/dev/null",
                                        f"{manifest.file}/{label}"))


def _reason(exc: BaseException) -> str:
    """The server's own message when there is one, else the exception's first line."""
    body = getattr(exc, "body", None)
    if body:
        try:
            message = json.loads(body).get("message")
        except (ValueError, AttributeError):
            message = None
        if message:
            return str(message)
    reason = getattr(exc, "reason", None)
    if reason is not None and not isinstance(reason, str):
        return _reason(reason)  # urllib3's MaxRetryError wraps the real cause
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
