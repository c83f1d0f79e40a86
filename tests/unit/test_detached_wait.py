"""The light waiting side of `up --detach`: its progress line and its reading of the state file."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from aura_dev.cli import detached_wait
from aura_dev.cli.detached_start import Channel
from aura_dev.cli.detached_wait import HEADLINE, Progress, ready_count


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_off_a_terminal_a_line_only_when_the_count_moves() -> None:
    stream = io.StringIO()
    progress = Progress(stream, colour=True)
    for text in (None, "0/5 units ready", "0/5 units ready", "3/5 units ready"):
        progress.update(text)
    lines = stream.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines] == ["starting in the background: 0/5 units ready",
                                                       "starting in the background: 3/5 units ready"]
    assert "\x1b" not in stream.getvalue()


def test_on_a_terminal_a_spinner_that_no_color_leaves_uncoloured() -> None:
    for colour in (True, False):
        stream = Terminal()
        progress = Progress(stream, colour=colour)
        progress.update("1/2 units ready")
        progress.update()
        progress.note("infra backend auto → native")
        progress.clear()
        out = stream.getvalue()
        assert out.count(f"{HEADLINE} 1/2 units ready") == 2 and "⠋" in out and "⠙" in out
        assert ("\x1b[32m" in out) is colour and ("\x1b[2m" in out) is colour
        assert out.endswith("\r\x1b[2K")  # the summary starts on a clean line


def test_the_count_is_read_only_from_this_supervisors_state(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert ready_count(tmp_path, 42) is None  # not written yet
    run.mkdir()
    state = {"supervisor": {"pid": 42}, "units": {"redis": {"state": "ready"}, "app": {"state": "starting"}}}
    (run / "state.json").write_text(json.dumps(state))
    assert ready_count(tmp_path, 42) == "1/2 units ready"
    assert ready_count(tmp_path, 41) is None  # a stack before this one
    (run / "state.json").write_text('{"supervisor": ')  # half a file (never seen: writes are atomic)
    assert ready_count(tmp_path, 42) is None


def test_the_summary_is_imported_early_once_the_supervisor_has_written_its_state(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The summary's imports start while the units are still starting (not after the stack is
    ready, where they held up the command's return), and not before the supervisor has loaded."""
    (tmp_path / "aura.yaml").write_text("name: w\nservices: {}\n")
    state = tmp_path / ".aura" / "run" / "state.json"
    preloads: list[bool] = []
    def preload() -> threading.Thread:
        preloads.append(state.exists())
        return threading.Thread()
    monkeypatch.setattr(detached_wait, "_preload_summary", preload)
    monkeypatch.setattr(detached_wait, "_summary", lambda *args, **kwargs: 0)
    monkeypatch.setattr(sys, "stdout", Terminal())  # off a terminal the plain summary needs no preload
    readable, writable = os.pipe()

    def supervisor() -> None:
        time.sleep(3 * detached_wait.PROGRESS_SECONDS)
        assert not preloads  # nothing to read yet: nothing preloaded
        state.parent.mkdir(parents=True)
        state.write_text(json.dumps({"supervisor": {"pid": 42}, "units": {"redis": {"state": "starting"}}}))
        time.sleep(3 * detached_wait.PROGRESS_SECONDS)
        Channel(writable).send("settled")

    thread = threading.Thread(target=supervisor)
    thread.start()
    code = detached_wait.wait(42, readable, tmp_path, timings=False, invoked_at=None)
    thread.join()
    assert code == 0
    assert preloads == [True]  # once, after the state was there


def test_preloading_imports_the_summarys_modules() -> None:
    thread = detached_wait._preload_summary()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert {"aura_dev.cli.progress", "aura_dev.engine.runstate"} <= set(sys.modules)


def test_the_summarys_modules_import_no_asyncio_or_psutil() -> None:
    """~70 ms the summary of `up -d` used to spend importing what it never ran."""
    code = ("import sys, aura_dev.cli.detached_wait, aura_dev.cli.progress, aura_dev.dashboard.access, "
            "aura_dev.engine.runstate; print(sorted({'asyncio', 'psutil'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=str(Path(detached_wait.__file__).parents[2])))
    assert out.stdout.strip() == "[]"
