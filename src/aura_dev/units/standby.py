"""A warm standby of a Python app: an interpreter started with the app's own command, env
and folder, that has imported the third-party and standard-library modules the last run
used, and waits.  On "go" it runs the entry point; until then its output is held back.

Whether it may still serve is checked just before it is used (`unusable`): anything it
preloaded that may have changed since — a module's file, an installed package, a
requirements or lock file, the interpreter, the command or env, a module of the service
folder that now shadows a preloaded one — makes the reload a plain cold start.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from aura_dev.logs.record import LogChunk, UnitRef
from aura_dev.units.base import UnitIdentity
from aura_dev.units.process import OutputSink, ProcessUnit
from aura_dev.units.python_entry import PythonEntry
from aura_dev.units.standby_boot import FAILED_MARKER, LISTENING_MARKER, READY_MARKER

BOOT = Path(__file__).with_name("standby_boot.py")
LISTENING_LINE = (LISTENING_MARKER + "\n").encode()
DEPENDENCY_FILES = ("requirements*.txt", "constraints*.txt", "pyproject.toml", "setup.py", "setup.cfg",
                    "Pipfile", "Pipfile.lock", "*.lock")
TIMED_OUT = "its standby timed out"
HELD_LINES = 40  # of a standby's own output before "go": shown if it fails, replayed when it runs


@dataclass(frozen=True)
class StandbyFiles:
    record: Path  # modules of the last run (written by the app's run)
    manifest: Path  # modules the standby loaded (written by the standby)


def boot_argv(entry: PythonEntry, mode: str, files: StandbyFiles, service_dir: Path) -> list[str]:
    """The app's entry point run through aura's bootstrap (`run`: now; `standby`: on "go")."""
    return [*entry.interpreter, str(BOOT), mode, str(files.record), str(files.manifest), str(service_dir),
            entry.kind.value, entry.target, *entry.args]


class HeldOutput:
    """A standby's sink: before "go" its lines are held (and scanned for the bootstrap's
    markers); from "go" on, everything goes to the unit's stream like a cold start's."""

    def __init__(self, sink: OutputSink) -> None:
        self.sink = sink
        self.held: collections.deque[LogChunk] = collections.deque(maxlen=HELD_LINES)
        self.is_open = False
        self.listening = False  # the app it runs has taken its port
        self.ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()  # "" or why it failed

    def __call__(self, chunk: LogChunk) -> None:
        if self.is_open:
            if not self.listening and LISTENING_LINE in chunk.data:
                self.listening = True
                rest = chunk.data.replace(LISTENING_LINE, b"", 1)
                if rest:
                    self.sink(LogChunk(chunk.unit, chunk.stream, chunk.ts, rest))
                return
            self.sink(chunk)
            return
        for line in chunk.data.decode(errors="replace").splitlines():
            if line.startswith(READY_MARKER) and not self.ready.done():
                self.ready.set_result("")
            elif line.startswith(FAILED_MARKER) and not self.ready.done():
                self.ready.set_result(line[len(FAILED_MARKER):])
            else:
                self.held.append(LogChunk(chunk.unit, chunk.stream, chunk.ts, (line + "\n").encode()))

    def lines(self) -> list[str]:
        return [c.data.decode(errors="replace").rstrip("\n") for c in self.held]

    def open(self) -> None:
        self.is_open = True
        for chunk in self.held:  # what the imports printed (warnings): a cold start shows it too
            self.sink(chunk)
        self.held.clear()


def _mtime(path: str | Path) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def dependency_files(service_dir: Path) -> dict[str, int | None]:
    found: dict[str, int | None] = {}
    for pattern in DEPENDENCY_FILES:
        for path in service_dir.glob(pattern):
            found[str(path)] = _mtime(path)
    return found


def interpreter_of(entry: PythonEntry, env: Mapping[str, str], cwd: Path) -> tuple[str, int | None]:
    """The interpreter the command runs, resolved as a spawn would, and its file's mtime."""
    command = entry.interpreter[0]
    found = str(cwd / command) if "/" in command else shutil.which(command, path=env.get("PATH"))
    real = os.path.realpath(found) if found else command
    return real, _mtime(real)


def shadowing(names: set[str], folders: Sequence[Path]) -> list[str]:
    """Preloaded top-level modules that a file or folder of the service would now shadow."""
    local: set[str] = set()
    for folder in folders:
        try:
            local.update(entry.split(".", 1)[0] for entry in os.listdir(folder))
        except OSError:
            continue
    return sorted(names & local)


class Standby:
    """One standby process of one service, from spawn to being used or thrown away."""

    def __init__(self, ref: UnitRef, entry: PythonEntry, *, argv: Sequence[str], env: Mapping[str, str],
                 cwd: Path, service_dir: Path, files: StandbyFiles, sink: OutputSink, mode: str = "standby") -> None:
        self.entry = entry
        self.made_for = (tuple(argv), dict(env), cwd)
        self.service_dir = service_dir
        self.files = files
        self.output = HeldOutput(sink)
        self.mode = mode  # "standby": for a reload, imports at low priority; "preboot": for a held start
        self.process = ProcessUnit(ref, boot_argv(entry, mode, files, service_dir), env=env, cwd=cwd,
                                   sink=self.output, stdin_pipe=True)
        self.dependencies = dependency_files(service_dir)
        self.interpreter = interpreter_of(entry, env, cwd)
        self.mtimes: dict[str, int | None] = {}
        self.top_level: set[str] = set()
        self.failed_imports: list[str] = []
        self.is_ready = False
        self.exited: asyncio.Future[int] | None = None

    async def prepare(self, timeout: float) -> str | None:
        """Spawn it and wait until it has preloaded: None, or why it cannot serve."""
        before = {path: _mtime(path) for path in self._files_in(self.files.record)}
        await self.process.start()
        self.exited = exited = asyncio.ensure_future(self.process.wait())
        waiters: list[asyncio.Future[object]] = [exited, self.output.ready]  # type: ignore[list-item]
        done, _ = await asyncio.wait(waiters, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if not self.output.ready.done():
            exited.cancel()
            await self.process.stop(1.0)
            tail = "\n    ".join(self.output.lines()[-15:])
            return TIMED_OUT if not done else f"its standby exited at boot:\n    {tail}"
        refusal = self.output.ready.result()
        if refusal:
            exited.cancel()
            await self.process.stop(1.0)
            return refusal
        self._load_manifest(before)
        self.is_ready = True
        return None

    @staticmethod
    def _files_in(path: Path) -> list[str]:
        try:
            modules = json.loads(path.read_text()).get("modules", [])
            return [file for _name, file in modules if file]
        except (OSError, ValueError, TypeError, AttributeError):
            return []

    def _load_manifest(self, before: dict[str, int | None]) -> None:
        try:
            data = json.loads(self.files.manifest.read_text())
            modules = [(str(name), str(file)) for name, file in data.get("modules", [])]
            self.failed_imports = [str(name) for name in data.get("failed", [])]
        except (OSError, ValueError, TypeError, AttributeError):
            modules = []
        self.top_level = {name for name, _file in modules if "." not in name}
        # Files as they were before the standby read them (a save during its imports shows
        # as a change); the folders packages are installed in (an install or removal).
        for _name, file in modules:
            if file:
                self.mtimes[file] = before[file] if file in before else _mtime(file)
        for name, file in modules:
            if file and "." not in name:
                root = os.path.dirname(os.path.dirname(file) if file.endswith("__init__.py") else file)
                self.mtimes.setdefault(root, _mtime(root))

    def unusable(self, argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> str | None:
        """Why this standby must not run the app now (None: it may)."""
        if self.exited is not None and self.exited.done():
            return "its standby exited"
        if not self.is_ready:
            return "its standby is not ready yet"
        if (tuple(argv), dict(env), cwd) != self.made_for:
            return "its command or environment changed"
        if interpreter_of(self.entry, env, cwd) != self.interpreter:
            return "its Python interpreter changed"
        if dependency_files(self.service_dir) != self.dependencies:
            return "a requirements, pyproject or lock file changed"
        changed = [path for path, mtime in self.mtimes.items() if _mtime(path) != mtime]
        if changed:
            return f"{changed[0]} changed" + (f" (and {len(changed) - 1} more)" if len(changed) > 1 else "")
        folders = [self.service_dir, cwd] + ([Path(self.entry.target).parent] if self.entry.kind.value == "script"
                                             else [])
        shadowed = shadowing(self.top_level, [cwd / f for f in folders])
        if shadowed:
            return f"{shadowed[0]} in the service folder now shadows the preloaded module"
        return None

    def unit(self, bind_wait: float) -> StandbyUnit:
        return StandbyUnit(self, bind_wait)

    async def discard(self) -> None:
        await self.process.stop(1.0)


class StandbyUnit:
    """The app's unit, served by a standby: "start" is the word to go."""

    def __init__(self, standby: Standby, bind_wait: float) -> None:
        self.standby = standby
        self.process = standby.process
        self.unit = standby.process.unit
        self.bind_wait = bind_wait

    @property
    def running(self) -> bool:
        return self.process.running

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def listening(self) -> bool:
        """The app listens: the process it replaces no longer does (it could not bind else)."""
        return self.standby.output.listening

    async def start(self) -> None:
        self.standby.output.open()
        if not self.process.send(f"go {self.bind_wait:g}\n".encode()):
            raise OSError("its standby exited before it could start the app")

    async def wait(self) -> int:
        assert self.standby.exited is not None, "not prepared"
        return await asyncio.shield(self.standby.exited)

    async def stop(self, grace: float = 5.0) -> int | None:
        return await self.process.stop(grace)

    def identity(self) -> UnitIdentity:
        return self.process.identity()
