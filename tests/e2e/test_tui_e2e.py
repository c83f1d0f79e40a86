"""The terminal view on a real running stack: through Textual's pilot (select a unit, press a
key, see the unit's pid change) and once in a real terminal under tmux (`aura dev up --tui`,
act, quit and stop), read back with `tmux capture-pane`."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import RichLog, Static

from aura_dev.engine import runstate
from aura_dev.engine.snapshot import StackSnapshot
from aura_dev.tui.app import AuraTui
from aura_dev.tui.feed import StackFeed
from aura_dev.tui.quit import LEAVE
from aura_dev.workspace.locate import locate
from conftest import aura_bin, require, run_aura
from support.stack import running, state, tiny_workspace, wait_for

pytestmark = pytest.mark.e2e

# App ids of these tests only: sidecars of other stacks on the machine must not answer for them.
FIRST, SECOND = "tui-alpha", "tui-beta"


def pid_of(snap: StackSnapshot | None, label: str) -> int | None:
    unit = snap.units.get(label) if snap is not None else None
    return unit.pid if unit is not None and unit.state.value == "ready" else None


def test_the_pilot_restarts_stops_and_starts_the_selected_unit(tmp_path: Path) -> None:
    root = tiny_workspace(tmp_path / "ws", {FIRST: [], SECOND: []})
    with running(root):
        state_dir = locate(root).state_dir
        asyncio.run(drive(AuraTui(StackFeed(state_dir), name="tiny")))
        assert runstate.supervisor_running(state_dir), "quitting with 'leave' must leave the stack running"


async def drive(app: AuraTui) -> None:
    async with app.run_test(size=(180, 50)) as pilot:
        async def until(check: Callable[[], object], what: str, timeout: float = 90.0) -> None:
            for _ in range(int(timeout / 0.1)):
                if check():
                    return
                await pilot.pause(0.1)
            raise AssertionError(f"the view never showed {what}; details:\n{details()}")

        def details() -> str:
            return str(app.query_one("#details").content)

        def snap() -> StackSnapshot | None:
            return app.feed.snapshot

        await until(lambda: pid_of(snap(), SECOND) and pid_of(snap(), f"{SECOND}·dapr"), "both units ready")
        assert app.selected == FIRST  # the first row is selected on its own
        await pilot.press("down")
        assert app.selected == SECOND
        app_pid, sidecar_pid = pid_of(snap(), SECOND), pid_of(snap(), f"{SECOND}·dapr")
        await until(lambda: f"pid {app_pid}" in details(), "the selection's pid")

        await pilot.press("r")  # the app only
        await until(lambda: pid_of(snap(), SECOND) not in (None, app_pid), "a new app pid")
        new_pid = pid_of(snap(), SECOND)
        await until(lambda: f"pid {new_pid}" in details(), "the new pid in the details")
        assert pid_of(snap(), f"{SECOND}·dapr") == sidecar_pid, "r restarts the app, not the sidecar"
        assert pid_of(snap(), FIRST) is not None and app.selected == SECOND

        await pilot.press("R")  # the sidecar only
        await until(lambda: pid_of(snap(), f"{SECOND}·dapr") not in (None, sidecar_pid), "a new sidecar pid")
        assert pid_of(snap(), SECOND) == new_pid

        await pilot.press("x")  # stop the service: app and sidecar
        await until(lambda: snap().units[SECOND].state.value == "stopped"  # type: ignore[union-attr]
                    and snap().units[f"{SECOND}·dapr"].state.value == "stopped", "the service stopped")  # type: ignore[union-attr]
        await pilot.press("s")
        await until(lambda: pid_of(snap(), SECOND) and pid_of(snap(), f"{SECOND}·dapr"), "the service started")

        await logs_pane(app, pilot, until)

        await pilot.press("q")
        await pilot.pause(0.2)
        await pilot.press("l")
        await until(lambda: app.return_value is not None, "the quit dialog's answer", timeout=10)
    assert app.return_value == LEAVE


async def logs_pane(app: AuraTui, pilot: Any, until: Callable[..., Awaitable[None]]) -> None:
    """The pane's filters (app lines only, a search) and follow/pause, on SECOND's lines."""
    def pane() -> list[str]:
        return [strip.text.rstrip() for strip in app.query_one("#logs", RichLog).lines]

    def title() -> str:
        return str(app.query_one("#logs-title", Static).content)

    await pilot.press("v")  # app + sidecar → the app's only
    await until(lambda: "· app ·" in title() and any("listening on" in line for line in pane()), "the app's lines")
    assert not any("·dapr" in line for line in pane()), pane()

    await pilot.press("slash")
    await pilot.press(*"listening", "enter")
    await until(lambda: "grep 'listening'" in title(), "the search in the title")
    started = [line for line in pane() if "│" in line]  # a line's first row (its prefix)
    assert started and all("listening on" in line for line in started), pane()
    assert len(started) == 3, pane()  # the app's start, its restart (r) and its start after the stop (x, s)

    await pilot.press("f")  # pause
    await until(lambda: "paused" in title(), "paused")
    await pilot.press("r")
    await until(lambda: "paused · 1 new lines" in title(), "the held line counted", timeout=60)
    assert len([line for line in pane() if "│" in line]) == 3, "paused: nothing new is drawn"
    await pilot.press("f")
    await until(lambda: len([line for line in pane() if "│" in line]) == 4 and "following" in title(),
                "the held line drawn once following again")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """A tmux server of this test's own (its own socket), killed after it."""
    require(shutil.which("tmux") is not None, "tmux is not installed (scripts/bootstrap.sh installs it)")
    socket = f"aura-tui-{uuid.uuid4().hex[:8]}"

    def run(*args: str) -> str:
        done = subprocess.run(["tmux", "-L", socket, "-f", "/dev/null", *args], capture_output=True, text=True,
                              timeout=30)
        assert done.returncode == 0, done.stderr
        return done.stdout

    env = dict(os.environ, PATH=f"{Path(aura_bin()).parent}:{os.environ['PATH']}", TERM="xterm-256color")
    env.pop("NO_COLOR", None)
    subprocess.run(["tmux", "-L", socket, "-f", "/dev/null", "new-session", "-d", "-x", "160", "-y", "45",
                    "-c", str(tmp_path), "bash --norc --noprofile"], env=env, check=True, timeout=30)
    try:
        yield run
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], timeout=30)


def test_up_tui_in_a_real_terminal(tmp_path: Path, tmux: Callable[..., str]) -> None:
    root = tiny_workspace(tmp_path / "ws", {FIRST: [], SECOND: [FIRST]})

    def screen() -> str:
        return tmux("capture-pane", "-p")

    def wait_to_see(*words: str, timeout: float = 60) -> None:
        try:
            wait_for(lambda: all(word in screen() for word in words), timeout=timeout, interval=0.3, what=str(words))
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the screen:\n{screen()}") from None

    tmux("send-keys", f"aura dev up --tui -w {root}", "Enter")
    try:
        expected = ("2/2 services ready", SECOND, "placement", "scheduler", "redis", f"logs · {FIRST}",
                    f"{FIRST} · app id {FIRST}", "r restart app", "q quit")
        wait_to_see(*expected, timeout=120)
        before = state(root)
        assert before is not None
        old_pid = before["units"][FIRST].get("pid")
        assert old_pid, before["units"][FIRST]
        tmux("send-keys", "r")
        wait_for(lambda: (s := state(root)) is not None and s["units"][FIRST].get("pid") not in (None, old_pid)
                 and s["units"][FIRST]["state"] == "ready", timeout=60, what="the app restarted by its key")
        new_pid = state(root)["units"][FIRST].get("pid")  # type: ignore[index]
        wait_to_see(f"pid {new_pid}")

        tmux("send-keys", "q")
        wait_to_see("Leave it running (l)", "Stop the stack (s)")
        tmux("send-keys", "s")
        wait_to_see("tiny stopped in", "nothing left running", timeout=120)
        assert state(root) is None and not runstate.supervisor_running(locate(root).state_dir), \
            "'stop the stack' must stop it"
    finally:
        if state(root) is not None:
            run_aura("dev", "down", "-w", str(root))


def test_the_view_needs_a_terminal_and_a_running_stack(tmp_path: Path) -> None:
    root = tiny_workspace(tmp_path / "ws", {FIRST: []})
    done = run_aura("dev", "tui", "-w", str(root))
    assert done.returncode == 2 and "tiny is not running" in done.stderr and "aura dev up --tui" in done.stderr
    done = run_aura("dev", "up", "--tui", "-w", str(root))  # not a terminal: refused before anything starts
    assert done.returncode == 2 and "needs a terminal" in done.stderr and "aura dev up -d" in done.stderr
    assert state(root) is None and not (root / ".aura" / "run" / "supervisor.lock").exists()
    assert not (root / ".aura" / "logs").exists()
    with running(root):
        done = run_aura("dev", "tui", "-w", str(root))
        assert done.returncode == 2 and "needs a terminal" in done.stderr
        assert state(root) is not None, "a refused view leaves the stack alone"
