"""`aura dev up|down|status|restart|stop|start`: the stack as a whole, and its units."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from aura_dev.cli import console as ui
from aura_dev.cli.options import JsonOption, ServicesArgument, WorkspaceOption, locate

if TYPE_CHECKING:
    from aura_dev.workspace.load import Workspace

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
    ) -> None:
        """Start the stack: infra, then each service's sidecar and app, in dependency order."""
        from aura_dev.cli import stack_view
        from aura_dev.engine.orchestrator import UpOptions

        if backend is not None and backend not in ("auto", "docker", "native"):
            raise typer.BadParameter("use auto, docker or native", param_hint="--backend")
        if verbose and quiet_sidecars:
            raise typer.BadParameter("--verbose prints sidecar info lines, --quiet-sidecars hides them: use one",
                                     param_hint="--verbose")
        if tui and (detach or verbose):
            raise typer.BadParameter("--tui runs the stack in the background and shows it in its own view: "
                                     "leave out " + ("--detach" if detach else "--verbose"), param_hint="--tui")
        ws = load(workspace)
        options = UpOptions(selected=list(services or []), backend=backend, reload=not no_reload,
                            ready_timeout=ready_timeout)
        if tui:
            raise typer.Exit(stack_view.run_tui(ws, options))
        if detach:
            raise typer.Exit(stack_view.run_detached(ws, options))
        raise typer.Exit(stack_view.run_foreground(ws, options, verbose=verbose))

    @dev.command()
    def down(workspace: WorkspaceOption = None) -> None:
        """Stop the running stack (from any terminal); clean up after a killed one."""
        from aura_dev.engine import session

        ws = locate(workspace)
        seconds, cleaned = session.bring_down(ws)
        if cleaned:
            ui.out.print(f"[yellow]cleaned up leftovers of a supervisor that did not stop:[/] {', '.join(cleaned)}")
        ui.out.print(f"[green]✓[/] {ws.name} stopped in {seconds:.2f} s; nothing left running")

    @dev.command()
    def status(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
        """Every unit: state, pid, ports, restarts, uptime."""
        from aura_dev.cli import stack_view
        from aura_dev.engine import session

        ws = locate(workspace)
        data = session.status(ws)
        if (data.get("dashboard") or {}).get("url"):
            from aura_dev.dashboard.access import login_url, read_token

            data["dashboard"]["url"] = login_url(data["dashboard"]["url"], read_token(ws.state_dir))
        if as_json:
            print(json.dumps(data, indent=2))
        else:
            stack_view.print_status(ui.out, data)

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


def _act(op: str, services: list[str], workspace: Path | None, app_only: bool, sidecar_only: bool) -> None:
    from aura_dev.engine import session
    from aura_dev.engine.control import Operation, Which

    which = Which.APP if app_only else Which.SIDECAR if sidecar_only else Which.ALL
    reply = session.control(locate(workspace), Operation(op), services, which)
    states = ", ".join(f"{n} {'ready' if ok else 'not ready'}" for n, ok in reply.states.items())
    ui.out.print(f"[green]✓[/] {op} done in {reply.seconds or 0:.2f} s" + (f" ({states})" if states and op != "stop" else ""))
