"""`infra.keep`'s pure parts: what a record holds, when a kept unit matches what a run would
start (and the one line saying why not), secrets kept out of the record, the supervisor's
last line, and following a unit's output file as a pipe would be read."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

from aura_dev.engine import kept_record
from aura_dev.engine.kept_infra import stopped_line
from aura_dev.engine.kept_record import KeptRecord, Wanted, mismatch
from aura_dev.logs.record import LogChunk, Source, Stream, UnitRef
from aura_dev.logs.splitter import LineSplitter
from aura_dev.plan.infra import InfraKind
from aura_dev.units.kept import FileFollower

ARGV = ("/usr/bin/redis-server", "--port", "31001", "--bind", "127.0.0.1")
WANTED = Wanted(ARGV, {"main": 31001}, "1.18.2", {"enabled": True, "port": "auto", "persist": True})


def record(wanted: Wanted = WANTED, pid: int = 4242, create_time: float = 1000.0) -> KeptRecord:
    return KeptRecord(InfraKind.REDIS, pid, create_time, pid, wanted, started_at=999.0)


def test_the_same_unit_matches() -> None:
    assert mismatch(record(), WANTED) is None


def test_each_difference_is_named_in_one_line() -> None:
    assert mismatch(record(), replace(WANTED, runtime_version="1.19.0")) == \
        "runs Dapr 1.18.2, this run wants 1.19.0"
    assert mismatch(record(), replace(WANTED, settings={**WANTED.settings, "port": 6400})) == \
        "has other settings (infra.redis.port changed)"
    assert mismatch(record(), replace(WANTED, ports={"main": 31002})) == "listens on other ports (main 31001 → 31002)"
    assert mismatch(record(), replace(WANTED, argv=(*ARGV, "--loglevel", "debug"))) == \
        "was started with another command line"


def test_secrets_are_compared_by_digest_never_stored() -> None:
    argv = kept_record.masked(["redis-server", "--requirepass", "s3cret", "--port", "1"])
    assert "s3cret" not in " ".join(argv) and argv[2].startswith("sha256:")
    assert argv == kept_record.masked(["redis-server", "--requirepass", "s3cret", "--port", "1"])
    assert argv != kept_record.masked(["redis-server", "--requirepass", "other", "--port", "1"])
    settings = kept_record.masked_settings({"password": "s3cret", "port": "auto"})
    assert "s3cret" not in str(settings) and settings["port"] == "auto"


def test_records_round_trip_and_bad_entries_read_as_none(tmp_path: Path) -> None:
    state_dir = tmp_path / ".aura"
    (state_dir / "run").mkdir(parents=True)
    kept_record.save(state_dir, {InfraKind.REDIS: record()})
    assert kept_record.load(state_dir) == {InfraKind.REDIS: record()}
    kept_record.kept_path(state_dir).write_text('{"redis": {"pid": "x"}, "placement": 3}')
    assert kept_record.load(state_dir) == {}
    kept_record.save(state_dir, {})
    assert not kept_record.kept_path(state_dir).exists()


def test_only_the_same_live_process_counts(tmp_path: Path) -> None:
    import psutil

    me = psutil.Process(os.getpid())
    state_dir = tmp_path / ".aura"
    (state_dir / "run").mkdir(parents=True)
    ours = record(pid=me.pid, create_time=me.create_time())
    reused_pid = record(pid=me.pid, create_time=me.create_time() - 60)  # same pid, another process
    kept_record.save(state_dir, {InfraKind.REDIS: ours, InfraKind.PLACEMENT: replace(reused_pid, kind=InfraKind.PLACEMENT)})
    assert kept_record.live(state_dir) == {InfraKind.REDIS: ours}
    assert kept_record.live_pids(state_dir) == {me.pid}
    assert [(k["unit"], k["state"]) for k in kept_record.status(state_dir)] == [("redis", "kept"), ("placement", "gone")]


def test_the_last_line_says_what_is_kept_and_how_to_stop_it() -> None:
    assert stopped_line([]) == "stopped; nothing left running"
    line = stopped_line([record()])
    assert "kept running (infra.keep): redis (pid 4242, port 31001)" in line and "aura dev down --all" in line


def test_a_followed_file_gives_whole_lines_survives_truncation_and_flushes_a_stale_partial(tmp_path: Path) -> None:
    got: list[bytes] = []

    def sink(chunk: LogChunk) -> None:
        got.append(chunk.data)

    path = tmp_path / "redis.out.log"
    path.write_bytes(b"before adoption\n")
    follower = FileFollower(path, LineSplitter(UnitRef("redis", Source.INFRA), Stream.OUT, sink), from_end=True)
    assert follower.read() is False and got == []  # what was written before is not shown again
    with open(path, "ab") as out:
        out.write(b"one\ntwo\npart")
    assert follower.read() is True and got == [b"one\ntwo\n"]
    path.write_bytes(b"")  # a fresh start truncates: followed from the top
    with open(path, "ab") as out:
        out.write(b"fresh\n")
    follower.read()
    assert got[-2:] == [b"part\n", b"fresh\n"]
    with open(path, "ab") as out:
        out.write(b"prompt> ")
    follower.read()
    follower._partial_since = time.monotonic() - 1  # as if half a second had passed
    follower.read()
    assert got[-1] == b"prompt> \n"


def test_keep_chooses_native_processes_and_refuses_docker(tmp_path: Path) -> None:
    import pytest

    from aura_dev.errors import InfraError
    from aura_dev.infra.select import resolve_backend
    from aura_dev.workspace.load import load_workspace

    (tmp_path / "aura.yaml").write_text("name: k\ninfra: {keep: true}\nservices: {}\n")
    ws = load_workspace(tmp_path / "aura.yaml")
    assert resolve_backend("auto", ws, "1.18.2") == ("native", "infra.keep runs infra as native processes")
    assert resolve_backend("native", ws, "1.18.2") == ("native", None)
    with pytest.raises(InfraError, match="infra.keep is not supported by the docker backend"):
        resolve_backend("docker", ws, "1.18.2")
