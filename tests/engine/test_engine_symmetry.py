"""Symmetry reduction: a model's `representative` lets the search store one state per
class, and the `verify` gate catches a representative (or a property) that is not
symmetric. Differential throughout: the reduced search against the unreduced one."""

from __future__ import annotations

from typing import Any

import pytest

from lifecycle.engine import (
    Property,
    SymmetryMismatch,
    SymmetryUnverified,
    check,
)

Counters = tuple[int, ...]


class Tokens:
    """`n` interchangeable counters, each stepping up to `top` or resetting to 0.
    The bad state: all counters at `bad` together."""

    def __init__(self, n: int = 3, top: int = 3, bad: int | None = 2, symmetric: bool = True):
        self.n, self.top, self.bad, self.symmetric = n, top, bad, symmetric

    def init_states(self) -> list[Counters]:
        return [(0,) * self.n, (1,) + (0,) * (self.n - 1)]

    def successors(self, state: Counters) -> list[tuple[Any, Counters]]:
        out: list[tuple[Any, Counters]] = []
        for i, v in enumerate(state):
            if v < self.top:
                out.append((("up", i), (*state[:i], v + 1, *state[i + 1 :])))
            if v:
                out.append((("reset", i), (*state[:i], 0, *state[i + 1 :])))
        return out

    def actions(self, state: Counters) -> list[Any]:
        return [a for a, _ in self.successors(state)]

    def next_state(self, state: Counters, action: Any) -> Counters | None:
        return dict(self.successors(state)).get(action)

    def representative(self, state: Counters) -> Counters:
        return tuple(sorted(state))

    def properties(self) -> list[Property]:
        bad = self.bad
        return [
            Property.always(
                "not_all_bad", lambda s: any(v != bad for v in s), symmetric=self.symmetric
            ),
            Property.sometimes("all_top", lambda s: min(s) == self.top, symmetric=True),
        ]


class Plain(Tokens):
    """The same model without a representative."""

    representative = None  # type: ignore[assignment]


def test_the_reduced_search_gives_the_unreduced_verdicts_with_fewer_states() -> None:
    model = Tokens()
    reduced = check(model, symmetry="on")
    full = check(model, symmetry="off")
    assert reduced.extra["symmetry"] == "on" and full.extra["symmetry"] == "off"
    assert full.distinct_states == 4**3
    # Multisets of 3 values out of 4: C(6, 3) = 20.
    assert reduced.distinct_states == 20
    assert {p.name: p.status for p in reduced.properties} == {
        p.name: p.status for p in full.properties
    }
    assert len(reduced.violation("not_all_bad").trace) == len(full.violation("not_all_bad").trace)


def test_a_reduced_counterexample_is_a_trace_of_the_unreduced_model() -> None:
    model = Tokens(n=3, bad=2)
    violation = check(model, symmetry="on").violation("not_all_bad")
    assert violation is not None
    trace = violation.trace
    assert trace.states[0] in model.init_states()
    for before, action, after in trace.steps():
        assert (action, after) in model.successors(before)
    assert trace.states[-1] == (2, 2, 2)


def test_verify_passes_on_a_sound_representative_and_says_so() -> None:
    result = check(Tokens(), symmetry="verify")
    assert result.extra["symmetry"] == "on, verified against the unreduced search"


class Merges(Tokens):
    """A wrong representative: it forgets which counter is at 2 when one is at 3, so
    it merges states that are not renamings of each other."""

    def representative(self, state: Counters) -> Counters:
        s = tuple(sorted(state))
        return tuple(1 if v == 2 and 3 in s else v for v in s)


def test_verify_catches_a_representative_that_merges_unlike_states() -> None:
    # Planted break: with the merge, (2, 2, 2) is never reached from (2, 2, 3).
    model = Merges(n=3, top=3, bad=3)
    with pytest.raises(SymmetryMismatch, match=r"not_all_bad|shortest"):
        check(model, symmetry="verify")


def test_verify_catches_a_property_wrongly_declared_symmetric() -> None:
    class FirstOnly(Tokens):
        def properties(self) -> list[Property]:
            # Reads counter 0 only, yet declared symmetric.
            return [Property.always("first_below_2", lambda s: s[0] < 2, symmetric=True)]

    with pytest.raises(SymmetryMismatch):
        check(FirstOnly(n=2, top=2), symmetry="verify")


def test_an_asymmetric_property_refuses_symmetry_on_and_turns_auto_off() -> None:
    model = Tokens(symmetric=False)
    with pytest.raises(ValueError, match="'not_all_bad' is not declared symmetric"):
        check(model, symmetry="on")
    auto = check(model)
    assert auto.extra["symmetry"] == "off (property 'not_all_bad' is not declared symmetric)"
    assert auto.distinct_states == 4**3


def test_auto_reduces_when_the_model_and_its_properties_allow_it() -> None:
    assert check(Tokens()).distinct_states == 20
    plain = check(Plain())
    assert plain.extra["symmetry"] == "off (the model declares no representative)"
    assert plain.distinct_states == 4**3
    with pytest.raises(ValueError, match="declares no representative"):
        check(Plain(), symmetry="on")


def test_verify_needs_whole_searches() -> None:
    with pytest.raises(SymmetryUnverified, match="unreduced search to finish"):
        check(Tokens(n=4), symmetry="verify", max_states=40)
    with pytest.raises(ValueError, match="stop_on_violation"):
        check(Tokens(), symmetry="verify", stop_on_violation=True)
    with pytest.raises(ValueError, match="symmetry must be one of"):
        check(Tokens(), symmetry="yes")


def test_symmetry_works_with_the_fingerprint_store_and_the_graph() -> None:
    model = Tokens()
    exact = check(model, symmetry="on")
    for kwargs in ({"store": "fingerprint"}, {"keep_graph": True}):
        other = check(model, symmetry="on", **kwargs)
        assert other.distinct_states == exact.distinct_states
        assert other.generated_states == exact.generated_states
        assert {p.name: p.status for p in other.properties} == {
            p.name: p.status for p in exact.properties
        }
