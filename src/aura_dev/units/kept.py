"""An infra process that outlives its supervisor (`infra.keep`): spawned in a session of its
own with no parent-death signal, its output written to files (a pipe to a supervisor that
has gone would kill a Go program with SIGPIPE at its next write), and those files followed
into the supervisor's log stream.  A later supervisor adopts it by pid + create time.

Its exit is seen through a pidfd (Linux; polled elsewhere), which also works for a process
that is not our child; only a child's exit code can be read.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import psutil

from aura_dev.logs.record import Stream, UnitRef
from aura_dev.logs.splitter import LineSplitter
from aura_dev.units.base import EXIT_CODE_UNKNOWN, UnitIdentity
from aura_dev.units.process import OutputSink, ProcessIdentity, signal_group

FOLLOW_FAST_SECONDS = 0.02  # poll interval right after output arrived
FOLLOW_IDLE_SECONDS = 0.25  # ... backing off to this while the files stay quiet
PARTIAL_FLUSH_SECONDS = 0.5
EXIT_POLL_SECONDS = 0.2  # where there is no pidfd (not Linux): the exit is polled
MAX_KEPT_LOG_BYTES = 8 << 20  # an adopted unit's file above this starts again empty


def output_paths(out_dir: Path, label: str) -> tuple[Path, Path]:
    """Where a kept unit's stdout and stderr go."""
    return out_dir / f"{label}.out.log", out_dir / f"{label}.err.log"


class FileFollower:
    """Reads what a process appends to a file and hands it on as lines, like a pipe would."""

    def __init__(self, path: Path, splitter: LineSplitter, *, from_end: bool) -> None:
        self.path = path
        self.splitter = splitter
        self.offset = path.stat().st_size if from_end and path.exists() else 0
        self._partial_since: float | None = None

    def read(self) -> bool:
        """Hand on what was appended since the last read; True if anything was."""
        try:
            with open(self.path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size < self.offset:  # truncated (a fresh start of the unit): from the top
                    self.splitter.flush()
                    self.offset, self._partial_since = 0, None
                if size == self.offset:
                    self._flush_stale_partial()
                    return False
                handle.seek(self.offset)
                data = handle.read(size - self.offset)
        except OSError:
            return False
        self.offset += len(data)
        if self.splitter.feed(data):
            self._partial_since = self._partial_since or time.monotonic()
        else:
            self._partial_since = None
        return True

    def _flush_stale_partial(self) -> None:
        if self._partial_since is not None and time.monotonic() - self._partial_since > PARTIAL_FLUSH_SECONDS:
            self.splitter.flush()
            self._partial_since = None

    def close(self) -> None:
        self.read()
        self.splitter.flush()


class KeptProcessUnit:
    """A unit that, once started (or adopted), runs until something stops it on purpose:
    `stop` ends it; `keep_running` makes the next `stop` only let go of it."""

    def __init__(self, unit: UnitRef, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path,
                 sink: OutputSink, out_dir: Path) -> None:
        self.unit = unit
        self.argv = list(argv)
        self.env = dict(env)
        self.cwd = cwd
        self.sink = sink
        self.out_dir = out_dir
        self.adopt_from: ProcessIdentity | None = None  # set before `start`: take over this process
        self.on_spawned: Callable[[ProcessIdentity], None] | None = None  # a new process: record it
        self.process: ProcessIdentity | None = None
        self.adopted = False
        self.returncode: int | None = None
        self.kept = False  # let go of, still running
        self._child: subprocess.Popen[bytes] | None = None
        self._exited: asyncio.Future[None] | None = None
        self._followers: list[FileFollower] = []
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def running(self) -> bool:
        return self.process is not None and self._exited is not None and not self._exited.done()

    def identity(self) -> UnitIdentity:
        if self.process is None:
            return UnitIdentity()
        return UnitIdentity(pid=self.process.pid, create_time=self.process.create_time, pgid=self.process.pgid)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.returncode, self.kept = None, False
        self.out_dir.mkdir(parents=True, exist_ok=True)
        out, err = output_paths(self.out_dir, self.unit.label)
        adopt, self.adopt_from = self.adopt_from, None  # adopted once: a restart spawns anew
        if adopt is not None and adopt.is_alive():
            self.process, self.adopted, self._child = adopt, True, None
            for path in (out, err):
                if path.exists() and path.stat().st_size > MAX_KEPT_LOG_BYTES:
                    path.write_bytes(b"")  # it appends (O_APPEND): writes go on at the new end
        else:
            self.adopted = False
            for path in (out, err):
                path.write_bytes(b"")  # a fresh process: its files start empty
            # Appending handles (O_APPEND): a file truncated while the process runs is
            # written at its new end, not after a hole.
            with open(out, "ab") as stdout, open(err, "ab") as stderr:
                self._child = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                                               cwd=self.cwd, env=self.env, start_new_session=True)
            pid = self._child.pid
            try:
                created = psutil.Process(pid).create_time()
            except psutil.Error:
                created = time.time()
            self.process = ProcessIdentity(pid=pid, create_time=created, pgid=pid)
            if self.on_spawned is not None:
                self.on_spawned(self.process)
        self._followers = [FileFollower(path, LineSplitter(self.unit, stream, self.sink), from_end=self.adopted)
                           for path, stream in ((out, Stream.OUT), (err, Stream.ERR))]
        self._exited = loop.create_future()
        self._tasks = [asyncio.ensure_future(self._follow()), asyncio.ensure_future(self._watch_exit())]

    async def _follow(self) -> None:
        interval = FOLLOW_FAST_SECONDS
        while True:
            got = [follower.read() for follower in self._followers]
            interval = FOLLOW_FAST_SECONDS if any(got) else min(FOLLOW_IDLE_SECONDS, interval * 2)
            await asyncio.sleep(interval)

    async def _watch_exit(self) -> None:
        assert self.process is not None and self._exited is not None
        loop = asyncio.get_running_loop()
        try:
            pidfd = os.pidfd_open(self.process.pid)
        except (AttributeError, OSError):
            pidfd = None
        try:
            if pidfd is not None:
                readable: asyncio.Future[None] = loop.create_future()

                def exited() -> None:
                    if not readable.done():
                        readable.set_result(None)

                loop.add_reader(pidfd, exited)
                try:
                    if self.process.is_alive():  # a pidfd of an already-dead pid never becomes readable late
                        await readable
                finally:
                    loop.remove_reader(pidfd)
            else:
                while self.process.is_alive():
                    await asyncio.sleep(EXIT_POLL_SECONDS)
        finally:
            if pidfd is not None:
                os.close(pidfd)
        self._exit_seen()

    def _exit_seen(self) -> None:
        if self._exited is None or self._exited.done():
            return
        code = self._child.poll() if self._child is not None else None
        if self._child is not None and code is None:
            code = self._child.wait()  # readable pidfd: it has exited, reaping takes no time
        self.returncode = code if code is not None else EXIT_CODE_UNKNOWN
        self._exited.set_result(None)

    async def _finish(self) -> int:
        for task in self._tasks:
            task.cancel()
        for follower in self._followers:
            follower.close()
        return self.returncode if self.returncode is not None else EXIT_CODE_UNKNOWN

    async def wait(self) -> int:
        assert self._exited is not None, "not started"
        await asyncio.shield(self._exited)
        return await self._finish()

    def keep_running(self) -> None:
        """The next `stop` lets go of the process instead of ending it (`down` with `infra.keep`)."""
        self.kept = True

    async def stop(self, grace: float = 5.0) -> int | None:
        if self.process is None or self._exited is None:
            return None
        if self._exited.done():
            return self.returncode
        if self.kept:
            self.returncode = EXIT_CODE_UNKNOWN
            self._exited.set_result(None)  # the watcher stays quiet: this run no longer looks at it
            return await self._finish()
        signal_group(self.process.pgid, signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(self._exited), grace)
        except asyncio.TimeoutError:
            signal_group(self.process.pgid, signal.SIGKILL)
            await asyncio.shield(self._exited)
        signal_group(self.process.pgid, signal.SIGKILL)  # whatever it left in its group
        return await self._finish()
