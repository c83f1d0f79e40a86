"""A problem found in a workspace file, located to `file:line:column` and key path."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from aura_dev.workspace.source_doc import KeyPath, Location


SHOWN_KEY = 60  # characters of a key shown in a location


@dataclass(frozen=True)
class Problem:
    file: Path
    location: Location
    path: KeyPath
    message: str
    hint: str | None = None

    @property
    def dotted_path(self) -> str:
        return dotted(self.path)

    def render(self) -> str:
        where = f"{self.file}:{self.location.line}:{self.location.column}"
        key = f" {dotted(self.path, shorten=True)}:" if self.path else ""
        text = f"{where}:{key} {self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "file": str(self.file),
            "line": self.location.line,
            "column": self.location.column,
            "path": self.dotted_path,
            "message": self.message,
            "hint": self.hint,
        }


def dotted(path: KeyPath, *, shorten: bool = False) -> str:
    """`services.api.command[0]`; `shorten` cuts long keys in the middle (for display)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = str(part)
            if shorten and len(text) > SHOWN_KEY:
                text = f"{text[:SHOWN_KEY // 2]}…{text[-(SHOWN_KEY // 2):]}"
            out += ("." if out else "") + text
    return out


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    options = list(choices)
    lowered = {c.lower(): c for c in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return close[0]
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None
