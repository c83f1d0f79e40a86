"""How a line looks on a terminal: a stable colour per service, aligned prefixes, dimmed
sidecar chatter, errors that stand out, and daprd's logfmt shortened to what matters.

Everything works on bytes with raw ANSI sequences: the foreground stream must keep up
with services writing hundreds of thousands of lines a second.
"""

from __future__ import annotations

import hashlib
import re

from aura_dev.logs.record import Level, Source, Stream, UnitRef, level_of

RESET = b"\x1b[0m"
DIM = b"\x1b[2m"
BOLD = b"\x1b[1m"
RED = b"\x1b[31m"
YELLOW = b"\x1b[33m"
# 256-colour codes that read well on dark and light terminals, far enough apart to tell.
PALETTE = (39, 208, 41, 170, 220, 45, 203, 112, 141, 214, 81, 162)


def service_palette_code(service: str) -> int:
    """The 256-colour code of a service: the same on every run, in the terminal and the dashboard."""
    return PALETTE[int.from_bytes(hashlib.md5(service.encode()).digest()[:2], "big") % len(PALETTE)]


def service_colour(service: str) -> bytes:
    return b"\x1b[38;5;%dm" % service_palette_code(service)


def prefix(unit: UnitRef, width: int, colour: bool, *, time_text: str = "") -> bytes:
    label = unit.label.ljust(width).encode()
    stamp = f"{time_text} ".encode() if time_text else b""
    if not colour:
        return stamp + label + b" | "
    tint = service_colour(unit.service)
    if unit.source is Source.APP:
        return DIM + stamp + RESET + tint + BOLD + label + RESET + tint + b" \xe2\x94\x82 " + RESET
    return DIM + stamp + tint + label + b" \xe2\x94\x82 " + RESET


# time="…" level=info msg="…" app_id=… instance=… scope=dapr.runtime type=log ver=1.18.2
_LOGFMT = re.compile(rb'level=(?P<level>\w+)\s+msg="(?P<msg>(?:[^"\\]|\\.)*)"(?P<rest>.*)$')
_NOISE = re.compile(rb'\s(?:app_id|instance|type|ver)=(?:"(?:[^"\\]|\\.)*"|\S+)')
_SCOPE = re.compile(rb'\sscope=(\S+)')
_ETCD_JSON = re.compile(rb'^\{"level":"(?P<level>\w+)".*?"msg":"(?P<msg>(?:[^"\\]|\\.)*)"')


def compact_runtime_line(line: bytes) -> tuple[bytes, Level]:
    """Shorten a Dapr (logfmt) or etcd (JSON) line to `level  msg  [scope] extra=fields`."""
    match = _LOGFMT.search(line)
    if match:
        level = _level(match["level"])
        rest = _NOISE.sub(b"", match["rest"])
        scope = _SCOPE.search(rest)
        rest = _SCOPE.sub(b"", rest).strip()
        text = match["msg"].replace(b'\\"', b'"')
        if rest:
            text += b"  " + rest
        if scope:
            text += b"  [" + scope[1].removeprefix(b"dapr.") + b"]"
        return text, level
    match = _ETCD_JSON.match(line)
    if match:
        return b"etcd: " + match["msg"], _level(match["level"])
    return line, level_of(line.decode("utf-8", "replace"))


def _level(word: bytes) -> Level:
    return {b"debug": Level.DEBUG, b"warn": Level.WARN, b"warning": Level.WARN, b"error": Level.ERROR,
            b"fatal": Level.ERROR, b"panic": Level.ERROR}.get(word.lower(), Level.INFO)


LEVEL_TAG = {Level.DEBUG: b"debug", Level.INFO: b"info ", Level.WARN: b"warn ", Level.ERROR: b"error"}
# Cheap test over a whole chunk: does any line in it look like a warning or an error?
ALARM = re.compile(rb"(?i)\b(?:warn(?:ing)?|err(?:or)?|fatal|panic|crit(?:ical)?|exception|traceback)\b|^\w*Error\b",
                   re.MULTILINE)


def colour_line(text: bytes, level: Level, dim: bool) -> bytes:
    if level is Level.ERROR:
        return RED + BOLD + text + RESET if not dim else RED + text + RESET
    if level is Level.WARN:
        return YELLOW + text + RESET
    return DIM + text + RESET if dim else text


def stream_marker(stream: Stream) -> bytes:
    return b"" if stream is not Stream.AURA else b"\xe2\x96\xb6 "
