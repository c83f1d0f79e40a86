"""`aura dev up --timings`: the start's timeline as a table — when each unit was spawned,
wrote its first line, listened and was ready (seconds since `aura dev up` began), what it
waited for, and the critical path."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

COLUMNS = ("spawned", "firstLine", "listening", "ready")


def timeline_rows(timeline: dict[str, Any]) -> list[list[str]]:
    """One row per unit, in spawn order: label, the four times, what it waited for."""
    def cell(value: Any) -> str:
        return f"{value:.2f}" if isinstance(value, (int, float)) else "-"
    units: dict[str, dict[str, Any]] = timeline.get("units") or {}
    ordered = sorted(units.items(), key=lambda item: (item[1].get("spawned") is None, item[1].get("spawned") or 0.0))
    rows = []
    for label, times in ordered:
        waited = ", ".join(times.get("waitedFor") or [])
        if waited and isinstance(times.get("waitBegan"), (int, float)) and isinstance(times.get("spawned"), (int, float)):
            waited += f" ({times['spawned'] - times['waitBegan']:.2f} s)"
        rows.append([label, *(cell(times.get(column)) for column in COLUMNS), waited or "-"])
    return rows


def show_timings(console: Console, timeline: dict[str, Any] | None) -> None:
    from rich.table import Table

    if not timeline:
        console.print("[dim]no timeline was recorded for this start[/]")
        return
    table = Table(box=None, padding=(0, 2), header_style="dim", title="start timeline (seconds since `up` began)",
                  title_justify="left", title_style="bold")
    for column in ("unit", "spawned", "first line", "listening", "ready", "waited for"):
        table.add_column(column, justify="left" if column in ("unit", "waited for") else "right")
    for row in timeline_rows(timeline):
        table.add_row(*row)
    console.print(table)
    first, settled = timeline.get("firstSpawn"), timeline.get("settled")
    path = timeline.get("criticalPath") or []
    cpu = timeline.get("firstSpawnCpu")
    if isinstance(first, (int, float)):
        console.print(f"first spawn at {first:.3f} s" + (f" ({cpu:.3f} s of CPU)" if isinstance(cpu, float) else "")
                      + (f", settled at {settled:.2f} s" if settled else ""))
    engine = timeline.get("engineReady")
    if isinstance(engine, (int, float)):
        console.print(f"aura loaded and planned the run at {engine:.2f} s (units spawned before that were its "
                      "head start, adopted then)")
    if path:
        console.print("critical path: " + " ← ".join(path))
