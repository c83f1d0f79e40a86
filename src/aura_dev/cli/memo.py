"""Answers remembered between runs, for commands whose answer is a pure function of things
cheap to check: the help screens (of the command definitions, the terminal and a few
environment variables) and `aura dev config` (of `aura.yaml`'s bytes and the files it
names).  Computing them needs typer, rich or pydantic, a few hundred milliseconds of
imports; checking a remembered one needs a hash and a few `stat`s.

Kept in aura's cache folder (`AURA_CACHE_DIR`), never in the workspace.  The key holds
everything the answer depends on, including the size and modification time of aura's own
source files and of the libraries that render it, so a change to any of them is a miss;
each answer also lists the files it looked at (`facts`), checked again before it is used.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib.util import find_spec
from pathlib import Path
from typing import Any, TextIO

from aura_dev import __version__
from aura_dev.paths import cache_dir

KEEP = 256  # answers kept; the oldest go first
PACKAGE = Path(__file__).resolve().parent.parent  # src/aura_dev


class Answer:
    """What a command printed and returned, and the files it looked at (`fact`)."""

    def __init__(self, stdout: str, stderr: str = "", code: int = 0, facts: list[list[str]] | None = None) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.code = code
        self.facts = facts or []  # [path, kind, resolved] as they were

    def to_json(self) -> str:
        return json.dumps({"stdout": self.stdout, "stderr": self.stderr, "code": self.code, "facts": self.facts})


def key(*parts: str) -> str:
    digest = hashlib.sha256(__version__.encode())
    for part in parts:
        digest.update(b"\0" + part.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def sources(libraries: Iterable[str] = ()) -> str:
    """Size and modification time of every module of aura and of the named libraries' top
    modules: any edit or upgrade changes it (about 2 ms for aura's hundred files)."""
    files: list[str] = []
    for folder, subfolders, names in os.walk(PACKAGE):
        subfolders[:] = sorted(name for name in subfolders if name != "__pycache__")
        files += [os.path.join(folder, name) for name in sorted(names) if name.endswith(".py")]
    for library in libraries:
        spec = find_spec(library)
        if spec is not None and spec.origin:
            files.append(spec.origin)
    stamps = []
    for file in files:
        try:
            info = os.stat(file)
            stamps.append(f"{file}:{info.st_size}:{info.st_mtime_ns}")
        except OSError:
            stamps.append(f"{file}:-")
    return "\n".join(stamps)


def fact(path: Path) -> list[str]:
    kind = "dir" if path.is_dir() else "file" if path.is_file() else "missing" if not path.exists() else "other"
    return [str(path), kind, str(path.resolve())]


def facts_hold(facts: list[list[str]]) -> bool:
    return all(fact(Path(recorded[0])) == recorded for recorded in facts)


def _folder() -> Path:
    return cache_dir() / "answers"


def recall(answer_key: str) -> Answer | None:
    try:
        data: dict[str, Any] = json.loads((_folder() / f"{answer_key}.json").read_text(encoding="utf-8"))
        answer = Answer(**data)
    except (OSError, ValueError, TypeError):
        return None
    return answer if facts_hold(answer.facts) else None


def remember(answer_key: str, answer: Answer) -> None:
    """Keep `answer` (atomically); a cache that cannot be written only costs speed."""
    folder = _folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{answer_key}.{os.getpid()}"
        temporary.write_text(answer.to_json(), encoding="utf-8")
        temporary.replace(folder / f"{answer_key}.json")
        kept = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
        for old in kept[:-KEEP]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


def replay(answer: Answer) -> int:
    sys.stdout.write(answer.stdout)
    sys.stderr.write(answer.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    return answer.code


class _Tee:
    """A stream that keeps what is written and passes it on; everything else (isatty,
    fileno, encoding) is the real stream's, so what is printed does not change."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        written = self._stream.write(text)  # click probes with bytes, which a text stream refuses
        self.parts.append(text)
        return written

    def __getattr__(self, name: str) -> Any:
        if name == "buffer":  # writes around the tee would not be kept
            raise AttributeError(name)
        return getattr(self._stream, name)


@contextmanager
def captured() -> Iterator[tuple[_Tee, _Tee]]:
    """sys.stdout and sys.stderr, teed while the block runs."""
    real_out, real_err = sys.stdout, sys.stderr
    out, err = _Tee(real_out), _Tee(real_err)
    sys.stdout, sys.stderr = out, err
    try:
        yield out, err
    finally:
        sys.stdout, sys.stderr = real_out, real_err
