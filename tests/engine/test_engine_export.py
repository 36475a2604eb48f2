"""Reachable-graph export: networkx, DOT (action labels, violation path in red), JSON,
and an honest `truncated` flag when the bound cut the graph."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import networkx as nx
import pytest

from lifecycle.engine import Property, check, to_dot, to_json, to_networkx
from lifecycle.examples import CounterGrid, FastCounterGrid, TwoPhase


class Grid(CounterGrid):
    """A 3x3 grid (n=2) whose invariant forbids (2, 1): reached in 3 steps."""

    def __init__(self) -> None:
        super().__init__(2, 2)

    def properties(self) -> list[Property]:
        return [Property.always("avoid (2, 1)", lambda s: s != (2, 1))]


def expected_grid() -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    for x in range(3):
        for y in range(3):
            g.add_node((x, y))
            if x < 2:
                g.add_edge((x, y), (x + 1, y), label="Inc(0)")
            if y < 2:
                g.add_edge((x, y), (x, y + 1), label="Inc(1)")
    return g


@pytest.mark.parametrize("cls", [Grid])
def test_networkx_export_is_the_reachable_graph(cls: type[Grid]) -> None:
    graph = to_networkx(cls())
    assert graph.graph["complete"] and not graph.graph["truncated"]
    relabelled = nx.relabel_nodes(graph, {n: d["state"] for n, d in graph.nodes(data=True)})
    expected = expected_grid()
    assert set(relabelled.nodes) == set(expected.nodes)
    assert sorted((u, v, d["label"]) for u, v, d in relabelled.edges(data=True)) == sorted(
        (u, v, d["label"]) for u, v, d in expected.edges(data=True)
    )
    assert nx.is_isomorphic(relabelled, expected)
    assert [d["state"] for _, d in graph.nodes(data=True) if d["initial"]] == [(0, 0)]
    # Node ids are in BFS order: distances from the initial node never decrease.
    dist = nx.single_source_shortest_path_length(graph, 0)
    assert [dist[n] for n in sorted(graph.nodes)] == sorted(dist.values())
    # The violation ends at (2, 1), by a 3-step path of real edges.
    path = graph.graph["violation_paths"]["avoid (2, 1)"]
    assert len(path) == 4 and graph.nodes[path[-1]]["state"] == (2, 1)
    assert graph.nodes[path[-1]]["violates"] == ["avoid (2, 1)"]
    assert all(graph.has_edge(u, v) for u, v in itertools.pairwise(path))


def test_parallel_edges_are_kept() -> None:
    class Twice(FastCounterGrid):
        def successors(self, state: Any) -> Iterator[Any]:
            for _, nxt in super().successors(state):
                yield ("Inc", 0), nxt
                yield ("Again", 0), nxt

    graph = to_networkx(Twice(3, 1))
    assert graph.number_of_nodes() == 4
    assert graph.number_of_edges() == 6  # two parallel edges per step


def test_dot_highlights_the_violation_path() -> None:
    graph = to_networkx(Grid())
    dot = to_dot(graph, state_label=lambda s: f"{s[0]},{s[1]}")
    edges = [line for line in dot.splitlines() if "->" in line]
    assert len(edges) == 12
    red = [line for line in edges if "color=red" in line]
    assert len(red) == 3  # exactly the counterexample's steps
    path = graph.graph["violation_paths"]["avoid (2, 1)"]
    for u, v in itertools.pairwise(path):
        assert any(line.strip().startswith(f"n{u} -> n{v} ") for line in red)
    assert all('label="Inc(' in line for line in edges)
    bad = next(line for line in dot.splitlines() if 'label="2,1"' in line)
    assert "fillcolor=mistyrose" in bad and "violates avoid (2, 1)" in bad
    start = next(line for line in dot.splitlines() if 'label="0,0"' in line)
    assert "peripheries=2" in start
    assert "truncated" not in dot


def test_dot_highlight_argument_and_quoting() -> None:
    result = check(TwoPhase(2))
    graph = to_networkx(TwoPhase(2))
    dot = to_dot(graph, highlight=result.witnesses["committed"], name='two "phase"')
    assert dot.startswith('digraph "two \\"phase\\"" {')
    red = [line for line in dot.splitlines() if "->" in line and "color=red" in line]
    assert len(red) == len(result.witnesses["committed"])


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_dot_is_valid_graphviz() -> None:
    graph = to_networkx(TwoPhase(2))
    dot = to_dot(graph)
    out = subprocess.run(
        ["dot", "-Tsvg"], input=dot, capture_output=True, text=True, check=True, timeout=60
    )
    assert "<svg" in out.stdout


def test_json_export_parses_and_matches_the_graph() -> None:
    graph = to_networkx(Grid())
    data = json.loads(to_json(graph))
    assert data["complete"] is True and data["truncated"] is False
    assert len(data["nodes"]) == 9 and len(data["edges"]) == 12
    states = {n["id"]: tuple(n["state"]) for n in data["nodes"]}
    assert set(states.values()) == set(expected_grid().nodes)
    assert {(states[e["source"]], states[e["target"]], e["action"]) for e in data["edges"]} == {
        (u, v, d["label"]) for u, v, d in expected_grid().edges(data=True)
    }
    assert [states[i] for i in data["violation_paths"]["avoid (2, 1)"]][-1] == (2, 1)
    assert [n for n in data["nodes"] if n["violates"]] == [
        {
            "id": data["violation_paths"]["avoid (2, 1)"][-1],
            "state": [2, 1],
            "initial": False,
            "violates": ["avoid (2, 1)"],
        }
    ]


@pytest.mark.parametrize("bound", range(1, 9))
def test_truncated_export_is_flagged_and_consistent(bound: int) -> None:
    graph = to_networkx(Grid(), max_states=bound)
    assert graph.graph["truncated"] and not graph.graph["complete"]
    assert graph.number_of_nodes() == bound
    # Every drawn edge joins drawn states: the cut leaves no dangling half-edge.
    assert all(u in graph and v in graph for u, v in graph.edges())
    data = json.loads(to_json(graph))
    assert data["truncated"] is True and data["complete"] is False
    dot = to_dot(graph)
    assert re.search(rf'label="truncated: only the first {bound} states are drawn"', dot)


def test_export_reuses_a_graph_result() -> None:
    result = check(Grid(), keep_graph=True)
    graph = to_networkx(Grid(), result=result)
    assert graph.graph["result"] is result
    assert graph.number_of_nodes() == result.distinct_states == 9


def test_importing_the_engine_does_not_import_networkx() -> None:
    import subprocess
    import sys

    probe = "import sys, lifecycle.engine; print('networkx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
