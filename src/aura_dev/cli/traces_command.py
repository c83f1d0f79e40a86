"""`aura dev traces`: recent traces of the running stack from its Zipkin, as a table, or one
trace's spans as a waterfall; `--json` for scripts."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from aura_dev.cli import console as ui
from aura_dev.cli.options import JsonOption, WorkspaceOption, locate
from aura_dev.errors import UserError

if TYPE_CHECKING:
    from aura_dev.engine.traces import Span

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s)?\s*$")
_UNIT_US = {"us": 1, "µs": 1, "ms": 1_000, "s": 1_000_000, None: 1_000}
BAR_WIDTH = 40


def parse_duration_us(text: str) -> int:
    """`250ms`, `1.5s`, `800us`; a bare number is milliseconds."""
    match = _DURATION.match(text)
    if match is None:
        raise UserError(f"--min-duration: {text!r} is not a duration", hint="write e.g. 50ms, 1s or 800us")
    return int(float(match[1]) * _UNIT_US[match[2]])


def show_us(us: int) -> str:
    return f"{us / 1e6:.2f} s" if us >= 1_000_000 else f"{us / 1e3:.1f} ms" if us >= 1_000 else f"{us} µs"


def waterfall_rows(spans: Sequence[Span], width: int = BAR_WIDTH) -> list[tuple[str, str, str, str, bool]]:
    """(tree label, service, bar, duration, error) per span, parents first."""
    from aura_dev.engine.traces import span_tree

    if not spans:
        return []
    start = min(s.start_us for s in spans)
    total = max(1, max(s.end_us for s in spans) - start)
    rows = []
    for depth, span in span_tree(spans):
        left = int((span.start_us - start) / total * width)
        length = max(1, round(span.duration_us / total * width))
        bar = " " * left + "█" * min(length, width - left) if left < width else " " * (width - 1) + "█"
        rows.append(("  " * depth + span.name, span.service, bar.ljust(width), show_us(span.duration_us), span.error))
    return rows


def register(dev: typer.Typer, load: Callable[..., object]) -> None:
    """Add `aura dev traces` (it reads the running stack's state, not aura.yaml)."""

    @dev.command()
    def traces(
        trace_id: Annotated[Optional[str], typer.Argument(help="A trace id: its spans as a waterfall",
                                                          show_default=False)] = None,
        workspace: WorkspaceOption = None,
        service: Annotated[Optional[str], typer.Option("--service", help="Only traces touching this service")] = None,
        min_duration: Annotated[Optional[str], typer.Option("--min-duration",
                                                            help="Only traces at least this long (50ms, 1s)")] = None,
        errors: Annotated[bool, typer.Option("--errors", help="Only traces with a failed span")] = False,
        limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10_000,
                                                help="How many recent traces Zipkin is asked for")] = 20,
        as_json: JsonOption = False,
    ) -> None:
        """Recent traces of the running stack (from its Zipkin), or one trace's waterfall."""
        from aura_dev.engine.traces import filter_summaries, stack_tracing, summarize

        ws = locate(workspace)
        minimum = parse_duration_us(min_duration) if min_duration else None
        tracing = stack_tracing(ws)
        by_service = {name: app_id for app_id, name in tracing.app_ids.items()}
        if trace_id:
            _show_trace(tracing.zipkin.trace(trace_id), as_json)
            return
        wanted = by_service.get(service, service) if service else None  # a service name or an app id
        found = tracing.zipkin.traces(service=wanted, limit=limit, min_duration_us=minimum)
        summaries = filter_summaries((summarize(t) for t in found), service=wanted, min_duration_us=minimum,
                                     errors_only=errors)
        summaries.sort(key=lambda t: t.start_us, reverse=True)
        if as_json:
            print(json.dumps([t.to_json() for t in summaries], indent=2))
            return
        if not summaries:
            ui.err.print("no traces yet" + (" matching the filters" if service or minimum or errors else "")
                         + "; send a request to a service")
            return
        _print_table(summaries)


def _print_table(summaries: Sequence[object]) -> None:
    import datetime

    from rich.table import Table

    from aura_dev.engine.traces import TraceSummary

    table = Table(box=None, padding=(0, 2), header_style="dim")
    for column in ("trace", "time", "root", "spans", "services", "duration", "errors"):
        table.add_column(column, justify="right" if column in ("spans", "duration", "errors") else "left")
    for t in summaries:
        assert isinstance(t, TraceSummary)
        when = datetime.datetime.fromtimestamp(t.start_us / 1e6).strftime("%H:%M:%S")
        errors = f"[bold red]{t.errors}[/]" if t.errors else "0"
        table.add_row(t.trace_id, when, ui.escape(f"{t.root_service} {t.root_name}"), str(t.spans),
                      ui.escape(", ".join(t.services)), show_us(t.duration_us), errors)
    ui.out.print(table)


def _show_trace(spans: Sequence[Span], as_json: bool) -> None:
    from rich.table import Table

    from aura_dev.engine.traces import span_tree, summarize

    if as_json:
        print(json.dumps({**summarize(spans).to_json(), "spanList": [s.to_json() for _d, s in span_tree(spans)]},
                         indent=2))
        return
    summary = summarize(spans)
    ui.out.print(f"[bold]trace {summary.trace_id}[/] · {summary.spans} spans · {show_us(summary.duration_us)} · "
                 f"{', '.join(summary.services)}" + (f" · [bold red]{summary.errors} errors[/]" if summary.errors else ""))
    table = Table(box=None, padding=(0, 1), header_style="dim")
    for column in ("span", "service", "", "duration"):
        table.add_column(column, justify="right" if column == "duration" else "left", no_wrap=True)
    for label, service, bar, duration, error in waterfall_rows(spans):
        style = "red" if error else "cyan"
        table.add_row(ui.escape(label), ui.escape(service), f"[{style}]{bar}[/]", duration)
    ui.out.print(table)
