"""One way to write a file that readers see whole: unique temporary names, fsync, rename."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from aura_dev.atomic import create_exclusive, sibling_temp, write_atomic, write_if_changed, write_json_atomic


def test_a_reader_only_ever_sees_a_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    write_json_atomic(target, {"n": 0, "pad": "x" * 50_000})
    stop = threading.Event()
    torn: list[str] = []

    def writer(worker: int) -> None:
        for n in range(150):
            write_json_atomic(target, {"n": n, "worker": worker, "pad": "x" * 50_000}, durable=False)

    def reader() -> None:
        while not stop.is_set():
            text = target.read_text()
            try:
                json.loads(text)
            except ValueError:
                torn.append(text[:40])

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
    watcher = threading.Thread(target=reader)
    watcher.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    watcher.join()
    assert torn == []
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temporary file left behind


def test_temporary_names_are_never_shared(tmp_path: Path) -> None:
    names = {sibling_temp(tmp_path / "ports.json").name for _ in range(1000)}
    assert len(names) == 1000 and all(n.startswith(".ports.json.") for n in names)


def test_a_failed_write_leaves_the_target_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f.txt"
    write_atomic(target, "old")

    def refuse(_src: object, _dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]  # the temporary file is gone too


def test_modes_are_kept_and_unchanged_content_is_not_rewritten(tmp_path: Path) -> None:
    target = tmp_path / "component.yaml"
    write_atomic(target, "a: 1\n")
    os.chmod(target, 0o640)
    write_atomic(target, "a: 2\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640 and target.read_text() == "a: 2\n"
    inode = target.stat().st_ino
    assert write_if_changed(target, "a: 2\n") is False and target.stat().st_ino == inode
    assert write_if_changed(target, "a: 3\n") is True and target.stat().st_ino != inode


def test_create_exclusive_never_replaces_a_file(tmp_path: Path) -> None:
    target = tmp_path / "app.py"
    create_exclusive(target, "first")
    with pytest.raises(FileExistsError):
        create_exclusive(target, "second")
    assert target.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["app.py"]
