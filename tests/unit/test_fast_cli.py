"""The fast path (`cli/fast.py`) answers exactly as the typer commands do: its option tables
match the commands', it takes only argument lists it understands, and for each of those the
real `aura` gives the same output and exit code as the typer application."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import types
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest

from aura_dev.cli.fast import COMMANDS, parse
from aura_dev.engine import runstate
from aura_dev.engine.snapshot import ServiceRecord, StackSnapshot, UnitRecord
from aura_dev.engine.unit_state import UnitState
from aura_dev.logs.record import Level, Source, UnitRef
from aura_dev.logs.store import LogStore
from aura_dev.units.base import UnitIdentity
from conftest import aura_bin
from support.stack import SAMPLE, copy_workspace

TYPER = "import sys; from aura_dev.cli.app import main; sys.argv[0] = 'aura'; main()"


def base_type(annotation: object) -> object:
    """int from Annotated[Optional[int], …], str from Optional[list[str]], and so on."""
    while typing.get_origin(annotation) in (typing.Annotated, typing.Union, types.UnionType, list):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    return annotation


def test_the_tables_match_the_typer_commands() -> None:
    import typer.main

    from aura_dev.cli.app import app

    group = typer.main.get_command(app).commands["dev"]  # type: ignore[attr-defined]
    for name, (options, positional) in COMMANDS.items():
        command = group.commands[name]
        hints = typing.get_type_hints(command.callback, include_extras=True)
        params = [p for p in command.params if p.opts and p.opts[0].startswith("-") and p.name != "help"]
        expected = {tuple(sorted(p.opts)): (bool(p.is_flag), bool(p.multiple), base_type(hints[p.name]))
                    for p in params}
        ours = {tuple(sorted(o.names)): (o.kind is None, o.multiple, o.kind or bool) for o in options}
        assert ours == expected, name
        assert positional == any(not p.opts[0].startswith("-") for p in command.params), name


@pytest.mark.parametrize(("args", "expected"), [
    ([], ({"tail": None, "grep": None, "follow": False, "source": []}, [])),
    (["-n", "20", "a", "b"], ({"tail": 20}, ["a", "b"])),
    (["-n20", "--tail=30"], ({"tail": 30}, [])),  # the last one counts, as in click
    (["a", "--grep", "x y", "-f", "--source", "app", "--source=sidecar"],
     ({"grep": "x y", "follow": True, "source": ["app", "sidecar"]}, ["a"])),
    (["-w/tmp/x", "--json"], ({"workspace": Path("/tmp/x"), "as_json": True}, [])),
])
def test_what_it_parses(args: list[str], expected: tuple[dict[str, object], list[str]]) -> None:
    parsed = parse(args, COMMANDS["logs"][0], True)
    assert parsed is not None
    values, arguments = parsed
    assert {k: values[k] for k in expected[0]} == expected[0] and arguments == expected[1]


@pytest.mark.parametrize("args", [
    ["-n"], ["-n", "x"], ["-n", "-1"], ["--tail="], ["-fi"], ["--json=yes"], ["--bogus"], ["--", "a"], ["-x"],
    ["--grep", "-v"],
])
def test_what_it_leaves_to_typer(args: list[str]) -> None:
    assert parse(args, COMMANDS["logs"][0], True) is None
    assert parse(["extra"], COMMANDS["status"][0], False) is None


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The sample with logs of an earlier run, and a 'running' stack: a snapshot and the
    supervisor's lock, held by this test process."""
    root = copy_workspace(SAMPLE, tmp_path_factory.mktemp("fast") / "ws")
    store = LogStore(root / ".aura" / "logs", max_file_size=1 << 20, max_total_size=1 << 24)
    now = time.time()
    for index in range(40):
        store.notice(UnitRef("conversation", Source.APP), f"line {index} hello", Level.INFO, now + index / 1000)
        store.notice(UnitRef("conversation", Source.SIDECAR), f"sidecar {index}", Level.WARN, now + index / 1000)
    store.close()
    units = {"redis": UnitRecord("redis", Source.INFRA, UnitState.READY, identity=UnitIdentity(pid=os.getpid()),
                                 ports={"main": 26000}, backend="native"),
             "conversation": UnitRecord("conversation", Source.APP, UnitState.STARTING,
                                        "conversation listens on no port", restarts=1, ports={"app": 26010})}
    snapshot = StackSnapshot(workspace=str(root), file=str(root / "aura.yaml"), name="aura-assistant", key="k",
                             supervisor_pid=os.getpid(), supervisor_create_time=0.0, started_at=now,
                             backend="native", runtime_version="1.18.2", control="", settled=False, units=units,
                             services={"conversation": ServiceRecord("conversation", None, 26010, False, ())})
    lock = runstate.SupervisorLock(root / ".aura")
    lock.acquire()
    runstate.write_state(root / ".aura", snapshot)
    yield root
    lock.release()


CASES = [
    ["--version"], ["--help"], [], ["dev"], ["dev", "--help"], ["dev", "status", "--help"], ["dev", "logs", "--help"],
    ["dev", "status"], ["dev", "status", "--json"], ["--no-color", "dev", "status"],
    ["dev", "logs"], ["dev", "logs", "-n", "20"], ["dev", "logs", "-n5", "conversation", "--json"],
    ["dev", "logs", "--level", "warn", "--tail=3"], ["dev", "logs", "--grep", "hello", "-i", "-n", "2"],
    ["dev", "logs", "--source", "sidecar", "--raw", "-n", "4"], ["dev", "logs", "nosuch"],
    ["dev", "logs", "--level", "loud"], ["dev", "config"], ["dev", "config", "--json"],
    ["dev", "logs", "-n", "x"], ["dev", "status", "extra"], ["dev", "config", "--bogus"],
]


@pytest.mark.parametrize("args", CASES, ids=[" ".join(c) or "(none)" for c in CASES])
def test_the_same_answer_as_typer(workspace: Path, tmp_path: Path, args: list[str]) -> None:
    env = {**os.environ, "AURA_WORKSPACE": str(workspace), "AURA_CACHE_DIR": str(tmp_path / "cache"),
           "COLUMNS": "120"}
    env.pop("NO_COLOR", None)
    typer_run = subprocess.run([sys.executable, "-c", TYPER, *args], capture_output=True, text=True, env=env,
                               cwd=workspace)
    for attempt in ("first", "remembered"):  # help and config are remembered: both answers must match
        fast_run = subprocess.run([aura_bin(), *args], capture_output=True, text=True, env=env, cwd=workspace)
        assert (fast_run.returncode, fast_run.stdout, fast_run.stderr) == \
            (typer_run.returncode, typer_run.stdout, typer_run.stderr), attempt


def test_a_remembered_config_follows_the_files_it_names(workspace: Path, tmp_path: Path) -> None:
    env = {**os.environ, "AURA_CACHE_DIR": str(tmp_path / "cache")}

    def config() -> subprocess.CompletedProcess[str]:
        return subprocess.run([aura_bin(), "dev", "config", "--json", "-w", str(workspace)], capture_output=True,
                              text=True, env=env)

    assert config().returncode == 0 and config().returncode == 0  # computed, then remembered
    folder = workspace / "services" / "sessions"
    folder.rename(folder.with_name("moved"))
    try:
        gone = config()
        assert gone.returncode == 2 and "service folder services/sessions does not exist" in gone.stderr
    finally:
        folder.with_name("moved").rename(folder)
    assert json.loads(config().stdout)["services"]["sessions"]["path"] == str(folder.resolve())
    text = (workspace / "aura.yaml").read_text()
    (workspace / "aura.yaml").write_text(text.replace("NOTIFY_PREFIX: \"[notify]\"", "NOTIFY_PREFIX: changed"))
    try:
        assert json.loads(config().stdout)["services"]["notifications"]["env"]["NOTIFY_PREFIX"] == "changed"
    finally:
        (workspace / "aura.yaml").write_text(text)


@pytest.mark.parametrize("xdg", [None, "/tmp/xdg-cache", "relative/cache", ""])
def test_the_cache_folder_is_the_one_platformdirs_names(xdg: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    from aura_dev.paths import APP_NAME, cache_dir

    monkeypatch.delenv("AURA_CACHE_DIR", raising=False)
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    assert cache_dir() == platformdirs.user_cache_path(APP_NAME)
