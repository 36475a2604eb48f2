"""`time_limit` is honoured by the clock, not by a count of states: on a model whose
states are slow, and inside generators that never end (`init_states`, `actions`).

The search's clock is replaced by a fake one that the model advances, so these tests
measure the time limit exactly and never depend on the machine's speed."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

import lifecycle.engine.search as search
from lifecycle.engine import Model, Property, check


class FakeClock:
    """What `search` reads of the `time` module: a clock that moves only when a model
    says it spent time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def perf_counter(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(search, "time", fake)
    return fake


class Slow(Model):
    """A long line of states, each taking `cost` seconds to expand."""

    def __init__(self, clock: FakeClock, cost: float) -> None:
        self.clock, self.cost = clock, cost

    def init_states(self) -> list[int]:
        return [0]

    def actions(self, state: int) -> list[str]:
        self.clock.now += self.cost
        return ["Next"]

    def next_state(self, state: int, action: str) -> int:
        return state + 1

    def properties(self) -> list[Property]:
        return [Property.always("finite", lambda s: s >= 0)]


class Wide(Slow):
    """One initial state with 10^6 successors: a level far larger than a chunk."""

    def actions(self, state: int) -> list[Any]:
        self.clock.now += self.cost
        return list(range(1, 1_000_001)) if state == 0 else []

    def next_state(self, state: int, action: Any) -> int:
        return action if state == 0 else state


@pytest.mark.parametrize("cost", [0.02, 0.3, 2.0])
def test_slow_states_stop_within_a_state_of_the_time_limit(clock: FakeClock, cost: float) -> None:
    start = clock.now
    result = check(Slow(clock, cost), time_limit=1.0, deadlock=False)
    assert not result.complete and "time_limit" in (result.stop_reason or "")
    # Read every 512 states, the limit would be overrun by ~10 s at 0.02 s a state.
    assert clock.now - start <= 1.0 + 0.05 + cost, clock.now - start


def test_a_level_of_fast_states_still_stops_at_the_limit(clock: FakeClock) -> None:
    start = clock.now
    model = Wide(clock, 0.0005)
    result = check(model, time_limit=1.0, deadlock=False)
    assert not result.complete and "time_limit" in (result.stop_reason or "")
    assert clock.now - start <= 1.06


class EndlessInits(Model):
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock

    def init_states(self) -> Iterator[int]:
        for i in itertools.count():
            self.clock.now += 0.001
            yield i

    def actions(self, state: int) -> list[str]:
        return []

    def next_state(self, state: int, action: str) -> int:
        return state

    def properties(self) -> list[Property]:
        return [Property.always("non_negative", lambda s: s >= 0)]


class EndlessActions(EndlessInits):
    def init_states(self) -> list[int]:
        return [0]

    def actions(self, state: int) -> Iterator[int]:  # type: ignore[override]
        for i in itertools.count():
            self.clock.now += 0.0001
            yield i


@pytest.mark.parametrize("endless", [EndlessInits, EndlessActions])
def test_a_generator_that_never_ends_stops_at_the_time_limit(
    clock: FakeClock, endless: type[EndlessInits]
) -> None:
    start = clock.now
    result = check(endless(clock), time_limit=1.0, deadlock=False)
    assert not result.complete and "time_limit" in (result.stop_reason or "")
    assert all(p.status.value != "holds" for p in result.properties)
    assert clock.now - start <= 1.0 + 1024 * 0.001


def test_an_endless_init_states_also_stops_at_max_states() -> None:
    class Plain(EndlessInits):
        def init_states(self) -> Iterator[int]:
            yield from itertools.count()

    result = check(Plain(FakeClock()), max_states=100, deadlock=False)
    assert not result.complete and result.distinct_states == 100
