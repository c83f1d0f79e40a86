"""One child process in its own session: spawn, stream its output, stop its whole group.

Output is read through a SubprocessProtocol rather than StreamReaders: each pipe read
(up to 256 KiB) arrives as one callback and is cut at its last newline with bytes
operations, so a chatty unit costs a few C-level calls per chunk instead of Python work
per line.  A line still unterminated after `PARTIAL_FLUSH_SECONDS` (a prompt, a progress
bar) is emitted as it is.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import functools
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from aura_dev.logs.record import LogChunk, Stream, UnitRef
from aura_dev.logs.splitter import LineSplitter
from aura_dev.units import head_start
from aura_dev.units.adopted import adopt
from aura_dev.units.base import UnitIdentity

OutputSink = Callable[[LogChunk], None]
PARTIAL_FLUSH_SECONDS = 0.5
BATCH_THRESHOLD = 16 * 1024
READ_PAUSE_SECONDS = 0.005


@dataclass(frozen=True)
class ProcessIdentity:
    """Enough to find the process again later and be sure it is still the same one."""

    pid: int
    create_time: float
    pgid: int

    def is_alive(self) -> bool:
        try:
            proc = psutil.Process(self.pid)
            return abs(proc.create_time() - self.create_time) < 0.01 and proc.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False


class _OutputProtocol(asyncio.SubprocessProtocol):
    def __init__(self, unit: UnitRef, sink: OutputSink, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.splitters = {1: LineSplitter(unit, Stream.OUT, sink), 2: LineSplitter(unit, Stream.ERR, sink)}
        self.flush_timers: dict[int, asyncio.TimerHandle] = {}
        self.open_pipes = {1, 2}
        self.pipes_closed: asyncio.Future[None] = loop.create_future()
        self.transport: asyncio.SubprocessTransport | None = None
        self.paused: set[int] = set()
        self.exited: asyncio.Future[None] = loop.create_future()

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        if self.splitters[fd].feed(data) and fd not in self.flush_timers:
            self.flush_timers[fd] = self.loop.call_later(PARTIAL_FLUSH_SECONDS, self._flush, fd)
        if len(data) >= BATCH_THRESHOLD and self.transport is not None:
            # A chatty child: let its pipe fill for a moment instead of waking up for every
            # few lines.  Each read then carries thousands of lines, and the child's writes
            # stop paying for waking us up (the cost that dominates when it writes per line).
            pipe = self.transport.get_pipe_transport(fd)
            if pipe is not None and fd not in self.paused:
                pipe.pause_reading()  # type: ignore[attr-defined]
                self.paused.add(fd)
                self.loop.call_later(READ_PAUSE_SECONDS, self._resume, fd)

    def _resume(self, fd: int) -> None:
        self.paused.discard(fd)
        pipe = self.transport.get_pipe_transport(fd) if self.transport is not None else None
        if pipe is not None and not pipe.is_closing():
            pipe.resume_reading()  # type: ignore[attr-defined]

    def _flush(self, fd: int) -> None:
        timer = self.flush_timers.pop(fd, None)
        if timer is not None:
            timer.cancel()
        self.splitters[fd].flush()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.SubprocessTransport)
        self.transport = transport

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd in self.open_pipes:
            self._flush(fd)
            self.open_pipes.discard(fd)
        if not self.open_pipes and not self.pipes_closed.done():
            self.pipes_closed.set_result(None)

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)


class ProcessUnit:
    """A child process running in its own session (so its group can be signalled whole)."""

    def __init__(
        self,
        unit: UnitRef,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        sink: OutputSink,
        stdin_pipe: bool = False,
    ) -> None:
        self.unit = unit
        self.stdin_pipe = stdin_pipe  # a pipe aura writes to (`send`); /dev/null otherwise
        self.argv = list(argv)
        self.env = dict(env)
        self.cwd = cwd
        self.sink = sink
        self._transport: asyncio.SubprocessTransport | None = None
        self._protocol: _OutputProtocol | None = None
        self.process: ProcessIdentity | None = None  # once spawned
        self.returncode: int | None = None
        self.stopping = False

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def identity(self) -> UnitIdentity:
        if self.process is None:
            return UnitIdentity()
        return UnitIdentity(pid=self.process.pid, create_time=self.process.create_time, pgid=self.process.pgid)

    @property
    def running(self) -> bool:
        return self._transport is not None and self.returncode is None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.returncode = None
        self.stopping = False
        argv = dies_with_parent(self.argv, self.env, self.cwd)
        early = None if self.stdin_pipe else head_start.claim(self.unit.label, argv, self.env, self.cwd)
        transport: asyncio.SubprocessTransport
        if early is not None:  # spawned before the engine was loaded, exactly as it would be now
            protocol = _OutputProtocol(self.unit, self.sink, loop)
            transport = await adopt(early, protocol)
        else:
            transport, protocol = await loop.subprocess_exec(
                lambda: _OutputProtocol(self.unit, self.sink, loop),
                *argv,
                stdin=asyncio.subprocess.PIPE if self.stdin_pipe else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=str(self.cwd),
                env=self.env,
                start_new_session=True,
            )
        self._transport, self._protocol = transport, protocol
        pid = transport.get_pid()
        try:
            create_time = psutil.Process(pid).create_time()
        except psutil.Error:
            create_time = time.time()
        self.process = ProcessIdentity(pid=pid, create_time=create_time, pgid=pid)
        _enlarge_pipes(transport)

    def send(self, data: bytes) -> bool:
        """Write to the process's stdin pipe; False if it has none or it is closed."""
        pipe = self._transport.get_pipe_transport(0) if self._transport is not None else None
        if pipe is None or pipe.is_closing() or not self.running:
            return False
        pipe.write(data)  # type: ignore[attr-defined]
        return True

    async def wait(self) -> int:
        """Wait for the process to exit; then end what is left of its group and drain output."""
        assert self._protocol is not None, "not started"
        await asyncio.shield(self._protocol.exited)
        return await self._finish(group_grace=1.0)

    async def stop(self, grace: float = 5.0) -> int | None:
        """SIGTERM to the whole group, SIGKILL after `grace` seconds.  Idempotent."""
        if self._protocol is None or self.process is None:
            return None
        self.stopping = True
        if self.returncode is not None:
            return self.returncode
        signal_group(self.process.pgid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        try:
            await asyncio.wait_for(asyncio.shield(self._protocol.exited), grace)
        except asyncio.TimeoutError:
            signal_group(self.process.pgid, signal.SIGKILL)
            await asyncio.shield(self._protocol.exited)
        return await self._finish(group_grace=max(0.0, deadline - time.monotonic()))

    async def _finish(self, group_grace: float) -> int:
        """After the leader exited: give the rest of the group `group_grace` seconds to go
        (they hold our pipes open while alive), then kill it, so nothing is orphaned."""
        assert self._protocol is not None and self._transport is not None and self.process is not None
        if self.returncode is not None:
            return self.returncode
        pgid = self.process.pgid
        if not self._protocol.pipes_closed.done() and group_grace > 0:
            signal_group(pgid, signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.shield(self._protocol.pipes_closed), group_grace)
            except asyncio.TimeoutError:
                pass
        signal_group(pgid, signal.SIGKILL)
        try:
            await asyncio.wait_for(asyncio.shield(self._protocol.pipes_closed), 2.0)
        except asyncio.TimeoutError:
            pass
        code = self._transport.get_returncode()
        self._transport.close()
        self.returncode = code if code is not None else -1
        return self.returncode


@functools.cache
def _parent_death_wrapper() -> tuple[str, ...]:
    """util-linux's `setpriv --pdeathsig TERM --`, where it exists (Linux): it sets
    PR_SET_PDEATHSIG and execs the command, so a unit gets SIGTERM when its supervisor dies,
    even by SIGKILL.  A wrapper rather than a `preexec_fn`: that would run Python between
    fork and exec in a process with threads (unsafe), and forbids the fast vfork — about
    8x the spawn time of a plain spawn, against 1.7x (+1.3 ms) for the extra exec (bench_spawn.py).
    The signal follows the *thread* that spawned the unit: spawn from the event loop's
    thread (as asyncio does), never from a worker thread that may end before the unit."""
    setpriv = shutil.which("setpriv")
    if setpriv is None or not sys.platform.startswith("linux"):
        return ()
    try:
        helped = subprocess.run([setpriv, "--help"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return (setpriv, "--pdeathsig", "TERM", "--") if "--pdeathsig" in helped else ()


def dies_with_parent(argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> list[str]:
    """`argv` run so that it ends with the process that spawned it (where the system can:
    elsewhere what a killed supervisor leaves is ended by the next aura command).  A command
    that cannot be found still fails at the spawn, with the usual error, not in the wrapper."""
    wrapper = _parent_death_wrapper()
    if wrapper:
        command = argv[0]
        found = (cwd / command).exists() if "/" in command else shutil.which(command, path=env.get("PATH"))
        if not found:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), command)
    return [*wrapper, *argv]


F_SETPIPE_SZ = 1031  # Linux fcntl; not exported by the fcntl module before Python 3.10 on all builds
PIPE_BYTES = 1 << 20


def _enlarge_pipes(transport: asyncio.SubprocessTransport) -> None:
    """1 MiB pipes instead of 64 KiB: a chatty child blocks less, and each read carries more
    lines (fewer wake-ups per line).  Best effort: the limit is /proc/sys/fs/pipe-max-size."""
    for fd in (1, 2):
        pipe = transport.get_pipe_transport(fd)
        handle = pipe.get_extra_info("pipe") if pipe is not None else None
        if pipe is None or handle is None or pipe.is_closing():
            continue
        try:
            fcntl.fcntl(handle.fileno(), F_SETPIPE_SZ, PIPE_BYTES)
        except (OSError, ValueError):
            # ValueError: a child that exited at once may have had its pipes read to the
            # end and closed while asyncio was still connecting them; nothing to enlarge.
            continue
        # asyncio's pipe transport reads at most `max_size` (256 KiB) per wake-up; a whole
        # pipe per read halves the reads and callbacks for a chatty child.  An instance
        # attribute read by `_read_ready`: an asyncio without it just keeps its default.
        if hasattr(pipe, "max_size"):
            setattr(pipe, "max_size", PIPE_BYTES)  # noqa: B010 - not in the typed interface


def signal_group(pgid: int, sig: signal.Signals) -> None:
    """Signal a whole process group; one already gone (or not ours to signal) is fine."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
