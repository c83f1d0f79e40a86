"""Telling an app that reloads itself (it writes into its own folder as it starts) from a
user saving quickly: the loop is broken after one extra restart, a save is never dropped."""

from __future__ import annotations

from pathlib import Path

from aura_dev.watch.routing import always_ignored
from aura_dev.watch.self_writes import LOOP_AFTER, START_SLACK, SelfWrites, is_source, while_starting

APP = Path("/ws/svc/app.py")
NOTE = Path("/ws/svc/started.txt")
CACHE = Path("/ws/svc/cache.json")


def test_a_file_written_by_every_start_is_ignored_after_two_extra_restarts() -> None:
    assert LOOP_AFTER == 2
    writes = SelfWrites()
    # t=10 a save of app.py; the new process writes started.txt at 10.1, still starting
    assert writes.decide("svc", [APP], detected=10.0, ready_at=5.0, now=10.02) == frozenset()
    assert writes.decide("svc", [NOTE], detected=10.1, ready_at=5.0, now=10.15) == frozenset()  # once: reload
    assert writes.decide("svc", [NOTE], detected=10.3, ready_at=5.0, now=10.35) == frozenset()  # twice: reload
    # the reloads' processes write it again and again as they start: a loop
    assert writes.decide("svc", [NOTE], detected=10.5, ready_at=5.0, now=10.55) == frozenset({NOTE})
    assert writes.unignored("svc", [NOTE, APP]) == [APP]
    assert writes.unignored("other", [NOTE]) == [NOTE]  # per service
    # a later save of the code still reloads
    assert writes.decide("svc", [APP], detected=20.0, ready_at=10.5, now=20.02) == frozenset()


def test_an_impatient_user_saving_code_during_every_restart_is_never_ignored() -> None:
    writes = SelfWrites()
    now = 10.0
    for _ in range(10):  # each save lands while the app restarts for the one before
        assert writes.decide("svc", [APP], detected=now + 0.05, ready_at=None, now=now + 0.06) == frozenset()
        now += 0.06
    assert writes.unignored("svc", [APP]) == [APP]


def test_a_data_file_written_when_the_app_is_long_up_reloads_every_time() -> None:
    # Not a start's write (a request wrote it, or the user did): each one is a change.
    writes = SelfWrites()
    for round_ in range(5):
        began = 10.0 * (round_ + 1)
        assert writes.decide("svc", [CACHE], detected=began, ready_at=began - 9.0 + 0.2, now=began) == frozenset()
    assert writes.unignored("svc", [CACHE]) == [CACHE]


def test_different_files_in_a_row_are_not_a_loop() -> None:
    writes = SelfWrites()
    assert writes.decide("svc", [APP], detected=10.0, ready_at=5.0, now=10.0) == frozenset()
    assert writes.decide("svc", [NOTE], detected=10.1, ready_at=5.0, now=10.1) == frozenset()
    assert writes.decide("svc", [NOTE, APP], detected=10.2, ready_at=5.0, now=10.2) == frozenset()  # a save came too
    assert writes.decide("svc", [NOTE], detected=10.3, ready_at=5.0, now=10.3) == frozenset()
    assert writes.decide("svc", [NOTE], detected=10.4, ready_at=5.0, now=10.4) == frozenset()
    assert writes.decide("svc", [NOTE], detected=10.5, ready_at=5.0, now=10.5) == frozenset({NOTE})


def test_a_data_file_saved_during_two_restarts_in_a_row_still_reloads() -> None:
    # An editor saving config.json every second while the app restarts in 0.3 s: each save
    # lands in the start window of the reload before; two in a row are still saves.
    writes = SelfWrites()
    assert writes.decide("svc", [CACHE], detected=10.0, ready_at=5.0, now=10.0) == frozenset()
    assert writes.decide("svc", [CACHE], detected=11.0, ready_at=10.3, now=11.0) == frozenset()
    assert writes.decide("svc", [CACHE], detected=12.0, ready_at=11.3, now=12.0) == frozenset()
    assert writes.decide("svc", [CACHE], detected=14.0, ready_at=12.3, now=14.0) == frozenset()  # a pause: not a loop
    assert writes.unignored("svc", [CACHE]) == [CACHE]


def test_the_start_window_runs_until_shortly_after_ready() -> None:
    assert while_starting(10.0, None, 10.5)
    assert while_starting(10.0, 4.0, 10.5)  # ready last for the process before the reload
    assert while_starting(10.0, 10.4, 10.4 + START_SLACK)
    assert not while_starting(10.0, 10.4, 10.5 + START_SLACK)
    assert not while_starting(10.0, None, 9.9)  # before the reload


def test_code_and_env_files_are_source_data_is_not() -> None:
    assert all(is_source(Path(n)) for n in ("app.py", "server.js", "main.go", "index.HTML", ".env", ".env.local"))
    assert not any(is_source(Path(n)) for n in ("started.txt", "cache.json", "state.bin", "upload.png"))


def test_sqlite_files_and_pid_files_never_trigger_a_reload() -> None:
    for name in ("app.db", "data/app.sqlite3", "app.db-journal", "app.db-wal", "app.sqlite-shm", "run/app.pid"):
        assert always_ignored(name), name
    assert not always_ignored("database.py")
