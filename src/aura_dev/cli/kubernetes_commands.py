"""`aura dev export kubernetes` and `aura dev deploy`: flags in, tables and warnings out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from aura_dev.cli import console as ui
from aura_dev.cli.console import escape

if TYPE_CHECKING:
    from aura_dev.interop.kubernetes.deploy import DeployReport
    from aura_dev.workspace.load import Workspace

WorkspaceOption = Annotated[
    Optional[Path],
    typer.Option("--workspace", "-w", help="aura.yaml or its folder (default: found upwards; $AURA_WORKSPACE)",
                 show_default=False),
]
ACTION_STYLE = {"created": "green", "changed": "yellow", "deleted": "red", "unchanged": "dim"}


def register(dev: typer.Typer, load: Callable[[Path | None], Workspace]) -> None:
    export = _export_group(dev)

    @export.command("kubernetes")
    def export_kubernetes(
        workspace: WorkspaceOption = None,
        output: Annotated[Optional[Path], typer.Option(
            "--output", "-o", help="Folder to write (default: kubernetes/ beside aura.yaml); replaced whole",
            show_default=False)] = None,
    ) -> None:
        """Write the workspace as a kustomize-ready folder of Kubernetes manifests for a Dapr cluster."""
        from aura_dev.interop.kubernetes.export import export_workspace, write_folder

        ws = load(workspace)
        result = export_workspace(ws)
        folder = (output or ws.root / "kubernetes").absolute()
        write_folder(result, folder)
        _warn(result.warnings)
        ui.out.print(f"[green]✓[/] wrote {len(result.files)} files for {len(ws.services)} services to "
                     f"{escape(str(folder))} (namespace {result.namespace})")
        ui.out.print(f"  apply with [bold]aura dev deploy[/] or [bold]kubectl apply -k {escape(str(folder))}[/]")

    @dev.command("deploy")
    def deploy_command(
        workspace: WorkspaceOption = None,
        context: Annotated[Optional[str], typer.Option(
            "--context", help="kubeconfig context (default: the current one)", show_default=False)] = None,
        namespace: Annotated[Optional[str], typer.Option(
            "--namespace", "-n", help="Namespace (default: kubernetes.namespace, else the workspace name)",
            show_default=False)] = None,
        dry_run: Annotated[bool, typer.Option(
            "--dry-run", help="Let the server validate everything; change nothing")] = False,
        diff: Annotated[bool, typer.Option("--diff", help="Show what would change; change nothing")] = False,
        prune: Annotated[bool, typer.Option(
            "--prune", help="Delete the workspace's objects that aura.yaml no longer lists")] = False,
    ) -> None:
        """Apply the workspace to the cluster of your kubeconfig (server-side apply, field manager aura)."""
        from aura_dev.interop.kubernetes.deploy import deploy

        ws = load(workspace)
        report = deploy(ws, context=context, namespace=namespace, dry_run=dry_run, diff=diff, prune=prune)
        _warn(report.warnings)
        _print_report(report, show_diff=diff)


def _export_group(dev: typer.Typer) -> typer.Typer:
    """The `export` sub-group, shared with other formats that may have registered it first."""
    for group in dev.registered_groups:
        if group.name == "export" and group.typer_instance is not None:
            return group.typer_instance
    export = typer.Typer(no_args_is_help=True, help="Write the workspace in another tool's format.")
    dev.add_typer(export, name="export")
    return export


def _warn(warnings: tuple[str, ...]) -> None:
    for warning in warnings:
        ui.err.print(f"[yellow]warning:[/] {escape(warning)}")


def _print_report(report: DeployReport, *, show_diff: bool) -> None:
    from rich.table import Table

    from aura_dev.interop.kubernetes.deploy import Action

    would = "would be " if report.dry_run else ""
    table = Table(box=None, padding=(0, 2), header_style="dim")
    for column in ("result", "kind", "name", "file"):
        table.add_column(column)
    for result in report.results:
        style = ACTION_STYLE[result.action.value]
        label = f"{would}{result.action.value}"
        mark = "" if result.checked else " *"
        table.add_row(f"[{style}]{label}[/]{mark}", result.kind, result.name, escape(result.file or "-"))
    ui.out.print(f"[bold]{report.namespace}[/] on {escape(report.context)} ({escape(report.server)})")
    ui.out.print(table)
    if not all(result.checked for result in report.results):
        ui.out.print(f"[dim]* not checked by the server: namespace {report.namespace} does not exist yet "
                     "(a deploy creates it first, then validates everything before writing)[/]")
    if show_diff:
        for result in report.results:
            if result.diff:
                ui.out.print(result.diff, markup=False, highlight=False, end="")
    counts = ", ".join(f"{report.count(action)} {would}{action.value}" for action in Action
                       if report.count(action) or action is not Action.DELETED)
    if report.dry_run:
        ui.out.print(f"[green]✓[/] server-side dry run: {counts}; nothing was changed")
    else:
        ui.out.print(f"[green]✓[/] deployed: {counts}")
    if report.missing_secrets:
        ui.err.print("[yellow]warning:[/] Secrets the pods need are missing in namespace "
                     f"{report.namespace}: {escape('; '.join(report.missing_secrets))}")
