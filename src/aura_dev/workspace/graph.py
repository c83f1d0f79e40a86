"""Pure dependency-graph helpers: start waves, stop order, closures, cycles."""

from __future__ import annotations

import graphlib
from collections.abc import Iterable, Mapping, Sequence


class DependencyCycle(Exception):
    def __init__(self, cycle: Sequence[str]) -> None:
        super().__init__(" -> ".join(cycle))
        self.cycle = list(cycle)


def dependency_waves(depends_on: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Group services into waves: each wave only depends on earlier waves.

    Names inside a wave are sorted so the result is deterministic.  Dependencies that are
    not keys of `depends_on` are ignored (validation reports them separately).
    """
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for name, deps in depends_on.items():
        sorter.add(name, *(d for d in deps if d in depends_on))
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        raise DependencyCycle(_ordered_cycle(list(exc.args[1]))) from None
    waves: list[list[str]] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        waves.append(ready)
        sorter.done(*ready)
    return waves


def _ordered_cycle(cycle: list[str]) -> list[str]:
    """graphlib reports a cycle as [a, b, ..., a] walking dependency -> dependent; show it
    as `a depends on ... depends on a` (reverse), starting from the smallest name."""
    nodes = list(reversed(cycle[:-1])) if len(cycle) > 1 and cycle[0] == cycle[-1] else list(reversed(cycle))
    start = nodes.index(min(nodes))
    rotated = nodes[start:] + nodes[:start]
    return rotated + [rotated[0]]


def stop_order(depends_on: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Waves to stop in: dependents before what they depend on."""
    return list(reversed(dependency_waves(depends_on)))


def closure(depends_on: Mapping[str, Sequence[str]], selected: Iterable[str]) -> set[str]:
    """`selected` plus everything it depends on, transitively."""
    result: set[str] = set()
    pending = list(selected)
    while pending:
        name = pending.pop()
        if name in result:
            continue
        result.add(name)
        pending.extend(d for d in depends_on.get(name, ()) if d in depends_on)
    return result


def dependents(depends_on: Mapping[str, Sequence[str]], name: str) -> set[str]:
    """Every service that depends on `name`, transitively."""
    reverse: dict[str, set[str]] = {}
    for service, deps in depends_on.items():
        for dep in deps:
            reverse.setdefault(dep, set()).add(service)
    result: set[str] = set()
    pending = list(reverse.get(name, ()))
    while pending:
        current = pending.pop()
        if current not in result:
            result.add(current)
            pending.extend(reverse.get(current, ()))
    return result
