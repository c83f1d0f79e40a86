"""What `aura dev up` shows while the stack comes up: a live table on a terminal (each
unit with its state, how long it took, and what its Dapr lines said — the console does not
print those), plain lines elsewhere; then one summary line per service."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from aura_dev.engine.snapshot import StackSnapshot
from aura_dev.engine.unit_state import UnitState
from aura_dev.logs.record import Source, UnitRef

if TYPE_CHECKING:  # not at run time: `up -d` imports this module for its summary, on its critical path
    from aura_dev.engine.events import StateChange  # (asyncio: ~50 ms)
    from aura_dev.logs.digest import RuntimeDigest

MARKS = {
    "pending": ("·", "dim"), "waiting": ("…", "dim"), "starting": ("◌", "yellow"), "ready": ("✓", "green"),
    "backoff": ("↻", "yellow"), "failed": ("✗", "bold red"), "stopping": ("■", "dim"), "stopped": ("■", "dim"),
    "exited": ("■", "dim"),
}


class StartupView:
    """Renders unit states; on a terminal as a rich Live table with log lines above it."""

    def __init__(self, console: Console, *, live: bool, digest: RuntimeDigest | None = None) -> None:
        self.console = console
        self.digest = digest
        self.states: dict[UnitRef, tuple[str, str, float]] = {}
        self.started = time.monotonic()
        self.live: Live | None = None
        if live:
            # Rendered afresh at each refresh: the digest and the clock move between state changes.
            self.live = Live(console=console, refresh_per_second=12, transient=True, get_renderable=self._table)
            self.live.start()

    def on_state(self, change: StateChange) -> None:
        if self.states.get(change.unit, ("",))[0] == UnitState.READY.value and change.state is UnitState.WAITING:
            return
        self.states[change.unit] = (change.state.value, change.detail, time.monotonic() - self.started)
        if self.live is not None:
            self.live.refresh()

    def _table(self) -> Any:
        table = Table.grid(padding=(0, 2))
        for unit, (state, detail, _at) in list(self.states.items()):
            mark, style = MARKS.get(state, ("?", ""))
            said = self.digest.summary(unit) if self.digest is not None and unit.source is not Source.APP else ""
            table.add_row(Text(mark, style=style), Text(unit.label, style="bold"), Text(state, style=style),
                          Text(detail, style="dim"), Text(said, style="cyan"))
        elapsed = time.monotonic() - self.started
        hidden = self.digest.hidden() if self.digest is not None else 0
        return _with_footer(table, elapsed, hidden)

    def write(self, data: bytes) -> None:
        """Log lines while the live table is up: printed above it."""
        assert self.live is not None
        self.live.console.print(Text.from_ansi(data.decode("utf-8", "replace").rstrip("\n")), soft_wrap=True,
                                highlight=False)

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


def _with_footer(table: Table, elapsed: float, hidden: int = 0) -> Any:
    note = f" · {hidden} sidecar and infra info lines not printed (`-v` prints them)" if hidden else ""
    return Group(table, Text(f"  {elapsed:.1f} s{note}", style="dim"))


def summary(console: Console, state: StackSnapshot, seconds: float, dashboard: str | None = None,
            digest: RuntimeDigest | None = None) -> None:
    services = state.services
    units = state.units
    ready = sum(1 for s in services.values() if s.ready)
    colour = "green" if ready == len(services) else "yellow"
    console.print(f"[{colour}]{ready}/{len(services)} services ready[/] in {seconds:.2f} s "
                  f"[dim](infra: {state.backend}, Dapr {state.runtime_version})[/]")
    table = Table(box=None, padding=(0, 2), show_header=True, header_style="dim")
    columns = ("service", "state", "url", "app id", "dapr http", "dapr grpc") + (("sidecar",) if digest else ())
    for column in columns:
        table.add_column(column)
    for name, svc in services.items():
        app = units.get(name)
        app_state = app.state.value if app else "?"
        mark, style = MARKS.get(app_state, ("?", ""))
        row: list[Text | str] = [Text(name, style="bold"), Text(f"{mark} {app_state}", style=style), svc.url or "-",
                                 svc.app_id or "-", str(svc.dapr_http_port or "-"), str(svc.dapr_grpc_port or "-")]
        if digest is not None:
            row.append(Text(digest.summary(UnitRef(name, Source.SIDECAR)), style="dim"))
        table.add_row(*row)
    console.print(table)
    infra = []
    for label, u in units.items():
        if u.source.value == "infra":
            said = digest.summary(UnitRef(u.service, Source.INFRA)) if digest is not None else ""
            infra.append(f"{label} {u.ports.get('main')}" + (f" ({said})" if said else ""))
    if infra:
        console.print(f"[dim]infra: {', '.join(infra)}[/]")
    hidden = digest.hidden() if digest is not None else 0
    quiet = f"{hidden} Dapr info lines not printed (`aura dev logs --source sidecar`, or `up -v`) · " if hidden else ""
    console.print(f"[dim]{quiet}logs: aura dev logs -f · stop: Ctrl-C or aura dev down[/]")
    if dashboard:
        console.print(f"dashboard: [link={dashboard}]{dashboard}[/link]", soft_wrap=True)
