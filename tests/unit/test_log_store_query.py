"""The log store and its queries, on records written through the real store."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from aura_dev.logs.query import Follower, LogFilter, query
from aura_dev.logs.record import Level, LogChunk, Source, Stream, UnitRef
from aura_dev.logs.store import LogStore, segments
from aura_dev.logs.view import LineFormatter, parse_since

APP = UnitRef("api", Source.APP)
SIDECAR = UnitRef("api", Source.SIDECAR)
OTHER = UnitRef("worker", Source.APP)
REDIS = UnitRef("redis", Source.INFRA)


def store(tmp_path: Path, **kw: int) -> LogStore:
    return LogStore(tmp_path, max_file_size=kw.get("max_file_size", 1 << 20),
                    max_total_size=kw.get("max_total_size", 1 << 30))


def write(s: LogStore, unit: UnitRef, ts: float, *lines: str, stream: Stream = Stream.OUT) -> None:
    s.write(LogChunk(unit, stream, ts, "".join(f"{line}\n" for line in lines).encode()))


def texts(lines: object) -> list[str]:
    return [line.record().text for line in lines]  # type: ignore[attr-defined]


def sample(tmp_path: Path) -> Path:
    s = store(tmp_path)
    now = time.time()
    write(s, APP, now - 3600, "INFO: old start")
    write(s, SIDECAR, now - 1800, 'time="x" level=warning msg="app not ready" scope=dapr.runtime')
    write(s, OTHER, now - 600, "processing job 1", "processing job 2")
    write(s, APP, now - 60, "ERROR: payment failed order=7", stream=Stream.ERR)
    write(s, REDIS, now - 30, "1:M * Ready to accept connections")
    write(s, APP, now - 5, "INFO: GET /healthz 200")
    s.close()
    return tmp_path


def test_lines_come_back_merged_in_time_order(tmp_path: Path) -> None:
    assert texts(query(sample(tmp_path), LogFilter())) == [
        "INFO: old start", 'time="x" level=warning msg="app not ready" scope=dapr.runtime', "processing job 1",
        "processing job 2", "ERROR: payment failed order=7", "1:M * Ready to accept connections",
        "INFO: GET /healthz 200"]


def test_every_filter(tmp_path: Path) -> None:
    root = sample(tmp_path)
    now = time.time()
    assert texts(query(root, LogFilter(services={"worker"}))) == ["processing job 1", "processing job 2"]
    assert texts(query(root, LogFilter(sources={Source.SIDECAR}))) == [
        'time="x" level=warning msg="app not ready" scope=dapr.runtime']
    assert texts(query(root, LogFilter(sources={Source.INFRA}))) == ["1:M * Ready to accept connections"]
    assert texts(query(root, LogFilter(min_level=Level.WARN))) == [
        'time="x" level=warning msg="app not ready" scope=dapr.runtime', "ERROR: payment failed order=7"]
    assert texts(query(root, LogFilter(min_level=Level.ERROR))) == ["ERROR: payment failed order=7"]
    assert texts(query(root, LogFilter(since_us=int((now - 120) * 1e6)))) == [
        "ERROR: payment failed order=7", "1:M * Ready to accept connections", "INFO: GET /healthz 200"]
    assert texts(query(root, LogFilter(grep=re.compile(rb"job \d")))) == ["processing job 1", "processing job 2"]
    # anchored patterns match the text, not the stored timestamp in front of it
    assert texts(query(root, LogFilter(grep=re.compile(rb"^ERROR")))) == ["ERROR: payment failed order=7"]
    assert texts(query(root, LogFilter(grep=re.compile(rb"^app")))) == []  # the source field is not text
    assert texts(query(root, LogFilter(grep=re.compile(rb"payment failed")))) == ["ERROR: payment failed order=7"]
    assert texts(query(root, LogFilter(grep=re.compile(rb"PAYMENT", re.IGNORECASE)))) == [
        "ERROR: payment failed order=7"]
    assert texts(query(root, LogFilter(grep=re.compile(rb"PAYMENT")))) == []
    assert texts(query(root, LogFilter(grep=re.compile(rb"out")))) == []  # nor is the stream field
    assert texts(query(root, LogFilter(), tail=2)) == ["1:M * Ready to accept connections", "INFO: GET /healthz 200"]
    assert texts(query(root, LogFilter(services={"api"}, grep=re.compile(rb"INFO")), tail=1)) == [
        "INFO: GET /healthz 200"]


def test_since_finds_its_cut_in_big_files_without_losing_a_line(tmp_path: Path) -> None:
    s = store(tmp_path, max_file_size=256 * 1024)
    base = 1_700_000_000.0
    for second in range(20_000):
        write(s, APP, base + second, f"line {second}")
    s.close()
    assert len(segments(tmp_path / "services" / "api")) >= 3
    got = texts(query(tmp_path, LogFilter(since_us=int((base + 12_345) * 1e6))))
    assert got[0] == "line 12345" and got[-1] == "line 19999" and len(got) == 20_000 - 12_345


def test_rotation_keeps_the_newest_within_the_total_cap(tmp_path: Path) -> None:
    s = store(tmp_path, max_file_size=64 * 1024, max_total_size=256 * 1024)
    for index in range(20_000):
        write(s, APP, 1_700_000_000 + index / 1000, f"record {index:06d} " + "x" * 40)
    s.close()
    files = segments(tmp_path / "services" / "api")
    total = sum(f.stat().st_size for f in files)
    assert len(files) >= 3
    assert total <= 256 * 1024 + 64 * 1024  # the cap, plus the segment being written
    kept = texts(query(tmp_path, LogFilter()))
    assert kept[-1].startswith("record 019999")
    numbers = [int(t.split()[1]) for t in kept]
    assert numbers == sorted(numbers) and numbers == list(range(numbers[0], 20_000))  # a contiguous tail


def test_store_continues_the_last_segment_across_restarts(tmp_path: Path) -> None:
    first = store(tmp_path)
    write(first, APP, 1.0, "before")
    first.close()
    second = store(tmp_path)
    write(second, APP, 2.0, "after")
    second.close()
    assert len(segments(tmp_path / "services" / "api")) == 1
    assert texts(query(tmp_path, LogFilter())) == ["before", "after"]


def test_invalid_utf8_and_tabs_survive_byte_for_byte(tmp_path: Path) -> None:
    s = store(tmp_path)
    raw = b"bad \xff\xfe bytes\tand a tab \x00 nul\n"
    s.write(LogChunk(APP, Stream.OUT, 1.0, raw))
    s.close()
    stored = (tmp_path / "services" / "api" / "00000001.log").read_bytes()
    assert stored.endswith(b"\tapp\tout\t" + raw)
    [line] = list(query(tmp_path, LogFilter()))
    assert line.record().text == raw[:-1].decode("utf-8", "replace")


def test_follower_reads_across_rotation_and_new_owners(tmp_path: Path) -> None:
    s = store(tmp_path, max_file_size=8 * 1024)
    write(s, APP, 1.0, "history")
    s.flush()
    follower = Follower(tmp_path, LogFilter())
    seen: list[str] = []
    for index in range(2_000):
        write(s, APP, 2.0 + index / 1000, f"live {index}")
        if index % 250 == 0:
            s.flush()
            seen += texts(follower.poll())
    write(s, OTHER, 10.0, "a service that started later")
    s.flush()
    seen += texts(follower.poll())
    s.close()
    seen += texts(follower.poll())
    assert len(segments(tmp_path / "services" / "api")) > 5
    assert seen[:2000] == [f"live {i}" for i in range(2_000)]  # nothing lost, nothing repeated
    assert seen[2000:] == ["a service that started later"]


def test_formatter_marks_and_colours(tmp_path: Path) -> None:
    s = store(tmp_path)
    write(s, SIDECAR, 1.0, 'time="t" level=error msg="boom" app_id=api instance=vm scope=dapr.runtime type=log ver=1')
    s.close()
    [line] = list(query(tmp_path, LogFilter()))
    plain = LineFormatter(colour=False, width=9, raw=False).human(line).decode()
    assert plain.endswith("api·dapr  | boom  [runtime]\n")
    assert "\x1b[" not in plain
    coloured = LineFormatter(colour=True, width=9, raw=False).human(line)
    assert b"\x1b[31m" in coloured  # the error stands out
    assert b'msg="boom"' in LineFormatter(colour=False, width=9, raw=True).human(line)


def test_parse_since() -> None:
    now = 1_800_000_000.0
    assert parse_since("10m", now) == now - 600
    assert parse_since("2h", now) == now - 7200
    assert parse_since("1.5d", now) == now - 1.5 * 86400
    assert abs(parse_since("2026-11-28T12:00:00+00:00") - 1795867200.0) < 1e-6


def test_since_never_points_into_the_future() -> None:
    from datetime import datetime, timedelta

    now = datetime(2026, 12, 3, 9, 30).timestamp()
    with pytest.raises(ValueError, match="is in the future"):
        parse_since("2026-12-04", now)
    assert parse_since("09:00", now) == datetime(2026, 12, 3, 9, 0).timestamp()
    assert parse_since("23:59", now) == datetime(2026, 12, 2, 23, 59).timestamp()  # yesterday's 23:59
    assert parse_since("23:59", now) < now - timedelta(minutes=1).total_seconds()


def test_tail_reads_backwards_across_blocks_and_segments(tmp_path: Path) -> None:
    from aura_dev.logs import query as q

    s = store(tmp_path, max_file_size=32 * 1024)
    for index in range(5_000):
        write(s, APP, 1_700_000_000 + index, f"n {index} " + ("even" if index % 2 == 0 else "odd") + " x" * (index % 13))
    s.close()
    assert len(segments(tmp_path / "services" / "api")) > 5
    original = q._reverse_blocks
    q._reverse_blocks = lambda path, size=1 << 20: original(path, 700)  # type: ignore[assignment]
    try:
        last = texts(query(tmp_path, LogFilter(), tail=1500))
        evens = texts(query(tmp_path, LogFilter(grep=re.compile(rb"even")), tail=777))
    finally:
        q._reverse_blocks = original  # type: ignore[assignment]
    assert [int(t.split()[1]) for t in last] == list(range(3500, 5000))
    assert [int(t.split()[1]) for t in evens] == list(range(5000 - 2 * 777, 5000, 2))
