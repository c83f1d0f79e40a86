"""`aura dev status`: the table (or JSON) of every unit of the running stack.

Imports only what a status needs (the snapshot reader, rich for the table): it is one of
the commands people run all the time, and the fast path (`cli/fast.py`) calls it directly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aura_dev.cli import console as ui

if TYPE_CHECKING:
    from rich.console import Console


def show_status(workspace: Path | None, as_json: bool) -> None:
    from aura_dev.engine.stack_status import status
    from aura_dev.workspace.locate import FoundWorkspace, discover

    ws = FoundWorkspace(discover(explicit=workspace).absolute())
    data = status(ws)
    if (data.get("dashboard") or {}).get("url"):  # the link that logs the user in
        from aura_dev.dashboard.access import login_url, read_token

        data["dashboard"]["url"] = login_url(data["dashboard"]["url"], read_token(ws.state_dir))
    if as_json:
        print(json.dumps(data, indent=2))
    else:
        print_status(ui.out, data)


def print_status(console: Console, data: dict[str, Any]) -> None:
    from rich.table import Table

    if not data.get("running"):
        console.print(f"{data['name']} is not running")
        _print_kept(console, data)
        return
    console.print(f"[bold]{data['name']}[/] running · supervisor pid {data['supervisor']['pid']} · "
                  f"infra: {data['backend']} · Dapr {data['runtimeVersion']}")
    table = Table(box=None, padding=(0, 2), header_style="dim")
    for column in ("unit", "state", "pid", "ports", "restarts", "uptime"):
        table.add_column(column)
    for label, unit in data.get("units", {}).items():
        ports = " ".join(f"{k}={v}" for k, v in (unit.get("ports") or {}).items() if v)
        state = unit.get("state", "?")
        style = {"ready": "green", "failed": "bold red", "backoff": "yellow", "starting": "yellow"}.get(state, "")
        ident = str(unit.get("pid") or (unit.get("container") or "")[:12] or "-")
        uptime = f"{unit['uptime']:.0f} s" if unit.get("uptime") is not None else "-"
        table.add_row(label, f"[{style}]{state}[/]" if style else state, ident, ports,
                      str(unit.get("restarts", 0)), uptime)
    console.print(table)
    if (data.get("dashboard") or {}).get("url"):
        console.print(f"[dim]dashboard: {data['dashboard']['url']}[/]")


def _print_kept(console: Console, data: dict[str, Any]) -> None:
    """Infra that `infra.keep` left running (or that has gone since)."""
    from rich.table import Table

    kept = data.get("kept") or []
    if not kept:
        return
    table = Table(box=None, padding=(0, 2), header_style="dim")
    for column in ("kept infra", "state", "pid", "ports"):
        table.add_column(column)
    for unit in kept:
        ports = " ".join(f"{k}={v}" for k, v in (unit.get("ports") or {}).items() if v)
        state = "running (kept)" if unit.get("alive") else "gone"
        table.add_row(unit["unit"], f"[green]{state}[/]" if unit.get("alive") else state, str(unit["pid"]), ports)
    console.print(table)
    console.print("[dim]`aura dev up` reuses it; `aura dev down --all` stops it[/]")
