"""Writing a generated `aura.yaml`: readable YAML, validated before it lands, moved in atomically.

Shared by the importers (`aura dev import`): they build plain data, this module renders
it and refuses to leave an invalid or half-written workspace file behind.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from aura_dev.atomic import sibling_temp
from aura_dev.errors import UserError, WorkspaceInvalid
from aura_dev.workspace.disk import require_writable
from aura_dev.workspace.load import Workspace, load_workspace
from aura_dev.workspace.locate import WORKSPACE_FILE
from aura_dev.workspace.problems import Problem
from aura_dev.workspace.resolved import SCHEMA_COMMENT_PREFIX, SCHEMA_FILE

# Relative to the workspace file, so editors find the schema `aura` keeps under .aura/.
SCHEMA_LINE = f"{SCHEMA_COMMENT_PREFIX}./.aura/{SCHEMA_FILE}"


class _Dumper(yaml.SafeDumper):
    """Block mappings; lists of scalars in flow style (`[python3, app.py]`); no anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = all(isinstance(item, (str, int, float, bool)) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _represent_list)


def _dump(data: Mapping[str, Any]) -> str:
    # A wide line limit: a wrapped command or path is harder to read than a long one.
    return yaml.dump(dict(data), Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=4096)


def render_workspace(data: Mapping[str, Any], comments: Sequence[str] = ()) -> str:
    """`aura.yaml` text: the schema line, `comments`, then `data` in its own key order,
    with a blank line between services."""
    lines = [SCHEMA_LINE, *(f"# {comment}" for comment in comments)]
    text = "\n".join(lines) + "\n"
    for key, value in data.items():
        if key == "services" and isinstance(value, Mapping) and value:
            blocks = [_indent(_dump({name: service})) for name, service in value.items()]
            text += "services:\n" + "\n".join(blocks)
        else:
            text += _dump({key: value})
    return text


def _indent(block: str) -> str:
    return "".join(f"  {line}" if line.strip() else line for line in block.splitlines(keepends=True))


def output_path(output: Path | None, default_dir: Path) -> Path:
    """The file to write: `output` (a folder means `<folder>/aura.yaml`), else `aura.yaml`
    in `default_dir`.  Its folder must exist: an import creates one file, not a tree."""
    target = (output if output is not None else default_dir / WORKSPACE_FILE).expanduser().absolute()
    if target.is_dir():
        target = target / WORKSPACE_FILE
    if not target.parent.is_dir():
        raise UserError(f"cannot write {target}: the folder {target.parent} does not exist",
                        hint="create the folder first, or pass -o with an existing one")
    return target


def refuse_overwrite(target: Path, force: bool) -> None:
    if target.exists() and not force:
        raise UserError(f"{target} already exists; nothing was written",
                        hint="pass --force to replace it, or -o to write another file")


def write_workspace_file(
    text: str, target: Path, *, force: bool, relocate: Callable[[Problem], Problem] | None = None
) -> Workspace:
    """Write `text` to `target` only if it loads as a valid workspace.

    The text goes to a temporary file beside `target` (same folder, so relative paths
    resolve the same and the final rename is atomic); it is loaded with every check, and
    only then renamed.  On any problem nothing is left behind.  `relocate` turns a problem
    found in the generated text into one about the file it was generated from.
    """
    refuse_overwrite(target, force)
    require_writable(target.parent, f"aura writes {target.name} there")
    temporary = sibling_temp(target)
    try:
        # Mode "x" creates the file with the usual permissions (umask), unlike mkstemp's 0600.
        with temporary.open("x", encoding="utf-8") as handle:
            handle.write(text)
        try:
            load_workspace(temporary)
        except WorkspaceInvalid as exc:
            problems = [relocate(p) if relocate and isinstance(p, Problem) else p for p in exc.problems]
            raise WorkspaceInvalid(f"the imported workspace would be invalid, so {target.name} was not written",
                                   problems) from None
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return load_workspace(target)
