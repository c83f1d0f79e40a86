"""`aura dev config` and `aura dev schema`: the workspace as aura resolves it, and the
JSON Schema of `aura.yaml`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from aura_dev.cli import console as ui
from aura_dev.cli.options import JsonOption, WorkspaceOption

if TYPE_CHECKING:
    from aura_dev.workspace.load import Workspace


def register(dev: typer.Typer, load: Callable[[Path | None], "Workspace"]) -> None:
    @dev.command()
    def config(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
        """Print the resolved workspace: defaults filled, paths absolute, secrets masked."""
        from aura_dev.cli.config_view import show_config

        show_config(workspace, as_json)

    @dev.command()
    def schema(
        output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to this file")] = None,
    ) -> None:
        """Print the JSON Schema of aura.yaml (for editors and CI)."""
        from aura_dev.workspace.resolved import schema_text

        text = schema_text()
        if output is not None and output.is_dir():
            raise typer.BadParameter(f"{output} is a folder; give the file to write, e.g. "
                                     f"{output / 'aura.schema.json'}", param_hint="--output")
        if output is None:
            sys.stdout.write(text)
        else:
            output.write_text(text)
            ui.err.print(f"wrote {output}")
