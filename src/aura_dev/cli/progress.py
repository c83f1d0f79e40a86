"""What `aura dev up` shows while the stack comes up: a live table on a terminal (each
unit with its state, how long it took, and what its Dapr lines said — the console does not
print those), plain lines elsewhere; then one summary line per service."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.markup import escape
from rich.text import Text

from aura_dev.cli.summary_text import COLUMNS, FOOTER, MARKS, SummaryData
from aura_dev.engine.unit_state import UnitState
from aura_dev.logs.record import Source, UnitRef

if TYPE_CHECKING:  # not at run time: `up -d` imports this module for its summary, on its critical path
    from aura_dev.engine.events import StateChange  # (asyncio: ~50 ms)
    from aura_dev.logs.digest import RuntimeDigest



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


def summary(console: Console, data: SummaryData, seconds: float, dashboard: str | None = None,
            digest: RuntimeDigest | None = None) -> None:
    """The summary through rich: the foreground's (with what each sidecar's lines said), and
    `up -d`'s when its table is wider than the terminal (rich squeezes the columns)."""
    count, took, infra = data.headline(seconds)
    console.print(f"[{'green' if data.all_ready else 'yellow'}]{count}[/]{took}[dim]{infra}[/]")
    table = Table(box=None, padding=(0, 2), show_header=True, header_style="dim")
    for column in COLUMNS + (("sidecar",) if digest else ()):
        table.add_column(column)
    for row in data.rows:
        cells = [Text(cell) for cell in row.cells()]
        cells[0].stylize("bold")
        cells[1].stylize(row.mark[1])
        if digest is not None:
            cells.append(Text(digest.summary(UnitRef(row.name, Source.SIDECAR)), style="dim"))
        table.add_row(*cells)
    console.print(table)
    said = {entry.service: digest.summary(UnitRef(entry.service, Source.INFRA)) for entry in data.infra} if digest else None
    infra_line = data.infra_line(said)
    if infra_line:
        console.print(f"[dim]{escape(infra_line)}[/]")
    hidden = digest.hidden() if digest is not None else 0
    quiet = f"{hidden} Dapr info lines not printed (`aura dev logs --source sidecar`, or `up -v`) · " if hidden else ""
    console.print(f"[dim]{quiet}{FOOTER}[/]")
    if dashboard:
        console.print(f"dashboard: [link={dashboard}]{dashboard}[/link]", soft_wrap=True)
