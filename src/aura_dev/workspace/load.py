"""Loading `aura.yaml` (found by `workspace.locate`) and turning every problem into a located message."""

from __future__ import annotations

import copy
import dataclasses
import reprlib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from aura_dev.errors import UnknownService, WorkspaceInvalid, WorkspaceNotFound
from aura_dev.workspace import spec_cache
from aura_dev.workspace.locate import STATE_DIR, AtWorkspaceFile, unreadable
from aura_dev.workspace.model import Service, WorkspaceSpec
from aura_dev.workspace.names import shown
from aura_dev.workspace.problems import Problem, did_you_mean
from aura_dev.workspace.source_doc import KeyPath, SourceDocument, YamlRefused, YamlSyntaxError, read_text


@dataclass(frozen=True)
class Workspace(AtWorkspaceFile):
    """A loaded, validated workspace: the spec plus where it lives."""

    file: Path
    spec: WorkspaceSpec
    source: SourceDocument | None = field(default=None, compare=False, repr=False)
    # The text validated, and whether the spec came from `workspace.spec_cache`: loaded for a
    # supervisor only (`reuse_validation`), for `keep_validation`.
    text: str | None = field(default=None, compare=False, repr=False)
    reused: bool = field(default=False, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def services(self) -> dict[str, Service]:
        return self.spec.services

    def service_dir(self, name: str) -> Path:
        return (self.root / self.spec.services[name].path).resolve()

    def app_id(self, name: str) -> str:
        return self.spec.services[name].dapr.app_id or name

    def has_sidecar(self, name: str) -> bool:
        return self.spec.services[name].dapr.enabled

    def depends_on(self) -> dict[str, list[str]]:
        return {name: list(svc.depends_on) for name, svc in self.spec.services.items()}

    def keep_validation(self) -> None:
        """The supervisor, once its start goes ahead (a refused `up` writes nothing): keep
        what was parsed and validated for the next start; nothing when it came from there."""
        if self.text is not None and self.source is not None and not self.reused:
            spec_cache.store(self.state_dir, self.file, self.text, self.source, self.spec)

    def selection(self, requested: list[str]) -> list[str]:
        """The services `aura dev up` runs for `requested` (all when empty): those and what
        they depend on, in file order; an unknown name is refused."""
        from aura_dev.workspace.graph import closure

        requested = requested or list(self.services)
        unknown = [name for name in requested if name not in self.services]
        if unknown:
            raise UnknownService(f"no service named {', '.join(unknown)} in {self.file.name}",
                                 hint=f"services: {', '.join(self.services) or 'none'}")
        chosen = closure(self.depends_on(), requested)
        return [name for name in self.services if name in chosen]


def load_workspace(file: Path, *, check_files: bool = True, reuse_validation: bool = False) -> Workspace:
    """Parse and validate `file`; raise WorkspaceInvalid listing every problem found.

    `reuse_validation` (the supervisor): take the parsed document and the spec from
    `workspace.spec_cache` when the file is what was last validated (the checks against the
    disk run either way); `Workspace.keep_validation` keeps them there when it is not."""
    from aura_dev.workspace.checks import semantic_problems

    file = file.absolute()
    state_dir = file.parent / STATE_DIR
    cached: tuple[SourceDocument, WorkspaceSpec] | None = None
    try:
        text = read_text(file)
        cached = spec_cache.load(state_dir, file, text) if reuse_validation else None
        if cached is None:
            from aura_dev.workspace.yamlsource import parse_yaml  # PyYAML: only when the file is parsed

            doc = parse_yaml(text, file)
        else:
            doc = cached[0]
    except YamlRefused as exc:
        raise WorkspaceInvalid(f"{file.name} cannot be loaded",
                               [Problem(file, exc.location, (), exc.message)]) from None
    except YamlSyntaxError as exc:
        raise WorkspaceInvalid(f"{file.name} is not valid YAML",
                               [Problem(file, exc.location, (), f"not valid YAML: {exc.message}")]) from None
    except OSError as exc:
        raise unreadable(file, exc) from None

    problems: list[Problem] = [
        Problem(file, dup.again, dup.path,
                f"duplicate key {shown(str(dup.path[-1]))} (first defined at line {dup.first.line})", hint="YAML keeps only one of them; rename or merge the two")
        for dup in doc.duplicates
    ]
    if not isinstance(doc.data, dict):
        kind = "empty" if doc.data is None else f"a {type(doc.data).__name__}"
        problems.append(Problem(file, doc.locate(()), (), f"expected a mapping at the top level, the file is {kind}",
                                hint="start from `name: my-workspace` and a `services:` mapping"))
        raise WorkspaceInvalid(f"{file.name} is invalid", problems)
    settings = {key: value for key, value in doc.data.items() if not is_extension_key(key)}

    spec = cached[1] if cached is not None else None
    if spec is None:
        try:
            spec = WorkspaceSpec.model_validate(settings)
        except ValidationError as exc:
            problems.extend(_validation_problems(exc, doc))

    valid_services: dict[str, Service] = {}
    kept: _KeptEntries = {}
    if spec is not None:
        valid_services = dict(spec.services)
    else:
        # Validate each service alone so that cross-service checks still run on the good ones.
        raw_services = doc.data.get("services")
        if isinstance(raw_services, dict):
            for name, raw in raw_services.items():
                salvaged = _salvage_service(raw, kept, ("services", str(name)))
                if salvaged is not None:
                    valid_services[str(name)] = salvaged
    raw_services = doc.data.get("services")
    raw_names = {str(name) for name in raw_services} if isinstance(raw_services, dict) else set()
    problems.extend(_at_source(problem, doc, kept) for problem in semantic_problems(
        file, doc, spec, valid_services, raw_names, check_files=check_files))
    if problems:
        problems.sort(key=lambda p: (p.location.line, p.location.column))
        count = len(problems)
        raise WorkspaceInvalid(f"{file.name} has {count} problem{'s' if count != 1 else ''}", problems)
    assert spec is not None
    return Workspace(file=file, spec=spec, source=doc, text=text if reuse_validation else None,
                     reused=cached is not None)


# For each list a salvaged service lost entries from: the source indices of the entries kept.
_KeptEntries = dict[KeyPath, list[int]]


def _salvage_service(raw: Any, kept: _KeptEntries, base: KeyPath) -> Service | None:
    """The service with its invalid keys and list entries dropped, so that the checks spanning
    services (dependencies, ports, files) still see it; None when even that fails.  Dropping a
    list entry moves the later ones up: `kept` records where each came from in the file."""
    if not isinstance(raw, dict):
        return None
    candidate: Any = copy.deepcopy(raw)
    for _attempt in range(5):
        try:
            return Service.model_validate(candidate)
        except ValidationError as exc:
            paths = set()
            for error in exc.errors(include_url=False):
                path = _source_path(error["loc"], candidate)
                if error["type"] == "missing" or not path:
                    return None
                paths.add(path)
            removed = False
            # Last entries first, so that a deletion never shifts an entry still to delete.
            for path in sorted(paths, key=lambda path: path[-1] if isinstance(path[-1], int) else -1, reverse=True):
                parent, last = _parent(candidate, path), path[-1]
                if isinstance(parent, list) and isinstance(last, int) and 0 <= last < len(parent):
                    del kept.setdefault(base + path[:-1], list(range(len(parent))))[last]
                elif not (isinstance(parent, dict) and last in parent):
                    continue
                del parent[last]
                removed = True
            if not removed:
                return None
    return None


def _parent(data: Any, path: KeyPath) -> Any:
    """What holds the value at `path` in `data`, or None."""
    for part in path[:-1]:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _at_source(problem: Problem, doc: SourceDocument, kept: _KeptEntries) -> Problem:
    """`problem` at the file's own index of a list entry a salvaged service moved up."""
    path = problem.path
    for end in range(len(path)):
        entries, index = kept.get(path[:end]), path[end]
        if entries is not None and isinstance(index, int) and 0 <= index < len(entries):
            source = path[:end] + (entries[index],) + path[end + 1:]
            return dataclasses.replace(problem, path=source, location=doc.locate(source))
    return problem


def _validation_problems(exc: ValidationError, doc: SourceDocument) -> list[Problem]:
    by_path: dict[KeyPath, list[dict[str, Any]]] = {}
    for error in exc.errors(include_url=False):
        path = _source_path(error["loc"], doc.data)
        by_path.setdefault(path, []).append(dict(error))
    problems = []
    for path, errors in by_path.items():
        first = errors[0]
        kind = first["type"]
        if kind == "extra_forbidden":
            problems.append(_unknown_key(path, doc))
        elif kind == "missing":
            missing = str(first["loc"][-1])
            parent = path if path and path[-1] != missing else path[:-1]
            problems.append(Problem(doc.path, doc.locate(parent, prefer_key=True), parent + (missing,),
                                    f"missing required key '{missing}'"))
        else:
            messages = list(dict.fromkeys(_describe(e) for e in errors))
            problems.append(Problem(doc.path, doc.locate(path), path, "; or ".join(messages)))
    return problems


def _unknown_key(path: KeyPath, doc: SourceDocument) -> Problem:
    key = str(path[-1])
    known = _known_keys(path[:-1], doc.data)
    guess = did_you_mean(key, known)
    present = _keys_at(path[:-1], doc.data)
    extension = " (or any x-… key, which aura ignores)" if len(path) == 1 else ""
    if guess and guess in present:
        # Renaming it would only make a duplicate: the key it resembles is already set.
        hint: str | None = (f"'{guess}' is already set (line "
                            f"{doc.locate(path[:-1] + (guess,), prefer_key=True).line}); remove this one")
    elif guess:
        hint = f"did you mean '{guess}'?"
    else:
        hint = f"known keys here: {', '.join(sorted(known))}{extension}" if known else None
    return Problem(doc.path, doc.locate(path, prefer_key=True), path, f"unknown key {shown(key)}", hint)


def _keys_at(path: KeyPath, data: Any) -> set[str]:
    for part in path:
        data = data.get(part) if isinstance(data, dict) else None
    return {str(key) for key in data} if isinstance(data, dict) else set()


def is_extension_key(key: Any) -> bool:
    """A top-level `x-…` key: free for the user (anchors to merge, notes), ignored, as in Compose."""
    return isinstance(key, str) and key.startswith("x-")


def _describe(error: dict[str, Any]) -> str:
    message = str(error["msg"])
    if error["type"] in {"port", "port_range", "duration", "command", "env", "env_value", "health", "health_path"}:
        return message
    if message.startswith("Input should be "):
        message = "expected " + message[len("Input should be "):]
    elif message.startswith("Value error, "):
        message = message[len("Value error, "):]
    value = error.get("input")
    if not isinstance(value, (dict, list)):
        message += f", got {shown(value) if isinstance(value, str) else reprlib.repr(value)}"
    return message


def _source_path(loc: tuple[Any, ...], data: Any) -> KeyPath:
    """Map pydantic's error location onto keys of the source, skipping union/validator tags."""
    path: list[str | int] = []
    current = data
    for part in loc:
        if isinstance(current, dict) and part in current:
            path.append(part)
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            path.append(part)
            current = current[part]
        elif isinstance(current, dict) and isinstance(part, str) and not _looks_like_tag(part):
            path.append(part)  # a missing or extra key
            current = None
    return tuple(path)


def _looks_like_tag(part: str) -> bool:
    return "[" in part or part in {"str", "int", "float", "bool", "list", "dict"}


def _known_keys(path: KeyPath, data: Any) -> list[str]:
    """The keys the model accepts at `path` (for "did you mean")."""
    model: Any = WorkspaceSpec
    for part in path:
        model = _unwrap(model)
        if isinstance(model, type) and issubclass(model, BaseModel):
            field_info = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
            if field_info is None:
                return []
            model = field_info.annotation
        elif typing.get_origin(model) in (dict, list):
            model = typing.get_args(model)[-1]
        else:
            return []
    model = _unwrap(model)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [f.alias or n for n, f in model.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [a for a in options if isinstance(a, type) and issubclass(a, BaseModel)]
            annotation = models[0] if models else options[0]
        else:
            return annotation
