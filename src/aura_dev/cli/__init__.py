"""The `aura` command: typer commands, consoles, progress views and doctor.  Parses flags,
calls into the engine and the other packages, maps errors to exit codes."""

from __future__ import annotations

import sys


def main() -> None:
    # The commands people run all the time answer without typer (`cli/fast.py`); the rest
    # go to the typer application, imported only then.
    from aura_dev.cli.fast import answer

    code = answer(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from aura_dev.cli.app import main as run

    run()
