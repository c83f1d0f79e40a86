"""The log store on a disk that fills up or turns read-only: it never raises, says so once
(folder and free space), counts what it could not keep, and writes again — with the gap
marked and no line cut in two — once space returns."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from aura_dev.logs import store as store_module
from aura_dev.logs.record import LogChunk, Source, Stream, UnitRef
from aura_dev.logs.store import LogStore
from support.tmpfs import remount, small_tmpfs

pytestmark = pytest.mark.integration

UNIT = UnitRef("chatty", Source.APP)
RECORD = re.compile(rb"^\d+\t(app|sidecar|infra)\t(out|err|aura)\t")


def lines(count: int, tag: str) -> LogChunk:
    return LogChunk(UNIT, Stream.OUT, time.time(), b"".join(b"%s %05d %s\n" % (tag.encode(), i, b"x" * 500)
                                                             for i in range(count)))


def written_records(root: Path) -> list[bytes]:
    return [line for path in sorted(root.rglob("*.log")) for line in path.read_bytes().splitlines()]


@pytest.fixture(autouse=True)
def quick_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "RETRY_SECONDS", 0.05)


def test_a_full_disk_is_said_once_and_writing_resumes_when_space_returns(tmp_path: Path) -> None:
    told: list[str] = []
    with small_tmpfs(tmp_path / "disk") as disk:
        store = LogStore(disk / "logs", max_file_size=64 << 20, max_total_size=1 << 30, on_trouble=told.append)
        for _ in range(200):  # 200 × 20 × ~530 bytes: well past 1 MB
            store.write(lines(20, "before"))
            store.flush()
        assert len(told) == 1, told
        assert f"cannot write the logs to {disk / 'logs'}: No space left on device" in told[0]
        assert re.search(r"\((\d+(\.\d+)? (bytes|kB|MB)) free\)", told[0]), told[0]
        for _ in range(20):  # still full: counted, not said again, never raised
            store.write(lines(20, "during"))
            store.flush()
        assert len(told) == 1 and store.unkept_lines > 0

        remount(disk, "size=8m")
        time.sleep(0.06)
        store.write(lines(3, "after"))
        store.flush()
        assert len(told) == 2 and "writing the logs to" in told[1] and "lines in between were not kept" in told[1]
        store.close()
        records = written_records(disk / "logs")
        assert all(RECORD.match(line) for line in records), "a line was cut in two"
        text = b"\n".join(records)
        assert b"after 00002" in text and b"lines in between were not kept" in text
        assert b"during" not in text


def test_a_read_only_folder_is_survived_the_same_way(tmp_path: Path) -> None:
    told: list[str] = []
    with small_tmpfs(tmp_path / "disk", size="8m") as disk:
        remount(disk, "ro")
        try:
            store = LogStore(disk / "logs", max_file_size=64 << 20, max_total_size=1 << 30, on_trouble=told.append)
            for _ in range(5):
                store.write(lines(2, "lost"))
                store.flush()
            assert len(told) == 1 and "Read-only file system" in told[0], told
        finally:
            remount(disk, "rw")
        time.sleep(0.06)
        store.write(lines(2, "back"))
        store.close()
        assert len(told) == 2
        text = b"\n".join(written_records(disk / "logs"))
        assert b"back 00001" in text and b"lost" not in text and b"10 lines in between were not kept" in text
