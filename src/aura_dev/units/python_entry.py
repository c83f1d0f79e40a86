"""Whether an app's command is a Python entry point aura can start from a warm
standby, and its parts — the interpreter (with its flags), and what it runs: a module
(`python -m uvicorn …`), a script (`python app.py …`) or an installed entry-point script
(`uvicorn …`, whose first line names the venv's python)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

PYTHON_NAME = re.compile(r"^python(\d+(\.\d+)?)?$")
# Flags that change nothing about where the entry point's code comes from; with any other
# (-c, -i, -I, -P, -, …) the app simply starts cold, as the user wrote it.
PLAIN_FLAGS = frozenset({"-u", "-B", "-O", "-OO", "-s", "-E", "-b", "-bb", "-q", "-d", "-R"})
FLAGS_WITH_VALUE = frozenset({"-W", "-X"})


class EntryKind(str, Enum):
    MODULE = "module"
    SCRIPT = "script"


@dataclass(frozen=True)
class PythonEntry:
    interpreter: tuple[str, ...]  # argv[0] as written (resolved like the cold start does) and its flags
    kind: EntryKind
    target: str  # the module name, or the script's path
    args: tuple[str, ...]


def python_entry(argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> PythonEntry | None:
    """The entry point of `argv`, or None when it is not one a standby can run."""
    if not argv:
        return None
    command = argv[0]
    if PYTHON_NAME.match(os.path.basename(command)):
        return _interpreter_command(argv)
    script = _located(command, env, cwd)
    if script is None:
        return None
    interpreter = _shebang_python(script)
    if interpreter is None:
        return None
    return PythonEntry((interpreter,), EntryKind.SCRIPT, str(script), tuple(argv[1:]))


def _interpreter_command(argv: Sequence[str]) -> PythonEntry | None:
    flags: list[str] = []
    index = 1
    while index < len(argv):
        arg = argv[index]
        if arg in PLAIN_FLAGS:
            flags.append(arg)
        elif arg in FLAGS_WITH_VALUE and index + 1 < len(argv):
            flags += [arg, argv[index + 1]]
            index += 1
        elif arg[:2] in FLAGS_WITH_VALUE and len(arg) > 2:
            flags.append(arg)
        elif arg == "-m" and index + 1 < len(argv):
            return PythonEntry((argv[0], *flags), EntryKind.MODULE, argv[index + 1], tuple(argv[index + 2:]))
        elif arg.startswith("-m") and len(arg) > 2:
            return PythonEntry((argv[0], *flags), EntryKind.MODULE, arg[2:], tuple(argv[index + 1:]))
        elif arg.startswith("-"):
            return None
        else:
            return PythonEntry((argv[0], *flags), EntryKind.SCRIPT, arg, tuple(argv[index + 1:]))
        index += 1
    return None


def _located(command: str, env: Mapping[str, str], cwd: Path) -> Path | None:
    if "/" in command:
        path = cwd / command
        return path if path.is_file() else None
    found = shutil.which(command, path=env.get("PATH"))
    return Path(found) if found else None


def _shebang_python(script: Path) -> str | None:
    """The python named on an entry-point script's first line (`#!/venv/bin/python3`)."""
    try:
        with script.open("rb") as handle:
            first = handle.readline(512)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    words = first[2:].decode(errors="replace").split()
    if len(words) == 1 and PYTHON_NAME.match(os.path.basename(words[0])):
        return words[0]
    if len(words) == 2 and os.path.basename(words[0]) == "env" and PYTHON_NAME.match(words[1]):
        return words[1]
    return None
