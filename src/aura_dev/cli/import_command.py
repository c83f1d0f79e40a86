"""`aura dev import`: turn a Dapr multi-app run template (`dapr run -f`) into `aura.yaml`."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

import typer

from aura_dev.cli import console as ui
from aura_dev.cli.console import escape

RunFileArgument = Annotated[
    Path, typer.Argument(metavar="RUN_FILE", help="The run template (dapr.yaml), or the folder that holds it",
                         show_default=False),
]
OutputOption = Annotated[
    Optional[Path],
    typer.Option("--output", "-o", help="The aura.yaml to write (default: beside the run file)", show_default=False),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace an existing output file")]


def register(dev: typer.Typer, load: Callable[..., object]) -> None:
    """Add `aura dev import` to the `dev` command group (an import reads no workspace: `load` is unused)."""

    @dev.command(name="import")
    def import_run_file(run_file: RunFileArgument, output: OutputOption = None, force: ForceOption = False) -> None:
        """Convert a Dapr multi-app run template (dapr run -f dapr.yaml) into an aura workspace."""
        from aura_dev.interop.dapr_run import convert_run_file
        from aura_dev.interop.dapr_run_file import find_run_file
        from aura_dev.interop.workspace_file import output_path, refuse_overwrite, write_workspace_file
        from aura_dev.workspace.resolved import ensure_schema_file

        source = find_run_file(run_file)
        target = output_path(output, source.parent)
        refuse_overwrite(target, force)  # before any work: the answer does not depend on it
        result = convert_run_file(source, target.parent)
        if result.notes:
            count = len(result.notes)
            ui.err.print(f"[yellow]note:[/] {count} setting{'s' if count != 1 else ''} of {escape(source.name)} "
                         f"{'are' if count != 1 else 'is'} not carried over as is:")
            for note in result.notes:
                ui.err.print(f"  {escape(note.render())}")
        if result.defaults:
            ui.err.print("[yellow]note:[/] resources written for `dapr init` run unchanged: `aura dev up` points "
                         "its copies of them (under .aura/run; these files stay as they are) at aura's infra:")
            for found in result.defaults:
                shown = os.path.relpath(found.file, source.parent)
                ui.err.print(f"  {escape(shown)}: {escape(found.import_note())}")
        workspace = write_workspace_file(result.text, target, force=force, relocate=result.relocate)
        ensure_schema_file(workspace.state_dir)
        ui.err.print(f"[green]✓[/] wrote {escape(str(target))} with {len(result.services)} "
                     f"service{'s' if len(result.services) != 1 else ''}: {escape(', '.join(result.services))}")
        ui.err.print(f"  next: aura dev up -w {escape(str(target))}")
