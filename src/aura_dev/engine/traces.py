"""Traces of a running stack, read from aura's Zipkin (`/api/v2`): spans as values, one
line per trace, the span tree, and the log lines a span produced.  No printing: the CLI
and the dashboard present what these return."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aura_dev.engine import runstate
from aura_dev.errors import NotRunning, UserError
from aura_dev.net import LOOPBACK

if TYPE_CHECKING:
    from aura_dev.logs.query import Line
    from aura_dev.workspace.locate import WorkspaceRef

LOG_SLACK_US = 20_000  # a line is written a little after the work it reports (pipes, buffers)
ERROR_STATUS = 500


@dataclass(frozen=True)
class Span:
    trace_id: str
    id: str
    parent_id: str | None
    name: str
    kind: str
    service: str  # the app id that reported it
    start_us: int
    duration_us: int
    tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_zipkin(cls, data: Mapping[str, Any]) -> Span:
        return cls(trace_id=str(data["traceId"]), id=str(data["id"]), parent_id=data.get("parentId"),
                   name=str(data.get("name") or "?"), kind=str(data.get("kind") or ""),
                   service=str((data.get("localEndpoint") or {}).get("serviceName") or "?"),
                   start_us=int(data.get("timestamp") or 0), duration_us=int(data.get("duration") or 0),
                   tags={str(k): str(v) for k, v in (data.get("tags") or {}).items()})

    @property
    def end_us(self) -> int:
        return self.start_us + self.duration_us

    @property
    def error(self) -> bool:
        """A failed call: Zipkin's `error` tag, an OpenTelemetry error status, or a 5xx."""
        if "error" in self.tags or self.tags.get("otel.status_code") == "ERROR":
            return True
        for key in ("dapr.status_code", "http.status_code", "http.response.status_code"):
            code = self.tags.get(key, "")
            if code.isdigit() and int(code) >= ERROR_STATUS:
                return True
        return False

    def to_json(self) -> dict[str, Any]:
        return {"traceId": self.trace_id, "id": self.id, "parentId": self.parent_id, "name": self.name,
                "kind": self.kind, "service": self.service, "start": self.start_us, "duration": self.duration_us,
                "error": self.error, "tags": dict(self.tags)}


@dataclass(frozen=True)
class TraceSummary:
    trace_id: str
    root_service: str
    root_name: str
    start_us: int
    duration_us: int
    spans: int
    services: tuple[str, ...]
    errors: int

    def to_json(self) -> dict[str, Any]:
        return {"traceId": self.trace_id, "rootService": self.root_service, "root": self.root_name,
                "start": self.start_us, "durationUs": self.duration_us, "spans": self.spans,
                "services": list(self.services), "errors": self.errors}


def roots(spans: Sequence[Span]) -> list[Span]:
    """Spans whose parent is not in the trace (the caller that started it may report none)."""
    ids = {s.id for s in spans}
    return sorted((s for s in spans if s.parent_id is None or s.parent_id not in ids), key=lambda s: s.start_us)


def summarize(spans: Sequence[Span]) -> TraceSummary:
    first = roots(spans)[0] if spans else None
    start = min(s.start_us for s in spans)
    end = max(s.end_us for s in spans)
    return TraceSummary(trace_id=spans[0].trace_id, root_service=first.service if first else "?",
                        root_name=first.name if first else "?", start_us=start, duration_us=end - start,
                        spans=len(spans), services=tuple(sorted({s.service for s in spans})),
                        errors=sum(1 for s in spans if s.error))


def span_tree(spans: Sequence[Span]) -> list[tuple[int, Span]]:
    """Every span with its depth, parents before children, siblings by start time."""
    children: dict[str | None, list[Span]] = {}
    for span in spans:
        children.setdefault(span.parent_id, []).append(span)
    ordered: list[tuple[int, Span]] = []

    def visit(span: Span, depth: int) -> None:
        ordered.append((depth, span))
        for child in sorted(children.get(span.id, []), key=lambda s: s.start_us):
            if child is not span:
                visit(child, depth + 1)

    for root in roots(spans):
        visit(root, 0)
    return ordered


def filter_summaries(summaries: Iterable[TraceSummary], *, service: str | None = None,
                     min_duration_us: int | None = None, errors_only: bool = False) -> list[TraceSummary]:
    return [t for t in summaries
            if (service is None or service in t.services)
            and (min_duration_us is None or t.duration_us >= min_duration_us)
            and (not errors_only or t.errors)]


class Zipkin:
    """The query API of aura's Zipkin for one running stack."""

    def __init__(self, port: int, timeout: float = 5.0) -> None:
        self.base = f"http://{LOOPBACK}:{port}/api/v2"
        self.timeout = timeout

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        import httpx

        try:
            response = httpx.get(self.base + path, params=dict(params or {}), timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise NotRunning(f"aura's Zipkin does not answer at {self.base}: {exc}",
                             hint="it may still be starting (see `aura dev logs zipkin`)") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise NotRunning(f"Zipkin answered HTTP {response.status_code} for {path}")
        return response.json()

    def traces(self, *, service: str | None = None, limit: int = 20, lookback_ms: int = 3_600_000,
               min_duration_us: int | None = None) -> list[list[Span]]:
        params: dict[str, Any] = {"limit": limit, "lookback": lookback_ms}
        if service:
            params["serviceName"] = service
        if min_duration_us:
            params["minDuration"] = min_duration_us
        return [[Span.from_zipkin(s) for s in trace] for trace in self._get("/traces", params) or [] if trace]

    def trace(self, trace_id: str) -> list[Span]:
        if not re.fullmatch(r"[0-9a-f]{16}|[0-9a-f]{32}", trace_id.lower()):
            raise UserError(f"{trace_id!r} is not a trace id", hint="a trace id is 16 or 32 hex digits; "
                            "see `aura dev traces`")
        found = self._get(f"/trace/{trace_id.lower()}")
        if not found:
            raise UserError(f"no trace {trace_id} in aura's Zipkin",
                            hint="list recent ones with `aura dev traces` (Zipkin keeps them in memory only)")
        return [Span.from_zipkin(s) for s in found]

    def dependencies(self, end_ms: int, lookback_ms: int = 3_600_000) -> list[dict[str, Any]]:
        return list(self._get("/dependencies", {"endTs": end_ms, "lookback": lookback_ms}) or [])


@dataclass(frozen=True)
class StackTracing:
    """What a command needs to read a running stack's traces."""

    zipkin: Zipkin
    app_ids: Mapping[str, str]  # app id -> service name


def stack_tracing(ws: WorkspaceRef) -> StackTracing:
    state = runstate.read_state(ws.state_dir) if runstate.supervisor_running(ws.state_dir) else None
    if state is None:
        raise NotRunning(f"{ws.name} is not running (traces live in its Zipkin, in memory)",
                         hint="start it with `aura dev up`")
    unit = state.units.get("zipkin")
    port = unit.ports.get("main") if unit is not None else None
    if port is None:
        raise NotRunning(f"{ws.name} runs no Zipkin",
                         hint="see `aura dev doctor` (Java, the Zipkin jar) and infra.zipkin in aura.yaml")
    app_ids = {record.app_id: name for name, record in state.services.items() if record.app_id}
    return StackTracing(Zipkin(port), app_ids)


def span_log_lines(logs_root: Path, spans: Sequence[Span], app_ids: Mapping[str, str]) -> list[Line]:
    """The log lines a trace produced: each service's lines inside its spans' time windows,
    and any line that carries the trace id."""
    from aura_dev.logs.query import LogFilter, query

    windows: dict[str, list[tuple[int, int]]] = {}
    for span in spans:
        service = app_ids.get(span.service)
        if service is not None:
            windows.setdefault(service, []).append((span.start_us - LOG_SLACK_US, span.end_us + LOG_SLACK_US))
    if not spans:
        return []
    trace_id = spans[0].trace_id.encode()
    since = min(s.start_us for s in spans) - LOG_SLACK_US
    until = max(s.end_us for s in spans) + 10 * LOG_SLACK_US
    found: list[Line] = []
    for line in query(logs_root, LogFilter(since_us=since)):
        if line.ts > until:
            break
        inside = any(start <= line.ts <= end for start, end in windows.get(line.owner, ()))
        if inside or trace_id in line.raw:
            found.append(line)
    return found
