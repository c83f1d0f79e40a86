"""Log lines as the browser gets them: `[ts, service, source, stream, level, text]`, with the
console's rules — daprd and infra lines shortened to their message, levels read the same
way — and each service's colour from the same palette as the terminal's."""

from __future__ import annotations

import re
from functools import lru_cache

from aura_dev.logs.query import Line, LogFilter
from aura_dev.logs.record import AURA_UNIT, Level, LogChunk, Source, Stream, UnitRef, level_of
from aura_dev.logs.style import ALARM, compact_runtime_line, service_palette_code

BrowserLine = list[object]
_ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]")  # colours an app printed for a terminal
_CUBE = (0, 95, 135, 175, 215, 255)  # the xterm 256-colour cube's levels


def xterm_hex(code: int) -> str:
    """The RGB of an xterm 256-colour code from the colour cube (16-231)."""
    index = code - 16
    return "#%02x%02x%02x" % (_CUBE[index // 36], _CUBE[index // 6 % 6], _CUBE[index % 6])


@lru_cache(maxsize=1024)
def service_colour(service: str) -> str:
    return xterm_hex(service_palette_code(service))


def shown(source: bytes, text: bytes) -> tuple[str, Level]:
    """What the console shows of one line, and its level."""
    if b"\x1b" in text:
        text = _ANSI.sub(b"", text)  # a browser shows no escape codes; the level is read without them
    if source == b"app":
        level = level_of(text[:200].decode("utf-8", "replace")) if ALARM.search(text) else Level.INFO
    else:
        text, level = compact_runtime_line(text)
    return text.decode("utf-8", "replace"), level


def chunk_lines(chunk: LogChunk, flt: LogFilter | None) -> list[BrowserLine]:
    source = chunk.unit.source.value.encode()
    data = chunk.data
    if flt is None and source == b"app" and b"\x1b" not in data and ALARM.search(data) is None:
        # The common case of a chatty app, as the console takes it: no line of the chunk can be
        # a warning or an error, so one decode and one split in C, no per-line work.
        head = (chunk.ts, chunk.unit.service, "app", chunk.stream.value, Level.INFO.value)
        return [[*head, text] for text in data[:-1].decode("utf-8", "replace").split("\n")]
    out: list[BrowserLine] = []
    for raw in data[:-1].split(b"\n"):
        if flt is not None and not flt.accepts_text(source, raw):
            continue
        text, level = shown(source, raw)
        out.append([chunk.ts, chunk.unit.service, chunk.unit.source.value, chunk.stream.value, level.value, text])
    return out


def notice_line(unit: UnitRef | None, text: str, level: Level, ts: float) -> BrowserLine:
    ref = unit or AURA_UNIT
    return [ts, ref.service, ref.source.value, Stream.AURA.value, level.value, text]


def stored_line(line: Line) -> BrowserLine | None:
    parts = line.raw.split(b"\t", 3)
    if len(parts) != 4:
        return None
    _ts, source, stream, raw = parts
    text, level = shown(source, raw)
    if stream == b"aura":
        level = level_of(text)
    return [line.ts / 1e6, line.owner, source.decode(), stream.decode(), level.value, text]


def unit_wanted(units: frozenset[tuple[str, str]], service: str, source: Source) -> bool:
    """A selection of units (empty: all), as (service, source) pairs."""
    return not units or (service, source.value) in units
