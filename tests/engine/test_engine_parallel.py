"""The parallel search (`workers > 1`) against the serial one: the same counts, depth,
coverage, verdicts, counterexamples and witnesses, step for step, on random graphs in
both model styles and both stores, with the reachable graph, and on the classic
models; bounds, errors and unforkable models."""

from __future__ import annotations

import os
import pickle
import threading
from typing import Any

import pytest
from hypothesis import given, settings

from lifecycle.engine import CheckResult, Model, ModelError, Property, Status, check
from lifecycle.examples import FastPaxosCommit, FastTwoPhase, TwoPhase
from tests.engine.engine_graphs import FAST, FastGraphModel, GraphModel, GraphSpec, graph_specs

PARALLEL = settings(parent=FAST, max_examples=max(10, FAST.max_examples // 4))


def summary(result: CheckResult) -> dict[str, Any]:
    """Everything a check reports, traces included, minus the timing."""
    return {
        "complete": result.complete,
        "ok": result.ok,
        "distinct": result.distinct_states,
        "generated": result.generated_states,
        "depth": result.depth,
        "statuses": {p.name: p.status for p in result.properties},
        "violations": {v.property: (v.kind, v.trace) for v in result.violations},
        "witnesses": dict(result.witnesses),
        "coverage": {
            name: (c.enabled, c.new_states) for name, c in result.coverage.actions.items()
        },
        "never": result.coverage.never_enabled,
        "store": result.store,
        "stop": result.stop_reason,
    }


@PARALLEL
@given(graph_specs(max_nodes=30))
def test_random_graphs_give_the_serial_answers(spec: GraphSpec) -> None:
    for model in (GraphModel(spec), FastGraphModel(spec), GraphModel(spec, recoverable=True)):
        for store in ("exact", "fingerprint"):
            serial = check(model, store=store)
            for workers in (2, 3):
                parallel = check(model, store=store, workers=workers)
                assert summary(parallel) == summary(serial), (type(model).__name__, store)


@PARALLEL
@given(graph_specs(max_nodes=30))
def test_the_kept_graph_is_the_serial_graph(spec: GraphSpec) -> None:
    serial = check(FastGraphModel(spec), keep_graph=True)
    parallel = check(FastGraphModel(spec), keep_graph=True, workers=2)
    assert parallel.graph is not None and serial.graph is not None
    assert parallel.graph.states == serial.graph.states
    assert parallel.graph.successors == serial.graph.successors
    assert parallel.graph.actions == serial.graph.actions
    assert list(parallel.graph.parents) == list(serial.graph.parents)


def order_free(result: CheckResult) -> dict[str, Any]:
    """What does not depend on the order the model lists successors in."""
    out = summary(result)
    out["coverage"] = {name: enabled for name, (enabled, _) in out["coverage"].items()}
    out["violations"] = {name: len(trace) for name, (_, trace) in out["violations"].items()}
    out["witnesses"] = {name: len(trace) for name, trace in out["witnesses"].items()}
    return out


@pytest.mark.parametrize("store", ["exact", "fingerprint"])
def test_classic_models_give_the_serial_answers(store: str) -> None:
    for model in (TwoPhase(3), FastTwoPhase(4)):
        assert summary(check(model, store=store, workers=2)) == summary(
            check(model, store=store)
        ), type(model).__name__
    # PaxosCommit lists successors by iterating frozensets, whose order can change when
    # a state is copied to another process: the discovering parent (so new-state
    # coverage and which shortest trace) may then differ, nothing else may.
    paxos = FastPaxosCommit(2, 1)
    assert order_free(check(paxos, store=store, workers=2)) == order_free(check(paxos, store=store))


class Broken(TwoPhase):
    """TwoPhase with a planted bug: an RM may commit before the TM decides. Many
    violations at the same depth, so the choice of counterexample is tested."""

    def properties(self) -> list[Property]:
        return [
            *super().properties(),
            Property.always("never two prepared", lambda s: s.rm_state.count("prepared") < 2),
        ]


def test_the_same_shortest_counterexample_run_after_run() -> None:
    serial = check(Broken(4))
    assert serial.violation("never two prepared") is not None
    for _ in range(3):
        assert summary(check(Broken(4), workers=2)) == summary(serial)


@pytest.mark.parametrize(
    "bound", [{"max_states": 100}, {"max_depth": 3}, {"stop_on_violation": True}]
)
def test_a_bound_leaves_both_incomplete_with_no_verdict_that_holds(bound: dict[str, Any]) -> None:
    for workers in (1, 2):
        result = check(Broken(4), workers=workers, **bound)
        assert not result.complete and not result.ok
        assert Status.HOLDS not in {
            p.status for p in result.properties if p.kind.name in ("ALWAYS", "DEADLOCK")
        }
        if "max_states" in bound:
            assert result.distinct_states == 100


def test_workers_auto_and_bad_values() -> None:
    assert check(TwoPhase(3), workers="auto").distinct_states == 288
    for bad in (0, -1, "two", 1.5, True):
        with pytest.raises(ValueError, match="workers must be"):
            check(TwoPhase(3), workers=bad)  # type: ignore[arg-type]


class Unpicklable(Model):
    """States that cannot be shipped to another worker (they hold a lock)."""

    class Box:
        def __init__(self, n: int) -> None:
            self.n, self.lock = n, threading.Lock()

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Unpicklable.Box) and other.n == self.n

        def __hash__(self) -> int:
            return self.n

    def init_states(self) -> list[Any]:
        return [self.Box(0)]

    def actions(self, state: Any) -> list[Any]:
        return ["up"] if state.n < 20 else []

    def next_state(self, state: Any, action: Any) -> Any:
        return self.Box(state.n + 1)

    def is_terminal(self, state: Any) -> bool:
        return state.n == 20


def test_a_state_that_cannot_be_shipped_is_a_clear_error() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(Unpicklable.Box(0))
    assert check(Unpicklable()).ok
    with pytest.raises(ModelError, match="cannot be sent to another worker"):
        check(Unpicklable(), workers=2)


class Raises(TwoPhase):
    def next_state(self, state: Any, action: Any) -> Any:
        if action == ("TMCommit",):
            raise ZeroDivisionError("planted")
        return super().next_state(state, action)


def test_a_model_error_in_a_worker_names_the_state_and_action() -> None:
    with pytest.raises(ModelError) as serial:
        check(Raises(2))
    with pytest.raises(ModelError) as parallel:
        check(Raises(2), workers=2)
    assert str(parallel.value) == str(serial.value)
    assert "ZeroDivisionError" in str(parallel.value) or "planted" in str(parallel.value)


def test_the_shared_table_is_sized_by_the_bound_or_by_the_machine() -> None:
    from lifecycle.engine.parallel import _TABLE_MAX_SLOTS, _TABLE_SLOTS, _table_slots

    # Bounded: room for twice the bound, a power of two, never below 2**16.
    assert _table_slots(10) == 1 << 16
    assert _table_slots(1_000_000) == 1 << 21
    # Unbounded: a sixteenth of the memory, within the bounds.
    unbounded = _table_slots(None)
    assert _TABLE_SLOTS <= unbounded <= _TABLE_MAX_SLOTS
    assert unbounded & (unbounded - 1) == 0
    memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert unbounded == _TABLE_SLOTS or 16 * unbounded <= memory // 16


def test_migrate_keeps_the_claims_below_the_bound_and_drops_the_rest() -> None:
    import mmap

    from lifecycle.engine import _claims

    old, new = mmap.mmap(-1, 16 * 64), mmap.mmap(-1, 16 * 256)
    _claims.attach(old)
    kept = {k: (1 << 48) | k for k in range(1, 20)}  # an earlier level's claims
    dropped = {k: (2 << 48) | k for k in range(100, 110)}  # the level run again
    for key, value in (kept | dropped).items():
        assert _claims.claim(key, value) == 0
    assert _claims.migrate(old, new, 2 << 48) == len(kept)
    _claims.attach(new)
    assert {k: _claims.lookup(k) for k in kept} == kept
    assert not any(_claims.lookup(k) for k in dropped)
    # A claim with no room near its slot is refused (-2): the search then grows.
    tiny = mmap.mmap(-1, 16 * 64)
    _claims.attach(tiny)
    assert [_claims.claim(k, 5) for k in range(1, 65)] == [0] * 64
    assert _claims.claim(65, 5) == -2


class _Grows:
    """Records how the shared table grew during the checks run inside it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, first: int, load: float) -> None:
        from lifecycle.engine import parallel

        self.grown: list[int] = []
        self.undone = 0
        monkeypatch.setattr(parallel, "_TABLE_FIRST", first)
        monkeypatch.setattr(parallel, "_TABLE_LOAD", load)
        grow, ask = parallel.ParallelSearch._grow, parallel.ParallelSearch._ask

        def record_grow(search: Any, slots: int, below: int) -> None:
            self.grown.append(slots)
            grow(search, slots, below)

        def record_ask(search: Any, message: Any) -> Any:
            if message == ("undo",):
                self.undone += 1
            return ask(search, message)

        monkeypatch.setattr(parallel.ParallelSearch, "_grow", record_grow)
        monkeypatch.setattr(parallel.ParallelSearch, "_ask", record_ask)


@pytest.mark.parametrize("refusals_only", [False, True])
def test_a_table_that_grows_gives_the_serial_answers(
    monkeypatch: pytest.MonkeyPatch, refusals_only: bool
) -> None:
    # From 64 slots: grown ahead of each level that could fill it, or (a load bound
    # never reached) only when a claim finds no room, the level undone and run again.
    grows = _Grows(monkeypatch, 64, 1000.0 if refusals_only else 0.5)
    paxos = FastPaxosCommit(2, 1)
    for model in (FastTwoPhase(5), Broken(4), paxos):
        grows.grown, grows.undone = [], 0
        serial = check(model, store="fingerprint")
        parallel = check(model, store="fingerprint", workers=2)
        if model is paxos:
            assert order_free(parallel) == order_free(serial)
        else:
            assert summary(parallel) == summary(serial)
        assert len(grows.grown) >= 2 and grows.grown == sorted(grows.grown), grows.grown
        assert (grows.undone > 0) == refusals_only


def test_a_table_that_cannot_grow_stops_the_search_incomplete(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lifecycle.engine import parallel

    _Grows(monkeypatch, 64, 0.5)
    monkeypatch.setattr(parallel, "_table_slots", lambda max_states: 256)
    result = check(FastTwoPhase(5), store="fingerprint", workers=2)
    assert not result.complete and result.ok is not True
    assert "shared fingerprint table is full (256 slots)" in (result.stop_reason or "")


class _ManyRoots(Model):
    """3,000 initial states, each with two successors: more roots than a small first
    table holds."""

    def init_states(self) -> list[Any]:
        return list(range(3000))

    def actions(self, state: Any) -> list[str]:
        return ["Up", "Far"] if state < 3000 else []

    def next_state(self, state: Any, action: str) -> Any:
        return state + 3000 if action == "Up" else state % 7 + 6000

    def is_terminal(self, state: Any) -> bool:
        return True


def test_the_table_makes_room_for_the_initial_states_and_for_a_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    grows = _Grows(monkeypatch, 64, 0.5)
    serial = check(_ManyRoots(), store="fingerprint")
    assert summary(check(_ManyRoots(), store="fingerprint", workers=2)) == summary(serial)
    assert serial.distinct_states == 6007 and grows.grown[0] >= 4 * 3000
    # A bound does not cap the table: the level it cuts still claims every successor.
    for bound in (50, 3000):
        serial = check(FastTwoPhase(5), store="fingerprint", max_states=bound)
        parallel = check(FastTwoPhase(5), store="fingerprint", max_states=bound, workers=2)
        # (The serial search stops inside the level, the parallel one at its end, so
        # only the generated count and coverage may differ.)
        for field in ("complete", "ok", "distinct", "statuses", "stop"):
            assert summary(parallel)[field] == summary(serial)[field], field
        assert parallel.stop_reason == f"max_states={bound} reached"
