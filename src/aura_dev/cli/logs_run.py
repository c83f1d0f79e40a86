"""What `aura dev logs` does once its options are parsed: turn them into a filter, print the
matching lines, follow.  Without typer, so the fast path (`cli/fast.py`) runs it directly."""

from __future__ import annotations

import os
import re
import sys

from aura_dev.cli import console as ui
from aura_dev.errors import UnknownService, UserError
from aura_dev.logs.query import Follower, LogFilter, query, selected_owners
from aura_dev.logs.record import Source, parse_level
from aura_dev.logs.view import LineFormatter, parse_since
from aura_dev.workspace.locate import WorkspaceRef
from aura_dev.workspace.problems import did_you_mean

INFRA_NAMES = ("redis", "placement", "scheduler", "aura")


def build_filter(ws: WorkspaceRef, services: list[str], since: str | None, sources: list[str], level: str | None,
                 grep: str | None, ignore_case: bool) -> LogFilter:
    known = list(ws.service_names) + list(INFRA_NAMES)
    for name in services:
        if name not in known:
            guess = did_you_mean(name, known)
            raise UnknownService(f"no service or infra unit named {name!r}",
                                 hint=f"did you mean {guess!r}?" if guess else f"known: {', '.join(known)}")
    flt = LogFilter(services=set(services))
    try:
        flt.sources = {Source(value) for value in sources}
    except ValueError:
        raise UserError(f"--source takes app, sidecar or infra, not {', '.join(sources)}") from None
    if level:
        try:
            flt.min_level = parse_level(level)
        except ValueError as exc:
            raise UserError(str(exc)) from None
    if since:
        try:
            flt.since_us = int(parse_since(since) * 1_000_000)
        except ValueError as exc:
            raise UserError(str(exc)) from None
    if grep:
        try:
            flt.grep = re.compile(grep.encode(), re.IGNORECASE if ignore_case else 0)
        except re.error as exc:
            raise UserError(f"--grep is not a valid regular expression: {exc}") from None
    return flt


def run(ws: WorkspaceRef, *, services: list[str], follow: bool, tail: int | None, since: str | None,
        sources: list[str], level: str | None, grep: str | None, ignore_case: bool, as_json: bool, raw: bool,
        no_color: bool) -> int:
    flt = build_filter(ws, services, since, sources, level, grep, ignore_case)
    root = ws.state_dir / "logs"
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
