"""Searches that stop early (time limit, Ctrl-C, bounds) are honest about it: the
result is partial, marked incomplete, and claims no property holds."""

from __future__ import annotations

import time
from typing import Any

import pytest

from lifecycle.engine import CheckResult, Kind, Progress, Status, check
from lifecycle.examples import CounterGrid, FastCounterGrid, TwoPhase

STORES = ("exact", "fingerprint")


def assert_partial(result: CheckResult, reason: str) -> None:
    assert not result.complete
    assert not result.ok
    assert reason in (result.stop_reason or ""), result.stop_reason
    assert result.distinct_states > 0
    for p in result.properties:
        if p.kind is not Kind.SOMETIMES:
            assert p.status is not Status.HOLDS, p
    # An unfound witness is unknown, not violated, when the search was cut.
    assert all(v.kind is not Kind.SOMETIMES for v in result.violations)
    assert "INCOMPLETE" in result.summary() or result.violations


@pytest.mark.parametrize("store", STORES)
def test_time_limit_cuts_a_large_search(store: str) -> None:
    model = FastCounterGrid(3000, 2)  # 9 million states: far more than 0.2 s of work
    start = time.perf_counter()
    result = check(model, time_limit=0.2, store=store)
    assert time.perf_counter() - start < 5
    assert_partial(result, "time_limit")
    assert result.distinct_states < model.expected_states
    assert result.status("bounded") is Status.UNKNOWN
    assert result.status("full") is Status.UNKNOWN
    assert result.status("deadlock") is Status.UNKNOWN


def test_a_generous_time_limit_gives_a_complete_search() -> None:
    result = check(TwoPhase(3), time_limit=60)
    assert result.complete and result.ok and result.distinct_states == 288


class Interrupting(CounterGrid):
    """Raises KeyboardInterrupt (as Ctrl-C would) after `after` calls to next_state."""

    def __init__(self, after: int) -> None:
        super().__init__(50, 2)
        self.after = after
        self.calls = 0
        self.made = 0  # calls that returned a state

    def next_state(self, state: Any, action: Any) -> Any:
        self.calls += 1
        if self.calls == self.after:
            raise KeyboardInterrupt
        nxt = super().next_state(state, action)
        self.made += nxt is not None
        return nxt


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("keep_graph", [False, True])
def test_ctrl_c_in_the_model_returns_the_partial_result(store: str, keep_graph: bool) -> None:
    model = Interrupting(after=700)
    result = check(model, store=store, keep_graph=keep_graph)
    assert_partial(result, "interrupted")
    assert result.distinct_states < model.expected_states
    assert result.generated_states < model.expected_generated
    # The partial counts are the real ones: every call but the interrupted one returned
    # a successor or None, and each successor returned was counted as generated (the
    # graph mode computes a state's successors before it counts them, so there those
    # of the interrupted state are not counted).
    assert result.generated_states <= model.calls
    if keep_graph:
        assert result.generated_states <= 1 + model.made
    else:
        assert result.generated_states == 1 + model.made
    assert sum(a.enabled for a in result.coverage.actions.values()) == (result.generated_states - 1)


class Slow(CounterGrid):
    """A huge grid whose successors take 0.5 ms: the search outlasts the first progress
    report (after 0.5 s) by far."""

    def successors(self, state: Any) -> list[Any]:
        time.sleep(0.0005)
        return [(("Inc", i), (*state[:i], v + 1, *state[i + 1 :])) for i, v in enumerate(state)]


def test_ctrl_c_from_the_progress_callback() -> None:
    seen: list[Progress] = []

    def progress(p: Progress) -> None:
        seen.append(p)
        if len(seen) == 1:
            raise KeyboardInterrupt

    result = check(Slow(10**6, 2), progress=progress)
    assert_partial(result, "interrupted")
    assert len(seen) == 1
    snapshot = seen[0]
    assert snapshot.elapsed >= 0.5  # about twice a second, not at once
    assert 0 < snapshot.distinct_states <= result.distinct_states
    # The search stopped inside the report, so the report's counts are the result's.
    assert (snapshot.distinct_states, snapshot.generated_states) == (
        result.distinct_states,
        result.generated_states,
    )
    assert snapshot.states_per_second > 0
    assert result.elapsed >= snapshot.elapsed


def test_bound_validation() -> None:
    model = TwoPhase(2)
    for kwargs in (
        {"max_states": 0},
        {"max_depth": 0},
        {"max_states": 1.5},
        {"time_limit": 0},
        {"store": "bloom"},
    ):
        with pytest.raises(ValueError):
            check(model, **kwargs)


@pytest.mark.parametrize("store", STORES)
def test_bounds_cut_exactly_where_they_say(store: str) -> None:
    model = TwoPhase(3)  # 288 states, depth 11
    cut = check(model, max_states=287, store=store)
    assert_partial(cut, "max_states")
    assert cut.distinct_states == 287
    exact = check(model, max_states=288, store=store)
    assert exact.complete and exact.ok and exact.distinct_states == 288
    shallow = check(model, max_depth=10, store=store)
    assert_partial(shallow, "max_depth")
    assert shallow.depth == 10
    deep = check(model, max_depth=11, store=store)
    assert deep.complete and deep.ok
    # The depth-bounded but complete search counts exactly what an unbounded one does.
    full = check(model, store=store)
    assert (deep.distinct_states, deep.generated_states, deep.depth) == (
        full.distinct_states,
        full.generated_states,
        full.depth,
    )
    assert deep.coverage == full.coverage


def test_more_initial_states_than_max_states() -> None:
    class ManyStarts(CounterGrid):
        def init_states(self) -> list[Any]:
            return [(0, 0), (1, 0), (0, 1)]

    result = check(ManyStarts(2, 2), max_states=2)
    assert_partial(result, "max_states")
    assert result.distinct_states == 2


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("keep_graph", [False, True])
@pytest.mark.parametrize("cls", [CounterGrid, FastCounterGrid])
def test_a_bound_counts_every_successor_computed(
    store: str, keep_graph: bool, cls: type[CounterGrid]
) -> None:
    """max_states=5 on a 4x4 grid: (0,0) gives (1,0) and (0,1); (1,0) gives (2,0) and
    (1,1), the 5th state; (0,1) gives (1,1) again and (0,2), which the bound refuses.
    Every successor computed counts as generated, the refused one too: 1 + 6 = 7, and
    each is one enabled action in the coverage."""
    result = check(cls(3, 2), max_states=5, store=store, keep_graph=keep_graph)
    assert_partial(result, "max_states")
    assert (result.distinct_states, result.generated_states) == (5, 7)
    assert sum(a.enabled for a in result.coverage.actions.values()) == 6
    assert sum(a.new_states for a in result.coverage.actions.values()) == 4


def test_max_memory_stops_the_search_incomplete_before_it_grows_further() -> None:
    from lifecycle.engine.memory import resident_memory

    model = FastCounterGrid(3000, 2)  # 9 million states: far more than 40 MiB more
    limit = resident_memory() + 40 * 2**20
    result = check(model, max_memory=limit)
    assert_partial(result, "max_memory")
    assert result.distinct_states < model.expected_states
    # Read at least every 512 states: it stopped within a chunk of the limit.
    assert resident_memory() < limit + 40 * 2**20
    with pytest.raises(ValueError, match="local backend"):
        check(model, max_memory=limit, backend="ray")
    with pytest.raises(ValueError, match="positive number of bytes"):
        check(model, max_memory=0)


def test_max_memory_bounds_the_parallel_search_and_its_workers_together() -> None:
    """Two forked workers: the group's proportional memory (coordinator and workers)
    reaches the limit, the workers end their level, and the search stops incomplete.
    Differential against the unbounded parallel search: it stopped short of it."""
    from lifecycle.engine.memory import group_memory

    model = FastCounterGrid(3000, 2)  # 9 million states
    limit = group_memory(()) + 40 * 2**20
    result = check(model, max_memory=limit, workers=2)
    assert_partial(result, "max_memory")
    assert "2 workers" in (result.stop_reason or "")
    assert 0 < result.distinct_states < model.expected_states
