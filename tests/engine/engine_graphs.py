"""Random finite graphs as models, and an independent networkx oracle for them.

A `GraphSpec` is a directed multigraph on nodes 0..n-1 with labelled edges, several
initial nodes (repeats allowed), and marked sets: terminal nodes, nodes outside the
boundary, `bad` nodes (an `always` property says they are never reached), `goal`
nodes (a `sometimes` witness) and, per waiting party, the nodes where it waits (an
`always_recoverable` property). The models wrap it in both styles the engine
accepts; `oracle()` computes every expected figure with networkx, sharing no code with
the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import networkx as nx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from lifecycle.engine import Model, Property, Trace

# Inherit the suite's Hypothesis profile (tests/conftest.py loads `ci`: derandomized and
# database-free, so CI sees the same examples every run; `deep` for nightly runs), with
# half as many examples again: each example here is a few milliseconds.
_PROFILE = settings.default
assert _PROFILE is not None
FAST = settings(
    parent=_PROFILE,
    max_examples=_PROFILE.max_examples * 3 // 2,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

ACTION_NAMES = ("a", "b", "c")
NEVER = ("never", -1)  # a candidate action that is never enabled


@dataclass(frozen=True)
class GraphSpec:
    n: int
    edges: tuple[tuple[int, int, str], ...]  # (source, target, action name)
    inits: tuple[int, ...]
    terminal: frozenset[int] = frozenset()
    outside: frozenset[int] = frozenset()
    bad: frozenset[int] = frozenset()
    goal: frozenset[int] = frozenset()
    waiting: tuple[frozenset[int], ...] = ()

    @cached_property
    def out(self) -> dict[int, list[tuple[tuple[str, int], int]]]:
        """node -> [(action, target)]; the action `(name, edge index)` is unique."""
        out: dict[int, list[tuple[tuple[str, int], int]]] = {i: [] for i in range(self.n)}
        for index, (u, v, name) in enumerate(self.edges):
            out[u].append(((name, index), v))
        return out


@st.composite
def graph_specs(draw: Any, max_nodes: int = 20) -> GraphSpec:
    n = draw(st.integers(1, max_nodes))
    node = st.integers(0, n - 1)
    edges = draw(st.lists(st.tuples(node, node, st.sampled_from(ACTION_NAMES)), max_size=3 * n))
    # Make self-loops and sinks common rather than left to chance.
    loops = draw(st.lists(node, max_size=2))
    edges += [(v, v, "a") for v in loops]
    inits = draw(st.lists(node, min_size=1, max_size=4))
    subset = st.frozensets(node, max_size=max(1, n // 3))
    return GraphSpec(
        n=n,
        edges=tuple(edges),
        inits=tuple(inits),
        terminal=draw(subset),
        outside=draw(subset),
        bad=draw(subset),
        goal=draw(subset),
        waiting=(draw(st.frozensets(node)), draw(st.frozensets(node))),
    )


class GraphModel(Model):
    """A `GraphSpec` through `actions`/`next_state`."""

    def __init__(self, spec: GraphSpec, *, recoverable: bool = False) -> None:
        self.spec = spec
        self.recoverable = recoverable
        self._candidates = {u: [a for a, _ in pairs] + [NEVER] for u, pairs in spec.out.items()}
        self._target = {(u, a): v for u, pairs in spec.out.items() for a, v in pairs}

    def init_states(self) -> list[int]:
        return list(self.spec.inits)

    def actions(self, state: int) -> list[tuple[str, int]]:
        return self._candidates[state]

    def next_state(self, state: int, action: tuple[str, int]) -> int | None:
        return self._target.get((state, action))

    def within_boundary(self, state: int) -> bool:
        return state not in self.spec.outside

    def is_terminal(self, state: int) -> bool:
        return state in self.spec.terminal

    def action_names(self) -> list[str]:
        return [*ACTION_NAMES, NEVER[0]]

    def properties(self) -> list[Property]:
        spec = self.spec
        props = [
            Property.always("not bad", lambda s: s not in spec.bad),
            Property.sometimes("goal", lambda s: s in spec.goal),
        ]
        if self.recoverable:
            props.append(
                Property.always_recoverable(
                    "recover", lambda s: [k for k, w in enumerate(spec.waiting) if s in w]
                )
            )
        return props


class FastGraphModel(GraphModel):
    """The same graph through the `successors()` fast path."""

    def successors(self, state: int) -> list[tuple[tuple[str, int], int]]:
        return self.spec.out[state]


class DuckGraphModel:
    """Not a `Model` subclass and without the optional methods: the defaults apply
    (everything in the boundary, nothing terminal)."""

    def __init__(self, spec: GraphSpec) -> None:
        self.spec = spec

    def init_states(self) -> list[int]:
        return list(self.spec.inits)

    def actions(self, state: int) -> list[tuple[str, int]]:
        return [a for a, _ in self.spec.out[state]]

    def next_state(self, state: int, action: tuple[str, int]) -> int | None:
        return self.spec.edges[action[1]][1] if self.spec.edges[action[1]][0] == state else None

    def properties(self) -> list[Property]:
        return [Property.always("not bad", lambda s: s not in self.spec.bad)]


@dataclass
class Oracle:
    """What a correct checker must report for a spec, computed with networkx."""

    dist: dict[int, int]  # reachable node -> BFS distance (steps) from the initial set
    generated: int
    deadlocks: set[int]
    enabled: dict[str, int]  # action name -> times enabled in expanded states
    stuck: set[int]  # reachable nodes where some party waits and can never stop
    expansion: nx.MultiDiGraph = field(repr=False)

    @property
    def reachable(self) -> set[int]:
        return set(self.dist)

    @property
    def depth(self) -> int:
        return max(self.dist.values()) + 1

    def distance(self, nodes: set[int] | frozenset[int]) -> int | None:
        found = [self.dist[v] for v in nodes if v in self.dist]
        return min(found) if found else None


def oracle(spec: GraphSpec, *, boundary: bool = True, terminal: bool = True) -> Oracle:
    outside = spec.outside if boundary else frozenset()
    terminals = spec.terminal if terminal else frozenset()
    full = nx.MultiDiGraph()
    full.add_nodes_from(range(spec.n))
    for index, (u, v, name) in enumerate(spec.edges):
        full.add_edge(u, v, key=index, name=name)
    # The graph the search walks: states outside the boundary are not expanded.
    expansion = nx.MultiDiGraph()
    expansion.add_nodes_from(range(spec.n))
    expansion.add_edges_from(
        (u, v, k, d) for u, v, k, d in full.edges(keys=True, data=True) if u not in outside
    )
    source = "source"
    rooted = nx.MultiDiGraph(expansion)
    rooted.add_edges_from((source, i) for i in set(spec.inits))
    dist = {v: d - 1 for v, d in nx.single_source_shortest_path_length(rooted, source).items()}
    del dist[source]
    reachable = set(dist)
    generated = len(spec.inits) + sum(expansion.out_degree(v) for v in reachable)
    deadlocks = {
        v for v in reachable if v not in outside and v not in terminals and full.out_degree(v) == 0
    }
    enabled: dict[str, int] = {}
    for u, _v, d in expansion.edges(data=True):
        if u in reachable:
            enabled[d["name"]] = enabled.get(d["name"], 0) + 1
    stuck: set[int] = set()
    reverse = nx.DiGraph(expansion.reverse(copy=True).subgraph(reachable))
    for waits in spec.waiting:
        escapes = {v for v in reachable if v not in waits or v in outside}
        sink = "escape"
        reverse.add_node(sink)
        reverse.add_edges_from((sink, v) for v in escapes)
        can_escape = nx.descendants(reverse, sink)
        reverse.remove_node(sink)
        stuck |= {v for v in reachable & waits if v not in can_escape}
    return Oracle(dist, generated, deadlocks, enabled, stuck, expansion)


def assert_valid_path(spec: GraphSpec, trace: Trace, *, boundary: bool = True) -> None:
    """The trace starts at an initial node, and each step follows an edge of the graph
    under the action that labels it; only the last state may lie outside the boundary
    (the states before it were expanded)."""
    assert trace.states, "empty trace"
    assert trace.states[0] in spec.inits
    for before, action, after in trace.steps():
        name, index = action
        assert spec.edges[index] == (before, after, name), (before, action, after)
        if boundary:
            assert before not in spec.outside
