"""The head start: a record replays only when it applies, the engine adopts only an exact
match, and nothing spawned early outlives a start that did not want it."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from aura_dev.logs.record import LogChunk, Source, UnitRef
from aura_dev.units import head_start
from aura_dev.units.process import ProcessUnit, dies_with_parent

ECHO = "import sys, time; print('hello from', sys.argv[1], flush=True); time.sleep(float(sys.argv[2]))"


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    yield
    head_start.release_unclaimed()
    head_start._claimed.clear()
    head_start._first_spawn_cpu.clear()
    head_start._early_ports.clear()


def workspace(tmp_path: Path, text: str = "name: demo\nservices: {}\n") -> Path:
    file = tmp_path / "aura.yaml"
    file.write_text(text)
    (tmp_path / ".aura" / "run").mkdir(parents=True, exist_ok=True)
    return file


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unit_entry(tmp_path: Path, label: str, seconds: str = "30", ports: list[int] | None = None,
               env: dict[str, str] | None = None, files: list[str] | None = None) -> dict[str, object]:
    environment = dict(os.environ, **(env or {}))
    argv = dies_with_parent([sys.executable, "-c", ECHO, label, seconds], environment, tmp_path)
    return {"label": label, "argv": argv, "env": environment, "cwd": tmp_path, "ports": ports or [],
            "files": files or []}


def test_the_key_follows_the_workspace_file_the_services_and_the_options(tmp_path: Path) -> None:
    file = workspace(tmp_path)
    key = head_start.record_key(file, [], None, True)
    assert key == head_start.record_key(file, [], None, True)
    assert key != head_start.record_key(file, ["a"], None, True)
    assert key != head_start.record_key(file, [], "native", True)
    assert key != head_start.record_key(file, [], None, False)
    file.write_text("name: other\nservices: {}\n")
    assert key != head_start.record_key(file, [], None, True)


def test_a_record_replays_and_the_exact_unit_is_adopted_with_its_output(tmp_path: Path) -> None:
    file = workspace(tmp_path)
    key = head_start.record_key(file, [], None, True)
    entry = unit_entry(tmp_path, "app")
    head_start.write_record(tmp_path / ".aura", key, [entry])
    assert oct((tmp_path / ".aura" / "run" / "launch.json").stat().st_mode & 0o777) == "0o600"
    head_start.launch_for(file, [], None, True)
    assert head_start.spawned() == 1
    lines: list[LogChunk] = []

    async def adopt() -> tuple[int | None, int]:
        unit = ProcessUnit(UnitRef("app", Source.APP), [sys.executable, "-c", ECHO, "app", "30"],
                           env=dict(os.environ), cwd=tmp_path, sink=lines.append)
        await unit.start()
        pid = unit.pid
        await asyncio.sleep(0.3)
        code = await unit.stop(2.0)
        return pid, code if code is not None else -99

    early_pid = head_start._waiting[0].popen.pid
    pid, code = asyncio.run(adopt())
    assert pid == early_pid and not head_start._waiting  # adopted, not spawned again
    assert head_start.spawned_at("app") is not None
    assert code == -15  # stopped by the unit's SIGTERM, and its exit code read
    assert any(b"hello from app" in chunk.data for chunk in lines)


def test_a_unit_that_differs_now_is_not_adopted_and_its_early_process_is_ended(tmp_path: Path) -> None:
    file = workspace(tmp_path)
    key = head_start.record_key(file, [], None, True)
    head_start.write_record(tmp_path / ".aura", key, [unit_entry(tmp_path, "app", env={"GREETING": "old"})])
    head_start.launch_for(file, [], None, True)
    head_start.spawned()
    early = head_start._waiting[0].popen
    environment = dict(os.environ, GREETING="new")
    argv = dies_with_parent([sys.executable, "-c", ECHO, "app", "30"], environment, tmp_path)
    assert head_start.claim("app", argv, environment, tmp_path) is None
    # Ended before its unit spawns (its ports are free again), asked first: a scheduler that
    # already leads revokes its lease only on SIGTERM.
    assert early.returncode == -15
    assert head_start.spawned_at("app") is None


def test_an_early_process_that_differs_only_in_a_neutral_flag_is_adopted(tmp_path: Path) -> None:
    file = workspace(tmp_path)
    key = head_start.record_key(file, [], None, True)
    entry = unit_entry(tmp_path, "scheduler")
    wanted = list(entry["argv"])  # type: ignore[call-overload]
    entry["argv"] = wanted + ["--etcd-snapshot-count", "1"]  # the first start asked for a snapshot
    head_start.write_record(tmp_path / ".aura", key, [entry])
    head_start.launch_for(file, [], None, True)
    head_start.spawned()
    early = head_start._waiting[0].popen
    assert head_start.claim("scheduler", wanted, entry["env"], tmp_path) is early  # type: ignore[arg-type]


def test_a_rendered_file_changed_since_the_record_means_no_early_spawn(tmp_path: Path) -> None:
    file = workspace(tmp_path)
    component = tmp_path / ".aura" / "run" / "statestore.yaml"
    component.write_text("a: 1\n")
    key = head_start.record_key(file, [], None, True)
    head_start.write_record(tmp_path / ".aura", key, [unit_entry(tmp_path, "sidecar", files=[str(component)])])
    component.write_text("a: 2\n")
    head_start.launch_for(file, [], None, True)
    assert head_start.spawned() == 0


def test_a_rendered_file_changed_after_the_early_spawn_is_not_adopted(tmp_path: Path) -> None:
    file = workspace(tmp_path)
    component = tmp_path / ".aura" / "run" / "statestore.yaml"
    component.write_text("a: 1\n")
    key = head_start.record_key(file, [], None, True)
    entry = unit_entry(tmp_path, "sidecar", files=[str(component)])
    head_start.write_record(tmp_path / ".aura", key, [entry])
    head_start.launch_for(file, [], None, True)
    assert head_start.spawned() == 1
    component.write_text("a: 2\n")  # the engine rendered it anew: the early daprd read the old one
    assert head_start.claim("sidecar", entry["argv"], entry["env"], tmp_path) is None  # type: ignore[arg-type]


def test_a_busy_port_skips_only_its_unit(tmp_path: Path) -> None:
    file = workspace(tmp_path)
    key = head_start.record_key(file, [], None, True)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = int(holder.getsockname()[1])
        head_start.write_record(tmp_path / ".aura", key, [unit_entry(tmp_path, "a", ports=[busy]),
                                                          unit_entry(tmp_path, "b", ports=[free_port()])])
        head_start.launch_for(file, [], None, True)
        assert head_start.spawned() == 1  # the port still held while the spawners look
    assert [early.label for early in head_start._waiting] == ["b"]


def test_a_stale_key_or_a_broken_record_spawns_nothing(tmp_path: Path) -> None:
    file = workspace(tmp_path)
    head_start.write_record(tmp_path / ".aura", "another key", [unit_entry(tmp_path, "app")])
    head_start.launch_for(file, [], None, True)
    assert head_start.spawned() == 0
    (tmp_path / ".aura" / "run" / "launch.json").write_text("{not json")
    head_start.launch_for(file, [], None, True)
    assert head_start.spawned() == 0


def test_release_ends_every_unclaimed_process(tmp_path: Path) -> None:
    file = workspace(tmp_path)
    key = head_start.record_key(file, [], None, True)
    head_start.write_record(tmp_path / ".aura", key, [unit_entry(tmp_path, "a"), unit_entry(tmp_path, "b")])
    head_start.launch_for(file, [], None, True)
    head_start.spawned()
    popens = [early.popen for early in head_start._waiting]
    assert len(popens) == 2 and all(p.poll() is None for p in popens)
    head_start.release_unclaimed()
    assert all(p.returncode is not None for p in popens)


STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"


def test_processes_that_ignore_sigterm_share_one_grace_then_are_killed(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(head_start, "END_GRACE_SECONDS", 0.6)
    file = workspace(tmp_path)
    key = head_start.record_key(file, [], None, True)
    entries = []
    for label in ("a", "b", "c"):
        entry = unit_entry(tmp_path, label)
        entry["argv"] = [sys.executable, "-c", STUBBORN]
        entries.append(entry)
    head_start.write_record(tmp_path / ".aura", key, entries)
    head_start.launch_for(file, [], None, True)
    head_start.spawned()
    popens = [early.popen for early in head_start._waiting]
    for popen in popens:
        assert popen.stdout is not None and popen.stdout.readline() == b"up\n"  # its SIGTERM handler is set
    began = time.monotonic()
    head_start.release_unclaimed()
    took = time.monotonic() - began
    assert [p.returncode for p in popens] == [-9, -9, -9]  # SIGTERM ignored: killed after the grace
    assert took < 3 * 0.6, f"each waited out its own grace ({took:.2f} s)"


def test_the_record_keeps_only_the_environment_that_differs(tmp_path: Path) -> None:
    entry = unit_entry(tmp_path, "app", env={"ONLY_HERE": "1"})
    head_start.write_record(tmp_path / ".aura", "k", [entry])
    import json

    saved = json.loads((tmp_path / ".aura" / "run" / "launch.json").read_text())["units"][0]
    assert saved["env"] == {"ONLY_HERE": "1"}
    assert saved["unset"] == []


def test_the_caller_goes_on_while_the_spawners_work_and_readers_wait_for_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`launch` returns at once (the supervisor imports its engine meanwhile); whatever reads
    what was spawned — the count, a claim, the early ports — waits until every spawn is done."""
    file = workspace(tmp_path)
    key = head_start.record_key(file, [], None, True)
    head_start.write_record(tmp_path / ".aura", key, [unit_entry(tmp_path, "app", ports=[free_port()])])
    held = threading.Event()
    real_spawn = head_start._spawn

    def slow_spawn(unit: Mapping[str, Any]) -> None:
        assert held.wait(30)
        real_spawn(unit)
    monkeypatch.setattr(head_start, "_spawn", slow_spawn)
    head_start.launch_for(file, [], None, True)  # returns with the spawn still held
    assert not head_start._waiting
    ports: list[frozenset[int]] = []
    reader = threading.Thread(target=lambda: ports.append(head_start.early_ports()))
    reader.start()
    reader.join(0.3)
    assert reader.is_alive() and not ports  # waiting for the spawner
    held.set()
    reader.join(30)
    assert len(ports) == 1 and len(ports[0]) == 1
    assert head_start.spawned() == 1 and head_start.spawned() == 1  # asked again: no second wait
