"""What must hold for any `aura.yaml`, checked without trusting the loader: used by the fuzz
(`tests/unit/test_workspace_fuzz.py`) and by the regression fixtures it found.

- loading raises nothing but aura's own `UserError` (exit 2);
- every problem is located at a line and column that exist in the file;
- a message's stated reason holds for the input (the reasons that can be checked
  mechanically: lengths, characters, what is on disk, which keys and services exist);
- a hint that proposes a value (a key, a service, an app id, a name), applied, removes
  that problem.
"""

from __future__ import annotations

import io
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from aura_dev.errors import AuraError, UserError, WorkspaceInvalid
from aura_dev.workspace.load import Workspace, load_workspace
from aura_dev.workspace.names import shown
from aura_dev.workspace.problems import Problem
from aura_dev.workspace.resolved import json_schema

SCHEMA = json_schema()
LABEL_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")
SERVICE_CHARS = LABEL_CHARS | set("ABCDEFGHIJKLMNOPQRSTUVWXYZ_.")


def build_root(base: Path) -> Path:
    """A workspace folder with what the fuzz seeds name, and the odd things values may point at."""
    for folder in ("svc/api/components", "svc/worker", "components", "services/conversation/components",
                   "services/notifications", "services/sessions", "services/assistant-gateway"):
        (base / folder).mkdir(parents=True)
    (base / "svc/api/.env").write_text("A=1\n")
    (base / "config.yaml").write_text("kind: Configuration\n")
    (base / "afile").write_text("a file, not a folder\n")
    os.symlink("loop", base / "loop")
    os.symlink("nowhere", base / "dangling")
    return base


@dataclass
class Outcome:
    workspace: Workspace | None
    problems: list[Problem]
    error: AuraError | None


def load(file: Path) -> Outcome:
    """Load `file`; only aura's own errors may come out, and they mean exit 2."""
    try:
        ws = load_workspace(file)
    except WorkspaceInvalid as exc:
        assert exc.exit_code == 2
        problems = [p for p in exc.problems if isinstance(p, Problem)]
        assert len(problems) == len(exc.problems) and problems, exc.problems
        _render(exc)
        return Outcome(None, problems, exc)
    except UserError as exc:
        assert exc.exit_code == 2
        _render(exc)
        return Outcome(None, [], exc)
    return Outcome(ws, [], None)


def _render(exc: AuraError) -> None:
    """Through the CLI's own error display: odd characters must not break it (rich markup)."""
    from aura_dev.cli import console as ui

    buffer, stderr = io.StringIO(), sys.stderr
    ui._consoles.pop("err", None)
    sys.stderr = buffer
    try:
        ui.show_error(exc)
    finally:
        sys.stderr = stderr
        ui._consoles.pop("err", None)
    shown = buffer.getvalue()
    assert exc.message in shown
    for line in shown.splitlines():  # a message quotes a long value in part, never whole
        assert len(line) < 1000, line[:200]


def editor_lines(data: bytes) -> list[str]:
    """The file's lines as an editor shows them (\\n, \\r\\n or \\r end a line)."""
    try:
        text = data.decode("utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
    except UnicodeDecodeError:
        text = ""
    text = text or data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    return re.split(r"\r\n|\r|\n", text)


def check_locations(outcome: Outcome, file: Path, data: bytes) -> None:
    lines = editor_lines(data)
    for problem in outcome.problems:
        where = problem.location
        assert problem.file == file.absolute(), problem
        assert 1 <= where.line <= len(lines), f"line {where.line} of {len(lines)}: {problem.render()}"
        assert 1 <= where.column <= len(lines[where.line - 1]) + 1, f"column {where.column}: {problem.render()}"


def check_reasons(outcome: Outcome, data: Any, root: Path) -> None:
    """Every reason a message states, where a machine can tell, is true of `data`."""
    for problem in outcome.problems:
        _check_reason(problem, data, root)


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        if isinstance(data, dict):
            matches = [key for key in data if key == part or str(key) == str(part)]
            data = data[matches[0]] if matches else None
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def _check_reason(problem: Problem, data: Any, root: Path) -> None:
    message, path = problem.message, problem.path
    text = problem.render()
    if found := re.search(r"(service name|app id) '(.*)' is (\d+) characters long", message):
        assert int(found[3]) > 63, text
        if found[1] == "service name":
            assert len(str(path[1])) == int(found[3]), text
    if found := re.search(r"^(service name|app id) .* holds (.*): only", message):
        allowed = SERVICE_CHARS if found[1] == "service name" else LABEL_CHARS
        subject = str(path[1]) if found[1] == "service name" else _app_id(data, path)
        for char in re.findall(r"'(.)'|\"(.)\"", found[2]):
            char = char[0] or char[1]
            assert char in subject and char not in allowed, text
    if "contains a dot" in message:
        assert "." in _app_id(data, path), text
    if found := re.search(r" (does not exist|is a file, not a folder|is a folder, not a file) \((.*)\)$", message):
        target = Path(found[2])
        checks = {"does not exist": not os.path.lexists(target), "is a file, not a folder": target.is_file(),
                  "is a folder, not a file": target.is_dir()}
        assert checks[found[1]], text
    if found := re.search(r"^unknown key '(.*)'$", message):
        assert found[1] not in known_keys(path[:-1]), text
        assert not (len(path) == 1 and found[1].startswith("x-")), text
    if found := re.search(r"^missing required key '(.*)'$", message):
        parent = _at(data, path[:-1])
        assert isinstance(parent, dict) and found[1] not in parent, text
    if found := re.search(r"^depends on '(.*)', which is not a service", message):
        services = data.get("services") if isinstance(data, dict) else None
        assert isinstance(services, dict) and found[1] not in {str(k) for k in services}, text
    if message.startswith("depends on ") and isinstance(_at(data, path[:-1]), list):  # at the entry it names
        assert message.startswith(f"depends on {shown(str(_at(data, path)))}, "), text
    if found := re.search(r"^duplicate key '(.*)' \(first defined at line (\d+)\)$", message):
        assert int(found[2]) <= problem.location.line, text


def _app_id(data: Any, path: tuple[Any, ...]) -> str:
    service = _at(data, path[:2])
    dapr = service.get("dapr") if isinstance(service, dict) else None
    given = dapr.get("appId") if isinstance(dapr, dict) else None
    return str(given) if given is not None else str(path[1])


def known_keys(path: tuple[Any, ...]) -> set[str]:
    """The keys the JSON Schema of aura.yaml names at `path` (not the loader's own list)."""
    options = [SCHEMA]
    for part in path:
        following = []
        for schema in _expand(options):
            if part in schema.get("properties", {}):
                following.append(schema["properties"][part])
            elif isinstance(schema.get("additionalProperties"), dict):
                following.append(schema["additionalProperties"])
            elif isinstance(part, int) and isinstance(schema.get("items"), dict):
                following.append(schema["items"])
        options = following
    return {key for schema in _expand(options) for key in schema.get("properties", {})}


def _expand(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for schema in options:
        if "$ref" in schema:
            schema = SCHEMA["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
        nested = schema.get("anyOf", []) + schema.get("allOf", [])
        out.extend(_expand(nested) if nested else [schema])
    return out


# --- hints that propose a value: apply them and load again ---------------------------------


def applied_hints(outcome: Outcome, data: Any) -> list[tuple[Problem, Any]]:
    """For each problem whose hint proposes a value, `data` with that value put in place."""
    out = []
    for problem in outcome.problems:
        fixed = _apply(problem, data)
        if fixed is not None:
            out.append((problem, fixed))
    return out


def _apply(problem: Problem, data: Any) -> Any:
    hint, path = problem.hint or "", problem.path
    if proposed := re.search(r"did you mean '(.*)'\?$", hint):
        if problem.message.startswith("unknown key"):
            return _renamed(data, path, proposed[1])
        if problem.message.startswith("depends on"):
            return _replaced(data, path, proposed[1])
    if proposed := re.search(r"set dapr\.appId(?: to a valid id)?, e\.g\. '(.*)'$", hint):
        return _with_app_id(data, path[:2], proposed[1])
    if proposed := re.search(r"^rename the service, e\.g\. '(.*)'$", hint):
        return _renamed(data, path[:2], proposed[1])
    return None


def dump(data: Any) -> bytes:
    """YAML text of `data` (libyaml's emitter: the fuzz spends its time in aura, not here)."""
    return yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True, width=10_000).encode()


def parsed(raw: bytes) -> Any:
    return yaml.load(raw, Loader=yaml.CSafeLoader)


def _copy(data: Any) -> Any:
    """A copy that shares nothing: a hint is applied to one place, as a person would edit it
    (a service that is an alias of another is written out first)."""
    if isinstance(data, dict):
        return {key: _copy(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_copy(value) for value in data]
    return data


def _renamed(data: Any, path: tuple[Any, ...], new: str) -> Any:
    copy = _copy(data)
    parent = _at(copy, path[:-1])
    if not isinstance(parent, dict):
        return None
    old = next(key for key in parent if str(key) == str(path[-1]))
    items = [(new if key == old else key, value) for key, value in parent.items()]
    parent.clear()
    parent.update(items)
    return copy


def _replaced(data: Any, path: tuple[Any, ...], new: str) -> Any:
    copy = _copy(data)
    parent = _at(copy, path[:-1])
    if isinstance(parent, list):
        parent[path[-1]] = new
    elif isinstance(parent, dict):
        parent[next(key for key in parent if str(key) == str(path[-1]))] = new
    else:
        return None
    return copy


def _with_app_id(data: Any, service_path: tuple[Any, ...], app_id: str) -> Any:
    copy = _copy(data)
    service = _at(copy, service_path)
    if not isinstance(service, dict):
        return None
    dapr = service.setdefault("dapr", {})
    if not isinstance(dapr, dict):
        return None
    dapr["appId"] = app_id
    return copy


def still_there(problem: Problem, after: Outcome) -> bool:
    """Whether the problem a hint was for is still reported (same place and kind; app id
    problems anywhere in their service, since setting dapr.appId moves them there)."""
    kind = re.split(r"[ '(]", problem.message, maxsplit=2)[:2]
    for other in after.problems:
        same_kind = re.split(r"[ '(]", other.message, maxsplit=2)[:2] == kind
        if kind == ["app", "id"]:
            if same_kind and other.path[:2] == problem.path[:2]:
                return True
        elif same_kind and other.path == problem.path:
            return True
    return False


def check_all(file: Path, raw: bytes, data: Any | None, root: Path) -> Outcome:
    """Write `raw`, load it, check every property; `data` is the value `raw` encodes (when known)."""
    file.write_bytes(raw)
    outcome = load(file)
    check_locations(outcome, file, raw)
    if data is not None:
        check_reasons(outcome, data, root)
        for problem, fixed in applied_hints(outcome, data):
            file.write_bytes(dump(fixed))
            after = load(file)
            moved = _moved_path(problem, fixed)
            assert not still_there(moved, after), (f"hint did not fix: {problem.render()}\nafter: "
                                                   + "\n".join(p.render() for p in after.problems))
    return outcome


def _moved_path(problem: Problem, fixed: Any) -> Problem:
    """Where the problem would be reported after the hint was applied: a renamed service's
    problems at its new name, a renamed key's at the new key."""
    hint, path = problem.hint or "", problem.path
    if found := re.search(r"^rename the service, e\.g\. '(.*)'$", hint):
        path = path[:1] + (found[1],) + path[2:]
    elif (found := re.search(r"did you mean '(.*)'\?$", hint)) and problem.message.startswith("unknown key"):
        path = path[:-1] + (found[1],)
    return Problem(problem.file, problem.location, path, problem.message, problem.hint)
