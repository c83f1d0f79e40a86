"""A child process spawned before the event loop existed (the head start), driven as if
asyncio had spawned it: the same protocol callbacks (`pipe_data_received`,
`pipe_connection_lost`, `process_exited`) through public asyncio calls — its pipes through
`connect_read_pipe`, its exit through a pidfd that becomes readable when it ends (then
`waitpid`, as it is our own child)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from functools import partial
from typing import Any


class _PipeForward(asyncio.Protocol):
    """One of the child's output pipes, handed to the subprocess protocol under its fd."""

    def __init__(self, protocol: asyncio.SubprocessProtocol, fd: int) -> None:
        self.protocol = protocol
        self.fd = fd

    def data_received(self, data: bytes) -> None:
        self.protocol.pipe_data_received(self.fd, data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.protocol.pipe_connection_lost(self.fd, exc)


class AdoptedTransport(asyncio.SubprocessTransport):
    """The parts of a subprocess transport `ProcessUnit` uses, for an adopted `Popen`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, popen: subprocess.Popen[bytes],
                 protocol: asyncio.SubprocessProtocol) -> None:
        super().__init__()
        self._loop = loop
        self._popen = popen
        self._protocol = protocol
        self._pipes: dict[int, asyncio.ReadTransport] = {}
        self._returncode: int | None = None
        self._pidfd = -1
        self._closed = False

    async def connect(self) -> None:
        self._protocol.connection_made(self)
        for fd, stream in ((1, self._popen.stdout), (2, self._popen.stderr)):
            if stream is not None:
                pipe, _ = await self._loop.connect_read_pipe(partial(_PipeForward, self._protocol, fd), stream)
                self._pipes[fd] = pipe
        self._pidfd = os.pidfd_open(self._popen.pid)
        self._loop.add_reader(self._pidfd, self._reap)
        self._reap()  # it may have ended before we looked

    def _reap(self) -> None:
        if self._returncode is not None:
            return
        try:
            pid, status = os.waitpid(self._popen.pid, os.WNOHANG)
        except ChildProcessError:  # reaped elsewhere: its code is lost
            pid, status = self._popen.pid, 255 << 8
        if pid == 0:
            return
        self._returncode = self._popen.returncode = os.waitstatus_to_exitcode(status)
        self._drop_pidfd()
        self._protocol.process_exited()

    def _drop_pidfd(self) -> None:
        if self._pidfd >= 0:
            self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = -1

    def get_pid(self) -> int:
        return self._popen.pid

    def get_returncode(self) -> int | None:
        return self._returncode

    def get_pipe_transport(self, fd: int) -> Any:
        return self._pipes.get(fd)

    def send_signal(self, signal_number: int) -> None:
        if self._returncode is None:
            os.kill(self._popen.pid, signal_number)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def is_closing(self) -> bool:
        return self._closed

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for pipe in self._pipes.values():
            pipe.close()
        if self._returncode is None:  # as asyncio's own transport: closing ends the process
            self.kill()
            try:
                _pid, status = os.waitpid(self._popen.pid, 0)  # SIGKILL: at once, and nothing left a zombie
                self._returncode = self._popen.returncode = os.waitstatus_to_exitcode(status)
            except ChildProcessError:
                pass
        self._drop_pidfd()


async def adopt(popen: subprocess.Popen[bytes], protocol: asyncio.SubprocessProtocol) -> AdoptedTransport:
    transport = AdoptedTransport(asyncio.get_running_loop(), popen, protocol)
    await transport.connect()
    return transport
