"""Checks that span keys or touch the disk: ids, dependencies, ports, files, placeholders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from aura_dev.workspace.disk import Want, path_problem
from aura_dev.workspace.graph import DependencyCycle, dependency_waves
from aura_dev.workspace.model import Service, WorkspaceSpec
from aura_dev.workspace.placeholders import (
    NEEDS_APP_PORT, NEEDS_REDIS, NEEDS_SIDECAR, PLACEHOLDERS, PlaceholderSyntaxError, placeholders_in,
)
from aura_dev.workspace.names import app_id_problem, listing, service_name_problem, shown, suggest_label
from aura_dev.workspace.problems import Problem, did_you_mean, dotted
from aura_dev.workspace.source_doc import KeyPath, SourceDocument

SIDECAR_PORT_KEYS = ("httpPort", "grpcPort", "internalGrpcPort", "metricsPort")


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

    all_ids = {service.dapr.app_id or name for name, service in services.items() if service.dapr.enabled}
    seen_ids: dict[str, str] = {}
    for name, service in services.items():
        base: KeyPath = ("services", name)
        naming = service_name_problem(name)
        if naming:
            add(base, naming, f"rename the service, e.g. '{suggest_label(name, taken=raw_names, fallback='service')}'",
                key=True)
        if service.dapr.enabled and (service.dapr.app_id or not _written(doc, base + ("dapr", "appId"))):
            # (An appId written but invalid was reported as such: no claims about the name it falls back to.)
            app_id = service.dapr.app_id or name
            id_path = base + ("dapr", "appId") if service.dapr.app_id else base
            reason = app_id_problem(app_id)
            if reason:
                add(id_path, reason, f"set dapr.appId to a valid id, e.g. '{suggest_label(app_id, taken=all_ids)}'",
                    key=not service.dapr.app_id)
            if app_id in seen_ids:
                add(id_path, f"app id {shown(app_id)} is also used by service {shown(seen_ids[app_id])}",
                    f"app ids must be unique: set dapr.appId, e.g. '{suggest_label(app_id, taken=all_ids)}'",
                    key=not service.dapr.app_id)
            else:
                seen_ids[app_id] = name
        for index, dep in enumerate(service.depends_on):
            if dep == name:
                add(base + ("dependsOn", index), f"service {shown(name)} depends on itself")
            elif dep not in raw_names:
                others = raw_names - {name}
                guess = did_you_mean(dep, others)
                add(base + ("dependsOn", index), f"depends on {shown(dep)}, which is not a service of this workspace",
                    f"did you mean '{guess}'?" if guess else
                    f"services: {listing(others)}" if others else "this workspace has no other service")
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
        chain = " -> ".join(shown(name).strip("'") for name in cycle.cycle)
        add(("services", first, "dependsOn"), f"dependency cycle: {chain}",
            "remove one of these dependsOn entries")

    problems.extend(_port_problems(file, doc, spec, services))
    if spec is not None and check_files:
        resources_path: KeyPath = ("dapr", "resources")
        for index, folder in enumerate(spec.dapr.resources):
            path = resources_path + (index,) if _is_list(doc, resources_path) else resources_path
            problems.extend(_path_problems(file, doc, path, root, folder, Want.FOLDER, "resources folder"))
        if spec.dapr.config:
            problems.extend(_path_problems(file, doc, ("dapr", "config"), root, spec.dapr.config, Want.FILE,
                                           "Dapr configuration file"))
    return problems


def _path_problems(file: Path, doc: SourceDocument, key: KeyPath, base: Path, given: str, want: Want,
                   what: str) -> Iterator[Problem]:
    """The problem with the `want` that `given` (relative to `base`) names, if there is one."""
    found = path_problem(base / given, want)
    if found is not None:
        label = given if given and given.isprintable() and given.strip() == given and len(given) < 100 else shown(given)
        full = f" ({base / given})" if len(str(base / given)) < 400 else ""
        yield Problem(file, doc.locate(key), key, f"{what} {label} {found.reason}{full}",
                      found.hint(want) + (f" (relative to {base})" if found.missing else ""))


_ABSENT = object()


def _written_value(doc: SourceDocument, path: KeyPath) -> object:
    """The value the file has at `path`, or _ABSENT."""
    node = doc.data
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return _ABSENT
        node = node[part]
    return node


def _written(doc: SourceDocument, path: KeyPath) -> bool:
    return _written_value(doc, path) is not _ABSENT


def _is_list(doc: SourceDocument, path: KeyPath) -> bool:
    return isinstance(_written_value(doc, path), list)


def _file_problems(file: Path, doc: SourceDocument, root: Path, name: str, service: Service) -> Iterator[Problem]:
    base: KeyPath = ("services", name)
    folder_problems = list(_path_problems(file, doc, base + ("path",), root, service.path, Want.FOLDER,
                                          "service folder"))
    if folder_problems:
        yield from folder_problems
        return
    folder = root / service.path
    list_form = _is_list(doc, base + ("envFiles",))
    for index, env_file in enumerate(service.env_files):
        path = base + ("envFiles", index) if list_form else base + ("envFiles",)
        yield from _path_problems(file, doc, path, folder, env_file, Want.FILE, "env file")
    list_form = _is_list(doc, base + ("dapr", "resources"))
    for index, res in enumerate(service.dapr.resources):
        path = base + ("dapr", "resources", index) if list_form else base + ("dapr", "resources")
        yield from _path_problems(file, doc, path, folder, res, Want.FOLDER, "resources folder")
    if service.dapr.config:
        yield from _path_problems(file, doc, base + ("dapr", "config"), folder, service.dapr.config, Want.FILE,
                                  "Dapr configuration file")


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
        for unit in ("redis", "placement", "scheduler", "zipkin"):
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
                          f"port {port} is also used by {dotted(first, shorten=True)} (line {doc.locate(first).line})",
                          "give each listener its own port, or use 'auto'")
        else:
            owners[port] = path

