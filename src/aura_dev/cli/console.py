"""The two consoles aura writes to (results on stdout, messages on stderr) and error display.

The rich consoles are made on first use (`ui.out`, `ui.err`): importing rich costs tens of
milliseconds, and `aura dev up` starts its processes before it prints anything through rich.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from aura_dev.errors import AuraError, WorkspaceInvalid

if TYPE_CHECKING:
    from rich.console import Console

_colour_disabled = False
_consoles: dict[str, Console] = {}


def colour_disabled() -> bool:
    """--no-color or NO_COLOR (https://no-color.org: any non-empty value)."""
    return _colour_disabled or bool(os.environ.get("NO_COLOR"))


def _width(stream: object) -> int | None:
    """Wide tables when output goes to a file or pipe (rich would assume 80 columns)."""
    isatty = getattr(stream, "isatty", None)
    return None if isatty is not None and isatty() else int(os.environ.get("COLUMNS", "160"))


def _console(name: str) -> Console:
    console = _consoles.get(name)
    if console is None:
        from rich.console import Console

        stream = sys.stderr if name == "err" else sys.stdout
        console = _consoles[name] = Console(stderr=name == "err", no_color=colour_disabled(), highlight=False,
                                            soft_wrap=True, width=_width(stream))
    return console


def __getattr__(name: str) -> Console:
    if name in ("out", "err"):
        return _console(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def escape(text: str) -> str:
    """Text shown as is inside rich markup."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def disable_color() -> None:
    global _colour_disabled
    _colour_disabled = True
    _consoles.clear()


def show_error(exc: AuraError) -> None:
    console = _console("err")
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
