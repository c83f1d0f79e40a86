"""What an open page receives: lines through `aura dev logs`' filters, in order, with the
console's levels and colours; a page that cannot keep up gets "N lines not shown" and never
holds more than its bound; Dapr's metadata and the app's env as the panels show them."""

from __future__ import annotations

import asyncio
from typing import Any

from aura_dev.dashboard.dapr_view import masked_argv, masked_env, shape_metadata
from aura_dev.dashboard.lines import service_colour, shown, xterm_hex
from aura_dev.dashboard.stream import Broadcaster, Client, Subscription
from aura_dev.engine.events import EventHub, StateChange
from aura_dev.engine.service_view import ServiceDetails
from aura_dev.engine.unit_state import UnitState
from aura_dev.logs.filters import build_log_filter
from aura_dev.logs.record import Level, LogChunk, Source, Stream, UnitRef
from aura_dev.workspace.resolved import MASK

APP = UnitRef("orders", Source.APP)
SIDECAR = UnitRef("orders", Source.SIDECAR)


def chunk(unit: UnitRef, *lines: str, ts: float = 1.0) -> LogChunk:
    return LogChunk(unit, Stream.OUT, ts, "".join(line + "\n" for line in lines).encode())


def texts(messages: list[tuple[str, Any]]) -> list[str]:
    return [str(line[5]) for name, data in messages if name == "lines" for line in data["lines"]]


def test_lines_pass_the_same_filters_as_aura_dev_logs() -> None:
    flt = build_log_filter(grep="pay(ment)?", sources=["app"], level="warn")
    client = Client(Subscription(lines=True, flt=flt))
    client.chunk(chunk(APP, "payment ok", "WARNING payment slow", "ERROR: no pay", "unrelated error"))
    client.chunk(chunk(SIDECAR, 'level=warning msg="payment component slow"'))  # not an app line
    client.chunk(chunk(APP, "nothing to see"))  # no match anywhere: not even queued
    assert client.queued_lines == 4
    assert texts(client.take()) == ["WARNING payment slow", "ERROR: no pay"]


def test_a_selection_of_units_and_sidecar_lines_shortened_like_the_console() -> None:
    client = Client(Subscription(lines=True, flt=build_log_filter(), units=frozenset({("orders", "sidecar")})))
    client.chunk(chunk(APP, "app line"))
    client.chunk(chunk(SIDECAR, 'time="t" level=info msg="Placement tables updated" app_id=orders scope=dapr.runtime'))
    client.notice_line(APP, "restarting", Level.INFO, 2.0)
    client.notice_line(SIDECAR, "components changed: restarting the sidecar", Level.WARN, 3.0)
    [(name, data)] = client.take()
    assert name == "lines"
    assert [line[5] for line in data["lines"]] == ["Placement tables updated  [runtime]",
                                                   "components changed: restarting the sidecar"]
    assert data["lines"][1][3:5] == ["aura", "warn"]
    assert data["colours"] == {"orders": service_colour("orders")}
    assert Client(Subscription(lines=True)).lines_message(data["lines"])[1]["colours"]  # per page, once
    assert client.lines_message(data["lines"])[1]["colours"] == {}


def test_a_page_that_falls_behind_keeps_the_newest_lines_within_its_bound_and_counts_the_rest() -> None:
    client = Client(Subscription(lines=True), max_lines=100)
    for index in range(50):
        client.chunk(chunk(APP, f"a{index}", f"b{index}"))  # 100 lines: exactly the bound
    for index in range(30):
        client.chunk(chunk(APP, f"new{index}"))  # each pushes the oldest out
    assert client.queued_lines <= 100 and client.queued_lines + client.dropped == 130
    dropped = client.dropped
    lines = texts(client.take())
    assert lines[0].startswith(f"{dropped} lines not shown: the page did not keep up")
    assert lines[-30:] == [f"new{index}" for index in range(30)] and len(lines) == 1 + 130 - dropped
    client.chunk(chunk(APP, "late"))
    assert texts(client.take()) == ["late"]  # counted once, then a clean slate


def test_the_gap_is_marked_where_it_happened_and_events_are_not_pushed_out_by_lines() -> None:
    client = Client(Subscription(lines=True), max_lines=2)
    client.chunk(chunk(APP, "1", "2"))
    client.event("state", {"label": "orders"})
    client.chunk(chunk(APP, "3"))  # no room: the oldest lines give way
    client.chunk(chunk(APP, "4"))
    messages = client.take()
    assert messages[0] == ("state", {"label": "orders"})
    assert texts(messages) == ["2 lines not shown: the page did not keep up (all of them are in `aura dev logs`)",
                               "3", "4"]


def test_the_broadcaster_is_on_the_hub_only_while_a_page_is_open_and_coalesces_unit_records() -> None:
    class Store:
        def chunk(self, chunk: LogChunk) -> None: ...
        def notice(self, unit: UnitRef | None, text: str, level: Level, ts: float) -> None: ...
        def flush(self) -> None: ...

    snapshots: list[int] = []

    async def scenario() -> None:
        hub = EventHub(Store())
        board = Broadcaster(hub, lambda: fake_snapshot(snapshots))
        assert board not in hub.views and not hub.state_listeners
        page = board.open(Subscription())
        logs = board.open(Subscription(lines=True))
        assert hub.views == [board] and hub.state_listeners == [board.on_state]
        hub.state(StateChange(APP, UnitState.STARTING))
        hub.state(StateChange(APP, UnitState.READY, "0.40 s"))
        hub.notice(APP, "ready in 0.40 s")
        hub.chunk(chunk(APP, "hello"))
        hub.metrics({"services": {"orders": {"rps": 2.5}}})  # a scrape of the sidecars' metrics
        await asyncio.sleep(0.1)
        names = [name for name, _data in page.take()]
        assert names == ["state", "state", "notice", "metrics", "units"]  # a units page gets no lines
        assert len(snapshots) == 1  # two changes, one snapshot
        assert texts(logs.take()) == ["ready in 0.40 s", "hello"]
        board.close(page)
        board.close(logs)
        assert hub.views == [] and hub.state_listeners == [] and hub.metrics_listeners == []

    asyncio.run(scenario())


def fake_snapshot(calls: list[int]) -> Any:
    from aura_dev.engine.snapshot import StackSnapshot, UnitRecord

    calls.append(1)
    return StackSnapshot(workspace="/w", file="/w/aura.yaml", name="w", key="k", supervisor_pid=1,
                         supervisor_create_time=0.0, started_at=0.0, backend="native", runtime_version="1.18.2",
                         control="/c", settled=True, units={"orders": UnitRecord("orders", Source.APP, UnitState.READY)},
                         services={})


def test_console_colours_and_levels_carry_over() -> None:
    assert xterm_hex(39) == "#00afff" and xterm_hex(208) == "#ff8700" and xterm_hex(16) == "#000000"
    assert shown(b"app", b"\x1b[31mERROR\x1b[0m: boom") == ("ERROR: boom", Level.ERROR)
    assert shown(b"sidecar", b'level=warning msg="slow"') == ("slow", Level.WARN)


def test_metadata_env_and_argv_as_the_panels_show_them() -> None:
    raw = {"id": "sessions", "runtimeVersion": "1.18.2", "enabledFeatures": ["HotReload"],
           "actors": [{"type": "Old"}],
           "actorRuntime": {"runtimeStatus": "RUNNING", "activeActors": [{"type": "SessionActor", "count": 2}],
                            "placement": "placement: connected"},
           "components": [{"name": "statestore", "type": "state.redis", "version": "v1", "capabilities": ["ACTOR"]}],
           "subscriptions": [{"pubsubname": "pubsub", "topic": "messages", "rules": [{"path": "/in"}],
                              "deadLetterTopic": "dead", "type": "DECLARATIVE"}],
           "extended": {"appCommand": "node server.js", "apiToken": "x"}, "appConnectionProperties": {"port": 1}}
    shaped = shape_metadata(raw)
    assert shaped["actors"] == [{"type": "SessionActor", "count": 2}]
    assert shaped["subscriptions"] == [{"pubsub": "pubsub", "topic": "messages", "routes": [{"match": "", "path": "/in"}],
                                        "deadLetterTopic": "dead", "type": "DECLARATIVE", "metadata": {}}]
    assert shaped["components"][0]["capabilities"] == ["ACTOR"] and shaped["extended"]["apiToken"] == MASK
    assert shape_metadata({"components": "junk", "subscriptions": [None]})["components"] == []
    details = ServiceDetails(name="a", app_id="a", app_command="x", app_argv=("x",), app_cwd="/",
                             app_env={"PATH": "/bin", "DAPR_API_TOKEN": "t0k", "DB_PASSWORD": "", "GREETING": "hi"},
                             inherited_env=frozenset({"PATH"}), sidecar_argv=None, sidecar_http_port=None,
                             api_token=None)
    rows = {row["name"]: row for row in masked_env(details)}
    assert rows["DAPR_API_TOKEN"]["value"] == MASK and rows["DAPR_API_TOKEN"]["masked"]
    assert rows["DB_PASSWORD"]["value"] == "" and rows["GREETING"]["value"] == "hi"  # as `aura dev config` does
    assert [row["name"] for row in masked_env(details)][-1] == "PATH"  # inherited ones last
    assert masked_argv(("daprd", "--app-id", "a", "--api-token", "t0k")) == ["daprd", "--app-id", "a", "--api-token", MASK]
