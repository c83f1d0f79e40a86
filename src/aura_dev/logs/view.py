"""How `aura dev logs` prints records: the same prefixes and colours as the foreground
stream, a timestamp in front, or one JSON object per line."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime

from aura_dev.logs.query import Line
from aura_dev.logs.record import Level, Source, UnitRef, level_of
from aura_dev.logs.style import DIM, RESET, colour_line, compact_runtime_line, prefix

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, now: float | None = None) -> float:
    """`10m`, `2h`, `1d`, an ISO timestamp, or a time of day (`14:05`) → unix seconds."""
    now = time.time() if now is None else now
    match = _RELATIVE.match(text)
    if match:
        return now - float(match[1]) * _UNITS[match[2]]
    try:
        moment = datetime.fromisoformat(text)
        return moment.timestamp() if moment.tzinfo else time.mktime(moment.timetuple()) + moment.microsecond / 1e6
    except ValueError:
        pass
    for fmt in ("%H:%M:%S", "%H:%M"):
        try:
            clock = datetime.strptime(text, fmt).time()
        except ValueError:
            continue
        today = datetime.fromtimestamp(now).replace(hour=clock.hour, minute=clock.minute, second=clock.second,
                                                    microsecond=0)
        return today.timestamp()
    raise ValueError(f"cannot read {text!r} as a time: use 10m, 2h, 1d, 14:05 or 2026-11-28T14:05:00")


class LineFormatter:
    def __init__(self, *, colour: bool, width: int, raw: bool) -> None:
        self.colour = colour
        self.width = width
        self.raw = raw
        self._prefix: dict[tuple[UnitRef, str], bytes] = {}

    def human(self, line: Line) -> bytes:
        record = line.record()
        unit = UnitRef(record.service, record.source)
        millis = int(line.ts / 1000) % 1000
        clock = time.strftime("%H:%M:%S", time.localtime(line.ts / 1e6)) + f".{millis:03d}"
        head = prefix(unit, self.width, self.colour, time_text=clock)
        text = record.text.encode("utf-8", "replace")
        if record.source is Source.APP or self.raw:
            level = level_of(record.text[:200])
            dim = False
        else:
            text, level = compact_runtime_line(text)
            dim = True
        if record.stream.value == "aura":
            text = "▶ ".encode() + text
        if self.colour:
            if level.rank >= Level.WARN.rank:
                text = colour_line(text, level, dim=False)
            elif dim:
                text = DIM + text + RESET
        return head + text + b"\n"

    @staticmethod
    def json(line: Line) -> bytes:
        record = line.record()
        data = record.as_dict()
        data["ts"] = datetime.fromtimestamp(record.ts).astimezone().isoformat(timespec="microseconds")
        if record.source is not Source.APP:
            data["level"] = compact_runtime_line(record.text.encode("utf-8", "replace"))[1].value
        return json.dumps(data, ensure_ascii=False).encode() + b"\n"
