"""The summary `up` prints, in plain text (`up -d`) and through rich: the same words and layout."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from aura_dev.cli import console, detached_wait
from aura_dev.cli.progress import summary
from aura_dev.cli.summary_text import SummaryData, plain_text, table_width

ANSI = re.compile(r"\x1b\[[0-9;]*m|\x1b\]8;[^\x1b]*\x1b\\")


def state_json(*, gateway_state: str = "ready") -> dict[str, object]:
    def service(app_port: int) -> dict[str, object]:
        return {"appId": None, "url": f"http://127.0.0.1:{app_port}", "appPort": app_port, "ready": True,
                "dependsOn": [], "daprHttpPort": app_port + 1, "daprGrpcPort": app_port + 2}

    gateway = dict(service(28612), appId="gateway-id", ready=gateway_state == "ready")
    return {
        "backend": "native", "runtimeVersion": "1.18.2", "supervisor": {"pid": 42},
        "services": {"conversation": service(28620), "assistant-gateway": gateway},
        "units": {
            "redis": {"service": "redis", "source": "infra", "state": "ready", "ports": {"main": 28601}},
            "conversation": {"service": "conversation", "source": "app", "state": "ready", "ports": {"app": 28620}},
            "assistant-gateway": {"service": "assistant-gateway", "source": "app", "state": gateway_state},
            "placement": {"service": "placement", "source": "infra", "state": "ready", "ports": {"main": 28602}},
        },
        "dashboard": {"url": "http://127.0.0.1:28600/", "port": 28600},
    }


def rich_summary(data: SummaryData, dashboard: str | None) -> str:
    out = io.StringIO()
    summary(Console(file=out, width=200, no_color=True, highlight=False, soft_wrap=True), data, 1.234,
            dashboard=dashboard)
    return out.getvalue()


@pytest.mark.parametrize("gateway_state", ["ready", "failed", "starting"])
def test_the_plain_summary_says_what_riches_says_line_for_line(gateway_state: str) -> None:
    data = SummaryData.from_state_json(state_json(gateway_state=gateway_state))
    plain = plain_text(data, 1.234, dashboard="http://127.0.0.1:28600/?token=t", colour=False)
    assert plain == rich_summary(data, "http://127.0.0.1:28600/?token=t")
    assert plain.splitlines()[0] == f"{1 if gateway_state != 'ready' else 2}/2 services ready in 1.23 s " \
                                    "(infra: native, Dapr 1.18.2)"
    assert "infra: redis 28601, placement 28602" in plain
    assert max(len(line) for line in plain.splitlines()[1:4]) == table_width(data)


def test_a_service_is_ready_only_with_its_sidecar_and_up_d_says_so_in_its_exit_code(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app unit ready but its sidecar failed: the service is not ready, and `up -d`
    exits 1, as it did when the summary read the typed state."""
    state = state_json()
    state["services"]["conversation"]["ready"] = False  # type: ignore[index]
    text = plain_text(SummaryData.from_state_json(state), 1.0, dashboard=None, colour=False)
    assert text.startswith("1/2 services ready") and "✓ ready" in text
    run = tmp_path / "run"
    run.mkdir()
    (run / "state.json").write_text(json.dumps(state))
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert detached_wait._summary(tmp_path, 42, 0.0, timings=False, invoked_at=None) == 1


def test_styles_only_when_asked_and_the_words_unchanged() -> None:
    data = SummaryData.from_state_json(state_json(gateway_state="failed"))
    styled = plain_text(data, 2.0, dashboard="http://x/?token=t", colour=True)
    plain = plain_text(data, 2.0, dashboard="http://x/?token=t", colour=False)
    assert "\x1b" not in plain
    assert "\x1b[33m1/2 services ready\x1b[0m" in styled  # not all ready: yellow
    assert "\x1b[1;31m✗ failed\x1b[0m" in styled and "\x1b[32m✓ ready\x1b[0m" in styled
    assert "\x1b]8;;http://x/?token=t\x1b\\" in styled  # the link stays clickable when it wraps
    assert ANSI.sub("", styled) == plain


def test_a_unit_missing_from_the_state_is_shown_as_unknown_not_a_crash() -> None:
    data = state_json()
    del data["units"]["conversation"]  # type: ignore[attr-defined]
    text = plain_text(SummaryData.from_state_json(data), 1.0, dashboard=None, colour=False)
    assert "? ?" in text and "dashboard:" not in text and text.startswith("2/2 services ready")  # as the services say


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("columns, riched", [(300, False), (60, True)])
def test_up_d_prints_plain_text_unless_the_table_is_wider_than_the_terminal(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, columns: int, riched: bool) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "state.json").write_text(json.dumps(state_json()))
    (run / "dashboard.token").write_text("secret\n")
    out = Terminal()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr(console, "_consoles", {})  # made afresh for this stdout and NO_COLOR
    code = detached_wait._summary(tmp_path, 42, 0.0, timings=False, invoked_at=None)
    text = ANSI.sub("", out.getvalue())
    assert code == 0
    assert "dashboard: http://127.0.0.1:28600/?token=secret" in text and "supervisor pid 42" in text
    table = text.splitlines()[1:4]
    if riched:  # rich squeezed the table into the terminal
        assert max(len(line) for line in table) <= columns and len(text.splitlines()) > 8
    else:  # plain text, exactly as `plain_text` lays it out, and no style at all (NO_COLOR)
        assert out.getvalue() == text
        assert table == plain_text(SummaryData.from_state_json(state_json()), 0, dashboard=None,
                                   colour=False).splitlines()[1:4]


def test_a_missing_state_is_a_clear_error(tmp_path: Path) -> None:
    from aura_dev.errors import StartupError

    with pytest.raises(StartupError, match="stopped right after its start"):
        detached_wait._summary(tmp_path, 42, 0.0, timings=False, invoked_at=None)


def test_the_plain_summary_imports_no_rich() -> None:
    """~80 ms of rich and the typed state reader the summary of `up -d` used to spend, after
    the stack was ready."""
    code = ("import sys, aura_dev.cli.detached_wait, aura_dev.cli.summary_text, aura_dev.dashboard.access; "
            "print(sorted({'rich', 'aura_dev.engine.runstate', 'asyncio'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=str(Path(detached_wait.__file__).parents[2])))
    assert out.stdout.strip() == "[]"
