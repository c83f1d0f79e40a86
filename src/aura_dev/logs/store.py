"""Persisted logs under `<workspace>/.aura/logs/` — never inside a service folder, where a
new file would re-trigger the service's own reloader (what `dapr run -f` does).

Layout: one folder per unit owner — `services/<name>/` (app and sidecar lines together, in
arrival order) and `infra/<name>/` — holding numbered segments `00000001.log`, ….  A
segment is never renamed: rotation starts the next number, so a follower finishes the old
file and moves on without losing a line.  The oldest segments go when the folder exceeds
its total cap.

One line per record, tab-separated, text last and raw (invalid UTF-8 kept byte for byte):

    <unix time in microseconds>\t<app|sidecar|infra>\t<out|err|aura>\t<text>
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from aura_dev.logs.record import AURA_UNIT, Level, LogChunk, Source, Stream, UnitRef

SEGMENT = re.compile(r"^(\d{8})\.log$")
OWNER_KINDS = ("services", "infra")


def owner_dir(root: Path, unit: UnitRef) -> Path:
    kind = "infra" if unit.source is Source.INFRA else "services"
    return root / kind / unit.service


def segments(folder: Path) -> list[Path]:
    """The segments of one owner, oldest first."""
    try:
        names = [entry.name for entry in os.scandir(folder) if SEGMENT.match(entry.name)]
    except FileNotFoundError:
        return []
    return [folder / name for name in sorted(names)]


def owners(root: Path) -> list[tuple[str, str, Path]]:
    """(kind, name, folder) of every owner with logs."""
    found: list[tuple[str, str, Path]] = []
    for kind in OWNER_KINDS:
        base = root / kind
        if base.is_dir():
            found.extend((kind, entry.name, Path(entry.path)) for entry in os.scandir(base) if entry.is_dir())
    return sorted(found)


@dataclass
class _Open:
    folder: Path
    number: int
    handle: BinaryIO
    size: int


class LogStore:
    """The record of every unit's output.  When the disk is full or the folder read-only,
    the stack runs on: the lines are counted, not kept, `on_trouble` says so once (with the
    folder and the free space), a write is tried again every `RETRY_SECONDS`, and once one
    reaches the disk `on_trouble` says so and a line in the store marks the gap."""

    def __init__(self, root: Path, *, max_file_size: int, max_total_size: int,
                 on_trouble: Callable[[str], None] | None = None) -> None:
        self.root = root
        self.max_file_size = max(4096, max_file_size)
        self.max_total_size = max(self.max_file_size * 2, max_total_size)
        self.on_trouble = on_trouble
        self.trouble: str | None = None  # why the store cannot write, while it cannot
        self.unkept_lines = 0
        self._retry_at = 0.0
        self._open: dict[Path, _Open] = {}
        self._folders: dict[UnitRef, Path] = {}
        self._prefixes: dict[tuple[Source, Stream], bytes] = {}
        self.total_size = sum(p.stat().st_size for _k, _n, folder in owners(root) for p in segments(folder))

    def write(self, chunk: LogChunk) -> None:
        if self.trouble is not None and time.monotonic() < self._retry_at:
            self.unkept_lines += chunk.data.count(b"\n")
            return
        try:
            folder = self._folders.get(chunk.unit)
            if folder is None:
                folder = self._folders[chunk.unit] = owner_dir(self.root, chunk.unit)
            current = self._current(folder)
            head = b"%d\t%s\t%s\t" % (int(chunk.ts * 1_000_000), chunk.unit.source.value.encode(),
                                      chunk.stream.value.encode())
            # One copy: the replace also puts a head after the final newline, which is not written.
            body = chunk.data.replace(b"\n", b"\n" + head)
            current.handle.write(head)
            current.handle.write(memoryview(body)[: len(body) - len(head)])
            written = len(body)
            current.size += written
            self.total_size += written
            if current.size >= self.max_file_size:
                self._rotate(current)
        except OSError as exc:  # ENOSPC, EROFS, EDQUOT, EACCES…: never the stack's problem
            self.unkept_lines += chunk.data.count(b"\n")
            self._cannot_write(exc)

    chunk = write  # the hub's sink interface; an alias, not a wrapper: it runs per chunk

    def note(self, unit: UnitRef, text: str, ts: float) -> None:
        self.write(LogChunk(unit, Stream.AURA, ts, text.encode() + b"\n"))

    def notice(self, unit: UnitRef | None, text: str, level: Level, ts: float) -> None:
        """aura's own line about `unit` (about the whole stack: under `aura`)."""
        self.note(unit or AURA_UNIT, text, ts)

    def _current(self, folder: Path) -> _Open:
        current = self._open.get(folder)
        if current is not None:
            return current
        folder.mkdir(parents=True, exist_ok=True)
        existing = segments(folder)
        if existing and existing[-1].stat().st_size < self.max_file_size:
            path = existing[-1]
            number = int(path.stem)
        else:
            number = int(existing[-1].stem) + 1 if existing else 1
            path = folder / f"{number:08d}.log"
        handle = open(path, "ab", buffering=1 << 18)  # noqa: SIM115 - kept open across writes
        size = path.stat().st_size
        if size and _last_byte(path) != b"\n":
            handle.write(b"\n")  # a line cut short when the disk filled up: the next one starts clean
        current = self._open[folder] = _Open(folder, number, handle, size)
        return current

    def _rotate(self, current: _Open) -> None:
        current.handle.close()
        number = current.number + 1
        path = current.folder / f"{number:08d}.log"
        self._open[current.folder] = _Open(current.folder, number, open(path, "ab", buffering=1 << 18), 0)
        if self.total_size > self.max_total_size:
            self._enforce_cap()

    def _enforce_cap(self) -> None:
        active = {folder / f"{o.number:08d}.log" for folder, o in self._open.items()}
        candidates = []
        for _kind, _name, folder in owners(self.root):
            for path in segments(folder):
                if path not in active:
                    stat = path.stat()
                    candidates.append((stat.st_mtime, path, stat.st_size))
        candidates.sort()
        for _mtime, path, size in candidates:
            if self.total_size <= self.max_total_size:
                break
            path.unlink(missing_ok=True)
            self.total_size -= size

    def flush(self) -> None:
        try:
            for current in self._open.values():
                current.handle.flush()
        except OSError as exc:
            self._cannot_write(exc)
            return
        if self.trouble is not None and self._open:  # a retried write reached the disk
            self._writing_again()

    def close(self) -> None:
        self.flush()
        self._close_all()

    def _close_all(self) -> None:
        for current in self._open.values():
            try:
                current.handle.close()
            except OSError:
                pass  # what its buffer held is lost; the handle is closed all the same
        self._open.clear()

    def _cannot_write(self, exc: OSError) -> None:
        self._close_all()
        self._retry_at = time.monotonic() + RETRY_SECONDS
        if self.trouble is not None:
            return  # said once per outage
        self.trouble = exc.strerror or str(exc)
        if self.on_trouble is not None:
            self.on_trouble(f"cannot write the logs to {self.root}: {self.trouble} ({_free_space(self.root)} free); "
                            "the stack keeps running, but its output is not kept until writing works again")

    def _writing_again(self) -> None:
        text = (f"writing the logs to {self.root} again; {self.unkept_lines} lines in between were not kept "
                f"(the disk was full or the folder read-only: {self.trouble})")
        self.trouble, self.unkept_lines = None, 0
        self.note(AURA_UNIT, text, time.time())  # the gap, marked in the record itself
        if self.on_trouble is not None:
            self.on_trouble(text)


RETRY_SECONDS = 1.0


def _last_byte(path: Path) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1)


def _free_space(root: Path) -> str:
    folder = root
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return "unknown space"
    from rich.filesize import decimal  # only when the disk is full: rich costs start-up time

    return decimal(free)
