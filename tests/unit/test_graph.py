from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aura_dev.workspace.graph import DependencyCycle, closure, dependency_waves, dependents, stop_order

names = st.sampled_from([f"s{i}" for i in range(8)])


@st.composite
def acyclic_graphs(draw: st.DrawFn) -> dict[str, list[str]]:
    count = draw(st.integers(min_value=1, max_value=8))
    nodes = [f"s{i}" for i in range(count)]
    # Edges only from a later node to an earlier one: acyclic by construction.
    return {node: sorted(set(draw(st.lists(st.sampled_from(nodes[:i]), max_size=3)) if i else []))
            for i, node in enumerate(nodes)}


@given(acyclic_graphs())
def test_every_service_starts_after_its_dependencies(graph: dict[str, list[str]]) -> None:
    waves = dependency_waves(graph)
    position = {name: index for index, wave in enumerate(waves) for name in wave}
    assert set(position) == set(graph)
    for name, deps in graph.items():
        for dep in deps:
            assert position[dep] < position[name]


@given(acyclic_graphs())
def test_stop_order_is_the_reverse(graph: dict[str, list[str]]) -> None:
    assert stop_order(graph) == list(reversed(dependency_waves(graph)))


@settings(max_examples=200)
@given(acyclic_graphs(), st.data())
def test_adding_a_back_edge_is_always_detected(graph: dict[str, list[str]], data: st.DataObject) -> None:
    candidates = [(a, b) for a in graph for b in graph if b in closure(graph, [a]) and a != b]
    if not candidates:
        a = next(iter(graph))
        cyclic = {**graph, a: [*graph[a], a]}
    else:
        a, b = data.draw(st.sampled_from(candidates))
        cyclic = {**graph, b: [*graph[b], a]}
    with pytest.raises(DependencyCycle) as info:
        dependency_waves(cyclic)
    cycle = info.value.cycle
    assert cycle[0] == cycle[-1]
    for here, there in zip(cycle, cycle[1:]):
        assert there in cyclic[here], f"{here} -> {there} is not an edge of {cyclic}"


def test_cycle_is_printed_in_dependency_direction() -> None:
    with pytest.raises(DependencyCycle) as info:
        dependency_waves({"a": ["b"], "b": ["c"], "c": ["a"], "d": []})
    assert str(info.value) == "a -> b -> c -> a"


def test_waves_group_independent_services() -> None:
    assert dependency_waves({"gw": ["conv", "notify"], "conv": [], "notify": []}) == [["conv", "notify"], ["gw"]]


def test_closure_and_dependents() -> None:
    graph = {"gw": ["conv"], "conv": ["store"], "store": [], "other": []}
    assert closure(graph, ["gw"]) == {"gw", "conv", "store"}
    assert dependents(graph, "store") == {"conv", "gw"}
