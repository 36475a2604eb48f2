"""Reachable-graph export for small models: networkx, DOT and JSON.

Drawing is for small models only, so export runs its own bounded search and marks the
graph `truncated` when the bound cut it; a drawing must say so rather than pretend to
be the whole state space.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lifecycle.engine.checker import check
from lifecycle.engine.model import ModelProtocol, format_action
from lifecycle.engine.result import CheckResult
from lifecycle.engine.trace import Trace, to_jsonable

if TYPE_CHECKING:
    import networkx as nx


def to_networkx(
    model: ModelProtocol,
    *,
    max_states: int = 10_000,
    deadlock: bool = True,
    result: CheckResult | None = None,
) -> nx.MultiDiGraph:
    """The reachable graph of `model` as a networkx `MultiDiGraph`.

    Nodes are integer ids in BFS order with attributes `state`, `initial` and
    `violates` (names of the properties whose shortest counterexample ends there).
    Edges carry `action` (the action value) and `label` (its text). Parallel edges
    (two actions between the same states) are kept. `G.graph` holds `complete`,
    `truncated`, `result` (the `CheckResult`) and `violation_paths` (property name ->
    list of node ids along the shortest counterexample).
    """
    if result is None or result.graph is None:
        result = check(model, deadlock=deadlock, max_states=max_states, keep_graph=True)
    assert result.graph is not None
    keys = result.graph.states
    import networkx as nx  # here, not at import: only an export needs networkx

    graph = nx.MultiDiGraph()
    index = {key: i for i, key in enumerate(keys)}
    initial = {key for key in (list(model.init_states())) if key in index}
    for i, key in enumerate(keys):
        graph.add_node(i, state=key, initial=key in initial, violates=[])
    for source, action, target in result.graph.edges():
        graph.add_edge(source, target, action=action, label=format_action(action))
    paths: dict[str, list[int]] = {}
    for violation in result.violations:
        ids = [index[s] for s in violation.trace.states if s in index]
        if ids:
            paths[violation.property] = ids
            graph.nodes[ids[-1]]["violates"].append(violation.property)
    graph.graph.update(
        complete=result.complete,
        truncated=not result.complete,
        result=result,
        violation_paths=paths,
    )
    return graph


def to_dot(
    graph: nx.MultiDiGraph,
    *,
    state_label: Callable[[Any], str] = repr,
    highlight: Trace | None = None,
    name: str = "reachable",
) -> str:
    """DOT text with action labels; the violation path (or `highlight`) in red."""
    red_nodes: set[int] = set()
    red_edges: set[tuple[int, int]] = set()
    paths = list(graph.graph.get("violation_paths", {}).values())
    if highlight is not None:
        lookup = {data["state"]: n for n, data in graph.nodes(data=True)}
        paths = [[lookup[s] for s in highlight.states if s in lookup]]
    for path in paths:
        red_nodes.update(path)
        red_edges.update(itertools.pairwise(path))
    import graphviz  # here, not at import, like networkx: only an export needs it

    def text(value: str) -> str:
        """Plain text: backslashes and newlines as DOT escapes, and never an HTML-like
        label (a `repr` may look like `<...>`); `graphviz` adds the quotes and
        escapes the double quotes."""
        plain: str = graphviz.nohtml(value.replace("\\", "\\\\").replace("\n", "\\n"))
        return plain

    digraph = graphviz.Digraph(text(name))
    digraph.attr(rankdir="LR")
    digraph.attr("node", shape="box", fontsize="10")
    if graph.graph.get("truncated"):
        digraph.attr(
            label=f"truncated: only the first {graph.number_of_nodes()} states are drawn",
            labelloc="t",
        )
    for node, data in graph.nodes(data=True):
        attrs = {"label": text(state_label(data["state"]))}
        if data.get("initial"):
            attrs["peripheries"] = "2"
        if data.get("violates"):
            attrs.update(style="filled", fillcolor="mistyrose")
            attrs["tooltip"] = text("violates " + ", ".join(data["violates"]))
        if node in red_nodes:
            attrs["color"] = "red"
        digraph.node(f"n{node}", **attrs)
    for source, target, data in graph.edges(data=True):
        attrs = {"label": text(data["label"])}
        if (source, target) in red_edges:
            attrs.update(color="red", penwidth="2", fontcolor="red")
        digraph.edge(f"n{source}", f"n{target}", **attrs)
    return str(digraph.source)


def to_json(graph: nx.MultiDiGraph, *, encode: Callable[[Any], Any] = to_jsonable) -> str:
    """`{complete, truncated, nodes: [{id, state, initial, violates}], edges: [...]}`."""
    data = {
        "complete": bool(graph.graph.get("complete")),
        "truncated": bool(graph.graph.get("truncated")),
        "nodes": [
            {
                "id": n,
                "state": encode(d["state"]),
                "initial": bool(d.get("initial")),
                "violates": list(d.get("violates", [])),
            }
            for n, d in graph.nodes(data=True)
        ],
        "edges": [
            {"source": s, "target": t, "action": d["label"]} for s, t, d in graph.edges(data=True)
        ],
        "violation_paths": graph.graph.get("violation_paths", {}),
    }
    return json.dumps(data, indent=2, sort_keys=False)
