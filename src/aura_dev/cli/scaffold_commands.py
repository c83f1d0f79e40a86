"""`aura dev new service|component`: flags in, scaffold out (logic in `scaffold`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from aura_dev.cli import console as ui
from aura_dev.cli.console import escape
from aura_dev.errors import AuraError, WorkspaceNotFound

if TYPE_CHECKING:
    from aura_dev.scaffold.service import ServiceCreated
    from aura_dev.workspace.load import Workspace

WorkspaceOption = Annotated[
    Optional[Path],
    typer.Option("--workspace", "-w", help="aura.yaml or its folder (default: found upwards; $AURA_WORKSPACE)",
                 show_default=False),
]


def register(dev: typer.Typer, load: Callable[[Path | None], Workspace]) -> None:
    """Add `aura dev new …` to the `dev` group; `load` finds and validates the workspace."""
    new = typer.Typer(no_args_is_help=True, help="Create a Dapr service or component in the workspace.")
    dev.add_typer(new, name="new")

    @new.command("service")
    def service(
        name: Annotated[str, typer.Argument(help="Service name, also its Dapr app id (lowercase, digits, '-')")],
        lang: Annotated[str, typer.Option("--lang", "-l", help="python (FastAPI) or node (Express)")] = "python",
        port: Annotated[Optional[int], typer.Option("--port", min=1, max=65535,
                                                    help="Fixed app port (default: aura picks one)")] = None,
        path: Annotated[Optional[str], typer.Option("--path", help="Folder, relative to the workspace "
                                                    "(default: services/NAME)")] = None,
        depends_on: Annotated[Optional[list[str]], typer.Option(
            "--depends-on", help="A service to start first (repeat, or comma-separated)")] = None,
        install: Annotated[bool, typer.Option("--install/--no-install",
                                              help="Install the service's npm dependencies (node)")] = True,
        workspace: WorkspaceOption = None,
    ) -> None:
        """A new service from a template, registered in aura.yaml: `aura dev up` runs it with its sidecar."""
        from aura_dev.scaffold import service as scaffold
        from aura_dev.workspace.locate import STATE_DIR
        from aura_dev.workspace.resolved import ensure_schema_file

        target: Workspace | Path
        try:
            target = load(workspace)
        except WorkspaceNotFound:
            fresh = scaffold.workspace_file_to_create(workspace)
            if fresh is None:
                raise
            target = fresh
        deps = tuple(d.strip() for item in depends_on or [] for d in item.split(",") if d.strip())
        request = scaffold.NewService(name, lang.lower(), port, path, deps)
        created = scaffold.new_service(request, target)
        ensure_schema_file(created.workspace_file.parent / STATE_DIR)  # what the new file's $schema names
        _report_service(created)
        if install and created.language.install:
            ui.out.print(f"  installing dependencies: {' '.join(created.language.install)} …")
            problem = scaffold.install_dependencies(created)
            if problem:
                raise AuraError(f"{name} was created, but its dependencies were not installed: {problem}",
                                hint=f"run {created.language.setup_hint.format(path=created.relative_path)}")
        _report_next(created, installed=install)

    @new.command("component")
    def component(
        kind: Annotated[str, typer.Argument(help="statestore or pubsub (Redis, like aura's defaults)")],
        name: Annotated[Optional[str], typer.Option("--name", "-n", help="Component name (default: the kind)")] = None,
        workspace: WorkspaceOption = None,
    ) -> None:
        """A Dapr component for the workspace's Redis, in its resources folder."""
        from aura_dev.scaffold.components import COMPONENTS_FOLDER, new_component
        from aura_dev.workspace.resolved import ensure_schema_file

        ws = load(workspace)
        created = new_component(ws, kind.lower(), name)
        ensure_schema_file(ws.state_dir)
        shown = _relative(created.file, ws.root)
        ui.out.print(f"[green]✓[/] wrote {escape(shown)}: {created.kind} '{created.name}' on the workspace's Redis")
        if created.adopted_folder:
            others = ", ".join(_relative(p, ws.root) for p in created.written if p != created.file)
            ui.out.print(escape(f"  aura.yaml now has dapr.resources: [{COMPONENTS_FOLDER}]. aura uses that folder "
                                "from now on instead of generating its default statestore and pubsub, so it holds "
                                f"those too: {others}"))
        if created.actor_store_elsewhere is not None:
            ui.out.print(escape(f"  no actorStateStore: {_relative(created.actor_store_elsewhere, ws.root)} is the "
                                "actor state store (daprd takes only one)"))
        ui.out.print(escape(_running_hint(ws.root) or "  sidecars load it at the next `aura dev up`"))


def _report_service(created: ServiceCreated) -> None:
    root = created.workspace_file.parent
    if created.created_workspace:
        ui.out.print(f"[green]✓[/] started a workspace: {escape(str(created.workspace_file))}")
    ui.out.print(f"[green]✓[/] created service {created.name} ({created.language.name}) "
                 f"in {escape(created.relative_path)}/")
    ui.out.print(escape(f"  files: {', '.join(created.files)}"))
    ui.out.print(escape(f"  {_relative(created.workspace_file, root)}: added services.{created.name}"))


def _report_next(created: ServiceCreated, *, installed: bool) -> None:
    root = created.workspace_file.parent
    steps = []
    if created.language.install is None or not installed:
        steps.append(created.language.setup_hint.format(path=created.relative_path))
    running = _running_hint(root)
    if not running:
        steps.append("aura dev up")
    if steps:
        ui.out.print(escape("next: " + "; ".join(steps)))
    if running:
        ui.out.print(escape(running))
    ui.out.print(f"  through any sidecar: /v1.0/invoke/{created.name}/method/healthz (ports: aura dev status)")


def _running_hint(root: Path) -> str | None:
    """What to do about a stack that runs this workspace now, if one does."""
    from aura_dev.engine import runstate
    from aura_dev.workspace.locate import STATE_DIR

    if not runstate.supervisor_running(root / STATE_DIR):
        return None
    return ("  the workspace is running: a stack that reloads picks the change up; one started with "
            "--no-reload needs `aura dev down && aura dev up`")


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
