"""The `aura` command: typer commands, consoles, progress views and doctor.  Parses flags,
calls into the engine and the other packages, maps errors to exit codes."""

from __future__ import annotations


def main() -> None:
    # Imported on call: `aura_dev.cli` is the console-script entry point, and the commands
    # module pulls in typer.
    from aura_dev.cli.app import main as run

    run()
