"""`aura dev up|down|status|restart|stop|start`: the stack as a whole, and its units."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from aura_dev.cli import console as ui
from aura_dev.cli.options import JsonOption, ServicesArgument, WorkspaceOption, locate

if TYPE_CHECKING:
    from aura_dev.workspace.load import Workspace
    from aura_dev.workspace.locate import WorkspaceRef

RequiredServices = Annotated[list[str], typer.Argument(help="Services to act on")]
AppOnly = Annotated[bool, typer.Option("--app", help="Only the app process (the sidecar keeps running)")]
SidecarOnly = Annotated[bool, typer.Option("--sidecar", help="Only the daprd sidecar")]


def register(dev: typer.Typer, load: Callable[[Path | None], "Workspace"]) -> None:
    @dev.command()
    def up(
        services: ServicesArgument = None,
        workspace: WorkspaceOption = None,
        detach: Annotated[bool, typer.Option("--detach", "-d", help="Leave a background supervisor running")] = False,
        no_reload: Annotated[bool, typer.Option("--no-reload",
                                                help="Do not restart services when their code changes")] = False,
        backend: Annotated[Optional[str], typer.Option("--backend", help="Infra backend: auto, docker or native")] = None,
        verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print every line of every unit, Dapr's "
                                              "info lines included, repeats unfolded")] = False,
        # Hiding sidecar info lines is the default now; the flag stays accepted for scripts.
        quiet_sidecars: Annotated[bool, typer.Option("--quiet-sidecars", hidden=True)] = False,
        tui: Annotated[bool, typer.Option("--tui", help="Start in the background and open the interactive "
                                          "terminal view (quit: leave it running or stop it)")] = False,
        ready_timeout: Annotated[Optional[float], typer.Option("--timeout",
                                                               help="Seconds a unit may take to be ready")] = None,
        timings: Annotated[bool, typer.Option("--timings", help="Then show when each unit was spawned, wrote its "
                                              "first line, listened and was ready, and what it waited for")] = False,
    ) -> None:
        """Start the stack: infra, then each service's sidecar and app, in dependency order."""
        from aura_dev.cli.stack_start import start_stack, valid_backend, valid_timeout

        if not valid_backend(backend):
            raise typer.BadParameter("use auto, docker or native", param_hint="--backend")
        if not valid_timeout(ready_timeout):
            raise typer.BadParameter(f"{ready_timeout:g} is not a time a unit could be ready in; give seconds "
                                     "above 0", param_hint="--timeout")
        if verbose and quiet_sidecars:
            raise typer.BadParameter("--verbose prints sidecar info lines, --quiet-sidecars hides them: use one",
                                     param_hint="--verbose")
        if tui and (detach or verbose):
            raise typer.BadParameter("--tui runs the stack in the background and shows it in its own view: "
                                     "leave out " + ("--detach" if detach else "--verbose"), param_hint="--tui")
        raise typer.Exit(start_stack(services or [], workspace, detach=detach, reload=not no_reload, backend=backend,
                                     verbose=verbose, tui=tui, ready_timeout=ready_timeout, timings=timings))

    @dev.command()
    def down(
        workspace: WorkspaceOption = None,
        wipe: Annotated[bool, typer.Option("--wipe", help="Then delete this workspace's Redis data, scheduler "
                                           "data (jobs, reminders) and logs, after a confirmation")] = False,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="Confirm --wipe without asking (for scripts)")] = False,
        everything: Annotated[bool, typer.Option("--all", help="Also stop the infra `infra.keep` leaves "
                                                 "running")] = False,
    ) -> None:
        """Stop the running stack (from any terminal); clean up after a killed one."""
        from aura_dev.cli.stack_start import stop_stack

        ws = locate(workspace)
        if wipe and not yes:
            _confirm_wipe(ws)
        stop_stack(ws.file, everything=everything or wipe)  # kept infra must not write into data being wiped
        if wipe:
            from aura_dev.engine.wipe import wipe as wipe_data

            deleted = wipe_data(ws.state_dir)
            for kept in deleted:
                ui.out.print(f"[green]✓[/] deleted {kept.what}: {ui.escape(str(kept.path))} ({_size(kept.size)})")
            if not deleted:
                ui.out.print("nothing was kept: nothing to delete")

    @dev.command()
    def status(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
        """Every unit: state, pid, ports, restarts, uptime."""
        from aura_dev.cli.status_view import show_status

        show_status(workspace, as_json)

    @dev.command()
    def restart(services: RequiredServices, workspace: WorkspaceOption = None, app: AppOnly = False,
                sidecar: SidecarOnly = False) -> None:
        """Restart services of the running stack; the rest is untouched."""
        _act("restart", services, workspace, app, sidecar)

    @dev.command()
    def stop(services: RequiredServices, workspace: WorkspaceOption = None, app: AppOnly = False,
             sidecar: SidecarOnly = False) -> None:
        """Stop services of the running stack until `aura dev start`."""
        _act("stop", services, workspace, app, sidecar)

    @dev.command()
    def start(services: RequiredServices, workspace: WorkspaceOption = None, app: AppOnly = False,
              sidecar: SidecarOnly = False) -> None:
        """Start services stopped with `aura dev stop` (or failed ones) again."""
        _act("start", services, workspace, app, sidecar)


def _confirm_wipe(ws: "WorkspaceRef") -> None:
    """Ask before deleting; refuse where nobody can be asked."""
    import sys

    from aura_dev.engine.wipe import kept_data
    from aura_dev.errors import UserError

    kept = kept_data(ws.state_dir)
    if not sys.stdin.isatty():
        raise UserError("`aura dev down --wipe` deletes data and must be confirmed, but there is no terminal to ask "
                        "(nothing was stopped or deleted)", hint="pass --yes to confirm from a script")
    ui.err.print(f"This stops {ws.name} and deletes, under {ui.escape(str(ws.state_dir))}:")
    for item in kept:
        ui.err.print(f"  {item.what}: {ui.escape(item.path.name)} ({_size(item.size)})")
    if not kept:
        ui.err.print("  nothing (no data is kept yet)")
    if not typer.confirm("Delete it?", default=False, err=True):
        ui.err.print("nothing was stopped or deleted")
        raise typer.Exit(1)


def _size(size: int) -> str:
    from rich.filesize import decimal

    return decimal(size)


def _act(op: str, services: list[str], workspace: Path | None, app_only: bool, sidecar_only: bool) -> None:
    from aura_dev.engine import session
    from aura_dev.engine.control import Operation, Which

    if app_only and sidecar_only:
        raise typer.BadParameter(f"--app and --sidecar exclude each other: leave both out to {op} the app and "
                                 "its sidecar", param_hint="--app / --sidecar")
    which = Which.APP if app_only else Which.SIDECAR if sidecar_only else Which.ALL
    reply = session.control(locate(workspace), Operation(op), services, which)
    states = ", ".join(f"{n} {'ready' if ok else 'not ready'}" for n, ok in reply.states.items())
    ui.out.print(f"[green]✓[/] {op} done in {reply.seconds or 0:.2f} s" + (f" ({states})" if states and op != "stop" else ""))
