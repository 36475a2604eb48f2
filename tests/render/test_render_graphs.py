"""Reachable-graph drawings on a small engine model: clusters, red violating states,
the cut-off note, the quotient; and the two CLI commands' wiring."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from typing import Any, ClassVar, NamedTuple

import graphviz
import pytest

from lifecycle.engine import Model, Property, to_networkx
from lifecycle.render.machines import MachineRow, MachineView, machine_dot
from lifecycle.render.reachable import cut, quotient_dot, reachable_dot, violations_by_node


class _S(NamedTuple):
    phase: str
    n: int


class _Counter(Model):
    """phase a -> b -> c, each with a counter 0..2; `n == 2` in phase c is 'bad'."""

    def init_states(self) -> list[_S]:
        return [_S("a", 0)]

    def actions(self, state: _S) -> list[str]:
        return ["inc", "next"]

    def next_state(self, state: _S, action: str) -> _S | None:
        if action == "inc":
            return state._replace(n=state.n + 1) if state.n < 2 else None
        nxt = {"a": "b", "b": "c"}.get(state.phase)
        return state._replace(phase=nxt) if nxt else None

    def properties(self) -> list[Property]:
        return [Property.always("ok", lambda s: not (s.phase == "c" and s.n == 2))]


def _toy_dot(graph: Any, bad: Any) -> str:
    """The toy graph's reachable drawing, by phase."""
    return reachable_dot(
        graph,
        key=lambda s: s.phase,
        state_label=lambda s: str(s.n),
        state_tooltip=repr,
        describe=str,
        violations=bad,
        title="toy",
    )


def _graph() -> tuple[Any, dict[int, list[str]]]:
    model = _Counter()
    graph = to_networkx(model, deadlock=False)
    return graph, violations_by_node(graph, [(p.name, p.predicate) for p in model.properties()])


def test_full_drawing_clusters_by_key_and_fills_violating_states_red() -> None:
    graph, bad = _graph()
    assert len(bad) == 1

    def draw() -> str:
        return _toy_dot(graph, bad)

    dot = draw()
    assert dot.count("subgraph cluster_") == 3
    assert 'label="device state: c (3), 1 violating"' in dot
    red = [line for line in dot.splitlines() if 'fillcolor="#ffcdd2"' in line]
    assert len(red) == 1 and "VIOLATES ok" in red[0]
    assert "CUT" not in dot
    assert dot == draw()


def test_a_cut_graph_says_so_in_its_title() -> None:
    graph, bad = _graph()
    small, was_cut = cut(graph, 4)
    assert was_cut and small.number_of_nodes() == 4
    dot = reachable_dot(
        small,
        key=lambda s: s.phase,
        state_label=lambda s: "",
        state_tooltip=repr,
        describe=str,
        violations=bad,
        title="toy",
        total_states=9,
    )
    assert "CUT: only 4 states drawn of 9" in dot


def test_quotient_has_one_box_per_key_with_counts_and_red_bad_boxes() -> None:
    graph, bad = _graph()
    dot = quotient_dot(
        graph,
        key=lambda s: s.phase,
        violations=bad,
        title="toy",
        note="too large",
    )
    boxes = [line for line in dot.splitlines() if line.strip().startswith("q") and "->" not in line]
    assert len(boxes) == 3
    assert "3 states, 2 steps inside" in dot
    assert "1 violate ok" in dot
    assert 'color="#c62828">too large</font>' in dot
    edges = [line for line in dot.splitlines() if "->" in line]
    # the graphviz package quotes an attribute value only when DOT needs it
    assert len(edges) == 2 and all(re.search(r'\blabel="?next"?[\s\]]', e) for e in edges)


class _Recording(graphviz.Digraph):
    """`graphviz.Digraph` that remembers every graph made (subgraphs too)."""

    made: ClassVar[list[graphviz.Digraph]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _Recording.made.append(self)


# idle -> a -> b -> c; a box round a, b, c (two rows fire from the three: Poll keeps the
# state, Abort leaves the box from a dot inside it); Ping in any state; Reset from three
# states through a junction dot.
_VIEW = MachineView(
    name="toy",
    title="Toy",
    states=("idle", "a", "b", "c", "done"),
    final=("done",),
    rows=(
        MachineRow("Start", ("idle",), "a"),
        MachineRow("Step", ("a",), "b"),
        MachineRow("Step2", ("b",), "c"),
        MachineRow("Poll", ("a", "b", "c"), None),
        MachineRow("Abort", ("a", "b", "c"), "done", unenroll=True),
        MachineRow("Ping", ("*",), None),
        MachineRow("Reset", ("idle", "a", "done"), "idle"),
    ),
)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_machine_drawing_is_built_with_the_graphviz_package_and_lays_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _Recording.made = []
    monkeypatch.setattr(graphviz, "Digraph", _Recording)
    dot = machine_dot(_VIEW)
    assert _Recording.made, "machine_dot no longer builds a graphviz.Digraph"
    assert dot == _Recording.made[0].source
    layout = json.loads(graphviz.Source(dot).pipe(format="json"))
    clusters = layout["objects"][: layout["_subgraph_cnt"]]
    nodes = layout["objects"][layout["_subgraph_cnt"] :]
    assert [c["name"] for c in clusters] == ["cluster_group_0"]
    assert sorted(n["name"] for n in nodes) == sorted(
        [
            *(f"toy_{s}" for s in _VIEW.states),
            "toy_start",
            "toy_any_state",
            "toy_exit_0_Abort",
            "toy_via_Reset",
        ]
    )
    by_id = {n["_gvid"]: n["name"] for n in nodes}
    inside = {by_id[i] for i in clusters[0]["nodes"]}
    assert inside == {"toy_a", "toy_b", "toy_c", "toy_exit_0_Abort"}
    # start, 3 steps, Abort and its 3 invisible edges, Reset's 3 inbound and 1 outbound
    assert len(layout["edges"]) == 12
    assert sum(e.get("style") == "invis" for e in layout["edges"]) == 3


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_reachable_drawings_are_built_with_the_graphviz_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    graph, bad = _graph()
    monkeypatch.setattr(graphviz, "Digraph", _Recording)
    for draw, nodes, edges in (
        (
            lambda: _toy_dot(graph, bad),
            9,
            12,
        ),
        (lambda: quotient_dot(graph, key=lambda s: s.phase, violations=bad, title="t"), 3, 2),
    ):
        _Recording.made = []
        dot = draw()
        assert _Recording.made and dot == _Recording.made[0].source
        plain = graphviz.Source(dot).pipe(format="plain").decode().splitlines()
        assert sum(line.startswith("node ") for line in plain) == nodes
        assert sum(line.startswith("edge ") for line in plain) == edges


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lifecycle", *args], capture_output=True, text=True, check=False
    )


def test_cli_commands_exist_and_reject_a_bad_format() -> None:
    assert "--format [svg|mermaid]" in _cli("diagrams", "--help").stdout
    assert "--out" in _cli("docs", "--help").stdout
    bad = _cli("diagrams", "--format", "png")
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1
