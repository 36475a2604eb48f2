"""Simulation: seeded random behaviours that repeat exactly, in one process or several,
report real traces for what they find, and never prove an invariant."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from lifecycle.engine import Kind, Property, Status, check, simulate
from lifecycle.examples import TwoPhase
from tests.engine.engine_graphs import FAST, GraphModel, GraphSpec, graph_specs


class Broken(TwoPhase):
    def properties(self) -> list[Property]:
        return [
            *super().properties(),
            Property.always("never two prepared", lambda s: s.rm_state.count("prepared") < 2),
            Property.sometimes("all committed", lambda s: set(s.rm_state) == {"committed"}),
        ]


def assert_real(model: Any, trace: Any) -> None:
    """Each step of the trace is one of the model's own successors."""
    assert trace.states[0] in model.init_states()
    for state, action, nxt in zip(trace.states, trace.actions, trace.states[1:], strict=False):
        assert model.next_state(state, action) == nxt


def test_a_violation_is_a_real_trace_and_nothing_is_proven() -> None:
    model = Broken(3)
    result = simulate(model, runs=200, depth=30, seed=7)
    assert not result.complete and not result.ok and result.store == "simulation"
    assert "simulation: 200 of 200 runs" in (result.stop_reason or "")
    violation = result.violation("never two prepared")
    assert violation is not None
    assert violation.trace.states[-1].rm_state.count("prepared") >= 2
    assert_real(model, violation.trace)
    statuses = {p.name: p.status for p in result.properties}
    # TwoPhase's own invariants hold, but a simulation cannot say so.
    invariants = [p.name for p in TwoPhase(3).properties() if p.kind is Kind.ALWAYS]
    assert invariants and {statuses[name] for name in invariants} == {Status.UNKNOWN}
    assert statuses["all committed"] is Status.HOLDS  # a witness is final
    witness = result.witnesses["all committed"]
    assert set(witness.states[-1].rm_state) == {"committed"}
    assert_real(model, witness)
    # No longer than the exhaustive search's shortest, never shorter.
    shortest = check(model).violation("never two prepared")
    assert shortest is not None and len(shortest.trace) <= len(violation.trace)


def test_runs_repeat_exactly_whatever_the_workers() -> None:
    one = simulate(Broken(3), runs=120, depth=25, seed=3)
    again = simulate(Broken(3), runs=120, depth=25, seed=3)
    two = simulate(Broken(3), runs=120, depth=25, seed=3, workers=2)
    other = simulate(Broken(3), runs=120, depth=25, seed=4)
    for result in (again, two):
        assert result.violations == one.violations and result.witnesses == one.witnesses
        assert (result.distinct_states, result.generated_states, result.depth) == (
            one.distinct_states,
            one.generated_states,
            one.depth,
        )
        assert result.coverage == one.coverage
    assert (other.generated_states, other.witnesses) != (one.generated_states, one.witnesses)


@FAST
@given(graph_specs(max_nodes=12))
def test_on_random_graphs_only_true_findings(spec: GraphSpec) -> None:
    model = GraphModel(spec)
    exhaustive = check(model)
    result = simulate(model, runs=30, depth=15, seed=0)
    for violation in result.violations:
        # Whatever a walk finds, the exhaustive search finds too, at most as long.
        found = exhaustive.violation(violation.property)
        assert found is not None and len(found.trace) <= len(violation.trace)
        if violation.kind is Kind.ALWAYS:
            assert violation.trace.states[-1] in spec.bad
        if violation.kind is Kind.DEADLOCK:
            assert not spec.out[violation.trace.states[-1]]
    assert result.distinct_states <= exhaustive.distinct_states
    holds = {p.name for p in result.properties if p.status is Status.HOLDS}
    assert holds <= {"goal"}


def test_bad_arguments() -> None:
    for kwargs in ({"runs": 0}, {"runs": 5, "depth": 0}, {"runs": 5, "workers": 0}):
        with pytest.raises(ValueError):
            simulate(TwoPhase(2), **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seed"):
        simulate(TwoPhase(2), runs=1, seed="x")  # type: ignore[arg-type]


def test_a_sink_is_a_deadlock() -> None:
    result = simulate(GraphModel(GraphSpec(n=2, edges=((0, 1, "a"),), inits=(0,))), runs=3)
    violation = result.violation("deadlock")
    assert violation is not None and violation.trace.states == (0, 1)
