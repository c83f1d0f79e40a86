"""The commands people run all the time, answered without loading typer: `aura --help` (and
every other help screen), `aura --version`, `aura dev up`, `aura dev down`,
`aura dev status`, `aura dev logs`, `aura dev config`.

typer, click and rich take a few hundred milliseconds to import and to build the command
tree; these answers need a fraction of that.  The rule that keeps behaviour identical: the
fast path only takes an argument list it fully understands (the options below, written
the ways click accepts them), and runs the very functions the typer commands run.
Anything else — an unknown option, a bad value, shell completion — goes to typer, which
answers or reports it as always.  Help screens are typer's own output, remembered
(`cli/memo`) the first time they are shown for this terminal and these definitions.
`tests/unit/test_fast_cli.py` checks the tables against the typer commands.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable


class Option:
    """One option of a command, as click reads it.  (A plain class: importing dataclasses
    costs more than this whole module.)"""

    __slots__ = ("names", "dest", "kind", "multiple")

    def __init__(self, names: tuple[str, ...], dest: str, kind: type | None = None, multiple: bool = False) -> None:
        self.names = names
        self.dest = dest
        self.kind = kind  # None: a flag; else the value's type
        self.multiple = multiple


WORKSPACE = Option(("--workspace", "-w"), "workspace", Path)
AS_JSON = Option(("--json",), "as_json")

# command -> (its options, whether it takes positional arguments)
COMMANDS: dict[str, tuple[tuple[Option, ...], bool]] = {
    "status": ((WORKSPACE, AS_JSON), False),
    "config": ((WORKSPACE, AS_JSON), False),
    "logs": ((WORKSPACE, Option(("--follow", "-f"), "follow"), Option(("--tail", "-n"), "tail", int),
              Option(("--since",), "since", str), Option(("--source",), "source", str, multiple=True),
              Option(("--level",), "level", str), Option(("--grep", "-g"), "grep", str),
              Option(("--ignore-case", "-i"), "ignore_case"), AS_JSON, Option(("--raw",), "raw"),
              Option(("--no-color",), "no_color"), Option(("--trace",), "trace", str)), True),
    "up": ((WORKSPACE, Option(("--detach", "-d"), "detach"), Option(("--no-reload",), "no_reload"),
            Option(("--backend",), "backend", str), Option(("--verbose", "-v"), "verbose"),
            Option(("--quiet-sidecars",), "quiet_sidecars"), Option(("--tui",), "tui"),
            Option(("--timeout",), "ready_timeout", float), Option(("--timings",), "timings")), True),
    "down": ((WORKSPACE, Option(("--wipe",), "wipe"), Option(("--yes", "-y"), "yes"), Option(("--all",), "everything")),
             False),
}
# What the terminal and these variables change in a help screen (typer's rich help).
HELP_ENVIRONMENT = ("COLUMNS", "LINES", "TERMINAL_WIDTH", "NO_COLOR", "FORCE_COLOR", "PY_COLORS", "TERM",
                    "COLORTERM", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "TYPER_USE_RICH", "_TYPER_FORCE_DISABLE_TERMINAL",
                    "GITHUB_ACTIONS", "DATABRICKS_RUNTIME_VERSION", "JUPYTER_COLUMNS", "JUPYTER_LINES", "LANG",
                    "LC_ALL", "LC_CTYPE", "PYTHONIOENCODING")


def answer(argv: list[str]) -> int | None:
    """The exit code, if the fast path answered; None: let typer do it."""
    if any(name.startswith(("_AURA_COMPLETE", "_TYPER_COMPLETE")) for name in os.environ):
        return None
    if argv == ["--version"]:
        from aura_dev import __version__

        print(f"aura {__version__}")
        return 0
    if argv in ([], ["dev"]) or (argv[-1] == "--help" and not any(a.startswith("-") for a in argv[:-1])):
        return _help(argv)
    no_color = False
    while argv[:1] == ["--no-color"]:  # the root option, before the command group
        argv, no_color = argv[1:], True
    if len(argv) < 2 or argv[0] != "dev" or argv[1] not in COMMANDS:
        return None
    options, positional = COMMANDS[argv[1]]
    parsed = parse(argv[2:], options, positional)
    if parsed is None:
        return None
    values, arguments = parsed
    if not ANSWERS.get(argv[1], _always)(values):
        return None
    if no_color:
        from aura_dev.cli import console

        console.disable_color()
    return _run(lambda: RUNNERS[argv[1]](values, arguments))


def parse(args: list[str], options: tuple[Option, ...], positional: bool) -> tuple[dict[str, Any], list[str]] | None:
    """Option values and positional arguments as click would read them; None for anything
    this parser does not handle (typer then answers, errors included)."""
    by_name = {name: option for option in options for name in option.names}
    values: dict[str, Any] = {o.dest: [] if o.multiple else (None if o.kind else False) for o in options}
    arguments: list[str] = []
    index = 0
    while index < len(args):
        token = args[index]
        index += 1
        if not token.startswith("-") or token == "-":
            if not positional:
                return None
            arguments.append(token)
            continue
        name, attached = token, None
        if token.startswith("--") and "=" in token:
            name, attached = token.split("=", 1)
        elif not token.startswith("--") and len(token) > 2:
            name, attached = token[:2], token[2:]  # -n20
        option = by_name.get(name)
        if option is None:
            return None
        if option.kind is None:
            if attached is not None:
                return None  # -fi, --json=x: typer's business
            values[option.dest] = True
            continue
        if attached is None:
            if index >= len(args):
                return None
            attached = args[index]
            index += 1
        if attached == "" or attached.startswith("-"):
            return None
        try:
            value = option.kind(attached)
        except ValueError:
            return None
        if option.multiple:
            values[option.dest].append(value)
        else:
            values[option.dest] = value
    return values, arguments


def _status(values: dict[str, Any], _arguments: list[str]) -> int:
    from aura_dev.cli.status_view import show_status

    show_status(values["workspace"], values["as_json"])
    return 0


def _config(values: dict[str, Any], _arguments: list[str]) -> int:
    from aura_dev.cli.config_view import show_config

    show_config(values["workspace"], values["as_json"])
    return 0


def _logs(values: dict[str, Any], arguments: list[str]) -> int:
    from aura_dev.cli import console as ui
    from aura_dev.cli.logs_view import run
    from aura_dev.workspace.locate import locate

    return run(locate(values["workspace"]), services=arguments, follow=values["follow"], tail=values["tail"],
               since=values["since"], sources=values["source"], level=values["level"], grep=values["grep"],
               ignore_case=values["ignore_case"], as_json=values["as_json"], raw=values["raw"],
               no_color=values["no_color"] or ui.colour_disabled(), trace=values["trace"])


def _up(values: dict[str, Any], arguments: list[str]) -> int:
    from aura_dev.cli.stack_start import start_stack

    return start_stack(arguments, values["workspace"], detach=values["detach"], reload=not values["no_reload"],
                       backend=values["backend"], verbose=values["verbose"], tui=values["tui"],
                       ready_timeout=values["ready_timeout"], timings=values["timings"])


def _down(values: dict[str, Any], _arguments: list[str]) -> int:
    from aura_dev.cli.stack_start import stop_stack

    stop_stack(values["workspace"], everything=values["everything"])
    return 0


def _always(_values: dict[str, Any]) -> bool:
    return True


def _up_checked(values: dict[str, Any]) -> bool:
    from aura_dev.cli.stack_start import valid_backend, valid_flags, valid_timeout

    return valid_backend(values["backend"]) and valid_timeout(values["ready_timeout"]) and valid_flags(
        detach=values["detach"], verbose=values["verbose"], quiet_sidecars=values["quiet_sidecars"], tui=values["tui"])


RUNNERS: dict[str, Callable[[dict[str, Any], list[str]], int]] = {"status": _status, "config": _config,
                                                                   "logs": _logs, "up": _up, "down": _down}
# Which parsed values the fast path answers itself; the rest (bad values with typer's own
# message, `down --wipe` with its confirmation) go to typer.
ANSWERS: dict[str, Callable[[dict[str, Any]], bool]] = {"up": _up_checked, "down": lambda values: not values["wipe"]}


def _run(command: Callable[[], int]) -> int:
    """Run a command as `cli.app.main` and click's standalone mode would: aura's errors
    shown with their exit code, Ctrl-C as click reports it."""
    from aura_dev.errors import AuraError

    try:
        return command()
    except AuraError as exc:
        from aura_dev.cli import console as ui

        ui.show_error(exc)
        return exc.exit_code
    except OSError as exc:  # as `cli.app.main`: a message, not a traceback
        from aura_dev.cli import console as ui
        from aura_dev.errors import from_os_error

        error = from_os_error(exc)
        ui.show_error(error)
        return error.exit_code
    except KeyboardInterrupt:
        print("\nAborted!", file=sys.stderr)
        return 1


def _help(argv: list[str]) -> int | None:
    """typer's help screen for `argv`: remembered, or shown by typer and remembered."""
    from aura_dev.cli import memo

    streams = []
    for stream in (sys.stdout, sys.stderr):
        if str(getattr(stream, "encoding", "")).lower().replace("-", "") != "utf8":
            return None  # click re-wraps such a stream: not something to capture
        tty = stream.isatty()
        try:
            size = os.get_terminal_size(stream.fileno()) if tty else None
        except (OSError, ValueError):
            size = None
        streams.append(f"{tty}:{size}:{getattr(stream, 'encoding', None)}")
    environment = [f"{name}={os.environ.get(name)}" for name in HELP_ENVIRONMENT]
    answer_key = memo.key("help", memo.sources(libraries=("typer", "click", "rich")), "\0".join(argv),
                          os.path.basename(sys.argv[0]), *streams, *environment)
    remembered = memo.recall(answer_key)
    if remembered is not None:
        return memo.replay(remembered)
    from aura_dev.cli.app import app

    code = 0
    with memo.captured() as (out, err):
        try:
            app()  # reads sys.argv as the slow path does: the same program name, the same output
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    memo.remember(answer_key, memo.Answer(stdout="".join(out.parts), stderr="".join(err.parts), code=code))
    return code
