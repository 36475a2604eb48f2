"""The checker against networkx on Hypothesis-generated graphs.

Every figure the checker reports on a random graph (reachable count, generated count,
TLC depth, shortest counterexample lengths, deadlocks, witnesses, AG EF verdicts,
coverage) is compared with an independent networkx computation, for both stores, both
model styles (actions/next_state and successors()), and with and without the
reachable graph that `always_recoverable` makes the search keep.
"""

from __future__ import annotations

import itertools

import networkx as nx
import pytest
from engine_graphs import (
    ACTION_NAMES,
    FAST,
    NEVER,
    DuckGraphModel,
    FastGraphModel,
    GraphModel,
    GraphSpec,
    assert_valid_path,
    graph_specs,
    oracle,
)
from hypothesis import example, given
from hypothesis import strategies as st

from lifecycle.engine import CheckResult, Kind, Property, Status, check

STORES = ("exact", "fingerprint")
STYLES = (GraphModel, FastGraphModel)


def configurations(spec: GraphSpec) -> list[tuple[str, GraphModel, str]]:
    out = []
    for style, store, recoverable in itertools.product(STYLES, STORES, (False, True)):
        label = f"{style.__name__}/{store}/{'graph' if recoverable else 'plain'}"
        out.append((label, style(spec, recoverable=recoverable), store))
    return out


def assert_matches_oracle(spec: GraphSpec, result: CheckResult, label: str) -> None:
    ref = oracle(spec)
    assert result.complete, label
    assert result.stop_reason is None
    assert result.distinct_states == len(ref.reachable), label
    assert result.generated_states == ref.generated, label
    assert result.depth == ref.depth, label

    # always: violated exactly when a bad node is reachable, with a shortest trace.
    bad = ref.distance(spec.bad)
    violation = result.violation("not bad")
    if bad is None:
        assert violation is None and result.status("not bad") is Status.HOLDS, label
    else:
        assert violation is not None and violation.kind is Kind.ALWAYS, label
        assert result.status("not bad") is Status.VIOLATED
        assert len(violation.trace) == bad, label
        assert len(violation.trace.states) == bad + 1
        assert violation.trace.states[-1] in spec.bad
        assert_valid_path(spec, violation.trace)

    # deadlock: a real one (in boundary, not terminal, no successor), at minimal depth.
    violation = result.violation("deadlock")
    if not ref.deadlocks:
        assert violation is None and result.status("deadlock") is Status.HOLDS, label
    else:
        assert violation is not None and violation.kind is Kind.DEADLOCK, label
        end = violation.trace.states[-1]
        assert end in ref.deadlocks, label
        assert len(violation.trace) == ref.distance(ref.deadlocks), label
        assert_valid_path(spec, violation.trace)

    # sometimes: a shortest witness when a goal node is reachable, else a violation.
    goal = ref.distance(spec.goal)
    if goal is None:
        violation = result.violation("goal")
        assert violation is not None and violation.kind is Kind.SOMETIMES, label
        assert "goal" not in result.witnesses
        assert result.status("goal") is Status.VIOLATED
    else:
        witness = result.witnesses["goal"]
        assert result.violation("goal") is None and result.status("goal") is Status.HOLDS
        assert len(witness) == goal and witness.states[-1] in spec.goal, label
        assert_valid_path(spec, witness)

    # always_recoverable (AG EF): stuck states as networkx finds them.
    if any(p.name == "recover" for p in result.properties):
        violation = result.violation("recover")
        if not ref.stuck:
            assert violation is None and result.status("recover") is Status.HOLDS, label
        else:
            assert violation is not None and violation.kind is Kind.RECOVERABLE, label
            assert violation.trace.states[-1] in ref.stuck, label
            assert len(violation.trace) == ref.distance(ref.stuck), label
            assert_valid_path(spec, violation.trace)

    assert result.ok == (not result.violations)

    # Coverage: enabled counts per action name; new states sum to the non-initial ones.
    enabled = {name: c.enabled for name, c in result.coverage.actions.items()}
    assert enabled == ref.enabled, label
    new = sum(c.new_states for c in result.coverage.actions.values())
    assert new == len(ref.reachable) - len(set(spec.inits)), label
    for c in result.coverage.actions.values():
        assert 0 <= c.new_states <= c.enabled
    assert set(result.coverage.never_enabled) == ({*ACTION_NAMES, NEVER[0]} - set(ref.enabled))


@FAST
@given(graph_specs())
@example(GraphSpec(n=1, edges=(), inits=(0,)))  # one sink: a deadlock at depth 1
@example(GraphSpec(n=2, edges=((0, 0, "a"), (0, 1, "b")), inits=(0, 0), terminal=frozenset({1})))
@example(  # party 0 waits in 1 and 2, which only lead to each other: stuck
    GraphSpec(
        n=3,
        edges=((0, 1, "a"), (1, 2, "b"), (2, 1, "c"), (0, 0, "a")),
        inits=(0,),
        waiting=(frozenset({1, 2}), frozenset()),
    )
)
def test_random_graphs_match_networkx(spec: GraphSpec) -> None:
    results = []
    for label, model, store in configurations(spec):
        result = check(model, store=store)
        assert_matches_oracle(spec, result, label)
        results.append(result)
    # All configurations agree exactly, store by store, style by style.
    first = results[0]
    for other in results[1:]:
        assert other.distinct_states == first.distinct_states
        assert other.generated_states == first.generated_states
        assert other.depth == first.depth
        lengths = {v.property: len(v.trace) for v in other.violations if v.property != "recover"}
        assert lengths == {
            v.property: len(v.trace) for v in first.violations if v.property != "recover"
        }


@FAST
@given(graph_specs())
def test_fingerprint_reports_tlc_collision_estimate(spec: GraphSpec) -> None:
    exact = check(GraphModel(spec))
    printed = check(GraphModel(spec), store="fingerprint")
    assert exact.collision_probability is None
    n, g = printed.distinct_states, printed.generated_states
    # pytest.approx's default absolute tolerance (1e-12) would accept anything this small.
    assert printed.collision_probability == pytest.approx(n * (g - n) / 2.0**64, rel=1e-9, abs=0)


@FAST
@given(graph_specs())
def test_defaults_apply_to_a_duck_typed_model(spec: GraphSpec) -> None:
    """Without within_boundary/is_terminal, nothing is outside and nothing terminal."""
    ref = oracle(spec, boundary=False, terminal=False)
    result = check(DuckGraphModel(spec))
    assert result.distinct_states == len(ref.reachable)
    assert result.depth == ref.depth
    assert result.generated_states == ref.generated
    violation = result.violation("deadlock")
    assert (violation is None) == (not ref.deadlocks)
    if violation is not None:
        assert violation.trace.states[-1] in ref.deadlocks
        assert len(violation.trace) == ref.distance(ref.deadlocks)


@FAST
@given(graph_specs(), st.sampled_from(STYLES), st.sampled_from(STORES))
def test_no_deadlock_check_when_disabled(spec: GraphSpec, style: type, store: str) -> None:
    result = check(style(spec), deadlock=False, store=store)
    assert result.violation("deadlock") is None
    assert all(p.name != "deadlock" for p in result.properties)
    assert result.distinct_states == len(oracle(spec).reachable)


# ----------------------------------------------------------------- bounded search
def assert_honest_partial(spec: GraphSpec, result: CheckResult) -> None:
    """A cut search: incomplete, nothing claimed to hold unless witnessed, and every
    violation it does report is genuine."""
    assert not result.complete and not result.ok
    assert result.stop_reason
    for p in result.properties:
        if p.status is Status.HOLDS:
            assert p.kind is Kind.SOMETIMES and p.name in result.witnesses
        if p.kind in (Kind.RECOVERABLE,):
            assert p.status is Status.UNKNOWN
    assert result.violation("goal") is None  # no witness yet is not a violation
    for v in result.violations:
        assert_valid_path(spec, v.trace)
        end = v.trace.states[-1]
        if v.property == "not bad":
            assert end in spec.bad
        if v.property == "deadlock":
            assert end in oracle(spec).deadlocks


@FAST
@given(graph_specs(), st.data())
def test_max_states_bound(spec: GraphSpec, data: st.DataObject) -> None:
    ref = oracle(spec)
    total = len(ref.reachable)
    style = data.draw(st.sampled_from(STYLES))
    store = data.draw(st.sampled_from(STORES))
    recoverable = data.draw(st.booleans())
    model = style(spec, recoverable=recoverable)
    if total > 1:
        bound = data.draw(st.integers(1, total - 1))
        result = check(model, max_states=bound, store=store)
        assert "max_states" in (result.stop_reason or "")
        assert result.distinct_states <= bound
        assert_honest_partial(spec, result)
    bound = data.draw(st.integers(total, total + 3))
    result = check(model, max_states=bound, store=store)
    assert_matches_oracle(spec, result, f"max_states={bound}")


@FAST
@given(graph_specs(), st.data())
def test_max_depth_bound(spec: GraphSpec, data: st.DataObject) -> None:
    ref = oracle(spec)
    style = data.draw(st.sampled_from(STYLES))
    store = data.draw(st.sampled_from(STORES))
    recoverable = data.draw(st.booleans())
    model = style(spec, recoverable=recoverable)
    if ref.depth > 1:
        bound = data.draw(st.integers(1, ref.depth - 1))
        result = check(model, max_depth=bound, store=store)
        assert "max_depth" in (result.stop_reason or "")
        assert result.depth <= bound
        # Every state within the bound was found: levels 1..bound are complete.
        assert result.distinct_states >= sum(1 for d in ref.dist.values() if d < bound)
        assert_honest_partial(spec, result)
    bound = data.draw(st.integers(ref.depth, ref.depth + 3))
    result = check(model, max_depth=bound, store=store)
    assert_matches_oracle(spec, result, f"max_depth={bound}")


class _NoLuckyEdge(GraphModel):
    """The graph with a recoverable property whose way out may not take a "b" edge
    (as the MDM model's `no_deadlock` may not count a message loss)."""

    def properties(self) -> list[Property]:
        spec = self.spec
        return [
            Property.always_recoverable(
                "recover",
                lambda s: [k for k, w in enumerate(spec.waiting) if s in w],
                without=lambda action: action[0] == "b",
            )
        ]


def _stuck_without_b(spec: GraphSpec) -> set[int]:
    """networkx: the waiting states that cannot stop waiting over non-"b" edges."""
    ref = oracle(spec)
    reachable = ref.reachable
    kept = nx.DiGraph()
    kept.add_nodes_from(reachable)
    kept.add_edges_from(
        (u, v) for u, v, d in ref.expansion.edges(data=True) if u in reachable and d["name"] != "b"
    )
    stuck: set[int] = set()
    for waits in spec.waiting:
        escapes = {v for v in reachable if v not in waits or v in spec.outside}
        can_escape = set(escapes)
        for v in escapes:
            can_escape |= nx.ancestors(kept, v)
        stuck |= {v for v in reachable & waits if v not in can_escape}
    return stuck


@FAST
@given(graph_specs())
@example(  # party 0 waits in 1; only a "b" edge leads out: stuck without b
    GraphSpec(
        n=3,
        edges=((0, 1, "a"), (1, 2, "b"), (2, 2, "a")),
        inits=(0,),
        waiting=(frozenset({1}), frozenset()),
    )
)
def test_recoverable_without_an_action_matches_networkx(spec: GraphSpec) -> None:
    stuck = _stuck_without_b(spec)
    for store in STORES:
        result = check(_NoLuckyEdge(spec), store=store, deadlock=False)
        violation = result.violation("recover")
        if not stuck:
            assert violation is None and result.status("recover") is Status.HOLDS
        else:
            assert violation is not None and violation.trace.states[-1] in stuck
            assert len(violation.trace) == oracle(spec).distance(stuck)
        # Without the filter the same property can only hold more often.
        plain = check(GraphModel(spec, recoverable=True), store=store, deadlock=False)
        if plain.violation("recover") is not None:
            assert violation is not None


def test_recoverable_without_an_action_in_parallel_gives_the_serial_answer() -> None:
    spec = GraphSpec(
        n=4,
        edges=((0, 1, "a"), (1, 2, "b"), (2, 0, "a"), (0, 3, "c"), (3, 3, "a")),
        inits=(0,),
        waiting=(frozenset({1}), frozenset()),
    )
    serial = check(_NoLuckyEdge(spec), deadlock=False)
    parallel = check(_NoLuckyEdge(spec), deadlock=False, workers=2)
    assert serial.status("recover") is Status.VIOLATED
    assert parallel.status("recover") is Status.VIOLATED
    assert len(parallel.violation("recover").trace) == len(serial.violation("recover").trace)
