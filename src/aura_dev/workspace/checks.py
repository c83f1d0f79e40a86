"""Checks that span keys or touch the disk: ids, dependencies, ports, files, placeholders."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from aura_dev.workspace.graph import DependencyCycle, dependency_waves
from aura_dev.workspace.model import Service, WorkspaceSpec
from aura_dev.workspace.placeholders import (
    NEEDS_APP_PORT, NEEDS_REDIS, NEEDS_SIDECAR, PLACEHOLDERS, PlaceholderSyntaxError, placeholders_in,
)
from aura_dev.workspace.problems import Problem, did_you_mean
from aura_dev.workspace.yamlsource import KeyPath, SourceDocument

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
SERVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
SIDECAR_PORT_KEYS = ("httpPort", "grpcPort", "internalGrpcPort", "metricsPort")


def app_id_problem(app_id: str) -> str | None:
    """Why daprd (or Kubernetes, where ids become DNS names) would refuse `app_id`, or None."""
    if "." in app_id:
        return f"app id '{app_id}' contains a dot, which daprd refuses"
    if len(app_id) > 63:
        return f"app id '{app_id}' is longer than 63 characters"
    if not DNS_LABEL.match(app_id):
        return (f"app id '{app_id}' is not a DNS label (lowercase letters, digits and '-', "
                "starting and ending with a letter or digit)")
    return None


def semantic_problems(
    file: Path,
    doc: SourceDocument,
    spec: WorkspaceSpec | None,
    services: dict[str, Service],
    raw_names: set[str],
    *,
    check_files: bool = True,
) -> list[Problem]:
    root = file.parent
    problems: list[Problem] = []

    def add(path: KeyPath, message: str, hint: str | None = None, *, key: bool = False) -> None:
        problems.append(Problem(file, doc.locate(path, prefer_key=key), path, message, hint))

    seen_ids: dict[str, str] = {}
    for name, service in services.items():
        base: KeyPath = ("services", name)
        if not SERVICE_NAME.match(name):
            add(base, f"service name '{name}' may only hold letters, digits, '.', '_' and '-'", key=True)
        if service.dapr.enabled:
            app_id = service.dapr.app_id or name
            id_path = base + ("dapr", "appId") if service.dapr.app_id else base
            reason = app_id_problem(app_id)
            if reason:
                add(id_path, reason, "set dapr.appId to a valid id, e.g. "
                    f"'{re.sub(r'[^a-z0-9-]+', '-', app_id.lower()).strip('-') or 'app'}'", key=not service.dapr.app_id)
            if app_id in seen_ids:
                add(id_path, f"app id '{app_id}' is also used by service '{seen_ids[app_id]}'",
                    "app ids must be unique: set dapr.appId on one of them", key=not service.dapr.app_id)
            else:
                seen_ids[app_id] = name
        for index, dep in enumerate(service.depends_on):
            if dep == name:
                add(base + ("dependsOn", index), f"service '{name}' depends on itself")
            elif dep not in raw_names:
                guess = did_you_mean(dep, raw_names)
                add(base + ("dependsOn", index), f"depends on '{dep}', which is not a service of this workspace",
                    f"did you mean '{guess}'?" if guess else f"services: {', '.join(sorted(raw_names)) or 'none'}")
        if isinstance(service.command, str) and not service.command.strip() or (
            isinstance(service.command, list) and not service.command
        ):
            add(base + ("command",), "the command is empty", "give the program to run, e.g. [python, app.py]")
        problems.extend(_placeholder_problems(file, doc, name, service, spec))
        if check_files:
            problems.extend(_file_problems(file, doc, root, name, service))

    try:
        dependency_waves({n: [d for d in s.depends_on if d != n] for n, s in services.items()})
    except DependencyCycle as cycle:
        first = cycle.cycle[0]
        add(("services", first, "dependsOn"), f"dependency cycle: {' -> '.join(cycle.cycle)}",
            "remove one of these dependsOn entries")

    problems.extend(_port_problems(file, doc, spec, services))
    if spec is not None and check_files:
        for index, folder in enumerate(spec.dapr.resources):
            if not (root / folder).is_dir():
                add(("dapr", "resources", index) if _is_list(doc, ("dapr", "resources")) else ("dapr", "resources"),
                    f"resources folder {folder} does not exist", f"create {root / folder} or remove the entry")
        if spec.dapr.config and not (root / spec.dapr.config).is_file():
            add(("dapr", "config"), f"Dapr configuration file {spec.dapr.config} does not exist")
    return problems


def _is_list(doc: SourceDocument, path: KeyPath) -> bool:
    node = doc.data
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return isinstance(node, list)


def _file_problems(file: Path, doc: SourceDocument, root: Path, name: str, service: Service) -> Iterator[Problem]:
    base: KeyPath = ("services", name)
    folder = root / service.path
    if not folder.is_dir():
        yield Problem(file, doc.locate(base + ("path",)), base + ("path",),
                      f"service folder {service.path} does not exist ({folder})",
                      "create the folder or fix the path (relative to the workspace)")
        return
    list_form = _is_list(doc, base + ("envFiles",))
    for index, env_file in enumerate(service.env_files):
        if not (folder / env_file).is_file():
            path = base + ("envFiles", index) if list_form else base + ("envFiles",)
            yield Problem(file, doc.locate(path), path, f"env file {env_file} does not exist ({folder / env_file})")
    list_form = _is_list(doc, base + ("dapr", "resources"))
    for index, res in enumerate(service.dapr.resources):
        if not (folder / res).is_dir():
            path = base + ("dapr", "resources", index) if list_form else base + ("dapr", "resources")
            yield Problem(file, doc.locate(path), path, f"resources folder {res} does not exist ({folder / res})")
    if service.dapr.config and not (folder / service.dapr.config).is_file():
        path = base + ("dapr", "config")
        yield Problem(file, doc.locate(path), path, f"Dapr configuration file {service.dapr.config} does not exist")


def _placeholder_problems(
    file: Path, doc: SourceDocument, name: str, service: Service, spec: WorkspaceSpec | None
) -> Iterator[Problem]:
    base: KeyPath = ("services", name)
    texts: list[tuple[KeyPath, str]] = []
    if isinstance(service.command, str):
        texts.append((base + ("command",), service.command))
    else:
        texts.extend((base + ("command", i), arg) for i, arg in enumerate(service.command))
    texts.extend((base + ("env", key), value) for key, value in service.env.items())
    redis_enabled = spec.infra.redis.enabled if spec is not None else True
    for path, text in texts:
        try:
            names = placeholders_in(text)
        except PlaceholderSyntaxError as exc:
            yield Problem(file, doc.locate(path), path, str(exc))
            continue
        for placeholder in names:
            reason = None
            if placeholder not in PLACEHOLDERS:
                guess = did_you_mean(placeholder, PLACEHOLDERS)
                yield Problem(file, doc.locate(path), path, f"unknown placeholder {{{placeholder}}}",
                              f"did you mean {{{guess}}}?" if guess else
                              f"known placeholders: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}")
                continue
            if placeholder in NEEDS_APP_PORT and service.app_port is None:
                reason = "the service has no app port (appPort is null)"
            elif placeholder in NEEDS_SIDECAR and not service.dapr.enabled:
                reason = "the service has no sidecar (dapr.enabled is false)"
            elif placeholder in NEEDS_REDIS and not redis_enabled:
                reason = "Redis is disabled (infra.redis.enabled is false)"
            if reason:
                yield Problem(file, doc.locate(path), path, f"placeholder {{{placeholder}}} cannot be used: {reason}")


def _port_problems(
    file: Path, doc: SourceDocument, spec: WorkspaceSpec | None, services: dict[str, Service]
) -> Iterator[Problem]:
    claimed: list[tuple[int, KeyPath]] = []
    if spec is not None:
        for unit in ("redis", "placement", "scheduler"):
            port = getattr(spec.infra, unit).port
            if isinstance(port, int):
                claimed.append((port, ("infra", unit, "port")))
    for name, service in services.items():
        if isinstance(service.app_port, int):
            claimed.append((service.app_port, ("services", name, "appPort")))
        if service.dapr.enabled:
            for key, value in zip(SIDECAR_PORT_KEYS, (service.dapr.http_port, service.dapr.grpc_port,
                                                      service.dapr.internal_grpc_port, service.dapr.metrics_port)):
                if isinstance(value, int):
                    claimed.append((value, ("services", name, "dapr", key)))
    owners: dict[int, KeyPath] = {}
    for port, path in claimed:
        if port in owners:
            first = owners[port]
            yield Problem(file, doc.locate(path), path,
                          f"port {port} is also used by {_dotted(first)} (line {doc.locate(first).line})",
                          "give each listener its own port, or use 'auto'")
        else:
            owners[port] = path


def _dotted(path: KeyPath) -> str:
    from aura_dev.workspace.problems import dotted
    return dotted(path)
