"""`down --wipe` deletes what a workspace keeps — Redis data, scheduler data, logs — and
never anything outside its `.aura/`, however links inside point."""

from __future__ import annotations

from pathlib import Path

import pytest

from aura_dev.engine import runstate
from aura_dev.engine.wipe import kept_data, wipe
from aura_dev.errors import AlreadyRunning


def kept_workspace(tmp_path: Path) -> tuple[Path, Path]:
    """A `.aura` with data in every kept place, links to an outside folder among it."""
    outside = tmp_path / "precious"
    (outside / "sub").mkdir(parents=True)
    (outside / "file.txt").write_text("keep me")
    (outside / "sub" / "deep.txt").write_text("keep me too")
    state = tmp_path / "ws" / ".aura"
    (state / "redis" / "appendonlydir").mkdir(parents=True)
    (state / "redis" / "appendonlydir" / "appendonly.aof.1.incr.aof").write_bytes(b"*1\r\n$4\r\nPING\r\n")
    (state / "redis" / "to-outside").symlink_to(outside, target_is_directory=True)
    (state / "scheduler" / "etcd" / "member").mkdir(parents=True)
    (state / "scheduler" / "etcd" / "member" / "db").write_bytes(b"x" * 100)
    (state / "scheduler" / "outside-file").symlink_to(outside / "file.txt")
    (state / "logs" / "services" / "a").mkdir(parents=True)
    (state / "logs" / "services" / "a" / "00000001.log").write_text("line\n")
    (state / "run").mkdir()
    (state / "run" / "supervisor.log").write_text("started\n")
    (state / "run" / "ports.json").write_text("{}")
    (state / "aura.schema.json").write_text("{}")
    return state, outside


def test_wipe_deletes_what_is_kept_and_nothing_else(tmp_path: Path) -> None:
    state, outside = kept_workspace(tmp_path)
    listed = kept_data(state)
    assert [k.what for k in listed] == ["Redis data", "scheduler data (jobs, actor reminders)", "logs",
                                        "supervisor log"]
    assert {k.what: k.size for k in listed}["scheduler data (jobs, actor reminders)"] >= 100
    deleted = wipe(state)
    assert [k.path for k in deleted] == [k.path for k in listed]
    for kept in listed:
        assert not kept.path.exists() and not kept.path.is_symlink()
    # Everything else of .aura stays, and nothing a link pointed at was touched.
    assert (state / "run" / "ports.json").exists() and (state / "aura.schema.json").exists()
    assert (outside / "file.txt").read_text() == "keep me"
    assert (outside / "sub" / "deep.txt").read_text() == "keep me too"
    assert kept_data(state) == []
    assert wipe(state) == []  # nothing left: a second wipe is a no-op


def test_a_kept_folder_that_is_a_link_is_removed_as_a_link(tmp_path: Path) -> None:
    state, outside = kept_workspace(tmp_path)
    import shutil

    shutil.rmtree(state / "logs")
    (state / "logs").symlink_to(outside, target_is_directory=True)
    wipe(state)
    assert not (state / "logs").is_symlink()
    assert (outside / "file.txt").read_text() == "keep me" and (outside / "sub" / "deep.txt").exists()


def test_a_linked_run_folder_is_not_followed(tmp_path: Path) -> None:
    state, outside = kept_workspace(tmp_path)
    import shutil

    shutil.rmtree(state / "run")
    (outside / "supervisor.log").write_text("not ours")
    (state / "run").symlink_to(outside, target_is_directory=True)
    from aura_dev.errors import AuraError

    with pytest.raises(AuraError, match="not inside"):
        wipe(state)
    assert (outside / "supervisor.log").read_text() == "not ours"
    assert (state / "redis" / "appendonlydir").is_dir()  # all or nothing


def test_wipe_refuses_while_a_supervisor_holds_the_workspace(tmp_path: Path) -> None:
    state, _outside = kept_workspace(tmp_path)
    lock = runstate.SupervisorLock(state)
    lock.acquire()
    try:
        with pytest.raises(AlreadyRunning):
            wipe(state)
    finally:
        lock.release()
    assert (state / "redis" / "appendonlydir").is_dir()  # nothing deleted
