"""How `aura dev logs` prints records: the same prefixes and colours as the foreground
stream, a timestamp in front, or one JSON object per line."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta

from aura_dev.logs.query import Line
from aura_dev.logs.record import Level, Source, UnitRef, level_of
from aura_dev.logs.style import ALARM, DIM, RESET, colour_line, compact_runtime_line, prefix

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
    except ValueError:
        pass
    else:
        stamp = moment.timestamp() if moment.tzinfo else time.mktime(moment.timetuple()) + moment.microsecond / 1e6
        if stamp > now:
            raise ValueError(f"--since {text} is in the future (it is {datetime.fromtimestamp(now):%Y-%m-%d %H:%M} "
                             "now): no line could match")
        return stamp
    for fmt in ("%H:%M:%S", "%H:%M"):
        try:
            clock = datetime.strptime(text, fmt).time()
        except ValueError:
            continue
        today = datetime.fromtimestamp(now).replace(hour=clock.hour, minute=clock.minute, second=clock.second,
                                                    microsecond=0)
        # A time of day still to come today means the last one that has passed: yesterday's.
        return today.timestamp() if today.timestamp() <= now else (today - timedelta(days=1)).timestamp()
    raise ValueError(f"cannot read {text!r} as a time: use 10m, 2h, 1d, 14:05 or 2026-11-28T14:05:00")


class LineFormatter:
    """Bytes in, bytes out, with what can be cached cached (a prefix per unit, the clock per
    second): printing a million lines should cost seconds, not a minute."""

    def __init__(self, *, colour: bool, width: int, raw: bool) -> None:
        self.colour = colour
        self.width = width
        self.raw = raw
        self._prefixes: dict[tuple[str, bytes], bytes] = {}
        self._second = -1
        self._clock = b""

    def human(self, line: Line) -> bytes:
        parts = line.raw.split(b"\t", 3)
        if len(parts) != 4:
            return b""
        _ts, source, stream, text = parts
        second = line.ts // 1_000_000
        if second != self._second:
            self._second = second
            self._clock = time.strftime("%H:%M:%S", time.localtime(second)).encode()
        clock = self._clock + b".%03d " % (line.ts // 1000 % 1000)
        head = self._prefixes.get((line.owner, source))
        if head is None:
            head = self._prefixes[(line.owner, source)] = prefix(
                UnitRef(line.owner, Source(source.decode())), self.width, self.colour)
        if not text.isascii():
            text = text.decode("utf-8", "replace").encode()  # what a terminal can show
        if source == b"app" or self.raw:
            dim = False
            level = level_of(text[:200].decode()) if self.colour and ALARM.search(text) else Level.INFO
        else:
            text, level = compact_runtime_line(text)
            dim = True
        if stream == b"aura":
            text = "▶ ".encode() + text
        if self.colour:
            if level.rank >= Level.WARN.rank:
                text = colour_line(text, level, dim=False)
            elif dim:
                text = DIM + text + RESET
            return DIM + clock + RESET + head + text + b"\n"
        return clock + head + text + b"\n"

    @staticmethod
    def json(line: Line) -> bytes:
        record = line.record()
        data = record.as_dict()
        data["ts"] = datetime.fromtimestamp(record.ts).astimezone().isoformat(timespec="microseconds")
        if record.source is not Source.APP:
            data["level"] = compact_runtime_line(record.text.encode("utf-8", "replace"))[1].value
        return json.dumps(data, ensure_ascii=False).encode() + b"\n"
