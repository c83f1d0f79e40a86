"""The light waiting side of `up --detach`: its progress line and its reading of the state file."""

from __future__ import annotations

import io
import json
from pathlib import Path

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
