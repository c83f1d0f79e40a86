"""`aura dev logs`, behind its command: turn the options into a filter, print matching
lines, follow."""

from __future__ import annotations

import os
import sys

from aura_dev.cli import console as ui
from aura_dev.errors import UnknownService, UserError
from aura_dev.logs.filters import BadFilter, build_log_filter
from aura_dev.logs.query import Follower, LogFilter, query, selected_owners
from aura_dev.logs.view import LineFormatter
from aura_dev.workspace.locate import WorkspaceRef
from aura_dev.workspace.problems import did_you_mean

INFRA_NAMES = ("redis", "placement", "scheduler", "zipkin", "aura")


def build_filter(ws: WorkspaceRef, services: list[str], since: str | None, sources: list[str], level: str | None,
                 grep: str | None, ignore_case: bool) -> LogFilter:
    known = list(ws.service_names) + list(INFRA_NAMES)
    for name in services:
        if name not in known:
            guess = did_you_mean(name, known)
            raise UnknownService(f"no service or infra unit named {name!r}",
                                 hint=f"did you mean {guess!r}?" if guess else f"known: {', '.join(known)}")
    try:
        return build_log_filter(services=services, sources=sources, level=level, grep=grep,
                                ignore_case=ignore_case, since=since)
    except BadFilter as exc:
        raise UserError(str(exc)) from None


def run(ws: WorkspaceRef, *, services: list[str], follow: bool, tail: int | None, since: str | None,
        sources: list[str], level: str | None, grep: str | None, ignore_case: bool, as_json: bool, raw: bool,
        no_color: bool, trace: str | None = None) -> int:
    flt = build_filter(ws, services, since, sources, level, grep, ignore_case)
    root = ws.state_dir / "logs"
    if trace is not None:
        if follow:
            raise UserError("--trace and --follow cannot go together", hint="a trace's lines are already written")
        return _trace_lines(ws, trace, flt, as_json=as_json, raw=raw, no_color=no_color)
    if tail is not None and tail < 0:
        raise UserError("--tail must be 0 or more")
    if not selected_owners(root, flt) and not follow:
        ui.err.print(f"no logs yet in {root}" + (f" for {', '.join(services)}" if services else "")
                     + "; start the stack with `aura dev up`")
        return 0
    out = sys.stdout.buffer
    colour = not no_color and not as_json and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    labels = [name for name, _folder in selected_owners(root, flt)] + [f"{n}·dapr" for n in ws.service_names]
    formatter = LineFormatter(colour=colour, width=min(28, max([len(x) for x in labels] + [9])), raw=raw)
    emit = formatter.json if as_json else formatter.human
    if follow and tail is None and since is None:
        tail = 50
    follower = Follower(root, flt) if follow else None  # positions taken before the history is read
    try:
        batch: list[bytes] = []
        for line in query(root, flt, tail):
            batch.append(emit(line))
            if len(batch) >= 4096:
                out.write(b"".join(batch))
                batch.clear()
        out.write(b"".join(batch))
        out.flush()
        if follower is not None:
            for lines in follower.follow():
                if lines:
                    out.write(b"".join(emit(line) for line in lines))
                    out.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except KeyboardInterrupt:
        pass
    return 0


def _trace_lines(ws: WorkspaceRef, trace_id: str, flt: LogFilter, *, as_json: bool, raw: bool, no_color: bool) -> int:
    """`logs --trace ID`: the lines its spans produced (the other filters narrow them further)."""
    from aura_dev.engine.traces import span_log_lines, stack_tracing

    tracing = stack_tracing(ws)
    spans = tracing.zipkin.trace(trace_id)
    lines = [line for line in span_log_lines(ws.state_dir / "logs", spans, tracing.app_ids)
             if flt.owner_wanted(line.owner) and flt.accepts(line)]
    colour = not no_color and not as_json and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    formatter = LineFormatter(colour=colour, width=min(28, max([len(line.owner) + 5 for line in lines] + [9])), raw=raw)
    emit = formatter.json if as_json else formatter.human
    sys.stdout.buffer.write(b"".join(emit(line) for line in lines))
    sys.stdout.flush()
    if not lines:
        ui.err.print(f"no log lines for trace {trace_id}")
    return 0
