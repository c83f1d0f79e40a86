"""A workspace file as text and as a parsed document with locations — the types and the
reading, without PyYAML (`workspace.yamlsource` parses).  A start whose file is unchanged
takes its parsed document from `workspace.spec_cache` and never imports PyYAML (~15 ms)."""

from __future__ import annotations

import bisect
import codecs
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KeyPath = tuple[str | int, ...]
MAX_BYTES = 1024 * 1024  # a workspace file is settings: a few kilobytes


@dataclass(frozen=True)
class Location:
    line: int  # 1-based
    column: int  # 1-based


@dataclass(frozen=True)
class DuplicateKey:
    path: KeyPath
    first: Location
    again: Location


@dataclass
class SourceDocument:
    """A parsed YAML file: its value, where each key path starts, and duplicate keys."""

    path: Path
    data: Any
    value_locations: dict[KeyPath, Location] = field(default_factory=dict)
    key_locations: dict[KeyPath, Location] = field(default_factory=dict)
    duplicates: list[DuplicateKey] = field(default_factory=list)

    def locate(self, path: KeyPath, *, prefer_key: bool = False) -> Location:
        """The closest known location of `path`: itself, or its nearest ancestor."""
        probe = tuple(path)
        while True:
            if prefer_key and probe in self.key_locations:
                return self.key_locations[probe]
            if probe in self.value_locations:
                return self.value_locations[probe]
            if probe in self.key_locations:
                return self.key_locations[probe]
            if not probe:
                return Location(1, 1)
            probe = probe[:-1]


class YamlSyntaxError(Exception):
    def __init__(self, message: str, location: Location) -> None:
        super().__init__(message)
        self.message = message
        self.location = location


class YamlRefused(YamlSyntaxError):
    """YAML (or not even text) that aura will not read: too large, not UTF-8, nested too
    deep, recursive, an alias bomb, a tag for a foreign type.  Not a syntax error: the
    message stands on its own."""


class Lines:
    """Character offset → line and column, counting line breaks as editors do
    (`\\n`, `\\r\\n`, `\\r`; PyYAML also counts U+2028 and friends, which editors do not)."""

    def __init__(self, text: str) -> None:
        self.starts = [0]
        index = 0
        while True:
            found = min((p for p in (text.find("\n", index), text.find("\r", index)) if p >= 0), default=-1)
            if found < 0:
                break
            index = found + (2 if text.startswith("\r\n", found) else 1)
            self.starts.append(index)
        self.length = len(text)

    def at(self, offset: int) -> Location:
        offset = max(0, min(offset, self.length))
        line = bisect.bisect_right(self.starts, offset) - 1
        return Location(line + 1, offset - self.starts[line] + 1)


def decode(data: bytes) -> str:
    """The text of a YAML file: UTF-8 (a BOM is dropped), or UTF-16/32 with a BOM, as YAML allows."""
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                       (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                       (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return _decode(data, codec)
    return _decode(data, "utf-8")


def _decode(data: bytes, codec: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        name = codec.removesuffix("-sig").upper()
        if name != "UTF-8":  # the text has no lines to point into: point at the byte order mark
            raise YamlRefused(f"the file starts with a {name} byte order mark, but byte {exc.start} cannot be "
                                  f"decoded as {name} (save the file as UTF-8)", Location(1, 1)) from None
        before = data[: exc.start].decode(codec, errors="replace")
        where = Lines(before).at(len(before))
        raise YamlRefused(f"the file is not {name} text: byte 0x{data[exc.start]:02x} at line {where.line}, "
                              f"column {where.column} cannot be decoded (save the file as UTF-8)", where) from None


def read_text(path: Path) -> str:
    """The file's text (see `decode`); OSError if it cannot be read, YamlSyntaxError if it is too
    large or not text."""
    with path.open("rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        size = path.stat().st_size
        raise YamlRefused(f"the file is {size / 1e6:.1f} MB; aura reads workspace files of up to "
                              f"{MAX_BYTES // 1024 // 1024} MB (a workspace file holds settings, not data)",
                              Location(1, 1))
    return decode(data)
