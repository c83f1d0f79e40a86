"""Cutting a byte stream into whole lines with as little Python work per line as possible."""

from __future__ import annotations

import time
from collections.abc import Callable

from aura_dev.logs.record import LogChunk, Stream, UnitRef

MAX_LINE_BYTES = 1 << 20


class LineSplitter:
    """Buffers one stream; emits chunks that end at a newline.

    `feed` returns True when an unterminated tail is pending, so the caller can arm a
    timer and call `flush` if nothing more arrives (a prompt, a progress bar).
    """

    def __init__(self, unit: UnitRef, stream: Stream, sink: Callable[[LogChunk], None]) -> None:
        self.unit = unit
        self.stream = stream
        self.sink = sink
        self.pending = b""

    def feed(self, data: bytes) -> bool:
        buffered = self.pending + data if self.pending else data
        cut = buffered.rfind(b"\n")
        if cut == -1:
            self.pending = buffered
            if len(buffered) >= MAX_LINE_BYTES:
                self.flush()
            return bool(self.pending)
        if cut == len(buffered) - 1:  # the usual case: whole lines, nothing to copy
            self.pending = b""
            self.sink(LogChunk(self.unit, self.stream, time.time(), buffered))
            return False
        self.pending = buffered[cut + 1 :]
        self.sink(LogChunk(self.unit, self.stream, time.time(), buffered[: cut + 1]))
        return bool(self.pending)

    def flush(self) -> None:
        if self.pending:
            data, self.pending = self.pending, b""
            self.sink(LogChunk(self.unit, self.stream, time.time(), data + b"\n"))
