"""What `aura dev up` shows while the stack comes up: a live table on a terminal (each
unit with its state and how long it took), plain lines elsewhere; then one summary line
per service."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from aura_dev.engine.events import StateChange
from aura_dev.engine.snapshot import StackSnapshot
from aura_dev.engine.unit_state import UnitState

MARKS = {
    "pending": ("·", "dim"), "waiting": ("…", "dim"), "starting": ("◌", "yellow"), "ready": ("✓", "green"),
    "backoff": ("↻", "yellow"), "failed": ("✗", "bold red"), "stopping": ("■", "dim"), "stopped": ("■", "dim"),
    "exited": ("■", "dim"),
}


class StartupView:
    """Renders unit states; on a terminal as a rich Live table with log lines above it."""

    def __init__(self, console: Console, *, live: bool) -> None:
        self.console = console
        self.states: dict[str, tuple[str, str, float]] = {}
        self.started = time.monotonic()
        self.live: Live | None = None
        if live:
            self.live = Live(self._table(), console=console, refresh_per_second=12, transient=True)
            self.live.start()

    def on_state(self, change: StateChange) -> None:
        label = change.unit.label
        if self.states.get(label, ("",))[0] == UnitState.READY.value and change.state is UnitState.WAITING:
            return
        self.states[label] = (change.state.value, change.detail, time.monotonic() - self.started)
        if self.live is not None:
            self.live.update(self._table())

    def _table(self) -> Any:
        table = Table.grid(padding=(0, 2))
        for label, (state, detail, _at) in self.states.items():
            mark, style = MARKS.get(state, ("?", ""))
            table.add_row(Text(mark, style=style), Text(label, style="bold"), Text(state, style=style),
                          Text(detail, style="dim"))
        elapsed = time.monotonic() - self.started
        return _with_footer(table, elapsed)

    def write(self, data: bytes) -> None:
        """Log lines while the live table is up: printed above it."""
        assert self.live is not None
        self.live.console.print(Text.from_ansi(data.decode("utf-8", "replace").rstrip("\n")), soft_wrap=True,
                                highlight=False)

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


def _with_footer(table: Table, elapsed: float) -> Any:
    return Group(table, Text(f"  {elapsed:.1f} s", style="dim"))


def summary(console: Console, state: StackSnapshot, seconds: float, dashboard: str | None = None) -> None:
    services = state.services
    units = state.units
    ready = sum(1 for s in services.values() if s.ready)
    colour = "green" if ready == len(services) else "yellow"
    console.print(f"[{colour}]{ready}/{len(services)} services ready[/] in {seconds:.2f} s "
                  f"[dim](infra: {state.backend}, Dapr {state.runtime_version})[/]")
    table = Table(box=None, padding=(0, 2), show_header=True, header_style="dim")
    for column in ("service", "state", "url", "app id", "dapr http", "dapr grpc"):
        table.add_column(column)
    for name, svc in services.items():
        app = units.get(name)
        app_state = app.state.value if app else "?"
        mark, style = MARKS.get(app_state, ("?", ""))
        table.add_row(Text(name, style="bold"), Text(f"{mark} {app_state}", style=style), svc.url or "-",
                      svc.app_id or "-", str(svc.dapr_http_port or "-"), str(svc.dapr_grpc_port or "-"))
    console.print(table)
    infra = [f"{label} {u.ports.get('main')}" for label, u in units.items() if u.source.value == "infra"]
    if infra:
        console.print(f"[dim]infra: {', '.join(infra)} · logs: aura dev logs -f · stop: Ctrl-C or aura dev down[/]")
    if dashboard:
        console.print(f"dashboard: [link={dashboard}]{dashboard}[/link]", soft_wrap=True)
