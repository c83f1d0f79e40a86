"""`aura dev init` and `aura dev doctor`: the Dapr runtime on this machine, and whether
the machine can run a stack."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

import typer

from aura_dev.cli import console as ui
from aura_dev.cli.options import JsonOption


def _fetch_zipkin() -> Path | str:
    """The Zipkin jar, fetched if missing; or why not (a warning: the stack runs without it)."""
    from aura_dev.errors import AuraError
    from aura_dev.runtime.zipkin import fetch_jar, installed_jar

    if installed_jar() is None:
        ui.err.print("fetching the Zipkin server (135 MB, once) from Maven Central …")
    try:
        return fetch_jar()
    except AuraError as exc:
        return f"{exc.message}" + (f" ({exc.hint})" if exc.hint else "")


def register(dev: typer.Typer, load: Callable[..., object]) -> None:
    """Add `init` and `doctor` (neither reads a workspace: `load` is unused)."""

    @dev.command()
    def init(
        runtime_version: Annotated[Optional[str], typer.Option("--runtime-version", help="Dapr version to install")] = None,
        from_source: Annotated[bool, typer.Option("--from-source",
                                                  help="Build with the local go from the module proxy")] = False,
        force: Annotated[bool, typer.Option("--force", help="Reinstall even if present")] = False,
        as_json: JsonOption = False,
    ) -> None:
        """Install the Dapr runtime (daprd, placement, scheduler) for aura."""
        from aura_dev.runtime import binary_version
        from aura_dev.runtime.install import install_runtime
        from aura_dev.versions import DEFAULT_RUNTIME_VERSION

        version = runtime_version or DEFAULT_RUNTIME_VERSION
        report = install_runtime(version, from_source=from_source, force=force, console=ui.err)
        install = report.install
        zipkin = _fetch_zipkin()
        versions = {name: (binary_version(install.binary(name)) if name == "daprd" else "n/a")
                    for name in ("daprd", "placement", "scheduler")}
        if as_json:
            print(json.dumps({
                "version": install.version, "binDir": str(install.bin_dir), "source": install.source,
                "alreadyInstalled": report.already_installed, "seconds": round(report.seconds, 1),
                "binaries": {name: str(install.binary(name)) for name in versions}, "attempts": report.attempts,
                "zipkin": {"jar": str(zipkin) if isinstance(zipkin, Path) else None,
                           "error": zipkin if isinstance(zipkin, str) else None},
            }, indent=2))
            return
        state = "already installed" if report.already_installed else f"installed in {report.seconds:.0f} s"
        ui.out.print(f"[green]✓[/] Dapr runtime {install.version} {state} ({install.source})")
        for name in ("daprd", "placement", "scheduler"):
            size = install.binary(name).stat().st_size / 1e6
            extra = f" version {versions[name]}" if name == "daprd" else ""
            ui.out.print(f"  {name:<10} {install.binary(name)}  [dim]{size:.0f} MB{extra}[/]")
        if isinstance(zipkin, Path):
            ui.out.print(f"  {'zipkin':<10} {zipkin}  [dim]{zipkin.stat().st_size / 1e6:.0f} MB[/]")
        else:
            ui.out.print(f"[yellow]![/] no Zipkin server (traces stay off): {zipkin}")

    @dev.command()
    def doctor(
        runtime_version: Annotated[Optional[str], typer.Option("--runtime-version")] = None,
        as_json: JsonOption = False,
    ) -> None:
        """Check this machine: runtime, Docker, redis-server, go, default ports."""
        from aura_dev.cli.doctor import Status, run_checks
        from aura_dev.versions import DEFAULT_RUNTIME_VERSION

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
