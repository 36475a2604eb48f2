"""Classic models whose figures follow from first principles (see the derivations in
`lifecycle.examples`), checked for both stores and both model styles."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest

from lifecycle.engine import Kind, Model, Property, Status, check
from lifecycle.examples import (
    ABORTED,
    COMMITTED,
    INIT,
    PREPARED,
    WORKING,
    CounterGrid,
    FastCounterGrid,
    FastTwoPhase,
    TwoPhase,
    TwoPhaseState,
)

STORES = ("exact", "fingerprint")


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("cls", [CounterGrid, FastCounterGrid])
@pytest.mark.parametrize(("n", "dims"), [(0, 1), (1, 1), (5, 1), (4, 2), (10, 2), (3, 3), (2, 4)])
def test_counter_grid_counts(cls: type[CounterGrid], store: str, n: int, dims: int) -> None:
    # (n+1)^dims states, all reachable; the shortest path to s has sum(s) steps, so the
    # deepest state (n,...,n) is dims*n steps away: depth dims*n + 1 (TLC counts states).
    # Every state has one successor per counter below n: generated = 1 + dims*n*(n+1)^(dims-1).
    result = check(cls(n, dims), store=store)
    assert result.ok and result.complete
    assert result.distinct_states == (n + 1) ** dims
    assert result.depth == dims * n + 1
    assert result.generated_states == 1 + dims * n * (n + 1) ** (dims - 1)
    assert len(result.witnesses["full"]) == dims * n
    if n > 0:
        inc = result.coverage.actions["Inc"]
        assert inc.enabled == result.generated_states - 1
        assert inc.new_states == result.distinct_states - 1


def test_counter_grid_without_terminal_end_deadlocks_at_the_far_corner() -> None:
    class Open(CounterGrid):
        def is_terminal(self, state: Any) -> bool:
            return False

    result = check(Open(4, 2))
    violation = result.violation("deadlock")
    assert violation is not None and not result.ok
    assert violation.trace.states[-1] == (4, 4)
    assert len(violation.trace) == 8


def test_counter_grid_always_recoverable_holds_then_fails_with_a_trap() -> None:
    assert check(CounterGrid(3, 2, always_recoverable=True)).status("can finish") is Status.HOLDS

    class Trap(CounterGrid):
        """Counter 0 may jump to n+1 when counter 1 is 2: a state from which `full`
        is unreachable. The shortest way there is Inc(1), Inc(1), Jump: 3 steps."""

        def actions(self, state: Any) -> list[Any]:
            return [*super().actions(state), ("Jump",)]

        def next_state(self, state: Any, action: Any) -> Any:
            if action == ("Jump",):
                return (self.n + 1, state[1]) if state[1] == 2 and state[0] <= self.n else None
            return super().next_state(state, action)

        def is_terminal(self, state: Any) -> bool:
            return True

        def properties(self) -> list[Property]:
            full = (self.n, self.n)
            return [Property.always_recoverable("can finish", lambda s: s != full)]

    result = check(Trap(3, 2))
    violation = result.violation("can finish")
    assert violation is not None and violation.kind is Kind.RECOVERABLE
    assert violation.trace.states[-1] == (4, 2)
    assert len(violation.trace) == 3


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("cls", [TwoPhase, FastTwoPhase])
@pytest.mark.parametrize("rms", [1, 2, 3, 4])
def test_two_phase_counts(cls: type[TwoPhase], store: str, rms: int) -> None:
    # 6^N + 4^N + 2^N states (288 for N=3, TLC's figure for TwoPhase.tla), depth 3N+2,
    # generated 2 + (N+1)4^N + N 2^N + N 6^N + 2N 6^(N-1): derivations in TwoPhase.
    model = cls(rms)
    result = check(model, store=store)
    assert result.ok and result.complete
    assert result.distinct_states == 6**rms + 4**rms + 2**rms
    assert result.depth == 3 * rms + 2
    assert result.generated_states == model.expected_generated
    assert {p.name: p.status for p in result.properties} == {
        "type ok": Status.HOLDS,
        "consistent": Status.HOLDS,
        "committed": Status.HOLDS,
        "aborted": Status.HOLDS,
        "deadlock": Status.HOLDS,
    }
    # Shortest witnesses: TMAbort at once (1 step); commit needs every RM to prepare and
    # be received first (2N + 1 steps).
    assert len(result.witnesses["aborted"]) == 1
    assert len(result.witnesses["committed"]) == 2 * rms + 1


def two_phase_states(rms: int) -> set[TwoPhaseState]:
    """The reachable states of TwoPhase, enumerated from the product characterisation in
    the TwoPhase docstring rather than by search. Per RM: (state, sent Prepared,
    in tm_prepared)."""
    init = [(WORKING, False, False), (ABORTED, False, False)]
    init += [(PREPARED, True, False), (PREPARED, True, True)]
    committed = [(PREPARED, True, True), (COMMITTED, True, True)]
    aborted = [*init, (ABORTED, True, False), (ABORTED, True, True)]
    out = set()
    for tm, choices, extra in (
        (INIT, init, ()),
        (COMMITTED, committed, (("Commit",),)),
        (ABORTED, aborted, (("Abort",),)),
    ):
        for combo in itertools.product(choices, repeat=rms):
            out.add(
                TwoPhaseState(
                    tuple(c[0] for c in combo),
                    tm,
                    frozenset(i for i, c in enumerate(combo) if c[2]),
                    frozenset([*(("Prepared", i) for i, c in enumerate(combo) if c[1]), *extra]),
                )
            )
    return out


@pytest.mark.parametrize("rms", [1, 2, 3])
def test_two_phase_reachable_set_is_the_characterised_set(rms: int) -> None:
    expected = two_phase_states(rms)
    assert len(expected) == 6**rms + 4**rms + 2**rms
    result = check(TwoPhase(rms), keep_graph=True)
    assert result.graph is not None
    keys = result.graph.states
    assert set(keys) == expected
    assert len(keys) == len(expected)


def test_two_phase_coverage_from_first_principles() -> None:
    # N = 3. Enabled counts per action, by phase (see TwoPhase.expected_generated):
    # TMAbort in every init-phase state: 4^3; TMCommit in one; TMRcvPrepared where the
    # RM has sent Prepared: 2*3*4^2; RMPrepare/RMChooseToAbort where it is working:
    # 3*4^2 + 3*6^2; RMRcvCommitMsg: 3*2^3; RMRcvAbortMsg: 3*6^3.
    result = check(TwoPhase(3))
    enabled = {name: c.enabled for name, c in result.coverage.actions.items()}
    assert enabled == {
        "TMAbort": 64,
        "TMCommit": 1,
        "TMRcvPrepared": 96,
        "RMPrepare": 156,
        "RMChooseToAbort": 156,
        "RMRcvCommitMsg": 24,
        "RMRcvAbortMsg": 648,
    }
    assert result.coverage.never_enabled == ()
    # The all-prepared committed state has a single predecessor edge: TMCommit.
    assert result.coverage.actions["TMCommit"].new_states == 1
    assert sum(c.new_states for c in result.coverage.actions.values()) == 288 - 1
    table = result.coverage.table()
    assert "TMCommit" in table and "never enabled" not in table


class EagerCommit(TwoPhase):
    """A broken TM that commits without waiting for every RM to prepare."""

    def next_state(self, state: TwoPhaseState, action: Any) -> TwoPhaseState | None:
        if action == ("TMCommit",):
            if state.tm_state != INIT:
                return None
            return state._replace(tm_state=COMMITTED, msgs=state.msgs | {("Commit",)})
        return super().next_state(state, action)


@pytest.mark.parametrize("store", STORES)
def test_broken_two_phase_shortest_counterexample(store: str) -> None:
    # An RM commits only after receiving Commit (TMCommit, RMRcvCommitMsg: 2 steps) and
    # another aborts by choice in 1 step; nothing shorter reaches "committed and aborted".
    result = check(EagerCommit(3), store=store)
    violation = result.violation("consistent")
    assert violation is not None and violation.kind is Kind.ALWAYS
    assert len(violation.trace) == 3
    assert [a[0] for a in violation.trace.actions].count("TMCommit") == 1
    last = violation.trace.states[-1]
    assert COMMITTED in last.rm_state and ABORTED in last.rm_state
    # The trace replays: each step is what next_state gives.
    model = EagerCommit(3)
    for before, action, after in violation.trace.steps():
        assert model.next_state(before, action) == after
    assert result.status("type ok") is Status.HOLDS  # complete search, not violated


def test_stop_on_violation_is_incomplete_but_keeps_the_violation() -> None:
    result = check(EagerCommit(3), stop_on_violation=True)
    assert not result.complete and not result.ok
    assert "first violation" in (result.stop_reason or "")
    assert result.violation("consistent") is not None
    assert result.status("type ok") is Status.UNKNOWN


def test_fingerprint_collision_probability_is_reported() -> None:
    # TLC's optimistic estimate n * (g - n) / 2^64, with n distinct and g generated
    # states: for TwoPhase(4), 1568 * (8258 - 1568) / 2^64.
    result = check(TwoPhase(4), store="fingerprint")
    assert result.store == "fingerprint"
    assert result.collision_probability == 1568 * (8258 - 1568) / 2.0**64
    assert "fingerprint collision probability (optimistic): 5.7e-13" in result.summary()
    assert check(TwoPhase(4)).collision_probability is None


class MixedActions(Model):
    """A counter from 0 to 4 whose actions come in every form the engine names: a
    name-headed tuple, a string, a dataclass, an empty tuple and a tuple headed by a
    number. "Jam" is a candidate that is never enabled, and the model does not list
    its action names, so only the candidates can tell the engine about it."""

    def init_states(self) -> list[int]:
        return [0]

    def actions(self, state: int) -> list[Any]:
        return [("Inc", 1), "Step", _Hop(2), (), (7, "odd"), "Jam"]

    def next_state(self, state: int, action: Any) -> int | None:
        if action == "Jam" or state >= 4:
            return None
        if isinstance(action, _Hop):
            return min(4, state + action.by)
        return state + 1

    def is_terminal(self, state: int) -> bool:
        return state == 4

    def properties(self) -> list[Property]:
        return []


@dataclasses.dataclass(frozen=True)
class _Hop:
    by: int


def test_coverage_names_every_form_of_action_and_the_never_enabled_candidates() -> None:
    # States 0..3 enable the five non-Jam actions each: 20 enabled, names per
    # lifecycle.engine.action_name. Coverage is counted in batches that mix the forms.
    result = check(MixedActions())
    enabled = {name: c.enabled for name, c in result.coverage.actions.items()}
    assert enabled == {"Inc": 4, "Step": 4, "_Hop": 4, "tuple": 8}
    assert result.coverage.never_enabled == ("Jam",)
    assert sum(c.new_states for c in result.coverage.actions.values()) == 4


def test_declared_action_names_stand_in_for_the_candidates() -> None:
    class Declared(MixedActions):
        def action_names(self) -> list[str]:
            return ["Inc", "Step", "_Hop", "tuple", "Jam", "Reset"]

    assert check(Declared()).coverage.never_enabled == ("Jam", "Reset")


class Stutter(Model):
    """Two counters to 3; `Stay` changes nothing and returns the state itself (as
    TLA+'s UNCHANGED) when `same`, else an equal copy. The engine skips hashing the
    former: the results must not tell the two apart."""

    def __init__(self, *, same: bool, fast: bool = False) -> None:
        self.same = same
        if fast:
            self.successors = self._successors

    def init_states(self) -> list[tuple[int, int]]:
        return [(0, 0)]

    def actions(self, state: tuple[int, int]) -> list[tuple[Any, ...]]:
        return [("Inc", 0), ("Inc", 1), ("Stay",)]

    def next_state(self, state: tuple[int, int], action: tuple[Any, ...]) -> Any:
        if action[0] == "Stay":
            return state if self.same else tuple(list(state))
        i = action[1]
        if state[i] >= 3:
            return None
        return (state[0] + 1, state[1]) if i == 0 else (state[0], state[1] + 1)

    def _successors(self, state: tuple[int, int]) -> list[tuple[Any, Any]]:
        pairs = [(a, self.next_state(state, a)) for a in self.actions(state)]
        return [(a, n) for a, n in pairs if n is not None]

    def properties(self) -> list[Property]:
        return [Property.always("bounded", lambda s: max(s) <= 3)]


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("store", ["exact", "fingerprint"])
def test_a_step_that_returns_the_state_itself_counts_as_any_self_loop(
    store: str, fast: bool
) -> None:
    same = check(Stutter(same=True, fast=fast), store=store)
    copy = check(Stutter(same=False, fast=fast), store=store)
    # 16 states; each has Stay plus one Inc per counter below 3: 16 + 2 * 12 + 1.
    assert (same.distinct_states, same.generated_states, same.depth) == (16, 41, 7)
    assert (copy.distinct_states, copy.generated_states, copy.depth) == (16, 41, 7)
    assert same.coverage.actions == copy.coverage.actions
    assert same.coverage.actions["Stay"].enabled == 16
    assert same.coverage.actions["Stay"].new_states == 0
    assert same.ok and copy.ok
