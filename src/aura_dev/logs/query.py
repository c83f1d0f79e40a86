"""Reading the log store: filters, tail, since, grep and follow — fast on a big folder.

- `--since` binary-searches each service's segments by timestamp (records of one owner are
  written in time order), so only the part after the cut is read.
- `--grep` runs the regex over large blocks of raw bytes and only parses the lines that
  match, instead of decoding every line of a gigabyte; plain words (a phrase, the level
  keywords) go to the system's grep, which finds them all in one pass.
- Follow polls the open segment of every owner, picks up owners that appear later and
  moves to the next segment when one rotates, never losing or repeating a line.
"""

from __future__ import annotations

import heapq
import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aura_dev.logs.fastgrep import grep_lines, system_grep, usable_words
from aura_dev.logs.record import Level, Record, Source, Stream, level_of
from aura_dev.logs.store import owners, segments
from aura_dev.logs.style import compact_runtime_line

BLOCK = 4 << 20
# What makes a --grep pattern more than a literal phrase (re.escape also escapes spaces,
# dashes and '#', which are literal in a pattern compiled without VERBOSE).
REGEX_SPECIALS = frozenset(b".^$*+?{}[]\\|()")
# Every line that level_of() / compact_runtime_line() rates warn or error contains one of these.
LEVEL_KEYWORDS = (b"warn", b"err", b"fatal", b"panic", b"crit", b"exception", b"traceback")


@dataclass(frozen=True)
class Line:
    """A raw stored line and where it came from; parsed lazily."""

    ts: int  # microseconds
    owner: str
    raw: bytes  # without the newline

    def record(self) -> Record:
        parts = self.raw.split(b"\t", 3)
        text = parts[3] if len(parts) == 4 else b""
        return Record(ts=self.ts / 1e6, service=self.owner, source=Source(parts[1].decode()),
                      stream=Stream(parts[2].decode()), text=text.decode("utf-8", "replace"))


@dataclass
class LogFilter:
    services: set[str] = field(default_factory=set)
    sources: set[Source] = field(default_factory=set)
    min_level: Level | None = None
    grep: re.Pattern[bytes] | None = None
    since_us: int | None = None

    def owner_wanted(self, name: str) -> bool:
        return not self.services or name in self.services

    def accepts(self, line: Line) -> bool:
        parts = line.raw.split(b"\t", 3)
        if len(parts) != 4:
            return False
        if self.since_us is not None and line.ts < self.since_us:
            return False
        return self.accepts_text(parts[1], parts[3])

    def accepts_text(self, source: bytes, text: bytes) -> bool:
        """Source, grep and level of one line's text (a live line, before it is stored, too)."""
        if self.sources and source.decode() not in {s.value for s in self.sources}:
            return False
        if self.grep is not None and self.grep.search(text) is None:
            return False
        if self.min_level is not None and line_level(source, text).rank < self.min_level.rank:
            return False
        return True

    def block_prefilter(self) -> Scanner | None:
        """How to find candidate lines in raw blocks; None when every line must be tried.

        The stored line starts with its timestamp, so a leading `^` is dropped (the match is
        verified on the text afterwards); any other `^` would need per-line semantics.  A
        level of warn or above without --grep looks for the words such lines must contain.
        """
        if self.grep is None:
            if self.min_level is not None and self.min_level.rank >= Level.WARN.rank:
                return KeywordScanner(LEVEL_KEYWORDS, ignore_case=True)
            return None
        pattern = self.grep.pattern
        ignore_case = bool(self.grep.flags & re.IGNORECASE)
        if pattern and not REGEX_SPECIALS.intersection(pattern.replace(b"|", b"")):
            # Plain phrases (`timeout`, or alternatives like `timeout|refused`): finding
            # words beats re, whose alternation tries every branch at every byte.
            words = tuple(pattern.split(b"|"))
            if all(words):
                return KeywordScanner(words, ignore_case=ignore_case)
        if pattern.startswith(b"^"):
            pattern = pattern[1:]
        if b"^" in pattern.replace(b"[^", b"").replace(b"\\^", b""):
            return None
        return RegexScanner(re.compile(pattern, self.grep.flags | re.MULTILINE))


class Scanner:
    """Finds the lines of a block that may match, as (start, end) offsets, each line once."""

    def spans(self, data: bytes) -> Iterator[tuple[int, int]]:
        raise NotImplementedError

    @staticmethod
    def _line_of(data: bytes, start: int, end: int) -> tuple[int, int]:
        first = data.rfind(b"\n", 0, start) + 1
        last = data.find(b"\n", end)
        return first, len(data) if last == -1 else last


class RegexScanner(Scanner):
    def __init__(self, pattern: re.Pattern[bytes]) -> None:
        self.pattern = pattern

    def spans(self, data: bytes) -> Iterator[tuple[int, int]]:
        last_end = -1
        for match in self.pattern.finditer(data):
            if match.start() <= last_end:
                continue  # several matches on one line
            first, last = self._line_of(data, match.start(), match.end())
            last_end = last
            yield first, last


class KeywordScanner(Scanner):
    """Plain words, found with bytes.find (over a lower-cased copy when case does not
    matter): tens of times faster than a case-insensitive regex alternation."""

    def __init__(self, words: tuple[bytes, ...], *, ignore_case: bool) -> None:
        self.ignore_case = ignore_case
        self.words = tuple(w.lower() for w in words) if ignore_case else words

    def spans(self, data: bytes) -> Iterator[tuple[int, int]]:
        haystack = data.lower() if self.ignore_case else data
        starts: dict[int, int] = {}
        for word in self.words:
            position = haystack.find(word)
            while position != -1:
                first, last = self._line_of(haystack, position, position + len(word))
                starts.setdefault(first, last)
                position = haystack.find(word, last)  # the rest of this line is covered
        for first in sorted(starts):
            yield first, starts[first]


def line_level(source: bytes, text: bytes) -> Level:
    if source in (b"sidecar", b"infra"):
        return compact_runtime_line(text)[1]
    return level_of(text[:200].decode("utf-8", "replace"))


def _timestamp(raw: bytes) -> int:
    head = raw.split(b"\t", 1)[0]
    return int(head) if head.isdigit() else 0


def _lines_of_block(data: bytes, owner: str) -> Iterator[Line]:
    for raw in data.split(b"\n"):
        if raw:
            yield Line(_timestamp(raw), owner, raw)


def _scan_block(data: bytes, owner: str, scanner: Scanner) -> Iterator[Line]:
    for start, end in scanner.spans(data):
        raw = data[start:end]
        yield Line(_timestamp(raw), owner, raw)


def _read_blocks(path: Path, start: int = 0) -> Iterator[bytes]:
    """Whole lines of `path` from byte `start`, in blocks of about BLOCK bytes."""
    with path.open("rb") as handle:
        handle.seek(start)
        rest = b""
        while True:
            chunk = handle.read(BLOCK)
            if not chunk:
                break
            data = rest + chunk
            cut = data.rfind(b"\n")
            if cut == -1:
                rest = data
                continue
            yield data[: cut + 1]
            rest = data[cut + 1:]


def _first_ts(path: Path) -> int | None:
    with path.open("rb") as handle:
        return _timestamp(handle.readline()) if path.stat().st_size else None


def _last_ts(path: Path) -> int | None:
    size = path.stat().st_size
    if not size:
        return None
    with path.open("rb") as handle:
        back = min(size, 1 << 16)
        while True:
            handle.seek(size - back)
            data = handle.read(back).rstrip(b"\n")
            cut = data.rfind(b"\n")
            if cut != -1 or back == size:
                return _timestamp(data[cut + 1:])
            back = min(size, back * 4)


def _offset_of(path: Path, since_us: int) -> int:
    """Byte offset of the first line with ts >= since_us: binary search, then a short scan.
    `low` is always the start of a line whose timestamp is before the cut (or 0)."""
    size = path.stat().st_size
    low, high = 0, size
    with path.open("rb") as handle:
        while high - low > 1 << 16:
            middle = (low + high) // 2
            handle.seek(middle)
            handle.readline()
            position = handle.tell()
            line = handle.readline()
            if not line or _timestamp(line) >= since_us:
                high = middle
            else:
                low = position
        handle.seek(low)
        while True:
            position = handle.tell()
            line = handle.readline()
            if not line or _timestamp(line) >= since_us:
                return position


def owner_lines(owner: str, folder: Path, flt: LogFilter) -> Iterator[Line]:
    """Every accepted line of one owner, oldest first."""
    files = segments(folder)
    prefilter = flt.block_prefilter()
    # Plain words: the system's grep finds them all in one pass (see fastgrep).
    by_grep = (isinstance(prefilter, KeywordScanner) and usable_words(prefilter.words)
               and system_grep() is not None)
    for path in files:
        start = 0
        if flt.since_us is not None:
            last = _last_ts(path)
            if last is None or last < flt.since_us:
                continue
            first = _first_ts(path)
            if first is not None and first < flt.since_us:
                start = _offset_of(path, flt.since_us)
        if by_grep:
            assert isinstance(prefilter, KeywordScanner)
            for raw in grep_lines(path, start, prefilter.words, ignore_case=prefilter.ignore_case):
                line = Line(_timestamp(raw), owner, raw)
                if flt.accepts(line):
                    yield line
            continue
        for block in _read_blocks(path, start):
            candidates = _scan_block(block, owner, prefilter) if prefilter else _lines_of_block(block, owner)
            for line in candidates:
                if flt.accepts(line):
                    yield line


def _reverse_blocks(path: Path, size: int = 1 << 20) -> Iterator[bytes]:
    """Whole lines of `path`, in blocks, from the end towards the start."""
    with path.open("rb") as handle:
        end = handle.seek(0, os.SEEK_END)
        rest = b""
        while end > 0:
            start = max(0, end - size)
            handle.seek(start)
            data = handle.read(end - start) + rest
            end = start
            if start > 0:
                cut = data.find(b"\n")
                if cut == -1:
                    rest = data
                    continue
                rest, data = data[: cut + 1], data[cut + 1:]
            yield data


def owner_tail(owner: str, folder: Path, flt: LogFilter, count: int) -> list[Line]:
    """The last `count` accepted lines of one owner, read backwards from the newest end."""
    if count <= 0:
        return []
    found: list[Line] = []
    for path in reversed(segments(folder)):
        for block in _reverse_blocks(path):
            for raw in reversed(block.split(b"\n")):
                if not raw:
                    continue
                line = Line(_timestamp(raw), owner, raw)
                if flt.since_us is not None and line.ts < flt.since_us:
                    return list(reversed(found))
                if flt.accepts(line):
                    found.append(line)
                    if len(found) >= count:
                        return list(reversed(found))
    return list(reversed(found))


def selected_owners(root: Path, flt: LogFilter) -> list[tuple[str, Path]]:
    return [(name, folder) for _kind, name, folder in owners(root) if flt.owner_wanted(name)]


def query(root: Path, flt: LogFilter, tail: int | None = None) -> Iterator[Line]:
    """Accepted lines of every selected owner, merged in time order."""
    chosen = selected_owners(root, flt)
    if tail is not None:
        lines = [line for name, folder in chosen for line in owner_tail(name, folder, flt, tail)]
        lines.sort(key=lambda line: line.ts)
        yield from lines[-tail:] if tail else []
        return
    yield from heapq.merge(*(owner_lines(name, folder, flt) for name, folder in chosen), key=lambda line: line.ts)


@dataclass
class _Cursor:
    path: Path
    offset: int
    pending: bytes = b""


class Follower:
    """New lines as they are written, across new owners and rotated segments."""

    def __init__(self, root: Path, flt: LogFilter) -> None:
        self.root = root
        self.flt = flt
        self.cursors: dict[tuple[str, Path], _Cursor] = {}
        for name, folder in selected_owners(root, flt):
            files = segments(folder)
            if files:
                self.cursors[(name, folder)] = _Cursor(files[-1], files[-1].stat().st_size)

    def poll(self) -> list[Line]:
        fresh: list[Line] = []
        for name, folder in selected_owners(self.root, self.flt):
            cursor = self.cursors.get((name, folder))
            files = segments(folder)
            if not files:
                continue
            if cursor is None:  # an owner that appeared after we started: read it whole
                cursor = self.cursors[(name, folder)] = _Cursor(files[0], 0)
            while True:
                fresh.extend(self._read_new(name, cursor))
                later = [p for p in files if p.name > cursor.path.name]
                if not later:
                    break
                cursor.path, cursor.offset, cursor.pending = later[0], 0, b""
        fresh.sort(key=lambda line: line.ts)
        return fresh

    def _read_new(self, owner: str, cursor: _Cursor) -> Iterable[Line]:
        try:
            size = os.path.getsize(cursor.path)
        except FileNotFoundError:
            return []
        if size <= cursor.offset:
            return []
        with cursor.path.open("rb") as handle:
            handle.seek(cursor.offset)
            data = cursor.pending + handle.read(size - cursor.offset)
        cursor.offset = size
        cut = data.rfind(b"\n")
        if cut == -1:
            cursor.pending = data
            return []
        cursor.pending = data[cut + 1:]
        return [line for line in _lines_of_block(data[: cut + 1], owner) if self.flt.accepts(line)]

    def follow(self, interval: float = 0.15) -> Iterator[list[Line]]:
        while True:
            yield self.poll()
            time.sleep(interval)
