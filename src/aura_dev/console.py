"""The two consoles aura writes to (results on stdout, messages on stderr) and error display."""

from __future__ import annotations

import os
import sys

from rich.console import Console
from rich.markup import escape

from aura_dev.errors import AuraError, WorkspaceInvalid


def _no_color() -> bool:
    return bool(os.environ.get("NO_COLOR"))


def _width(stream: object) -> int | None:
    """Wide tables when output goes to a file or pipe (rich would assume 80 columns)."""
    isatty = getattr(stream, "isatty", None)
    return None if isatty is not None and isatty() else int(os.environ.get("COLUMNS", "160"))


out = Console(no_color=_no_color(), highlight=False, soft_wrap=True, width=_width(sys.stdout))
err = Console(stderr=True, no_color=_no_color(), highlight=False, soft_wrap=True, width=_width(sys.stderr))


def disable_color() -> None:
    global out, err
    out = Console(no_color=True, highlight=False, soft_wrap=True, width=_width(sys.stdout))
    err = Console(stderr=True, no_color=True, highlight=False, soft_wrap=True, width=_width(sys.stderr))


def show_error(exc: AuraError) -> None:
    console = err
    console.print(f"[bold red]error:[/] {escape(exc.message)}")
    if isinstance(exc, WorkspaceInvalid):
        for problem in exc.problems:
            rendered = problem.render() if hasattr(problem, "render") else str(problem)
            console.print(f"  {escape(rendered)}")
    for line in exc.details:
        console.print(f"  [dim]{escape(line)}[/]")
    if exc.hint:
        console.print(f"[yellow]hint:[/] {escape(exc.hint)}")
    sys.stderr.flush()
