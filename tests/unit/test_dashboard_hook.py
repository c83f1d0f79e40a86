"""The dashboard's hook before the start: a port from the workspace's block that stays the
same from one run to the next, the URL in the snapshot, the token in a private file; off
when aura.yaml says so, and a warning rather than a failed start when its port is taken."""

from __future__ import annotations

import socket
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from aura_dev.dashboard.access import read_token, token_path
from aura_dev.dashboard.hook import DashboardHook
from aura_dev.engine.portbook import PortBook
from aura_dev.logs.record import Level
from aura_dev.workspace.model import DashboardSettings


class Hub:
    def __init__(self) -> None:
        self.notices: list[tuple[str, Level]] = []

    def notice(self, unit: Any, text: str, level: Level = Level.INFO) -> None:
        self.notices.append((text, level))


def orchestrator(state_dir: Path, settings: DashboardSettings) -> Any:
    ws = SimpleNamespace(spec=SimpleNamespace(dashboard=settings), state_dir=state_dir)
    return SimpleNamespace(ws=ws, ports=PortBook(state_dir, seed="w"), hub=Hub(), dashboard=None)


def test_an_auto_port_is_kept_across_runs_and_the_token_is_private(tmp_path: Path) -> None:
    first = orchestrator(tmp_path, DashboardSettings())
    hook = DashboardHook()
    hook.prepare(first)
    assert first.dashboard.url == f"http://127.0.0.1:{first.dashboard.port}/" and hook.port == first.dashboard.port
    assert read_token(tmp_path) == hook.token and token_path(tmp_path).stat().st_mode & 0o777 == 0o600
    first.ports.save()  # as the start does
    # Listening from before the start: a browser that comes before the web stack is
    # imported waits in the backlog instead of meeting a refused connection.
    with socket.create_connection(("127.0.0.1", hook.port), timeout=2):
        pass
    hook.close(first)  # the supervisor, once the stack has stopped (served or not)
    assert read_token(tmp_path) is None
    second = orchestrator(tmp_path, DashboardSettings())
    again = DashboardHook()
    again.prepare(second)
    assert second.dashboard.port == first.dashboard.port and again.token != hook.token
    assert read_token(tmp_path) == again.token
    again.close(second)


def test_off_in_aura_yaml_means_no_dashboard(tmp_path: Path) -> None:
    orch = orchestrator(tmp_path, DashboardSettings(enabled=False))
    hook = DashboardHook()
    hook.prepare(orch)
    assert orch.dashboard is None and hook.port is None and read_token(tmp_path) is None


def test_a_taken_explicit_port_is_a_warning_and_the_stack_runs_without_it(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        orch = orchestrator(tmp_path, DashboardSettings(port=port))
        DashboardHook().prepare(orch)
    assert orch.dashboard is None
    [(text, level)] = orch.hub.notices
    assert level is Level.WARN and f"dashboard.port {port} is in use" in text
