"""Identical consecutive lines from one unit, folded into one line and a count.

The first line of a run is shown when it comes (a person waiting for a line must not wait
for the next one); the lines that repeat it are counted, and the count is shown once the
run ends — a different line from that unit, a line of aura's about it, the stack stopping —
or once the unit has been quiet for a moment.  A run that goes on for long (a health check
logged every few seconds) shows its count again at most every `REPORT_SECONDS`.

Cost: the console's fast path asks `UnitRepeats.plain` once per chunk.  A chunk of a few
lines is checked exactly (compared in C); a big one (a flood) by a handful of samples,
which find a run that fills a good part of the chunk — the runs worth folding — and cost a
few microseconds.  Only a chunk that may hold a repeat goes through `fold`, line by line.
"""

from __future__ import annotations

from itertools import groupby, islice
from operator import eq

EXACT_BYTES = 2048  # chunks up to this size are checked line by line
SAMPLES = 4  # places a bigger chunk is looked at
QUIET_SECONDS = 1.0  # a run's count is shown after this long without a new line from its unit
REPORT_SECONDS = 30.0  # ... and then at most this often while the run goes on

Folded = list[tuple[bytes, int]]  # (line, 1): show the line; (line, n > 1): show that it came n times in a row


def may_repeat(data: bytes) -> bool:
    """Whether a chunk of whole lines may hold two equal consecutive lines (blank ones too:
    folding leaves those alone, but they are rare enough not to matter here)."""
    size = len(data)
    if size <= EXACT_BYTES:
        lines = data.split(b"\n")
        return any(map(eq, lines, islice(lines, 1, None)))
    for index in range(1, SAMPLES + 1):
        start = data.find(b"\n", size * index // (SAMPLES + 1)) + 1
        end = data.find(b"\n", start)
        if start == 0 or end <= start:
            continue
        # The line at `start`, then the same bytes and a newline right after it?
        if data.startswith(data[start:end + 1], end + 1):
            return True
    return False


class UnitRepeats:
    """The run of equal lines one unit is in."""

    __slots__ = ("line", "count", "shown", "last_at", "reported_at")

    def __init__(self) -> None:
        self.line: bytes | None = None  # the last line shown
        self.count = 1  # how many times in a row the unit has written it
        self.shown = 1  # the count as last shown (1: only the line itself)
        self.last_at = 0.0  # when the last repeat came
        self.reported_at = 0.0  # when a count of this run was last shown

    @property
    def pending(self) -> bool:
        return self.count > self.shown

    def plain(self, data: bytes) -> bool:
        """True when the chunk can be shown as it is — no run open, none starting in it — and
        then it is taken as shown; False when it must go through `fold`."""
        line = self.line
        if self.count > 1 or (line is not None and data.startswith(line) and data[len(line): len(line) + 1] == b"\n"):
            return False
        if may_repeat(data):
            return False
        self.line = data[data.rfind(b"\n", 0, len(data) - 1) + 1: -1]
        return True

    def fold(self, data: bytes, now: float) -> Folded:
        """The lines of a chunk to show, with the counts of the runs that ended in it."""
        out: Folded = []
        for line, group in groupby(data[:-1].split(b"\n")):
            count = sum(1 for _ in group)
            if line and line == self.line:
                self.count += count
                self.last_at = now
                continue
            if self.pending:
                out.append((self.line or b"", self.count))  # the run before this line has ended
            self.line, self.shown, self.last_at, self.reported_at = line, 1, now, 0.0
            if line:
                out.append((line, 1))
                self.count = count
            else:  # blank lines are spacing: never folded, and they end a run
                out.extend([(line, 1)] * count)
                self.count = 1
        return out

    def end(self) -> Folded:
        """The run ends (aura says something about the unit, the stack stops): its count, if not yet shown."""
        found = [(self.line or b"", self.count)] if self.pending else []
        self.line, self.count, self.shown = None, 1, 1
        return found

    def due(self, now: float) -> Folded:
        """The count, if it is time to show it: quiet for `QUIET_SECONDS`, at most every `REPORT_SECONDS`."""
        if not self.pending or now - self.last_at < QUIET_SECONDS:
            return []
        if self.reported_at and now - self.reported_at < REPORT_SECONDS:
            return []
        self.shown = self.count
        self.reported_at = now
        return [(self.line or b"", self.count)]
