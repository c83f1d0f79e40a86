"""What the terminal view shows, as plain values: one row per service (its app and its
sidecar side by side) and per infra unit, the details of a selection, the log filter a
selection means (built exactly as `aura dev logs` builds it), and Dapr's metadata in a few
lines, a log line wrapped under its own text.  No Textual here: these are tested on their own."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum
from typing import Any

from rich.console import Console
from rich.text import Text

from aura_dev.engine.snapshot import StackSnapshot, UnitRecord
from aura_dev.logs.filters import build_log_filter
from aura_dev.logs.query import LogFilter

MARKS = {
    "pending": "·", "waiting": "…", "starting": "◌", "ready": "✓", "backoff": "↻", "failed": "✗",
    "stopping": "■", "stopped": "■", "exited": "■",
}
STYLES = {"ready": "green", "starting": "yellow", "backoff": "yellow", "failed": "bold red", "waiting": "dim",
          "pending": "dim", "stopping": "dim", "stopped": "dim", "exited": "dim"}


class Sources(Enum):
    """Which of a service's lines the log pane shows."""

    BOTH = ("app + sidecar", ())
    APP = ("app", ("app",))
    SIDECAR = ("sidecar", ("sidecar",))

    def __init__(self, title: str, sources: tuple[str, ...]) -> None:
        self.title = title
        self.sources = sources

    def next(self) -> Sources:
        members = list(Sources)
        return members[(members.index(self) + 1) % len(members)]


MIN_TEXT_COLUMNS = 40  # narrower than this under the prefix, a long line wraps as it comes
LEVELS = (None, "warn", "error")  # the level filter cycles through these


@dataclass(frozen=True)
class Row:
    key: str  # a service's name, or an infra unit's
    is_service: bool
    cells: tuple[tuple[str, str], ...]  # (text, style) per column


COLUMNS = ("service", "app", "port", "↻", "sidecar", "http", "↻ ")


def state_cell(unit: UnitRecord | None) -> tuple[str, str]:
    if unit is None:
        return "", ""
    state = unit.state.value
    return f"{MARKS.get(state, '?')} {state}", STYLES.get(state, "")


def rows(snap: StackSnapshot) -> list[Row]:
    """Services first, in the workspace's order, then the infra."""
    out = []
    for name in snap.services:
        app = snap.units.get(name)
        sidecar = snap.units.get(f"{name}·dapr")
        app_port = app.ports.get("app") if app else None
        http = sidecar.ports.get("http") if sidecar else None
        out.append(Row(name, True, (
            (name, "bold"), state_cell(app), (str(app_port or ""), ""), (str(app.restarts) if app else "", "dim"),
            state_cell(sidecar) if sidecar else ("no sidecar", "dim"), (str(http or ""), ""),
            (str(sidecar.restarts) if sidecar else "", "dim"))))
    for label, unit in snap.units.items():
        if unit.source.value == "infra":
            port = unit.ports.get("main")
            out.append(Row(label, False, ((label, "italic"), state_cell(unit), (str(port or ""), ""),
                                          (str(unit.restarts), "dim"), ("", ""), ("", ""), ("", ""))))
    return out


def uptime(unit: UnitRecord, now: float | None = None) -> str:
    if unit.since is None or unit.state.value != "ready":
        return ""
    seconds = int((now or time.time()) - unit.since)
    if seconds < 60:
        return f"up {seconds} s"
    if seconds < 3600:
        return f"up {seconds // 60} min {seconds % 60} s"
    return f"up {seconds // 3600} h {seconds % 3600 // 60} min"


def unit_line(title: str, unit: UnitRecord | None, now: float | None = None) -> str:
    """One unit of the selection: state, pid, ports, uptime, restarts, last exit."""
    if unit is None:
        return f"{title:8} none"
    parts = [f"{title:8} {MARKS.get(unit.state.value, '?')} {unit.state.value}"]
    if unit.pid is not None:
        parts.append(f"pid {unit.pid}")
    elif unit.identity.container:
        parts.append(f"container {unit.identity.container[:12]}")
    parts += [f"{name} {port}" for name, port in unit.ports.items() if port]
    parts += [text for text in (uptime(unit, now),) if text]
    parts.append(f"restarts {unit.restarts}")
    line = "  ".join(parts)
    if unit.detail and unit.state.value not in ("ready",):
        line += f"\n         {unit.detail}"
    if unit.last_exit is not None:
        line += f"\n         last exit: {unit.last_exit.reason}"
    return line


def details(snap: StackSnapshot, key: str, now: float | None = None) -> str:
    if key in snap.services:
        service = snap.services[key]
        head = f"{key} · app id {service.app_id or '-'}" + (f" · {service.url}" if service.url else "")
        if service.depends_on:
            head += f" · after {', '.join(service.depends_on)}"
        return "\n".join([head, unit_line("app", snap.units.get(key), now),
                          unit_line("sidecar", snap.units.get(f"{key}·dapr"), now)])
    return "\n".join([key, unit_line(key, snap.units.get(key), now)])


def log_filter(selected: str | None, sources: Sources, level: str | None, grep: str | None) -> LogFilter:
    """The pane's lines, as `aura dev logs [SERVICE] [--source …] [--level …] [--grep …]` would
    choose them (smart case: a pattern with no capital letter ignores case)."""
    return build_log_filter(services=[selected] if selected else [], sources=sources.sources, level=level,
                            grep=grep or None, ignore_case=grep is not None and grep == grep.lower())


def dapr_lines(meta: dict[str, Any] | None, error: str | None) -> list[str]:
    """Dapr's view of a sidecar (`engine.dapr_metadata.shape_metadata`) in a few lines."""
    if meta is None:
        return [f"Dapr: {error}" if error else "Dapr: no sidecar"]
    out = [f"Dapr {meta.get('runtimeVersion') or '?'} · app id {meta.get('id')}"]
    components = [f"{c['name']} ({c['type']} {c.get('version') or ''})".replace(" )", ")")
                  for c in meta.get("components", [])]
    out.append("components  " + (", ".join(components) or "none"))
    subscriptions = [f"{s['topic']} ← {s['pubsub']}" + "".join(f" → {r['path']}" for r in s.get("routes", [])[:1])
                     for s in meta.get("subscriptions", [])]
    if subscriptions:
        out.append("subscribed  " + ", ".join(subscriptions))
    actors = [f"{a['type']} ×{a.get('count', 0)}" for a in meta.get("actors", [])]
    if actors:
        out.append("actors      " + ", ".join(actors))
    runtime = meta.get("actorRuntime") or {}
    links = []
    if runtime.get("placement"):
        links.append(str(runtime["placement"]))
    scheduler = meta.get("scheduler") or {}
    if scheduler.get("connected_addresses"):
        links.append(f"scheduler: connected to {', '.join(map(str, scheduler['connected_addresses']))}")
    app = meta.get("app") or {}
    if app.get("port"):
        health = (app.get("health") or {})
        probe = f", health {health.get('healthCheckPath') or health.get('healthProbeInterval') or 'probed'}" \
            if health else ""
        links.append(f"app channel {app.get('protocol') or 'http'} :{app['port']}{probe}")
    out += links
    return out


def hanging(line: Text, width: int, console: Console) -> Text:
    """A log line (`time unit │ text`) that is too wide, wrapped so that the rest of its text
    starts under its text, not under its time: the column of units stays readable."""
    if line.cell_len <= width:
        return line
    cut = line.plain.find("│ ") + 2
    if cut < 2 or width - cut < MIN_TEXT_COLUMNS:
        return line  # no prefix, or a pane too narrow to indent
    head, body = line.divide([cut])
    rows = body.wrap(console, width - cut)
    indent = Text(" " * cut)
    return Text("\n").join([head + rows[0], *(indent + row for row in rows[1:])])
