"""Where a workspace is, without validating it: the discovery of `aura.yaml` (`discover`)
and what commands that must work with a broken file (`down`, `status`, `logs`) need.  Kept apart
from `load` so that those commands do not import pydantic and build the model."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from aura_dev.workspace.discover import STATE_DIR as STATE_DIR
from aura_dev.workspace.discover import WORKSPACE_FILE as WORKSPACE_FILE
from aura_dev.workspace.discover import AtWorkspaceFile as AtWorkspaceFile
from aura_dev.workspace.discover import discover as discover
from aura_dev.workspace.discover import unreadable as unreadable


@dataclass(frozen=True)
class WorkspaceRef(AtWorkspaceFile):
    """Where a workspace lives, for commands that must work even when its file is broken
    (`down`, `status`, `logs`): a typo in aura.yaml must never strand a running stack."""

    file: Path
    name: str
    service_names: tuple[str, ...]


@dataclass(frozen=True)
class FoundWorkspace(AtWorkspaceFile):
    """Where a workspace is; its name is read from the file only when asked (a running
    stack's status takes it from the snapshot, and reading YAML costs time)."""

    file: Path

    @property
    def name(self) -> str:
        return locate(self.file).name


def locate(explicit: str | os.PathLike[str] | None = None) -> WorkspaceRef:
    """The workspace's location and, as far as the file can be read, its name and services."""
    from aura_dev.workspace.yamlsource import YamlSyntaxError, load_yaml_file  # not for `discover` alone

    file = discover(explicit=explicit).absolute()
    name: str = file.parent.name
    services: tuple[str, ...] = ()
    try:
        data = load_yaml_file(file).data
    except (YamlSyntaxError, OSError, UnicodeDecodeError):
        data = None
    if isinstance(data, dict):
        if isinstance(data.get("name"), str):
            name = data["name"]
        if isinstance(data.get("services"), dict):
            services = tuple(str(key) for key in data["services"])
    return WorkspaceRef(file=file, name=name, service_names=services)
