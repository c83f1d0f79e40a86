"""The summary `aura dev up` prints once its start has settled, as data and as plain text.

`up -d` returns as soon as it has printed this, so the summary is the last thing between a
ready stack and the command's return.  Rendered with rich it cost ~80 ms there (rich and the
typed state reader to import, the table to lay out: a 1-service start settles in ~0.3 s).
This module is standard library only: `SummaryData` is read from the state file's JSON, and
`plain_text` lays it out as rich would (2-space margin, 4 spaces between columns), with ANSI
styles only on a terminal and never under NO_COLOR.  A table wider than the terminal is left
to rich (`cli.progress.summary`, which squeezes columns); so is the foreground's summary,
whose extra "sidecar" column comes from the log digest.  Both read the same `SummaryData`,
so the words are written once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MARKS = {
    "pending": ("·", "dim"), "waiting": ("…", "dim"), "starting": ("◌", "yellow"), "ready": ("✓", "green"),
    "backoff": ("↻", "yellow"), "failed": ("✗", "bold red"), "stopping": ("■", "dim"), "stopped": ("■", "dim"),
    "exited": ("■", "dim"),
}
COLUMNS = ("service", "state", "url", "app id", "dapr http", "dapr grpc")
FOOTER = "logs: aura dev logs -f · stop: Ctrl-C or aura dev down"
_SGR = {"dim": "2", "bold": "1", "green": "32", "yellow": "33", "bold red": "1;31"}


@dataclass(frozen=True)
class ServiceRow:
    name: str
    state: str  # the app unit's state ("?" when the state file has none)
    url: str
    app_id: str
    dapr_http: str
    dapr_grpc: str
    ready: bool = False  # the service's own readiness (its app and its sidecar), not the app unit's state

    @property
    def mark(self) -> tuple[str, str]:
        """The state's mark and style."""
        return MARKS.get(self.state, ("?", ""))

    def cells(self) -> tuple[str, ...]:
        return (self.name, f"{self.mark[0]} {self.state}", self.url, self.app_id, self.dapr_http, self.dapr_grpc)


@dataclass(frozen=True)
class InfraEntry:
    label: str
    service: str  # the unit's service name, which the log digest knows it by
    port: Any


@dataclass(frozen=True)
class SummaryData:
    backend: str
    runtime_version: str
    rows: tuple[ServiceRow, ...]
    infra: tuple[InfraEntry, ...]

    @classmethod
    def from_state_json(cls, data: Mapping[str, Any]) -> SummaryData:
        """From `state.json` as written by the supervisor (`engine.snapshot`'s `to_json`)."""
        units: Mapping[str, Any] = data.get("units") or {}
        rows = []
        for name, svc in (data.get("services") or {}).items():
            app = units.get(name)
            rows.append(ServiceRow(
                name=str(name), state=str(app.get("state")) if isinstance(app, dict) else "?",
                url=str(svc.get("url") or "-"), app_id=str(svc.get("appId") or "-"),
                dapr_http=str(svc.get("daprHttpPort") or "-"), dapr_grpc=str(svc.get("daprGrpcPort") or "-"),
                ready=bool(svc.get("ready"))))
        infra = tuple(InfraEntry(str(label), str(unit.get("service")), (unit.get("ports") or {}).get("main"))
                      for label, unit in units.items() if isinstance(unit, dict) and unit.get("source") == "infra")
        return cls(backend=str(data.get("backend")), runtime_version=str(data.get("runtimeVersion")),
                   rows=tuple(rows), infra=infra)

    @property
    def ready(self) -> int:
        return sum(1 for row in self.rows if row.ready)

    @property
    def all_ready(self) -> bool:
        return self.ready == len(self.rows)

    def headline(self, seconds: float) -> tuple[str, str, str]:
        """(count, time, infra): "1/1 services ready", " in 0.42 s ", "(infra: native, Dapr 1.18.2)"."""
        return (f"{self.ready}/{len(self.rows)} services ready", f" in {seconds:.2f} s ",
                f"(infra: {self.backend}, Dapr {self.runtime_version})")

    def infra_line(self, said: Mapping[str, str] | None = None) -> str | None:
        """"infra: placement 28602, redis 28601, …", each with what its lines said when known."""
        parts = []
        for entry in self.infra:
            note = (said or {}).get(entry.service, "")
            parts.append(f"{entry.label} {entry.port}" + (f" ({note})" if note else ""))
        return f"infra: {', '.join(parts)}" if parts else None


def _styled(text: str, style: str, colour: bool) -> str:
    code = _SGR.get(style)
    return f"\x1b[{code}m{text}\x1b[0m" if colour and code and text else text


def table_width(data: SummaryData) -> int:
    """How wide the table is laid out as rich lays it out (2-space padding on every side)."""
    widths = [max([len(column)] + [len(row.cells()[i]) for row in data.rows]) for i, column in enumerate(COLUMNS)]
    return sum(width + 4 for width in widths)


def plain_text(data: SummaryData, seconds: float, *, dashboard: str | None, colour: bool) -> str:
    """The whole summary, lines ending in a newline; styled only when `colour`."""
    count, took, infra = data.headline(seconds)
    lines = [_styled(count, "green" if data.all_ready else "yellow", colour) + took + _styled(infra, "dim", colour)]
    widths = [max([len(column)] + [len(row.cells()[i]) for row in data.rows]) for i, column in enumerate(COLUMNS)]
    lines.append("".join("  " + _styled(column.ljust(width), "dim", colour) + "  "
                         for column, width in zip(COLUMNS, widths)))
    for row in data.rows:
        styles = ("bold", row.mark[1], "", "", "", "")
        lines.append("".join("  " + _styled(cell, style, colour) + " " * (width - len(cell)) + "  "
                             for cell, style, width in zip(row.cells(), styles, widths)))
    infra_line = data.infra_line()
    if infra_line:
        lines.append(_styled(infra_line, "dim", colour))
    lines.append(_styled(FOOTER, "dim", colour))
    if dashboard:
        # OSC 8, as rich's [link] writes it: the long URL stays clickable when it wraps.
        shown = f"\x1b]8;;{dashboard}\x1b\\{dashboard}\x1b]8;;\x1b\\" if colour else dashboard
        lines.append(f"dashboard: {shown}")
    return "".join(line + "\n" for line in lines)
