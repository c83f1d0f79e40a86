"""The filters of `aura dev logs` — services, source, level, grep, since — from what a
person typed, in one place: the command line and the dashboard build them the same way."""

from __future__ import annotations

import re
from collections.abc import Iterable

from aura_dev.logs.query import LogFilter
from aura_dev.logs.record import Source, parse_level
from aura_dev.logs.view import parse_since


class BadFilter(ValueError):
    """A filter that cannot be used; the message says which and why."""


def build_log_filter(*, services: Iterable[str] = (), sources: Iterable[str] = (), level: str | None = None,
                     grep: str | None = None, ignore_case: bool = False, since: str | None = None,
                     now: float | None = None) -> LogFilter:
    flt = LogFilter(services=set(services))
    chosen = list(sources)
    try:
        flt.sources = {Source(value) for value in chosen}
    except ValueError:
        raise BadFilter(f"--source takes app, sidecar or infra, not {', '.join(chosen)}") from None
    if level:
        try:
            flt.min_level = parse_level(level)
        except ValueError as exc:
            raise BadFilter(str(exc)) from None
    if since:
        try:
            flt.since_us = int(parse_since(since, now) * 1_000_000)
        except ValueError as exc:
            raise BadFilter(str(exc)) from None
    if grep:
        try:
            flt.grep = re.compile(grep.encode(), re.IGNORECASE if ignore_case else 0)
        except re.error as exc:
            raise BadFilter(f"--grep is not a valid regular expression: {exc}") from None
    return flt
