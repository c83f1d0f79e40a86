"""Queries whose words go to the system's grep find exactly what the pure-Python scan finds."""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

import psutil
import pytest

import aura_dev.logs.query as query_module
from aura_dev.logs.fastgrep import grep_lines, system_grep
from aura_dev.logs.query import KeywordScanner, LogFilter, query
from aura_dev.logs.record import Level, LogChunk, Source, Stream, UnitRef
from aura_dev.logs.store import LogStore

TEXTS = [
    "INFO served /api/orders/{n} status=200",
    "ERROR payment gateway timeout order={n}",
    "error: Payment Gateway TIMEOUT again {n}",
    'time="x" level=warning msg="app not ready {n}" scope=dapr.runtime',
    "Traceback (most recent call last): {n}",
    "KeyError: 'user' {n}",
    "debug cache miss {n} \udcff",  # an invalid UTF-8 byte in the stored line
    "-e looks like an option {n}",
    "payment gateway fine {n}",
]


def busy_store(root: Path) -> Path:
    """Three services, small segments (so queries cross many files), a mix of levels."""
    rng = random.Random(7)
    store = LogStore(root, max_file_size=64 << 10, max_total_size=1 << 30)
    units = [UnitRef("api", Source.APP), UnitRef("api", Source.SIDECAR), UnitRef("worker", Source.APP)]
    start = time.time() - 3600
    for n in range(6000):
        unit = units[n % 3]
        text = rng.choice(TEXTS).format(n=n).encode("utf-8", "surrogateescape")
        store.write(LogChunk(unit, rng.choice([Stream.OUT, Stream.ERR]), start + n * 0.5, text + b"\n"))
    store.close()
    return root


def both_ways(root: Path, flt: LogFilter, monkeypatch: pytest.MonkeyPatch) -> tuple[list[bytes], list[bytes]]:
    with_grep = [line.raw for line in query(root, flt)]
    with monkeypatch.context() as patched:
        patched.setattr(query_module, "system_grep", lambda: None)
        pure_python = [line.raw for line in query(root, flt)]
    return with_grep, pure_python


def test_the_system_grep_is_usable_here() -> None:
    assert system_grep() is not None  # else the comparisons below would compare Python with itself


@pytest.mark.parametrize("flt", [
    LogFilter(min_level=Level.WARN),
    LogFilter(min_level=Level.ERROR),
    LogFilter(grep=re.compile(rb"payment gateway timeout")),
    LogFilter(grep=re.compile(rb"payment gateway timeout", re.IGNORECASE)),
    LogFilter(grep=re.compile(rb"-e looks")),
    LogFilter(grep=re.compile(rb"payment gateway"), min_level=Level.ERROR, services={"api"}),
    LogFilter(grep=re.compile(rb"KeyError|most recent call|TIMEOUT", re.IGNORECASE)),
], ids=["warn", "error", "phrase", "phrase-i", "dash", "phrase+level+service", "alternatives"])
def test_grep_and_python_agree(tmp_path: Path, flt: LogFilter, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(flt.block_prefilter(), KeywordScanner)  # plain words: the grep path
    root = busy_store(tmp_path)
    with_grep, pure_python = both_ways(root, flt, monkeypatch)
    assert with_grep == pure_python
    assert len(with_grep) > 100  # the filter found something worth comparing


def test_since_starts_grep_mid_segment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = busy_store(tmp_path)
    cut = int((time.time() - 3600 + 1234.25) * 1e6)
    flt = LogFilter(min_level=Level.ERROR, since_us=cut)
    with_grep, pure_python = both_ways(root, flt, monkeypatch)
    assert with_grep == pure_python and with_grep
    assert min(int(raw.split(b"\t", 1)[0]) for raw in with_grep) >= cut


def test_a_reader_that_stops_early_leaves_no_grep_behind(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    path.write_bytes(b"".join(b"%d\tapp\tout\terror number %d\n" % (n, n) for n in range(400_000)))
    lines = grep_lines(path, 0, (b"error",), ignore_case=False)
    assert next(lines).endswith(b"error number 0")
    children = psutil.Process().children()
    assert any("grep" in child.name() for child in children)
    lines.close()
    assert not [child for child in psutil.Process().children() if child.is_running()
                and child.status() != psutil.STATUS_ZOMBIE and "grep" in child.name()]
