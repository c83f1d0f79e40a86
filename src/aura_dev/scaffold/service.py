"""`aura dev new service`: a service rendered from `templates/` and registered in
`aura.yaml` without disturbing the rest of it (components: `scaffold_components`).

Every step is undone when a later one fails: files are rendered into a temporary folder
beside the target; the edited `aura.yaml` is written beside the real one and validated
again; only then is the folder renamed into place, and the edited file moved over the
old one.  A refusal (ScaffoldRefused, exit 2) leaves the workspace as it was.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from aura_dev.atomic import create_exclusive, sibling_temp, write_atomic
from aura_dev.errors import AuraError, ScaffoldRefused, WorkspaceInvalid
from aura_dev.plan.infra import InfraKind
from aura_dev.workspace.disk import require_writable
from aura_dev.workspace.load import Workspace, load_workspace
from aura_dev.workspace.locate import STATE_DIR, WORKSPACE_FILE
from aura_dev.workspace.model import Service
from aura_dev.workspace.names import app_id_problem, suggest_label
from aura_dev.workspace.problems import did_you_mean
from aura_dev.workspace.resolved import SCHEMA_COMMENT_PREFIX, SCHEMA_FILE
from aura_dev.scaffold.yamledit import YamlEditError, add_entry, flow_list

TEMPLATE_SUFFIX = ".j2"
# Relative to the workspace file: editors find the schema `aura` keeps current under .aura/.
SCHEMA_LINE = f"{SCHEMA_COMMENT_PREFIX}./{STATE_DIR}/{SCHEMA_FILE}"
# Folders a template folder may have picked up from running its files in place.
NOT_TEMPLATES = {"__pycache__", "node_modules", ".pytest_cache"}


@dataclass(frozen=True)
class Language:
    """How a service in one language is made, started and given its dependencies."""

    name: str
    template: str
    command: tuple[str, ...]
    install: tuple[str, ...] | None  # run in the new folder after it is in place
    setup_hint: str


LANGUAGES: dict[str, Language] = {
    "python": Language(
        "python", "service-python",
        ("python", "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", "{port}"),
        None, "pip install -r {path}/requirements-dev.txt",
    ),
    "node": Language(
        "node", "service-node", ("node", "server.js"),
        ("npm", "install", "--no-audit", "--no-fund"), "(cd {path} && npm install)",
    ),
}


@dataclass(frozen=True)
class NewService:
    name: str
    language: str = "python"
    port: int | None = None
    path: str | None = None
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServiceCreated:
    name: str
    language: Language
    folder: Path
    relative_path: str
    files: tuple[str, ...]
    workspace_file: Path
    created_workspace: bool


# ---------------------------------------------------------------- templates


def templates_root() -> Path:
    """The templates: packaged beside this module in a wheel, else the repository's folder."""
    package = Path(__file__).resolve().parents[1]  # aura_dev/
    for candidate in (package / "templates", package.parents[1] / "templates"):
        if candidate.is_dir():
            return candidate
    raise AuraError("aura's service templates are missing", hint="reinstall aura-dev")


def service_context(name: str, depends_on: Sequence[str] = ()) -> dict[str, Any]:
    """What the service templates are rendered with."""
    return {
        "name": name,
        "depends_on": list(depends_on),
        "peer": depends_on[0] if depends_on else "another-service",
        "store": "statestore",
        "pubsub": "pubsub",
        "topic": f"{name}-events",
    }


def render_template(template: str, context: Mapping[str, Any], target: Path) -> tuple[str, ...]:
    """Render every file of `templates/<template>` into `target`; the relative paths written."""
    source = templates_root() / template
    if not source.is_dir():
        raise AuraError(f"no template {template} in {source.parent}", hint="reinstall aura-dev")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(source)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                             autoescape=False)
    written = []
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if not path.is_file() or NOT_TEMPLATES & set(relative.parts):
            continue
        out = target / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        if path.name.endswith(TEMPLATE_SUFFIX):
            out = out.with_name(path.name[: -len(TEMPLATE_SUFFIX)])
            out.write_text(env.get_template(relative.as_posix()).render(context), encoding="utf-8")
        else:
            shutil.copyfile(path, out)
        written.append(out.relative_to(target).as_posix())
    return tuple(written)


# ---------------------------------------------------------------- services


def new_service(request: NewService, workspace: Workspace | Path) -> ServiceCreated:
    """Render the service and register it; `workspace` is a loaded workspace, or the
    `aura.yaml` to create for a new one."""
    if isinstance(workspace, Workspace):
        file, services, original = workspace.file, dict(workspace.services), workspace.file.read_text(encoding="utf-8")
    else:
        file, services, original = workspace.absolute(), {}, None
    root = file.parent
    language = _check_service(request, root, services)
    target = _service_folder(request, root, services)
    relative = target.relative_to(root.resolve()).as_posix()
    text = original if original is not None else _new_workspace_text(root)
    try:
        text = add_entry(text, ("services",), request.name, _service_entry(language, relative, request))
    except YamlEditError as exc:
        raise ScaffoldRefused(f"cannot add services.{request.name} to {file.name}: {exc.message}",
                              hint="add this entry yourself:\n" + exc.fragment) from None

    require_writable(root, f"aura writes {file.name} there")
    require_writable(target, "the service's files go there")
    with contextlib.ExitStack() as undo:
        for folder in _missing_parents(target):
            folder.mkdir()
            undo.callback(_remove_empty, folder)
        staging = staging_folder(target)
        undo.callback(shutil.rmtree, staging, ignore_errors=True)
        files = render_template(language.template, service_context(request.name, request.depends_on), staging)
        staged = stage_workspace_file(file, text, undo)
        staging.rename(target)
        undo.callback(shutil.rmtree, target, ignore_errors=True)
        commit_workspace_file(staged, file, original, undo)
        validate(file, check_files=True)
        undo.pop_all()  # success: keep everything
    return ServiceCreated(request.name, language, target, relative, files, file, original is None)


def install_dependencies(created: ServiceCreated) -> str | None:
    """Install the new service's dependencies (npm for Node); None, or why it failed."""
    command = created.language.install
    if command is None:
        return None
    if shutil.which(command[0]) is None:
        return f"{command[0]} is not on PATH"
    try:
        done = subprocess.run(command, cwd=created.folder, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        return f"`{' '.join(command)}` exited with {done.returncode}: " + " / ".join(tail)
    return None


def _check_service(request: NewService, root: Path, services: Mapping[str, Service]) -> Language:
    own_units = {kind.value for kind in InfraKind}
    # A suggested name must be free in every sense the checks below use.
    taken = set(services) | own_units | {s.dapr.app_id for s in services.values() if s.dapr.app_id}
    reason = app_id_problem(request.name)
    if reason:
        suggestion = suggest_label(request.name, taken=taken, fallback="my-service")
        raise ScaffoldRefused(f"cannot use '{request.name}' as a service name: {reason}",
                              hint=f"the name is the service's Dapr app id; try '{suggestion}'")
    if request.name in own_units:
        # The run state and `aura dev logs` name units by service; these names are aura's own.
        other = suggest_label(f"{request.name}-service", taken=taken)
        raise ScaffoldRefused(f"'{request.name}' is the name of one of aura's own units (Redis, placement, "
                              "scheduler)", hint=f"pick another name, e.g. '{other}'")
    language = LANGUAGES.get(request.language)
    if language is None:
        guess = did_you_mean(request.language, LANGUAGES)
        raise ScaffoldRefused(f"unknown language '{request.language}'",
                              hint=f"did you mean '{guess}'?" if guess else f"use one of: {', '.join(LANGUAGES)}")
    if request.name in services:
        raise ScaffoldRefused(f"the workspace already has a service '{request.name}'",
                              hint="pick another name, or remove the existing entry from aura.yaml first")
    for other, service in services.items():
        if service.dapr.app_id == request.name:
            raise ScaffoldRefused(f"app id '{request.name}' is already used by service '{other}'",
                                  hint="pick another name")
    for dep in request.depends_on:
        if dep not in services:
            guess = did_you_mean(dep, services)
            raise ScaffoldRefused(f"--depends-on names '{dep}', which is not a service of this workspace",
                                  hint=f"did you mean '{guess}'?" if guess else
                                  f"services: {', '.join(sorted(services)) or 'none yet'}")
    return language


def _service_folder(request: NewService, root: Path, services: Mapping[str, Service]) -> Path:
    """The new service's folder: inside the workspace, not there yet, not in another service."""
    base = root.resolve()
    wanted = Path(request.path) if request.path else Path("services") / request.name
    target = (base / wanted).resolve()  # resolve: `..` and symlinks must not lead outside
    if target == base or not target.is_relative_to(base):
        raise ScaffoldRefused(f"--path {request.path} is outside the workspace ({base})",
                              hint="give a folder inside the workspace, e.g. services/" + request.name)
    if target.is_relative_to(base / STATE_DIR):
        raise ScaffoldRefused(f"--path {request.path} is inside aura's state folder {STATE_DIR}/")
    if target.exists() or target.is_symlink():
        raise ScaffoldRefused(f"{target} already exists", hint="pick another name or --path; aura never overwrites")
    for other, service in services.items():
        folder = (root / service.path).resolve()
        if folder != base and target.is_relative_to(folder):
            raise ScaffoldRefused(f"{target} is inside the folder of service '{other}'",
                                  hint="its reloads would restart that service too: pick a folder beside it")
    return target


def _service_entry(language: Language, relative: str, request: NewService) -> CommentedMap:
    """The aura.yaml entry, written like the hand-written ones: flow lists, quoted placeholders."""
    entry = CommentedMap()
    entry["path"] = relative
    entry["command"] = flow_list([DoubleQuotedScalarString(a) if "{" in a else a for a in language.command])
    if request.port is not None:
        entry["appPort"] = request.port
    entry["healthCheck"] = "/healthz"
    if request.depends_on:
        entry["dependsOn"] = flow_list(list(request.depends_on))
    return entry


def workspace_file_to_create(explicit: Path | None) -> Path | None:
    """Where `aura dev new service` starts a workspace when none was found: the folder (or
    `.yaml` file) given with -w if its folder exists, else the current folder; None when
    $AURA_WORKSPACE points elsewhere (a typo there must stay an error)."""
    if explicit is None:
        return None if os.environ.get("AURA_WORKSPACE") else Path.cwd() / WORKSPACE_FILE
    candidate = explicit.expanduser().absolute()
    if candidate.is_dir():
        return candidate / WORKSPACE_FILE
    if candidate.suffix in (".yaml", ".yml") and candidate.parent.is_dir() and not candidate.exists():
        return candidate
    return None


def _new_workspace_text(root: Path) -> str:
    name = suggest_label(root.resolve().name, fallback="workspace")
    return (f"{SCHEMA_LINE}\n#\n# aura workspace: `aura dev up` runs each service below beside its Dapr sidecar.\n"
            f"name: {name}\n\nservices:\n")


def _missing_parents(target: Path) -> list[Path]:
    """The folders above `target` that do not exist yet, outermost first."""
    missing = []
    for parent in target.parents:
        if parent.exists():
            break
        missing.append(parent)
    return missing[::-1]


def _remove_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()


# ---------------------------------------------------------------- files, transactions


def stage_workspace_file(file: Path, text: str, undo: contextlib.ExitStack) -> Path:
    """Write the edited aura.yaml beside the real one and validate it there; `commit_workspace_file`
    puts it in place.  A stack that reloads aura.yaml thus never sees an entry whose folder is missing."""
    staged = sibling_temp(file, "aura-new")
    with staged.open("x", encoding="utf-8", newline="") as handle:
        handle.write(text)
    undo.callback(staged.unlink, missing_ok=True)
    if file.exists():
        shutil.copymode(file, staged)
    validate(staged, check_files=False, shown_as=file)  # the new folder is not in place yet
    return staged


def commit_workspace_file(staged: Path, file: Path, original: str | None, undo: contextlib.ExitStack) -> None:
    """Move the staged aura.yaml in (atomically) and register how to put the old one back."""
    if original is None:
        os.link(staged, file)  # fails rather than replace a file that appeared meanwhile
        staged.unlink()
        undo.callback(file.unlink, missing_ok=True)
    else:
        os.replace(staged, file)
        undo.callback(_replace_file, file, original)


def validate(file: Path, *, check_files: bool, shown_as: Path | None = None) -> Workspace:
    """load_workspace, its problems turned into a refusal (about `shown_as` when given)."""
    try:
        return load_workspace(file, check_files=check_files)
    except WorkspaceInvalid as exc:
        details = [p.render() if hasattr(p, "render") else str(p) for p in exc.problems]
        if shown_as is not None:
            details = [d.replace(str(file.absolute()), str(shown_as)) for d in details]
        raise ScaffoldRefused(f"{(shown_as or file).name} would be invalid after the change, so nothing was "
                              "changed", details=details) from None


def _replace_file(path: Path, text: str) -> None:
    """Atomically: a reader sees the old file or the new one, never half of one."""
    write_atomic(path, text)


def write_new_file(path: Path, text: str) -> None:
    """Create `path` whole or not at all, and never over a file that exists."""
    create_exclusive(path, text)


def staging_folder(target: Path) -> Path:
    """An empty folder beside `target`, renamed onto it at the end (same file system).
    mkdir, unlike mkdtemp's 0700, gives the usual permissions."""
    staging = target.with_name(f".{target.name}.aura-new-{secrets.token_hex(4)}")
    staging.mkdir()
    return staging

