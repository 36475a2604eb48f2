"""The search keeps the cyclic garbage collector working: reference cycles a model
makes while computing successors are freed during the search, not piled up until it
ends (the store is frozen for the collector instead, `search._FREEZE`)."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest

import lifecycle.engine.search as search
from lifecycle.engine import Model, Property, check

SIDE = 150


class _Junk:
    """One object in a reference cycle: it holds itself."""

    def __init__(self) -> None:
        self.me = self


class Cycles(Model):
    """A torus whose `next_state` leaves a reference cycle behind on every call, and
    records the most cycles alive at once."""

    def __init__(self) -> None:
        self.alive: weakref.WeakSet[_Junk] = weakref.WeakSet()
        self.calls = 0
        self.most_alive = 0

    def init_states(self) -> list[Any]:
        return [(0, 0)]

    def actions(self, state: Any) -> list[str]:
        return ["A", "B"]

    def next_state(self, state: Any, action: str) -> Any:
        self.alive.add(_Junk())
        self.calls += 1
        if not self.calls % 500:
            self.most_alive = max(self.most_alive, len(self.alive))
        x, y = state
        return ((x + 1) % SIDE, y) if action == "A" else (x, (y + 1) % SIDE)

    def properties(self) -> list[Property]:
        return [Property.always("on_torus", lambda s: 0 <= s[0] < SIDE)]


@pytest.mark.parametrize("graph", [False, True])
def test_cycles_a_model_makes_are_collected_during_the_search(graph: bool) -> None:
    model = Cycles()
    result = check(model, deadlock=False, keep_graph=graph)
    assert result.distinct_states == SIDE * SIDE
    assert model.calls == 2 * SIDE * SIDE
    # Piled up, they would reach 45,000; collected, a few collections' worth.
    assert model.most_alive < model.calls // 10, model.most_alive
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0  # nothing left frozen


def test_the_old_pause_piles_them_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """The measurement above can fail: with the collector paused, it does."""
    monkeypatch.setattr(search, "_FREEZE", False)
    model = Cycles()
    check(model, deadlock=False)
    assert model.most_alive > model.calls // 2
    assert gc.isenabled()
