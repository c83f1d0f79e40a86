"""The foreground stream during `aura dev up`: every unit's lines, prefixed and coloured.

App chunks take a fast path: the prefix is spliced in with one `bytes.replace` per chunk,
and a single regex over the chunk decides whether any line needs a level colour.  Sidecar
and infra lines are few; each is shortened (daprd logfmt → message) and dimmed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from aura_dev.logs.record import Level, LogChunk, Source, UnitRef, level_of
from aura_dev.logs.style import ALARM, BOLD, DIM, RESET, colour_line, compact_runtime_line, prefix

Writer = Callable[[bytes], None]


class ConsoleRenderer:
    def __init__(self, write: Writer, *, colour: bool, labels: Iterable[str] = (), quiet_sidecars: bool = False,
                 flush: Callable[[], None] | None = None) -> None:
        self.write = write
        self._flush = flush
        self.colour = colour
        self.quiet_sidecars = quiet_sidecars
        self.width = min(28, max([len(label) for label in labels] + [9]))
        self._prefixes: dict[UnitRef, bytes] = {}

    def _prefix(self, unit: UnitRef) -> bytes:
        cached = self._prefixes.get(unit)
        if cached is None:
            cached = self._prefixes[unit] = prefix(unit, self.width, self.colour)
        return cached

    def chunk(self, chunk: LogChunk) -> None:
        if chunk.unit.source is Source.APP:
            self._app_chunk(chunk)
        else:
            self._runtime_chunk(chunk)

    def _app_chunk(self, chunk: LogChunk) -> None:
        pfx = self._prefix(chunk.unit)
        data = chunk.data
        if not self.colour or ALARM.search(data) is None:
            body = data.replace(b"\n", b"\n" + pfx)  # a prefix too many at the end: cut below
            self.write(pfx + body[: len(body) - len(pfx)])
            return
        out = []
        for line in data[:-1].split(b"\n"):
            level = level_of(line[:200].decode("utf-8", "replace"))
            out.append(pfx + (colour_line(line, level, dim=False) if level.rank >= Level.WARN.rank else line) + b"\n")
        self.write(b"".join(out))

    def _runtime_chunk(self, chunk: LogChunk) -> None:
        pfx = self._prefix(chunk.unit)
        out = []
        for line in chunk.data[:-1].split(b"\n"):
            text, level = compact_runtime_line(line)
            if self.quiet_sidecars and level.rank < Level.WARN.rank:
                continue
            if self.colour:
                text = colour_line(text, level, dim=level.rank < Level.WARN.rank)
            out.append(pfx + text + b"\n")
        if out:
            self.write(b"".join(out))

    def notice(self, unit: UnitRef | None, text: str, level: Level = Level.INFO, ts: float = 0.0) -> None:
        """A line of aura's own about a unit: started, ready, restarting, reloaded, failed."""
        self.write(self.notice_line(unit, text, level))

    def notice_line(self, unit: UnitRef | None, text: str, level: Level = Level.INFO) -> bytes:
        body = ("▶ " + text).encode()
        if self.colour:
            body = colour_line(BOLD + body + RESET, level, dim=False) if level.rank >= Level.WARN.rank else BOLD + body + RESET
        pfx = self._prefix(unit) if unit else (b"aura".ljust(self.width) + b" | " if not self.colour
                                                else BOLD + b"aura".ljust(self.width) + RESET + DIM + b" \xe2\x94\x82 " + RESET)
        return pfx + body + b"\n"

    def flush(self) -> None:
        if self._flush is not None:
            self._flush()

