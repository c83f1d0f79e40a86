"""`aura dev tui`: the interactive terminal view of the running stack (and what `aura dev up
--tui` opens once it has started the stack in the background).  Textual is imported only
when the view opens."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from aura_dev.cli import console as ui
from aura_dev.cli.options import WorkspaceOption, locate
from aura_dev.errors import NotRunning, UserError

if TYPE_CHECKING:
    from aura_dev.workspace.load import Workspace
    from aura_dev.workspace.locate import WorkspaceRef


def register(dev: typer.Typer, load: Callable[..., object]) -> None:
    @dev.command()
    def tui(workspace: WorkspaceOption = None) -> None:
        """Watch and act on the running stack from the keyboard (units, logs, Dapr's view)."""
        from aura_dev.engine import runstate

        ws = locate(workspace)
        if not runstate.supervisor_running(ws.state_dir):
            raise NotRunning(f"{ws.name} is not running",
                             hint="start it with `aura dev up --tui` (or `aura dev up -d`, then `aura dev tui`)")
        raise typer.Exit(open_view(ws))


def require_terminal() -> None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UserError("the terminal view needs a terminal (stdin and stdout are not one here)",
                        hint="use `aura dev up -d` and `aura dev status` / `aura dev logs -f` in scripts")


def open_view(ws: Workspace | WorkspaceRef, child: int | None = None) -> int:
    """Run the view until the user quits; then leave the stack running or stop it."""
    require_terminal()
    from aura_dev.engine import session
    from aura_dev.tui.app import AuraTui
    from aura_dev.tui.feed import StackFeed
    from aura_dev.tui.quit import LEAVE, STOP

    choice = AuraTui(StackFeed(ws.state_dir, child=child), name=ws.name, started_here=child is not None).run()
    if choice == STOP:
        from aura_dev.engine.kept_record import left_running_now

        seconds, _cleaned = session.bring_down(ws)
        ui.out.print(f"[green]✓[/] {ws.name} stopped in {seconds:.2f} s; {ui.escape(left_running_now(ws.state_dir))}")
    elif choice == LEAVE:
        ui.out.print(f"{ws.name} keeps running: `aura dev tui` comes back to it, `aura dev down` stops it")
    else:
        ui.out.print(f"{ws.name} has stopped")
        return 1 if child is not None else 0
    return 0
