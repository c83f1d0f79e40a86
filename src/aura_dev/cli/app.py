"""The `aura` command: the typer application and its error handling.  Each group of
commands lives in its own module and registers itself here.

Exit codes: 0 success; 1 a runtime failure; 2 bad input (nothing was started).
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated

import typer

from aura_dev import __version__
from aura_dev.cli import console as ui
from aura_dev.cli.options import load
from aura_dev.errors import AuraError, from_os_error

app = typer.Typer(no_args_is_help=True, add_completion=True, help="aura: the Aura platform's local Dapr environment.")
dev = typer.Typer(no_args_is_help=True, help="Run, watch and inspect the workspace's Dapr stack.")
app.add_typer(dev, name="dev")

COMMAND_MODULES = (
    "aura_dev.cli.runtime_commands",  # init, doctor
    "aura_dev.cli.workspace_commands",  # config, schema
    "aura_dev.cli.stack_commands",  # up, down, status, restart, stop, start
    "aura_dev.cli.logs_command",  # logs
    "aura_dev.cli.traces_command",  # traces
    "aura_dev.cli.top_command",  # top
    "aura_dev.cli.dashboard_command",  # dashboard
    "aura_dev.cli.tui_command",  # tui
    "aura_dev.cli.import_command",  # import
    "aura_dev.cli.scaffold_commands",  # new
    "aura_dev.cli.kubernetes_commands",  # export, deploy
)


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


for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(dev, load)


def main() -> None:
    try:
        # Standalone mode: click reports usage errors itself (exit 2) and turns typer.Exit
        # into sys.exit; aura's own errors come out here.
        app()
    except AuraError as exc:
        ui.show_error(exc)
        sys.exit(exc.exit_code)
    except OSError as exc:  # a read or write the command did not expect to fail: a message, not a traceback
        error = from_os_error(exc)
        ui.show_error(error)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
