"""Warm standbys, the pieces that need no stack: which commands are Python entry points,
what the bootstrap records and refuses, and what makes a standby unusable."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aura_dev.logs.record import LogChunk, Source, Stream, UnitRef
from aura_dev.units.python_entry import EntryKind, python_entry
from aura_dev.units.standby import BOOT, HeldOutput, StandbyFiles, boot_argv, dependency_files, shadowing
from aura_dev.units.standby_boot import FAILED_MARKER, LISTENING_MARKER, READY_MARKER

REF = UnitRef("svc", Source.APP)


@pytest.mark.parametrize(("argv", "kind", "target", "args", "interpreter"), [
    (["python", "-m", "uvicorn", "app:app", "--port", "1"], EntryKind.MODULE, "uvicorn", ("app:app", "--port", "1"),
     ("python",)),
    (["python3.11", "-u", "-X", "dev", "app.py", "x"], EntryKind.SCRIPT, "app.py", ("x",),
     ("python3.11", "-u", "-X", "dev")),
    ([".venv/bin/python", "-Wignore", "-mflask", "run"], EntryKind.MODULE, "flask", ("run",),
     (".venv/bin/python", "-Wignore")),
])
def test_python_commands_are_entry_points(argv: list[str], kind: EntryKind, target: str, args: tuple[str, ...],
                                          interpreter: tuple[str, ...], tmp_path: Path) -> None:
    entry = python_entry(argv, {"PATH": os.environ["PATH"]}, tmp_path)
    assert entry is not None
    assert (entry.kind, entry.target, entry.args, entry.interpreter) == (kind, target, args, interpreter)


@pytest.mark.parametrize("argv", [
    ["python", "-c", "print(1)"], ["python", "-I", "app.py"], ["python"], ["python", "-"], ["node", "server.js"],
    ["/bin/sh", "-c", "python app.py"], ["python", "-i", "app.py"],
])
def test_other_commands_start_cold(argv: list[str], tmp_path: Path) -> None:
    assert python_entry(argv, {"PATH": os.environ["PATH"]}, tmp_path) is None


def test_an_installed_entry_point_runs_with_the_python_its_first_line_names(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "uvicorn").write_text("#!/venv/bin/python3\nimport sys\n")
    (bin_dir / "tool").write_text("#!/bin/bash\necho hi\n")
    (bin_dir / "envtool").write_text("#!/usr/bin/env python3\n")
    for script in bin_dir.iterdir():
        script.chmod(0o755)
    env = {"PATH": str(bin_dir)}
    entry = python_entry(["uvicorn", "app:app"], env, tmp_path)
    assert entry is not None
    assert (entry.interpreter, entry.kind, entry.target, entry.args) == (
        ("/venv/bin/python3",), EntryKind.SCRIPT, str(bin_dir / "uvicorn"), ("app:app",))
    assert python_entry(["tool"], env, tmp_path) is None
    other = python_entry(["envtool"], env, tmp_path)
    assert other is not None and other.interpreter == ("python3",)


def test_boot_argv_keeps_the_interpreter_flags_and_the_original_arguments(tmp_path: Path) -> None:
    entry = python_entry(["python", "-u", "-m", "uvicorn", "app:app"], {}, tmp_path)
    assert entry is not None
    files = StandbyFiles(tmp_path / "r.json", tmp_path / "m.json")
    assert boot_argv(entry, "standby", files, tmp_path) == [
        "python", "-u", str(BOOT), "standby", str(files.record), str(files.manifest), str(tmp_path), "module",
        "uvicorn", "app:app"]


def run_boot(tmp_path: Path, mode: str, script: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    service = tmp_path / "svc"
    service.mkdir(exist_ok=True)
    (service / "main.py").write_text(script)
    return subprocess.run([sys.executable, str(BOOT), mode, str(tmp_path / "record.json"),
                           str(tmp_path / "manifest.json"), str(service), "script", "main.py", "a1"],
                          cwd=service, capture_output=True, text=True, input=stdin, timeout=60)


def test_a_cold_run_records_third_party_modules_but_never_the_service_code(tmp_path: Path) -> None:
    done = run_boot(tmp_path, "run", "import sys, json, local\nprint(sys.argv, __name__)\n")
    assert done.returncode == 1 and "No module named 'local'" in done.stderr  # as `python main.py` would fail
    (tmp_path / "svc" / "local.py").write_text("import email.parser\n")
    done = run_boot(tmp_path, "run", "import sys, json, local\nprint(sys.argv, __name__, __file__, sys.path[0])\n")
    assert done.returncode == 0, done.stderr
    service = tmp_path / "svc"
    assert done.stdout.strip() == f"['main.py', 'a1'] __main__ {service / 'main.py'} {service}"  # as `python main.py a1`
    names = [name for name, _file in json.loads((tmp_path / "record.json").read_text())["modules"]]
    assert "email.parser" in names and "json" in names
    assert "local" not in names and "main" not in names and "__main__" not in names


def test_a_standby_preloads_the_record_and_runs_the_script_on_go(tmp_path: Path) -> None:
    run_boot(tmp_path, "run", "import email.parser\n")
    script = "import sys\nprint('preloaded' if 'email.parser' in sys.modules else 'cold', sys.argv[1:], repr(sys.stdin.read()))\n"
    done = run_boot(tmp_path, "standby", script, stdin="go 0\nmore input")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [READY_MARKER, "preloaded ['a1'] ''"]  # stdin is /dev/null, as a cold start's
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert "email.parser" in [name for name, _file in manifest["modules"]]


def test_a_standby_without_go_exits_and_runs_nothing(tmp_path: Path) -> None:
    done = run_boot(tmp_path, "standby", "print('ran')\n", stdin="")
    assert done.returncode == 0 and "ran" not in done.stdout


def test_a_standby_whose_imports_start_a_thread_refuses(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "threadpkg.py").write_text("import threading, time\nthreading.Thread(target=time.sleep, args=(60,), "
                                       "daemon=True).start()\n")
    (tmp_path / "record.json").write_text(json.dumps({"modules": [["threadpkg", str(site / "threadpkg.py")]]}))
    os.environ["PYTHONPATH"] = str(site)
    try:
        done = run_boot(tmp_path, "standby", "print('ran')\n", stdin="go 0\n")
    finally:
        del os.environ["PYTHONPATH"]
    assert done.returncode == 3
    assert done.stdout.startswith(FAILED_MARKER + "a thread started at import")
    assert "ran" not in done.stdout


def test_held_output_waits_for_go_and_hides_the_markers() -> None:
    async def scenario() -> tuple[list[bytes], HeldOutput]:
        seen: list[bytes] = []
        held = HeldOutput(lambda chunk: seen.append(chunk.data))
        held(LogChunk(REF, Stream.ERR, time.time(), b"a warning at import\n"))
        held(LogChunk(REF, Stream.OUT, time.time(), (READY_MARKER + "\n").encode()))
        assert held.ready.done() and held.ready.result() == "" and seen == []
        held.open()
        held(LogChunk(REF, Stream.OUT, time.time(), f"started\n{LISTENING_MARKER}\nserving\n".encode()))
        return seen, held

    seen, held = asyncio.run(scenario())
    assert seen == [b"a warning at import\n", b"started\nserving\n"]
    assert held.listening


def test_a_failed_standby_says_why() -> None:
    async def scenario() -> str:
        held = HeldOutput(lambda chunk: None)
        held(LogChunk(REF, Stream.OUT, time.time(), (FAILED_MARKER + "a socket was opened at import\n").encode()))
        return held.ready.result()

    assert asyncio.run(scenario()) == "a socket was opened at import"


def test_dependency_files_and_shadowing(tmp_path: Path) -> None:
    (tmp_path / "requirements-dev.txt").write_text("x\n")
    (tmp_path / "uv.lock").write_text("")
    (tmp_path / "app.py").write_text("")
    (tmp_path / "fastapi").mkdir()
    found = dependency_files(tmp_path)
    assert set(found) == {str(tmp_path / "requirements-dev.txt"), str(tmp_path / "uv.lock")}
    assert shadowing({"fastapi", "uvicorn", "json"}, [tmp_path]) == ["fastapi"]
