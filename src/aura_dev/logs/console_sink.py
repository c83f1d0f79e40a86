"""The foreground stream's way to the terminal: written by a thread of its own, so that a
slow or stuck reader — a pager left open, a terminal scrolling a flood, `| head` that has
exited — never stalls the supervisor (health checks, restarts, the log store).

The log store is the record; the console is a view of it.  When the reader falls more
than `max_pending` bytes behind, further chunks are not queued but counted, and once there
is room again a marked line says how many lines were not shown.  When the reader is gone
(EPIPE), `on_gone` is called on the event loop and nothing more is written.
"""

from __future__ import annotations

import errno
import os
import threading
from collections import deque
from collections.abc import Callable

MAX_PENDING_BYTES = 16 << 20


class ConsoleSink:
    def __init__(self, fd: int, *, on_gone: Callable[[], None], skipped_line: Callable[[int], bytes],
                 max_pending: int = MAX_PENDING_BYTES) -> None:
        self.fd = fd
        self.on_gone = on_gone
        self.skipped_line = skipped_line
        self.max_pending = max_pending
        self._queue: deque[bytes] = deque()
        self._queued_bytes = 0
        self._skipped_lines = 0
        self._closing = False
        self.gone = False
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="aura-console", daemon=True)
        self._thread.start()

    def write(self, data: bytes) -> None:
        """Never blocks: queues `data`, or counts its lines when the reader is too far behind."""
        with self._wake:
            if self.gone or self._closing:
                return
            if self._queued_bytes + len(data) > self.max_pending:
                self._skipped_lines += data.count(b"\n")
                return
            if self._skipped_lines:
                notice = self.skipped_line(self._skipped_lines)
                self._skipped_lines = 0
                self._queue.append(notice)
                self._queued_bytes += len(notice)
            self._queue.append(data)
            self._queued_bytes += len(data)
            self._wake.notify()

    def drain(self, timeout: float) -> None:
        """Wait (at most `timeout` seconds) until everything queued is written, so that
        what is printed next by other means comes after it."""
        with self._wake:
            self._wake.wait_for(lambda: not self._queued_bytes or self.gone, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (for at most `timeout` seconds), then stop the thread."""
        with self._wake:
            if self._skipped_lines and not self.gone:
                self._queue.append(self.skipped_line(self._skipped_lines))
                self._skipped_lines = 0
            self._closing = True
            self._wake.notify()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._closing:
                    self._wake.wait()
                if not self._queue:
                    return
                data = b"".join(self._queue)
                self._queue.clear()
            try:
                self._write_all(data)
            except OSError as exc:
                if exc.errno not in (errno.EPIPE, errno.EBADF, errno.EIO):
                    raise
                with self._wake:
                    self.gone = True
                    self._queue.clear()
                    self._wake.notify_all()
                self.on_gone()
                return
            with self._wake:
                self._queued_bytes -= len(data)
                self._wake.notify_all()

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)  # may be partial (a pipe, a signal): go on
            view = view[written:]
