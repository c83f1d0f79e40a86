"""The `aura` command.  Parses flags, calls in, maps errors to exit codes; no process logic.

Exit codes: 0 success; 1 a runtime failure; 2 bad input (nothing was started).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from aura_dev import __version__
from aura_dev.cli import console as ui
from aura_dev.errors import AuraError

if TYPE_CHECKING:
    from aura_dev.workspace.load import Workspace
    from aura_dev.workspace.locate import WorkspaceRef

app = typer.Typer(no_args_is_help=True, add_completion=True, help="aura: the Aura platform's local Dapr environment.")
dev = typer.Typer(no_args_is_help=True, help="Run, watch and inspect the workspace's Dapr stack.")
app.add_typer(dev, name="dev")

WorkspaceOption = Annotated[
    Optional[Path],
    typer.Option("--workspace", "-w", help="aura.yaml or its folder (default: found upwards; $AURA_WORKSPACE)",
                 show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


def _version(value: bool) -> None:
    if value:
        print(f"aura {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colours (also: NO_COLOR=1)")] = False,
) -> None:
    if no_color:
        ui.disable_color()


def locate(workspace: Path | None) -> "WorkspaceRef":
    from aura_dev.workspace.locate import locate as find

    return find(workspace)


def load(workspace: Path | None) -> "Workspace":
    from aura_dev.workspace.load import load_workspace
    from aura_dev.workspace.locate import discover
    from aura_dev.workspace.resolved import ensure_schema_file

    ws = load_workspace(discover(explicit=workspace))
    ensure_schema_file(ws.state_dir)
    return ws


# ---------------------------------------------------------------- runtime


@dev.command()
def init(
    runtime_version: Annotated[Optional[str], typer.Option("--runtime-version", help="Dapr version to install")] = None,
    from_source: Annotated[bool, typer.Option("--from-source", help="Build with the local go from the module proxy")] = False,
    force: Annotated[bool, typer.Option("--force", help="Reinstall even if present")] = False,
    as_json: JsonOption = False,
) -> None:
    """Install the Dapr runtime (daprd, placement, scheduler) for aura."""
    from aura_dev.runtime import DEFAULT_RUNTIME_VERSION, binary_version
    from aura_dev.runtime.install import install_runtime

    version = runtime_version or DEFAULT_RUNTIME_VERSION
    report = install_runtime(version, from_source=from_source, force=force, console=ui.err)
    install = report.install
    versions = {name: (binary_version(install.binary(name)) if name == "daprd" else "n/a")
                for name in ("daprd", "placement", "scheduler")}
    if as_json:
        print(json.dumps({
            "version": install.version, "binDir": str(install.bin_dir), "source": install.source,
            "alreadyInstalled": report.already_installed, "seconds": round(report.seconds, 1),
            "binaries": {name: str(install.binary(name)) for name in versions}, "attempts": report.attempts,
        }, indent=2))
        return
    state = "already installed" if report.already_installed else f"installed in {report.seconds:.0f} s"
    ui.out.print(f"[green]✓[/] Dapr runtime {install.version} {state} ({install.source})")
    for name in ("daprd", "placement", "scheduler"):
        size = install.binary(name).stat().st_size / 1e6
        extra = f" version {versions[name]}" if name == "daprd" else ""
        ui.out.print(f"  {name:<10} {install.binary(name)}  [dim]{size:.0f} MB{extra}[/]")


@dev.command()
def doctor(
    runtime_version: Annotated[Optional[str], typer.Option("--runtime-version")] = None,
    as_json: JsonOption = False,
) -> None:
    """Check this machine: runtime, Docker, redis-server, go, default ports."""
    from aura_dev.cli.doctor import Status, run_checks
    from aura_dev.runtime import DEFAULT_RUNTIME_VERSION

    checks = run_checks(runtime_version or DEFAULT_RUNTIME_VERSION)
    failed = [c for c in checks if c.required and c.status is not Status.OK]
    if as_json:
        print(json.dumps({"ok": not failed, "checks": [c.as_dict() for c in checks]}, indent=2))
    else:
        marks = {Status.OK: "[green]✓[/]", Status.WARN: "[yellow]![/]", Status.MISSING: "[red]✗[/]"}
        for check in checks:
            ui.out.print(f"{marks[check.status]} {check.name:<14} {check.detail}")
            if check.fix and check.status is not Status.OK:
                ui.out.print(f"  [dim]fix:[/] {check.fix}")
    if failed:
        raise typer.Exit(1)


# ---------------------------------------------------------------- workspace file


@dev.command()
def config(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Print the resolved workspace: defaults filled, paths absolute, secrets masked."""
    from aura_dev.workspace.resolved import resolved_config

    data = resolved_config(load(workspace))
    if as_json:
        print(json.dumps(data, indent=2))
    else:
        import yaml

        sys.stdout.write(yaml.safe_dump(data, sort_keys=False, default_flow_style=False))


@dev.command()
def schema(
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to this file")] = None,
) -> None:
    """Print the JSON Schema of aura.yaml (for editors and CI)."""
    from aura_dev.workspace.resolved import schema_text

    text = schema_text()
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)
        ui.err.print(f"wrote {output}")


# ---------------------------------------------------------------- the stack


ServicesArgument = Annotated[Optional[list[str]], typer.Argument(help="Services (default: all)", show_default=False)]


@dev.command()
def up(
    services: ServicesArgument = None,
    workspace: WorkspaceOption = None,
    detach: Annotated[bool, typer.Option("--detach", "-d", help="Leave a background supervisor running")] = False,
    no_reload: Annotated[bool, typer.Option("--no-reload", help="Do not restart services when their code changes")] = False,
    backend: Annotated[Optional[str], typer.Option("--backend", help="Infra backend: auto, docker or native")] = None,
    quiet_sidecars: Annotated[bool, typer.Option("--quiet-sidecars", help="Hide sidecar info lines")] = False,
    ready_timeout: Annotated[Optional[float], typer.Option("--timeout", help="Seconds a unit may take to be ready")] = None,
) -> None:
    """Start the stack: infra, then each service's sidecar and app, in dependency order."""
    from aura_dev.engine import session as stack
    from aura_dev.engine.orchestrator import UpOptions

    if backend is not None and backend not in ("auto", "docker", "native"):
        raise typer.BadParameter("use auto, docker or native", param_hint="--backend")
    ws = load(workspace)
    options = UpOptions(selected=list(services or []), backend=backend, reload=not no_reload,
                        ready_timeout=ready_timeout)
    if detach:
        raise typer.Exit(stack.run_detached(ws, options))
    raise typer.Exit(stack.run_foreground(ws, options, quiet_sidecars=quiet_sidecars))


@dev.command()
def down(workspace: WorkspaceOption = None) -> None:
    """Stop the running stack (from any terminal); clean up after a killed one."""
    from aura_dev.engine import session as stack

    ws = locate(workspace)
    seconds, cleaned = stack.bring_down(ws)
    if cleaned:
        ui.out.print(f"[yellow]cleaned up leftovers of a supervisor that did not stop:[/] {', '.join(cleaned)}")
    ui.out.print(f"[green]✓[/] {ws.name} stopped in {seconds:.2f} s; nothing left running")


@dev.command()
def status(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Every unit: state, pid, ports, restarts, uptime."""
    from aura_dev.engine import session as stack

    data = stack.status(locate(workspace))
    if as_json:
        print(json.dumps(data, indent=2))
    else:
        stack.print_status(ui.out, data)


def _act(op: str, services: list[str], workspace: Path | None, app_only: bool, sidecar_only: bool) -> None:
    from aura_dev.engine import session as stack

    which = "app" if app_only else "sidecar" if sidecar_only else "all"
    reply = stack.control(locate(workspace), op, services, which)
    states = ", ".join(f"{n} {'ready' if ok else 'not ready'}" for n, ok in reply.get("states", {}).items())
    ui.out.print(f"[green]✓[/] {op} done in {reply.get('seconds', 0):.2f} s" + (f" ({states})" if states and op != "stop" else ""))


RequiredServices = Annotated[list[str], typer.Argument(help="Services to act on")]
AppOnly = Annotated[bool, typer.Option("--app", help="Only the app process (the sidecar keeps running)")]
SidecarOnly = Annotated[bool, typer.Option("--sidecar", help="Only the daprd sidecar")]


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


@dev.command()
def logs(
    services: ServicesArgument = None,
    workspace: WorkspaceOption = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines")] = False,
    tail: Annotated[Optional[int], typer.Option("--tail", "-n", help="Only the last N lines (per filter)")] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="10m, 2h, 1d, 14:05 or an ISO time")] = None,
    source: Annotated[Optional[list[str]], typer.Option("--source", help="app, sidecar or infra (repeatable)")] = None,
    level: Annotated[Optional[str], typer.Option("--level", help="Minimum level: debug, info, warn, error")] = None,
    grep: Annotated[Optional[str], typer.Option("--grep", "-g", help="Only lines whose text matches this regex")] = None,
    ignore_case: Annotated[bool, typer.Option("--ignore-case", "-i", help="Case-insensitive --grep")] = False,
    as_json: JsonOption = False,
    raw: Annotated[bool, typer.Option("--raw", help="Sidecar and infra lines as written, not shortened")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colours")] = False,
) -> None:
    """Read, filter and follow the logs of every unit (works while running and after)."""
    from aura_dev.cli import logs_command as cli_view

    ws = locate(workspace)
    code = cli_view.run(ws, services=list(services or []), follow=follow, tail=tail, since=since,
                        sources=list(source or []), level=level, grep=grep, ignore_case=ignore_case,
                        as_json=as_json, raw=raw, no_color=no_color or ui.colour_disabled())
    raise typer.Exit(code)


# Commands that live beside their feature register themselves here (one module each).
def _register_feature_commands() -> None:
    import importlib

    for module in ("aura_dev.cli.import_command", "aura_dev.cli.scaffold_commands", "aura_dev.cli.kubernetes_commands"):
        try:
            feature = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        feature.register(dev, load)


_register_feature_commands()


def main() -> None:
    try:
        # Standalone mode: click reports usage errors itself (exit 2) and turns typer.Exit
        # into sys.exit; aura's own errors come out here.
        app()
    except AuraError as exc:
        ui.show_error(exc)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
