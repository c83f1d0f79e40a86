"""The foreground stream during `aura dev up`: what a person needs, prefixed and coloured.

Quiet by default: every app line, every line of aura's own, and sidecar and infra lines at
warning and above.  Sidecar and infra info lines are read into a `RuntimeDigest` (the
start-up view shows what they said) and counted instead of printed; warnings that aura's
own way of running Dapr causes count as info.  Identical consecutive lines from one unit
fold into the first and a count (`RepeatFolder`).  While the whole stack stops, Dapr's
lines (streams cancelled as peers go) are counted, and one line says how many there were.
`verbose` prints every line as it comes, unfolded.  The log store gets every line either way.

App chunks take a fast path: the prefix is spliced in with one `bytes.replace` per chunk,
a single regex over the chunk decides whether any line needs a level colour, and a chunk
goes through the folder only when it may hold a repeat (a few microseconds to tell).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from aura_dev.logs.digest import RuntimeDigest, expected_warning
from aura_dev.logs.record import Level, LogChunk, Source, UnitRef, level_of
from aura_dev.logs.repeats import Folded, UnitRepeats
from aura_dev.logs.style import ALARM, BOLD, DIM, RESET, colour_line, compact_runtime_line, prefix

Writer = Callable[[bytes], None]
REPEAT_TEXT_CHARS = 120  # a run's count line repeats at most this much of the line


class ConsoleRenderer:
    def __init__(self, write: Writer, *, colour: bool, labels: Iterable[str] = (), verbose: bool = False,
                 flush: Callable[[], None] | None = None, digest: RuntimeDigest | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.write = write
        self._flush = flush
        self.colour = colour
        self.verbose = verbose
        self.digest = digest if digest is not None else RuntimeDigest()
        self.clock = clock
        self.width = min(28, max([len(label) for label in labels] + [9]))
        # Per unit, found with one lookup on the fast path: its prefix and its run of repeats.
        self._units: dict[UnitRef, tuple[bytes, UnitRepeats]] = {}
        self._open: dict[UnitRef, UnitRepeats] = {}  # units whose run has a count not yet shown
        self.stopping = False
        self.stopping_lines = 0  # runtime lines not printed while the stack stopped
        self.stopping_alarms = 0  # ... of which warnings and errors

    def _unit(self, unit: UnitRef) -> tuple[bytes, UnitRepeats]:
        found = self._units.get(unit)
        if found is None:
            found = self._units[unit] = (prefix(unit, self.width, self.colour), UnitRepeats())
        return found

    def _prefix(self, unit: UnitRef) -> bytes:
        return self._unit(unit)[0]

    def chunk(self, chunk: LogChunk) -> None:
        if chunk.unit.source is Source.APP:
            self._app_chunk(chunk)
        else:
            self._runtime_chunk(chunk)

    def _app_chunk(self, chunk: LogChunk) -> None:
        data = chunk.data
        pfx, repeats = self._unit(chunk.unit)
        if not self.verbose and not repeats.plain(data):
            self._fold(chunk.unit, repeats, data, self._app_line)
            return
        if not self.colour or ALARM.search(data) is None:
            body = data.replace(b"\n", b"\n" + pfx)  # a prefix too many at the end: cut below
            self.write(pfx + body[: len(body) - len(pfx)])
            return
        self.write(b"".join(self._app_line(pfx, line) for line in data[:-1].split(b"\n")))

    def _app_line(self, pfx: bytes, line: bytes) -> bytes:
        if self.colour and ALARM.search(line) is not None:
            level = level_of(line[:200].decode("utf-8", "replace"))
            if level.rank >= Level.WARN.rank:
                line = colour_line(line, level, dim=False)
        return pfx + line + b"\n"

    def _runtime_chunk(self, chunk: LogChunk) -> None:
        unit = chunk.unit
        shown: list[tuple[bytes, Level]] = []
        for line in chunk.data[:-1].split(b"\n"):
            text, level = compact_runtime_line(line)
            if not self.verbose:
                alarm = level.rank >= Level.WARN.rank
                if self.stopping:
                    self.stopping_lines += 1
                    self.stopping_alarms += alarm
                    continue
                visible = alarm and not expected_warning(text)
                self.digest.read(unit, text, level, shown=visible)
                if not visible:
                    continue
            else:
                self.digest.read(unit, text, level, shown=True)
            shown.append((text, level))
        if not shown:
            return
        pfx, repeats = self._unit(unit)
        if not self.verbose:
            data = b"\n".join(text for text, _level in shown) + b"\n"
            if not repeats.plain(data):
                levels = dict(shown)
                self._fold(unit, repeats, data, lambda pfx, text: self._runtime_line(pfx, text, levels[text]))
                return
        self.write(b"".join(self._runtime_line(pfx, text, level) for text, level in shown))

    def _runtime_line(self, pfx: bytes, text: bytes, level: Level) -> bytes:
        if self.colour:
            text = colour_line(text, level, dim=level.rank < Level.WARN.rank)
        return pfx + text + b"\n"

    def _fold(self, unit: UnitRef, repeats: UnitRepeats, data: bytes, line: Callable[[bytes, bytes], bytes]) -> None:
        self._write_folded(unit, repeats.fold(data, self.clock()), line)
        if repeats.pending:
            self._open[unit] = repeats
        else:
            self._open.pop(unit, None)

    def _write_folded(self, unit: UnitRef, folded: Folded, line: Callable[[bytes, bytes], bytes]) -> None:
        if not folded:
            return
        pfx = self._prefix(unit)
        self.write(b"".join(line(pfx, text) if count == 1 else self._count_line(pfx, text, count)
                            for text, count in folded))

    def _count_line(self, pfx: bytes, text: bytes, count: int) -> bytes:
        """The line of a run once more, with how many times in a row it came."""
        shown = text if len(text) <= REPEAT_TEXT_CHARS else text[:REPEAT_TEXT_CHARS] + "…".encode()
        mark = b" (\xc3\x97%d)" % count  # (×3)
        if self.colour:
            return pfx + DIM + shown + RESET + BOLD + mark + RESET + b"\n"
        return pfx + shown + mark + b"\n"

    def notice(self, unit: UnitRef | None, text: str, level: Level = Level.INFO, ts: float = 0.0) -> None:
        """A line of aura's own about a unit: started, ready, restarting, reloaded, failed."""
        if unit is not None and not self.verbose:
            self._open.pop(unit, None)
            self._write_folded(unit, self._unit(unit)[1].end(), self._app_line)  # the run's count comes first
        self.write(self.notice_line(unit, text, level))

    def notice_line(self, unit: UnitRef | None, text: str, level: Level = Level.INFO) -> bytes:
        body = ("▶ " + text).encode()
        if self.colour:
            body = colour_line(BOLD + body + RESET, level, dim=False) if level.rank >= Level.WARN.rank else BOLD + body + RESET
        pfx = self._prefix(unit) if unit else (b"aura".ljust(self.width) + b" | " if not self.colour
                                                else BOLD + b"aura".ljust(self.width) + RESET + DIM + b" \xe2\x94\x82 " + RESET)
        return pfx + body + b"\n"

    def stack_stopping(self) -> None:
        """The whole stack is stopping: from now on Dapr's lines are counted, not printed."""
        self.stopping = True

    def finish(self) -> None:
        """The run is over: the counts of runs still open, and what was not printed while stopping."""
        out = [self._count_line(self._prefix(unit), text, count)
               for unit, repeats in self._open.items() for text, count in repeats.end()]
        self._open.clear()
        if self.stopping_lines and not self.verbose:
            alarms = f", {self.stopping_alarms} of them warnings or errors" if self.stopping_alarms else ""
            out.append(self.notice_line(None, f"while stopping, sidecars and infra wrote {self.stopping_lines} lines"
                                              f"{alarms} (not shown; `aura dev logs --source sidecar --source infra`)"))
        if out:
            self.write(b"".join(out))

    def flush(self) -> None:
        if self._open:
            now = self.clock()
            due = [(unit, text, count) for unit, repeats in self._open.items() for text, count in repeats.due(now)]
            for unit, _text, _count in due:
                if not self._open[unit].pending:
                    del self._open[unit]
            if due:
                self.write(b"".join(self._count_line(self._prefix(unit), text, count) for unit, text, count in due))
        if self._flush is not None:
            self._flush()
