"""`aura dev dashboard`: the running stack's dashboard URL (with this run's token), opened
in the browser unless `--no-open`."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Annotated

import typer

from aura_dev.cli import console as ui
from aura_dev.cli.options import JsonOption, WorkspaceOption, locate
from aura_dev.errors import NotRunning, StartupError

SERVING_WAIT_SECONDS = 10.0  # right after `up -d` the server may still be importing


def _answers(url: str) -> bool:
    """Anything HTTP from it (401 without the token is an answer) means it is serving."""
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def register(dev: typer.Typer, load: Callable[..., object]) -> None:
    @dev.command()
    def dashboard(
        workspace: WorkspaceOption = None,
        no_open: Annotated[bool, typer.Option("--no-open", help="Print the URL, do not open a browser")] = False,
        as_json: JsonOption = False,
    ) -> None:
        """Open the running stack's dashboard (units, live logs, actions, Dapr's view)."""
        from aura_dev.cli.stack_view import dashboard_link
        from aura_dev.engine import runstate

        ws = locate(workspace)
        state = runstate.read_state(ws.state_dir) if runstate.supervisor_running(ws.state_dir) else None
        if state is None:
            raise NotRunning(f"{ws.name} is not running", hint="start it with `aura dev up`; the dashboard comes with it")
        link = dashboard_link(ws, state)
        if link is None or state.dashboard is None:
            raise StartupError("this stack runs without its dashboard",
                               hint="it is off in aura.yaml (dashboard.enabled: false), or its port was taken: "
                                    "see `aura dev logs aura`")
        deadline = time.monotonic() + SERVING_WAIT_SECONDS
        while not _answers(state.dashboard.url):
            if time.monotonic() > deadline:
                raise StartupError(f"the dashboard does not answer at {state.dashboard.url}",
                                   hint="see `aura dev logs aura` and .aura/run/supervisor.log")
            time.sleep(0.1)
        if as_json:
            print(json.dumps({"url": link, "port": state.dashboard.port}))
        else:
            print(link)
        if not no_open and not as_json:
            import webbrowser

            if not webbrowser.open(link):
                ui.err.print("[dim]no browser to open here: copy the URL above[/]")
