"""`aura dev logs`: the command and its options; the work is in `logs_view`, imported when
the command runs (the log query modules are not needed to print help or run other commands)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Optional

import typer

from aura_dev.cli import console as ui
from aura_dev.cli.options import JsonOption, ServicesArgument, WorkspaceOption, locate


def register(dev: typer.Typer, load: Callable[..., object]) -> None:
    """Add `aura dev logs` (it reads the store even when aura.yaml is broken: `load` is unused)."""

    @dev.command()
    def logs(
        services: ServicesArgument = None,
        workspace: WorkspaceOption = None,
        follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines")] = False,
        tail: Annotated[Optional[int], typer.Option("--tail", "-n", help="Only the last N lines (per filter)")] = None,
        since: Annotated[Optional[str], typer.Option("--since", help="10m, 2h, 1d, 14:05 or an ISO time")] = None,
        source: Annotated[Optional[list[str]], typer.Option("--source",
                                                            help="app, sidecar or infra (repeatable)")] = None,
        level: Annotated[Optional[str], typer.Option("--level", help="Minimum level: debug, info, warn, error")] = None,
        grep: Annotated[Optional[str], typer.Option("--grep", "-g",
                                                    help="Only lines whose text matches this regex")] = None,
        ignore_case: Annotated[bool, typer.Option("--ignore-case", "-i", help="Case-insensitive --grep")] = False,
        as_json: JsonOption = False,
        raw: Annotated[bool, typer.Option("--raw", help="Sidecar and infra lines as written, not shortened")] = False,
        no_color: Annotated[bool, typer.Option("--no-color", help="No colours")] = False,
        trace: Annotated[Optional[str], typer.Option("--trace", help="Only the lines of this trace: each service's "
                                                     "lines inside its spans, and lines carrying its id")] = None,
    ) -> None:
        """Read, filter and follow the logs of every unit (works while running and after)."""
        from aura_dev.cli.logs_view import run

        code = run(locate(workspace), services=list(services or []), follow=follow, tail=tail, since=since,
                   sources=list(source or []), level=level, grep=grep, ignore_case=ignore_case,
                   as_json=as_json, raw=raw, no_color=no_color or ui.colour_disabled(), trace=trace)
        raise typer.Exit(code)
