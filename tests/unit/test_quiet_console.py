"""The quiet foreground stream, piece by piece: repeats fold with the right counts (in one
chunk, across chunks, in a flood, after a quiet moment), Dapr's info lines go to the digest
instead of the screen, warnings stay (but not those aura's own setup causes), `verbose`
prints everything as it comes, and the stack's stop is summed up in one line."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from aura_dev.logs.digest import RuntimeDigest, expected_warning
from aura_dev.logs.record import LogChunk, Source, Stream, UnitRef
from aura_dev.logs.render import ConsoleRenderer
from aura_dev.logs.repeats import EXACT_BYTES, UnitRepeats, may_repeat

APP = UnitRef("orders", Source.APP)
SIDECAR = UnitRef("orders", Source.SIDECAR)
PLACEMENT = UnitRef("placement", Source.INFRA)


def logfmt(level: str, msg: str, scope: str = "dapr.runtime") -> bytes:
    return (f'time="2026-12-03T10:44:15.042Z" level={level} msg="{msg}" app_id=orders instance=vm '
            f'scope={scope} type=log ver=1.18.2').encode()


class Screen:
    def __init__(self, **options: object) -> None:
        self.out: list[bytes] = []
        self.now = 0.0
        self.renderer = ConsoleRenderer(self.out.append, colour=False, labels=["orders·dapr"],
                                        clock=lambda: self.now, **options)  # type: ignore[arg-type]

    def feed(self, unit: UnitRef, *lines: bytes) -> None:
        self.renderer.chunk(LogChunk(unit, Stream.OUT, 0.0, b"".join(line + b"\n" for line in lines)))

    def lines(self) -> list[str]:
        return b"".join(self.out).decode().splitlines()


def texts(screen: Screen) -> list[str]:
    return [line.split(" | ", 1)[1] for line in screen.lines()]


def test_a_run_in_one_chunk_shows_its_first_line_then_its_count_when_it_ends() -> None:
    screen = Screen()
    screen.feed(APP, b"start", b"retrying", b"retrying", b"retrying", b"done")
    assert texts(screen) == ["start", "retrying", "retrying (×3)", "done"]


def test_a_run_across_chunks_and_a_count_shown_after_a_quiet_moment() -> None:
    screen = Screen()
    screen.feed(APP, b"GET /healthz 200")
    screen.feed(APP, b"GET /healthz 200")
    screen.feed(APP, b"GET /healthz 200")
    assert texts(screen) == ["GET /healthz 200"]
    screen.now = 0.5
    screen.renderer.flush()
    assert texts(screen) == ["GET /healthz 200"], "not yet: the unit was quiet for less than a second"
    screen.now = 2.0
    screen.renderer.flush()
    assert texts(screen) == ["GET /healthz 200", "GET /healthz 200 (×3)"]
    screen.feed(APP, b"GET /healthz 200")  # the run goes on: counted, shown when it ends
    screen.now = 3.5
    screen.renderer.flush()  # within REPORT_SECONDS of the last count: nothing new yet
    screen.feed(APP, b"POST /orders 201")
    assert texts(screen)[-2:] == ["GET /healthz 200 (×4)", "POST /orders 201"]


def test_blank_lines_are_never_folded() -> None:
    screen = Screen()
    screen.feed(APP, b"a", b"", b"", b"", b"b")
    assert texts(screen) == ["a", "", "", "", "b"]


def test_a_flood_of_one_line_folds_into_two() -> None:
    screen = Screen()
    screen.feed(APP, *[b"connection refused, retrying"] * 20_000)
    screen.feed(APP, b"connected")
    assert texts(screen) == ["connection refused, retrying", "connection refused, retrying (×20000)", "connected"]


def test_an_aura_notice_about_the_unit_shows_the_count_first_and_finish_shows_open_counts() -> None:
    screen = Screen()
    screen.feed(APP, b"tick", b"tick")
    screen.renderer.notice(APP, "restarting (requested)")
    screen.feed(UnitRef("billing", Source.APP), b"x", b"x", b"x")
    screen.renderer.finish()
    assert texts(screen) == ["tick", "tick (×2)", "▶ restarting (requested)", "x", "x (×3)"]


def test_sidecar_info_lines_go_to_the_digest_and_warnings_stay() -> None:
    screen = Screen()
    screen.feed(SIDECAR, logfmt("info", "Component loaded: statestore (state.redis/v1)", "dapr.runtime.processor"),
                logfmt("info", "Component loaded: pubsub (pubsub.redis/v1)", "dapr.runtime.processor"),
                logfmt("warning", "mTLS is disabled. Skipping certificate request and tls validation"),
                logfmt("warning", "A non-YAML Subscription file x.json was detected, it will not be loaded"),
                logfmt("warning", "A non-YAML Subscription file x.json was detected, it will not be loaded"),
                logfmt("info", "Connected to placement service: 127.0.0.1:50005"),
                logfmt("error", "Failed to init component broken"))
    assert texts(screen) == [
        "A non-YAML Subscription file x.json was detected, it will not be loaded  [runtime]",
        "A non-YAML Subscription file x.json was detected, it will not be loaded  [runtime] (×2)",
        "Failed to init component broken  [runtime]",
    ]
    said = screen.renderer.digest.summary(SIDECAR)
    assert said == "2 components loaded (statestore, pubsub), placement connected, 2 warnings, 1 error"
    assert screen.renderer.digest.hidden() == 4  # three info lines and the expected warning


def test_infra_facts_and_redis_lines() -> None:
    digest = RuntimeDigest()
    screen = Screen(digest=digest)
    screen.feed(PLACEMENT, logfmt("info", "Node id=dapr-placement-0 has acquired leadership", "dapr.placement"),
                *[logfmt("info", f"Received status report connection from new namespace=default id={name} "
                                 f"host=127.0.0.1:1", "dapr.placement.server") for name in ("a", "b", "a")])
    redis = UnitRef("redis", Source.INFRA)
    screen.feed(redis, b"1:M 03 Dec 2026 10:44:14.596 # Redis version=7.0.15, bits=64",
                b"1:M 03 Dec 2026 10:44:14.597 # WARNING Memory overcommit must be enabled! Without it, ...",
                b"1:M 03 Dec 2026 10:44:14.608 * Ready to accept connections")
    assert screen.lines() == []
    assert digest.summary(PLACEMENT) == "leader, 2 sidecars connected"
    assert digest.summary(redis) == "Redis 7.0.15, accepting connections"


def test_verbose_prints_every_line_unfolded() -> None:
    screen = Screen(verbose=True)
    screen.feed(SIDECAR, logfmt("info", "Component loaded: statestore (state.redis/v1)"),
                logfmt("warning", "mTLS is disabled. Skipping certificate request and tls validation"))
    screen.feed(APP, b"same", b"same", b"same")
    assert texts(screen) == ["Component loaded: statestore (state.redis/v1)  [runtime]",
                             "mTLS is disabled. Skipping certificate request and tls validation  [runtime]",
                             "same", "same", "same"]
    assert screen.renderer.digest.summary(SIDECAR) == "1 component loaded (statestore), 1 warning"


def test_while_the_stack_stops_dapr_lines_are_counted_and_summed_up() -> None:
    screen = Screen()
    screen.renderer.stack_stopping()
    screen.feed(SIDECAR, logfmt("warning", "Error receiving from stream: context canceled"),
                logfmt("info", "Dapr runtime stopped"))
    screen.feed(APP, b"INFO: Shutting down")
    screen.renderer.finish()
    assert texts(screen) == ["INFO: Shutting down",
                             "▶ while stopping, sidecars and infra wrote 2 lines, 1 of them warnings or errors "
                             "(not shown; `aura dev logs --source sidecar --source infra`)"]


def test_expected_warnings_are_only_those_listed() -> None:
    assert expected_warning(b"mTLS is disabled. Skipping certificate request and tls validation  [runtime]")
    assert not expected_warning(b"A non-YAML Component file x.json was detected")


@given(st.lists(st.sampled_from([b"a", b"b", b"", b"ccc"]), min_size=1, max_size=60))
def test_may_repeat_is_exact_on_small_chunks(lines: list[bytes]) -> None:
    data = b"".join(line + b"\n" for line in lines)
    assert len(data) <= EXACT_BYTES
    cut = [*lines, b""]  # what splitting the chunk gives: a blank pair at the end counts too
    assert may_repeat(data) == any(x == y for x, y in zip(cut, cut[1:]))


@given(st.lists(st.lists(st.sampled_from([b"a", b"b", b"", b"ccc"]), min_size=1, max_size=20), min_size=1,
                max_size=8))
def test_folding_loses_no_line_and_counts_every_repeat(chunks: list[list[bytes]]) -> None:
    """However lines are cut into chunks: expanding each count line back gives the input."""
    repeats = UnitRepeats()
    shown: list[tuple[bytes, int]] = []
    for chunk in chunks:
        data = b"".join(line + b"\n" for line in chunk)
        if repeats.plain(data):
            shown += [(line, 1) for line in data[:-1].split(b"\n")]
        else:
            shown += repeats.fold(data, 0.0)
    shown += repeats.end()
    rebuilt: list[bytes] = []
    for line, count in shown:
        rebuilt += [line] if count == 1 else [line] * (count - 1)  # the first one was shown already
    assert rebuilt == [line for chunk in chunks for line in chunk]


def test_big_chunks_are_sampled() -> None:
    distinct = b"".join(b"line %d of a flood\n" % i for i in range(5000))
    assert not may_repeat(distinct)
    half_one_line = distinct[:40000] + b"the same line\n" * 3000
    assert may_repeat(half_one_line)
