"""The reachable product graph, drawn so that it stays readable.

Two drawings of the same `networkx` graph (from `lifecycle.engine.to_networkx`):

- `reachable_dot`: every state, clustered by a key (the device's state), with the
  states that violate a property filled red. Only drawn up to `limit` states; a bigger
  graph is cut in BFS order and the drawing says so in its title.
- `quotient_dot`: the quotient graph by the same key: one node per key with the number
  of states it stands for (and how many violate), one edge per pair of keys labelled
  with the actions that cross it. This is what to draw when the full graph would be a
  hairball.

Both are deterministic: nodes are numbered in BFS order, keys sorted by first
appearance in BFS order, labels sorted.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import graphviz
import networkx as nx

from lifecycle.engine import action_name
from lifecycle.render.dot import STATE_NODE, attributes, html

RED_FILL, RED_LINE = "#ffcdd2", "#c62828"
PALETTE = (
    "#e3f2fd",
    "#e8f5e9",
    "#fff8e1",
    "#f3e5f5",
    "#e0f7fa",
    "#fbe9e7",
    "#f1f8e9",
    "#ede7f6",
    "#fffde7",
    "#eceff1",
)


def violations_by_node(
    graph: nx.MultiDiGraph, predicates: Sequence[tuple[str, Callable[[Any], bool]]]
) -> dict[int, list[str]]:
    """Node -> names of the `always` predicates it violates (plus the engine's marks)."""
    out: dict[int, list[str]] = {}
    for node, data in graph.nodes(data=True):
        names = [name for name, ok in predicates if not ok(data["state"])]
        for name in data.get("violates", []):
            if name not in names:
                names.append(name)
        if names:
            out[node] = names
    return out


def cut(graph: nx.MultiDiGraph, limit: int) -> tuple[nx.MultiDiGraph, bool]:
    """The first `limit` nodes in BFS order (ids are BFS order), and whether it was cut."""
    if graph.number_of_nodes() <= limit:
        return graph, bool(graph.graph.get("truncated"))
    keep = sorted(graph.nodes)[:limit]
    sub = graph.subgraph(keep).copy()
    sub.graph.update(graph.graph)
    sub.graph["truncated"] = True
    return sub, True


def _order(graph: nx.MultiDiGraph, key: Callable[[Any], str]) -> tuple[dict[int, str], list[str]]:
    key_of = {node: key(data["state"]) for node, data in sorted(graph.nodes(data=True))}
    order: list[str] = []
    for node in sorted(key_of):
        if key_of[node] not in order:
            order.append(key_of[node])
    return key_of, order


def reachable_dot(
    graph: nx.MultiDiGraph,
    *,
    key: Callable[[Any], str],
    state_label: Callable[[Any], str],
    state_tooltip: Callable[[Any], str],
    describe: Callable[[Any], str],
    violations: dict[int, list[str]],
    title: str,
    total_states: int | None = None,
    cut_note: str = "",
    key_name: str = "device state",
    edge_labels: bool = False,
) -> str:
    """Every state of `graph`, clustered by `key`; violating states red."""
    key_of, order = _order(graph, key)
    truncated = bool(graph.graph.get("truncated")) or bool(cut_note)
    heading = title
    if truncated:
        note = cut_note or (
            f"CUT: only {graph.number_of_nodes()} states drawn"
            + (f" of {total_states}" if total_states else "")
        )
        heading += f"\n{note}"
    digraph = graphviz.Digraph("reachable")
    digraph.attr(
        "graph",
        **attributes(
            {
                "label": heading,
                "labelloc": "t",
                "fontname": "Helvetica",
                "fontsize": 15,
                "fontcolor": RED_LINE if truncated else "#263238",
                "rankdir": "LR",
                "compound": True,
                "nodesep": 0.15,
                "ranksep": 0.5,
                "tooltip": title,
            }
        ),
    )
    digraph.attr(
        "node",
        **attributes(
            {
                "shape": "circle",
                "style": "filled",
                "fillcolor": "white",
                "fontname": "Helvetica",
                "fontsize": 8,
                "width": 0.3,
                "fixedsize": True,
            }
        ),
    )
    digraph.attr("edge", **attributes({"color": "#78909c", "arrowsize": 0.5, "fontsize": 7}))
    for index, cluster_key in enumerate(order):
        members = [n for n in sorted(key_of) if key_of[n] == cluster_key]
        bad = sum(1 for n in members if n in violations)
        label = f"{key_name}: {cluster_key} ({len(members)})"
        if bad:
            label += f", {bad} violating"
        with digraph.subgraph(name=f"cluster_{index}") as cluster:
            cluster.attr(
                "graph",
                **attributes(
                    {
                        "label": label,
                        "style": "filled,rounded",
                        "fillcolor": PALETTE[index % len(PALETTE)],
                        "color": RED_LINE if bad else "#90a4ae",
                        "fontname": "Helvetica",
                        "fontsize": 11,
                    }
                ),
            )
            for node in members:
                data = graph.nodes[node]
                tip = state_tooltip(data["state"])
                node_attrs: dict[str, str | int | float | bool] = {
                    "label": state_label(data["state"]) or str(node),
                }
                if node in violations:
                    tip = "VIOLATES " + ", ".join(violations[node]) + "\n" + tip
                    node_attrs.update({"fillcolor": RED_FILL, "color": RED_LINE, "penwidth": 2})
                if data.get("initial"):
                    node_attrs["peripheries"] = 2
                node_attrs["tooltip"] = tip
                cluster.node(f"n{node}", **attributes(node_attrs))
    seen: set[tuple[int, int]] = set()
    for source, target, data in sorted(
        graph.edges(data=True), key=lambda e: (e[0], e[1], e[2]["label"])
    ):
        if source == target:
            continue
        tip = describe(data["action"])
        if (source, target) in seen:
            continue
        seen.add((source, target))
        labels = sorted(
            {describe(d["action"]) for d in graph.get_edge_data(source, target).values()}
        )
        edge: dict[str, str | int | float | bool] = {"tooltip": "\n".join(labels) or tip}
        if edge_labels:
            edge["label"] = "\n".join(labels)
        if source in violations or target in violations:
            edge["color"] = RED_LINE
        digraph.edge(f"n{source}", f"n{target}", **attributes(edge))
    return str(digraph.source)


def quotient_dot(
    graph: nx.MultiDiGraph,
    *,
    key: Callable[[Any], str],
    violations: dict[int, list[str]],
    title: str,
    note: str = "",
    key_name: str = "device state",
    max_actions: int = 4,
) -> str:
    """The graph divided by `key`: one node per key, one edge per crossing pair."""
    key_of, order = _order(graph, key)
    size = Counter(key_of.values())
    bad: dict[str, set[str]] = defaultdict(set)
    bad_count: Counter[str] = Counter()
    for vnode, vnames in violations.items():
        if vnode in key_of:
            bad[key_of[vnode]].update(vnames)
            bad_count[key_of[vnode]] += 1
    initial = {key_of[n] for n, d in graph.nodes(data=True) if d.get("initial")}
    crossing: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    internal: Counter[str] = Counter()
    for source, target, data in graph.edges(data=True):
        a, b = key_of[source], key_of[target]
        if a == b:
            internal[a] += 1
        else:
            crossing[(a, b)][action_name(data["action"])] += 1
    heading = "<br/>".join(html(line) for line in title.split("\n"))
    if note:
        heading += "<br/>" + "<br/>".join(
            f'<font color="{RED_LINE}">{html(line)}</font>' for line in note.split("\n")
        )
    digraph = graphviz.Digraph("reachable_quotient")
    digraph.attr(
        "graph",
        **attributes(
            {
                "label": f"<{heading}>",
                "labelloc": "t",
                "fontname": "Helvetica",
                "fontsize": 15,
                "rankdir": "TB",
                "nodesep": 0.4,
                "ranksep": 0.55,
                "tooltip": title,
            }
        ),
    )
    digraph.attr("node", **attributes(STATE_NODE))
    digraph.attr(
        "edge",
        **attributes(
            {"fontname": "Helvetica", "fontsize": 9, "color": "#546e7a", "arrowsize": 0.7}
        ),
    )
    index = {k: i for i, k in enumerate(order)}
    for k in order:
        rows = [
            f"<b>{html(k)}</b>",
            html(f"{size[k]} states, {internal[k]} steps inside"),
        ]
        node: dict[str, str | int | float | bool] = {
            "tooltip": f"{key_name} {k}: {size[k]} reachable states",
        }
        if bad[k]:
            rows.append(
                '<font color="#b71c1c">'
                + html(f"{bad_count[k]} violate " + ", ".join(sorted(bad[k])))
                + "</font>"
            )
            node.update({"fillcolor": RED_FILL, "color": RED_LINE, "penwidth": 2})
            node["tooltip"] = str(node["tooltip"]) + "\nviolates: " + ", ".join(sorted(bad[k]))
        if k in initial:
            node["peripheries"] = 2
        node["label"] = "<" + "<br/>".join(rows) + ">"
        digraph.node(f"q{index[k]}", **attributes(node))
    for (a, b), counts in sorted(
        crossing.items(), key=lambda kv: (index[kv[0][0]], index[kv[0][1]])
    ):
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = [name for name, _ in ranked[:max_actions]]
        if len(ranked) > max_actions:
            shown.append(f"+{len(ranked) - max_actions} more")
        edge: dict[str, str | int | float | bool] = {
            "label": "\n".join(shown),
            "tooltip": "\n".join(f"{name} ×{count}" for name, count in ranked),
        }
        if bad[b] and not bad[a]:
            edge.update({"color": RED_LINE, "fontcolor": RED_LINE})
        digraph.edge(f"q{index[a]}", f"q{index[b]}", **attributes(edge))
    return str(digraph.source)
