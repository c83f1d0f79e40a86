"""`aura dev new component`: a Dapr component for the workspace's Redis.

The component is aura's own default (`components.DEFAULT_STATESTORE` / `DEFAULT_PUBSUB`)
under another name, with aura's `{redis_host}` / `{redis_password}` placeholders that are
resolved when the stack starts.  A workspace without `dapr.resources` has so far run on
the defaults aura generates; it gets a `components/` folder holding those two plus the
new one, and `dapr: {resources: [components]}` in `aura.yaml`.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from aura_dev.errors import ScaffoldRefused
from aura_dev.plan.resources import DEFAULT_PUBSUB, DEFAULT_STATESTORE, RESOURCE_SUFFIXES
from aura_dev.scaffold.service import commit_workspace_file, stage_workspace_file, staging_folder, validate, write_new_file
from aura_dev.workspace.disk import require_writable
from aura_dev.workspace.load import Workspace
from aura_dev.workspace.names import dns_label_problem, suggest_label
from aura_dev.workspace.problems import did_you_mean
from aura_dev.scaffold.yamledit import YamlEditError, add_entry, flow_list

COMPONENT_KINDS: dict[str, str] = {"statestore": DEFAULT_STATESTORE, "pubsub": DEFAULT_PUBSUB}
COMPONENTS_FOLDER = "components"
HEADER = "# A Dapr component for the workspace's Redis: aura fills in its address and password at `aura dev up`.\n"


@dataclass(frozen=True)
class ComponentCreated:
    name: str
    kind: str
    file: Path
    folder: Path
    adopted_folder: bool  # `components/` was created and aura.yaml now lists it under dapr.resources
    written: tuple[Path, ...]
    actor_store_elsewhere: Path | None  # the new state store left actorStateStore to this file


@dataclass(frozen=True)
class _Existing:
    name: str
    file: Path
    actor_store: bool


def new_component(ws: Workspace, kind: str, name: str | None = None) -> ComponentCreated:
    """Write the component into the workspace's first resources folder, or adopt `components/`."""
    template = COMPONENT_KINDS.get(kind)
    if template is None:
        guess = did_you_mean(kind, COMPONENT_KINDS)
        raise ScaffoldRefused(f"unknown component kind '{kind}'",
                              hint=f"did you mean '{guess}'?" if guess else f"use one of: {', '.join(COMPONENT_KINDS)}")
    name = name or kind
    reason = dns_label_problem(name, "component name")
    if reason:
        raise ScaffoldRefused(reason, hint=f"try --name {suggest_label(name, fallback=kind)}")
    if ws.spec.dapr.resources:
        return _add_to_folder(ws, kind, name, template)
    return _adopt_components_folder(ws, kind, name, template)


def component_text(template: str, name: str, *, actor_store: bool = True) -> str:
    """`template` (a default component) named `name`; without actorStateStore unless
    `actor_store`, since daprd refuses a second actor state store."""
    yaml = YAML()
    yaml.preserve_quotes = True
    doc = yaml.load(template)
    doc["metadata"]["name"] = name
    if not actor_store:
        items = doc["spec"]["metadata"]
        items[:] = [item for item in items if item.get("name") != "actorStateStore"]
    out = io.StringIO()
    yaml.dump(doc, out)
    return HEADER + out.getvalue()


def _add_to_folder(ws: Workspace, kind: str, name: str, template: str) -> ComponentCreated:
    folder = (ws.root / ws.spec.dapr.resources[0]).resolve()
    existing = _existing_components(folder)
    target = folder / f"{name}.yaml"
    taken = next((c.file for c in existing if c.name == name), target if target.exists() else None)
    if taken is not None:
        raise ScaffoldRefused(f"a component named '{name}' already exists ({taken})", hint="pick another --name")
    actor_store = next((c.file for c in existing if c.actor_store), None) if kind == "statestore" else None
    require_writable(folder, "the component file goes there")
    write_new_file(target, component_text(template, name, actor_store=actor_store is None))
    return ComponentCreated(name, kind, target, folder, False, (target,), actor_store)


def _adopt_components_folder(ws: Workspace, kind: str, name: str, template: str) -> ComponentCreated:
    target = ws.root / COMPONENTS_FOLDER
    if target.exists():
        raise ScaffoldRefused(f"{target} already exists, but aura.yaml does not list it under dapr.resources",
                              hint=f"add `dapr: {{resources: [{COMPONENTS_FOLDER}]}}` to aura.yaml, "
                              "or move that folder away")
    # What aura generated so far, so that switching to the folder loses nothing.
    files = {default: component_text(text, default) for default, text in COMPONENT_KINDS.items()}
    if name in files and COMPONENT_KINDS[name] is not template:
        raise ScaffoldRefused(f"'{name}' is the name of aura's default {name}, which {COMPONENTS_FOLDER}/ "
                              "will hold as well", hint="pick another --name")
    files.setdefault(name, component_text(template, name, actor_store=False))
    original = ws.file.read_text(encoding="utf-8")
    try:
        text = add_entry(original, ("dapr",), "resources", flow_list([COMPONENTS_FOLDER]), after="name")
    except YamlEditError as exc:
        raise ScaffoldRefused(f"cannot add dapr.resources to {ws.file.name}: {exc.message}",
                              hint="add this yourself, then run the command again:\n" + exc.fragment) from None
    require_writable(ws.root, f"aura writes {COMPONENTS_FOLDER}/ and {ws.file.name} there")
    with contextlib.ExitStack() as undo:
        staging = staging_folder(target)
        undo.callback(shutil.rmtree, staging, ignore_errors=True)
        for file_name, content in files.items():
            (staging / f"{file_name}.yaml").write_text(content, encoding="utf-8")
        staged = stage_workspace_file(ws.file, text, undo)
        staging.rename(target)
        undo.callback(shutil.rmtree, target, ignore_errors=True)
        commit_workspace_file(staged, ws.file, original, undo)
        validate(ws.file, check_files=True)
        undo.pop_all()  # success: keep everything
    default_store = target / "statestore.yaml"
    return ComponentCreated(name, kind, target / f"{name}.yaml", target, True,
                            tuple(target / f"{file_name}.yaml" for file_name in files),
                            default_store if kind == "statestore" and name != "statestore" else None)


def _existing_components(folder: Path) -> list[_Existing]:
    """The components declared in `folder` (files that do not parse are daprd's to report)."""
    found = []
    yaml = YAML(typ="safe")
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.suffix not in RESOURCE_SUFFIXES:
            continue
        try:
            docs = list(yaml.load_all(path.read_text(encoding="utf-8")))
        except Exception:
            continue
        for doc in docs:
            name = _get(doc, "metadata", "name")
            if name:
                items = _get(doc, "spec", "metadata") or []
                actor = any(isinstance(i, dict) and i.get("name") == "actorStateStore"
                            and str(i.get("value")).lower() == "true" for i in items)
                found.append(_Existing(str(name), path, actor))
    return found


def _get(node: Any, *keys: str) -> Any:
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node
