"""The unit of logging: which unit wrote what, when, on which stream, at what level."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Source(str, Enum):
    APP = "app"
    SIDECAR = "sidecar"
    INFRA = "infra"


class Stream(str, Enum):
    OUT = "out"
    ERR = "err"
    AURA = "aura"  # lines aura itself writes about a unit: restarts, reloads, exits


class Level(str, Enum):
    DEBUG = "debug"
    INFO = "info"
    WARN = "warn"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Level.DEBUG: 0, Level.INFO: 1, Level.WARN: 2, Level.ERROR: 3}


@dataclass(frozen=True)
class UnitRef:
    """A unit of the stack: a service's app or sidecar, or an infra unit (service = its name)."""

    service: str
    source: Source

    @property
    def label(self) -> str:
        return f"{self.service}·dapr" if self.source is Source.SIDECAR else self.service

    @property
    def key(self) -> str:
        return f"{self.service}/{self.source.value}"


AURA_UNIT = UnitRef("aura", Source.INFRA)  # aura's own lines about the whole stack (start, stop, cleanup)


@dataclass(frozen=True)
class LogChunk:
    """One or more complete lines (each ending in b"\\n") read from a unit at `ts`."""

    unit: UnitRef
    stream: Stream
    ts: float
    data: bytes


@dataclass(frozen=True)
class Record:
    ts: float
    service: str
    source: Source
    stream: Stream
    text: str

    @property
    def level(self) -> Level:
        return level_of(self.text, self.stream)

    def as_dict(self) -> dict[str, object]:
        return {
            "ts": self.ts, "service": self.service, "source": self.source.value, "stream": self.stream.value,
            "level": self.level.value, "text": self.text,
        }


# daprd/placement/scheduler logfmt: `level=info`; JSON: `"level":"warning"`; Python logging
# and uvicorn: `INFO:` / `ERROR:`; bracketed: `[warn]`; Node: `Error:` at the start.
_STRUCTURED = re.compile(r"""(?:\blevel=|"level"\s*:\s*")"?([A-Za-z]+)""")
_WORD = re.compile(
    r"(?i)(?:^|[\s\[|(])(trace|debug|info|notice|warn(?:ing)?|err(?:or)?|crit(?:ical)?|fatal|panic|exception)\b"
    r"|^\s*Traceback \(most recent call last\)|^\w*Error\b"
)
_LEVEL_WORDS = {
    "trace": Level.DEBUG, "debug": Level.DEBUG, "info": Level.INFO, "notice": Level.INFO,
    "warn": Level.WARN, "warning": Level.WARN, "err": Level.ERROR, "error": Level.ERROR,
    "crit": Level.ERROR, "critical": Level.ERROR, "fatal": Level.ERROR, "panic": Level.ERROR,
    "exception": Level.ERROR,
}


def level_of(text: str, stream: Stream = Stream.OUT) -> Level:
    """The level of a line, parsed from structured fields or a leading level word."""
    match = _STRUCTURED.search(text)
    if match:
        return _LEVEL_WORDS.get(match[1].lower(), Level.INFO)
    match = _WORD.search(text[:120])
    if match:
        if match[1] is None:
            return Level.ERROR  # a traceback or `SomethingError:`
        return _LEVEL_WORDS.get(match[1].lower(), Level.INFO)
    return Level.INFO


def parse_level(name: str) -> Level:
    lowered = name.lower()
    if lowered in _LEVEL_WORDS:
        return _LEVEL_WORDS[lowered]
    raise ValueError(f"unknown level {name!r}: use debug, info, warn or error")
