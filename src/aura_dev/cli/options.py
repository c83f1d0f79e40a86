"""What every command shares: the `-w` and `--json` options, and finding or loading the
workspace (each command imports only what it needs, when it runs)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:
    from aura_dev.workspace.load import Workspace
    from aura_dev.workspace.locate import WorkspaceRef

WorkspaceOption = Annotated[
    Optional[Path],
    typer.Option("--workspace", "-w", help="aura.yaml or its folder (default: found upwards; $AURA_WORKSPACE)",
                 show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output")]
ServicesArgument = Annotated[Optional[list[str]], typer.Argument(help="Services (default: all)", show_default=False)]


def locate(workspace: Path | None) -> "WorkspaceRef":
    """Where the workspace is, even when its file has an error (down, status, logs)."""
    from aura_dev.workspace.locate import locate as find

    return find(workspace)


def load(workspace: Path | None) -> "Workspace":
    """The workspace, loaded and validated (every problem reported at once).  Loading
    writes nothing: the commands that change the workspace (`up`, `new`, `import`) keep its
    editor schema current themselves (`workspace.resolved.ensure_schema_file`)."""
    from aura_dev.workspace.load import load_workspace
    from aura_dev.workspace.locate import discover

    return load_workspace(discover(explicit=workspace))
