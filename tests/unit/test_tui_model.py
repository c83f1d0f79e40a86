"""The terminal view's pure pieces: its rows, a selection's details, the log filter a
selection means, Dapr's metadata in lines, long lines wrapped under their text, and the log
feed (the store's lines, then new ones of its filter)."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.text import Text

from aura_dev.engine.snapshot import LastExit, ServiceRecord, StackSnapshot, UnitRecord
from aura_dev.engine.unit_state import UnitState
from aura_dev.logs.record import Level, LogChunk, Source, Stream, UnitRef
from aura_dev.logs.store import LogStore
from aura_dev.tui import model
from aura_dev.tui.feed import LogFeed
from aura_dev.units.base import UnitIdentity


def snapshot() -> StackSnapshot:
    return StackSnapshot(
        workspace="/w", file="/w/aura.yaml", name="shop", key="k", supervisor_pid=1, supervisor_create_time=1.0,
        started_at=100.0, backend="native", runtime_version="1.18.2", control="/w/c.sock", settled=True,
        units={
            "redis": UnitRecord("redis", Source.INFRA, UnitState.READY, identity=UnitIdentity(pid=7), ports={"main": 26001}),
            "cart": UnitRecord("cart", Source.APP, UnitState.READY, restarts=2, since=1000.0,
                               identity=UnitIdentity(pid=41), ports={"app": 26010}),
            "cart·dapr": UnitRecord("cart", Source.SIDECAR, UnitState.BACKOFF, "exited with status 1", restarts=3,
                                    ports={"http": 26011, "grpc": None},
                                    last_exit=LastExit("exited with status 1", 990.0, UnitState.BACKOFF)),
            "worker": UnitRecord("worker", Source.APP, UnitState.STARTING, identity=UnitIdentity(pid=50)),
        },
        services={"cart": ServiceRecord("cart", "http://127.0.0.1:26010", 26010, True, ("redis",), 26011, 26012),
                  "worker": ServiceRecord(None, None, None, False)},
    )


def test_a_row_per_service_with_its_app_and_sidecar_then_the_infra() -> None:
    rows = model.rows(snapshot())
    assert [(row.key, row.is_service) for row in rows] == [("cart", True), ("worker", True), ("redis", False)]
    cart, worker, redis = ([text for text, _style in row.cells] for row in rows)
    assert cart == ["cart", "✓ ready", "26010", "2", "↻ backoff", "26011", "3"]
    assert worker == ["worker", "◌ starting", "", "0", "no sidecar", "", ""]
    assert redis[:4] == ["redis", "✓ ready", "26001", "0"] and len(redis) == len(model.COLUMNS)
    assert dict(rows[0].cells)["↻ backoff"] == "yellow"


def test_details_name_pids_ports_uptime_and_the_last_exit() -> None:
    text = model.details(snapshot(), "cart", now=1000.0 + 125)
    assert text.splitlines()[0] == "cart · app id cart · http://127.0.0.1:26010 · after redis"
    assert "pid 41  app 26010  up 2 min 5 s  restarts 2" in text
    assert "sidecar  ↻ backoff  http 26011  restarts 3" in text  # no pid while down, no empty port
    assert "exited with status 1" in text and "last exit: exited with status 1" in text
    assert model.details(snapshot(), "redis").splitlines() == ["redis", "redis    ✓ ready  pid 7  main 26001  restarts 0"]
    assert "sidecar  none" in model.details(snapshot(), "worker")


def test_the_log_filter_is_that_of_aura_dev_logs_with_smart_case() -> None:
    flt = model.log_filter("cart", model.Sources.SIDECAR, "warn", "Timeout")
    assert flt.services == {"cart"} and flt.sources == {Source.SIDECAR} and flt.min_level is Level.WARN
    assert flt.grep is not None and flt.grep.search(b"Timeout") and not flt.grep.search(b"timeout")
    lower = model.log_filter(None, model.Sources.BOTH, None, "timeout")
    assert lower.services == set() and lower.sources == set() and lower.min_level is None
    assert lower.grep is not None and lower.grep.search(b"TIMEOUT")
    assert model.Sources.BOTH.next() is model.Sources.APP and model.Sources.SIDECAR.next() is model.Sources.BOTH


def test_dapr_metadata_in_a_few_lines() -> None:
    assert model.dapr_lines(None, "connection refused") == ["Dapr: connection refused"]
    meta = {"id": "cart", "runtimeVersion": "1.18.2",
            "components": [{"name": "statestore", "type": "state.redis", "version": "v1"}],
            "subscriptions": [{"pubsub": "pubsub", "topic": "orders", "routes": [{"path": "/orders"}]}],
            "actors": [{"type": "CartActor", "count": 2}], "actorRuntime": {"placement": "placement: connected"},
            "scheduler": {"connected_addresses": ["127.0.0.1:26006"]},
            "app": {"port": 26010, "protocol": "http", "health": {"healthCheckPath": "/healthz"}}}
    assert model.dapr_lines(meta, None) == [
        "Dapr 1.18.2 · app id cart", "components  statestore (state.redis v1)", "subscribed  orders ← pubsub → /orders",
        "actors      CartActor ×2", "placement: connected", "scheduler: connected to 127.0.0.1:26006",
        "app channel http :26010, health /healthz"]


def test_a_long_line_wraps_under_its_text() -> None:
    console = Console(width=200)
    head = "12:00:00.000 cart·dapr   │ "
    line = Text(head + "word " * 30)
    wrapped = model.hanging(line, 80, console).plain.splitlines()
    assert wrapped[0].startswith(head) and len(wrapped) > 2
    assert all(row.startswith(" " * len(head)) and row.strip() for row in wrapped[1:])
    assert all(len(row) <= 80 for row in wrapped)
    assert " ".join(row.strip() for row in wrapped) == line.plain.strip()  # nothing lost
    short = Text(head + "fits")
    assert model.hanging(short, 80, console) is short
    assert model.hanging(line, len(head) + 10, console) is line  # too narrow to indent: as it comes


def test_the_feed_shows_the_stores_lines_then_new_ones_of_its_filter(tmp_path: Path) -> None:
    store = LogStore(tmp_path, max_file_size=1 << 20, max_total_size=1 << 24)
    unit = UnitRef("cart", Source.APP)
    store.write(LogChunk(unit, Stream.OUT, time.time(), b"one\ntwo\n"))
    store.flush()
    feed = LogFeed(tmp_path, model.log_filter("cart", model.Sources.BOTH, None, None))
    assert [line.record().text for line in feed.history] == ["one", "two"]
    assert feed.poll() == []
    store.write(LogChunk(unit, Stream.OUT, time.time(), b"three\n"))
    store.write(LogChunk(UnitRef("other", Source.APP), Stream.OUT, time.time(), b"not ours\n"))
    store.flush()
    assert [line.record().text for line in feed.poll()] == ["three"]
    store.close()
