"""Bundled example models: small classics whose state counts are known in closed form.

They serve as documentation of the model protocol, as fixtures for the engine's tests
and benchmarks, and as the demo of `lifecycle check` before a domain model exists.

- `CounterGrid(n, dims=2)`: `dims` counters, each counting from 0 up to `n`.
  `(n + 1) ** dims` states, depth `dims * n + 1`, one deadlock-free end state.
- `TwoPhase(rms=3)`: the two-phase commit protocol with a transaction manager, a
  transcription of Lamport's `TwoPhase.tla`. `6**N + 4**N + 2**N` states for `N`
  resource managers (288 for 3, 1,568 for 4, 1,745,408 for 8), depth `3 * N + 2`.

Each model has two ways of stating its transitions, which the checker treats alike:
`actions`/`next_state` (the protocol) and a `successors()` fast path. The plain classes
use the protocol; pass `fast=True` to the constructor (or use the `Fast...` subclasses)
to get the fast path.

    from lifecycle.engine import check
    from lifecycle.engine.examples import TwoPhase

    result = check(TwoPhase(3))
    assert result.ok and result.distinct_states == 288
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from lifecycle.engine.model import Model
from lifecycle.engine.properties import Property

__all__ = [
    "ABORTED",
    "COMMITTED",
    "INIT",
    "PREPARED",
    "WORKING",
    "CounterGrid",
    "FastCounterGrid",
    "FastTwoPhase",
    "TwoPhase",
    "TwoPhaseState",
    "example_models",
]


# --------------------------------------------------------------------- counter grid
class CounterGrid(Model):
    """`dims` counters, each from 0 to `n`; the action `("Inc", i)` increments counter i.

    States are tuples of `dims` ints. Counts, from first principles:

    - distinct states: every tuple in `{0..n}^dims` is reachable, so `(n + 1) ** dims`;
    - depth: the shortest path to a state has `sum(state)` steps, the largest is
      `(n, ..., n)` with `dims * n` steps, so `dims * n + 1` states on it;
    - generated states: the initial state, plus one successor per counter below `n` in
      every state: `1 + dims * n * (n + 1) ** (dims - 1)`;
    - the only state without successors is `(n, ..., n)`, which `is_terminal` marks as
      a legitimate end, so there is no deadlock.

    Properties: `always` "bounded" (every counter <= n) and `sometimes` "full"
    (all counters at n). `always_recoverable=True` adds "can finish": from every state
    the full state is still reachable.
    """

    def __init__(self, n: int = 10, dims: int = 2, *, always_recoverable: bool = False) -> None:
        if n < 0 or dims < 1:
            raise ValueError("CounterGrid needs n >= 0 and dims >= 1")
        self.n = n
        self.dims = dims
        self.always_recoverable = always_recoverable
        self._actions = [("Inc", i) for i in range(dims)]
        self._full = (n,) * dims

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.n}, dims={self.dims})"

    @property
    def expected_states(self) -> int:
        return (self.n + 1) ** self.dims

    @property
    def expected_depth(self) -> int:
        return self.dims * self.n + 1

    @property
    def expected_generated(self) -> int:
        return 1 + self.dims * self.n * (self.n + 1) ** (self.dims - 1)

    def init_states(self) -> list[tuple[int, ...]]:
        return [(0,) * self.dims]

    def actions(self, state: tuple[int, ...]) -> list[tuple[str, int]]:
        return self._actions

    def next_state(self, state: tuple[int, ...], action: tuple[str, int]) -> tuple[int, ...] | None:
        i = action[1]
        if state[i] >= self.n:
            return None
        return (*state[:i], state[i] + 1, *state[i + 1 :])

    def is_terminal(self, state: tuple[int, ...]) -> bool:
        return state == self._full

    def properties(self) -> list[Property]:
        n, full = self.n, self._full
        props = [
            Property.always("bounded", lambda s: max(s) <= n),
            Property.sometimes("full", lambda s: s == full),
        ]
        if self.always_recoverable:
            props.append(Property.always_recoverable("can finish", lambda s: s != full))
        return props


class FastCounterGrid(CounterGrid):
    """`CounterGrid` with the `successors()` fast path."""

    def successors(self, state: tuple[int, ...]) -> Iterator[tuple[tuple[str, int], Any]]:
        n = self.n
        for i, v in enumerate(state):
            if v < n:
                yield self._actions[i], (*state[:i], v + 1, *state[i + 1 :])


# ------------------------------------------------------------------------ TwoPhase
WORKING, PREPARED, COMMITTED, ABORTED = "working", "prepared", "committed", "aborted"
INIT = "init"


class TwoPhaseState(NamedTuple):
    """A state of `TwoPhase`: the variables of TwoPhase.tla.

    `rm_state[i]` is resource manager i's state; `tm_prepared` the RMs from which the
    transaction manager received "Prepared"; `msgs` the messages ever sent (messages
    are never removed): `("Prepared", i)`, `("Commit",)`, `("Abort",)`.
    """

    rm_state: tuple[str, ...]
    tm_state: str
    tm_prepared: frozenset[int]
    msgs: frozenset[tuple[Any, ...]]


_COMMIT_MSG = ("Commit",)
_ABORT_MSG = ("Abort",)


class TwoPhase(Model):
    """Two-phase commit with `rms` resource managers, after Lamport's TwoPhase.tla.

    Actions: `("TMRcvPrepared", rm)`, `("TMCommit",)`, `("TMAbort",)`,
    `("RMPrepare", rm)`, `("RMChooseToAbort", rm)`, `("RMRcvCommitMsg", rm)`,
    `("RMRcvAbortMsg", rm)`, with the guards of the TLA+ spec.

    Distinct states, from first principles, by the transaction manager's state:

    - `init`: no Commit or Abort message exists yet, so an RM is working, aborted (by
      choice, no message), or prepared; a prepared RM's message is or is not yet in
      `tm_prepared`. Four independent choices per RM: `4**N`.
    - `committed`: TMCommit needs `tm_prepared` = all RMs, which then never changes;
      no Abort message, so each RM is prepared or committed: `2**N`.
    - `aborted`: `tm_prepared` froze at the abort. Per RM: working; aborted without a
      Prepared message; prepared (message sent) or aborted after preparing, each
      either in `tm_prepared` or not. Six independent choices: `6**N`.

    Total `6**N + 4**N + 2**N`: 288 for N=3 (TLC's count for TwoPhase.tla), 1,568 for
    4, 8,832 for 5, 1,745,408 for 8. Depth `3N + 2`: the costliest RM needs three
    steps (prepare, be received, receive the outcome) and the TM one (decide), so the
    longest shortest path has `3N + 1` steps.

    As in the TLA+ spec, `TMRcvPrepared` and the RMs' receive actions have no guard
    against repetition: repeating one is a self-loop (TLC counts it as generated).
    So TwoPhase never deadlocks: until the TM decides `TMAbort` is enabled, and
    afterwards every RM can receive the outcome again.

    Properties: `always` "consistent" (no RM committed while another aborted, TLA+'s
    TCConsistent) and "type ok"; `sometimes` "committed" and "aborted".
    """

    def __init__(self, rms: int = 3) -> None:
        if rms < 1:
            raise ValueError("TwoPhase needs at least one resource manager")
        self.rms = rms
        self._rm_range = range(rms)
        self._all = frozenset(range(rms))
        self._prepared_msgs = [("Prepared", i) for i in range(rms)]
        self._actions: list[tuple[Any, ...]] = [("TMCommit",), ("TMAbort",)]
        for name in (
            "TMRcvPrepared",
            "RMPrepare",
            "RMChooseToAbort",
            "RMRcvCommitMsg",
            "RMRcvAbortMsg",
        ):
            self._actions.extend((name, i) for i in range(rms))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(rms={self.rms})"

    @property
    def expected_states(self) -> int:
        n = self.rms
        return 6**n + 4**n + 2**n

    @property
    def expected_depth(self) -> int:
        return 3 * self.rms + 2

    @property
    def expected_generated(self) -> int:
        """TLC's "states generated": the initial state plus, summed over the states of
        each phase, the actions enabled there (self-loops included).

        - `init` (`4**N` states): TMAbort everywhere (`4**N`), TMCommit in the one state
          with every RM prepared and received (1), TMRcvPrepared(rm) where rm has sent
          Prepared (2 of its 4 choices: `2N * 4**(N-1)`), RMPrepare and
          RMChooseToAbort where rm is working (1 of 4: `2N * 4**(N-1)`).
        - `committed` (`2**N`): RMRcvCommitMsg for every RM: `N * 2**N`.
        - `aborted` (`6**N`): RMRcvAbortMsg for every RM (`N * 6**N`), RMPrepare and
          RMChooseToAbort where rm is working (1 of 6: `2N * 6**(N-1)`).

        Total `2 + (N + 1) * 4**N + N * 2**N + N * 6**N + 2N * 6**(N-1)`: 1,146 for N=3.
        """
        n = self.rms
        return 2 + (n + 1) * 4**n + n * 2**n + n * 6**n + 2 * n * 6 ** (n - 1)

    def init_states(self) -> list[TwoPhaseState]:
        return [TwoPhaseState((WORKING,) * self.rms, INIT, frozenset(), frozenset())]

    def action_names(self) -> list[str]:
        return sorted({a[0] for a in self._actions})

    def actions(self, state: TwoPhaseState) -> list[tuple[Any, ...]]:
        return self._actions

    def next_state(self, state: TwoPhaseState, action: tuple[Any, ...]) -> TwoPhaseState | None:
        rm_state, tm_state, tm_prepared, msgs = state
        name = action[0]
        if name == "TMRcvPrepared":
            rm = action[1]
            if tm_state == INIT and self._prepared_msgs[rm] in msgs:
                return TwoPhaseState(rm_state, tm_state, tm_prepared | {rm}, msgs)
            return None
        if name == "TMCommit":
            if tm_state == INIT and tm_prepared == self._all:
                return TwoPhaseState(rm_state, COMMITTED, tm_prepared, msgs | {_COMMIT_MSG})
            return None
        if name == "TMAbort":
            if tm_state == INIT:
                return TwoPhaseState(rm_state, ABORTED, tm_prepared, msgs | {_ABORT_MSG})
            return None
        rm = action[1]
        current = rm_state[rm]
        if name == "RMPrepare":
            if current == WORKING:
                return TwoPhaseState(
                    _set(rm_state, rm, PREPARED),
                    tm_state,
                    tm_prepared,
                    msgs | {self._prepared_msgs[rm]},
                )
            return None
        if name == "RMChooseToAbort":
            if current == WORKING:
                return TwoPhaseState(_set(rm_state, rm, ABORTED), tm_state, tm_prepared, msgs)
            return None
        if name == "RMRcvCommitMsg":
            if _COMMIT_MSG in msgs:
                return TwoPhaseState(_set(rm_state, rm, COMMITTED), tm_state, tm_prepared, msgs)
            return None
        if name == "RMRcvAbortMsg":
            if _ABORT_MSG in msgs:
                return TwoPhaseState(_set(rm_state, rm, ABORTED), tm_state, tm_prepared, msgs)
            return None
        raise ValueError(f"unknown action {action!r}")

    def properties(self) -> list[Property]:
        return [
            Property.always("type ok", _type_ok),
            Property.always("consistent", _consistent),
            Property.sometimes("committed", lambda s: s.tm_state == COMMITTED),
            Property.sometimes("aborted", lambda s: s.tm_state == ABORTED),
        ]


def _set(values: tuple[str, ...], index: int, value: str) -> tuple[str, ...]:
    return (*values[:index], value, *values[index + 1 :])


_RM_STATES = frozenset((WORKING, PREPARED, COMMITTED, ABORTED))


def _type_ok(state: TwoPhaseState) -> bool:
    return state.tm_state in (INIT, COMMITTED, ABORTED) and all(
        s in _RM_STATES for s in state.rm_state
    )


def _consistent(state: TwoPhaseState) -> bool:
    rm_state = state.rm_state
    return not (COMMITTED in rm_state and ABORTED in rm_state)


class FastTwoPhase(TwoPhase):
    """`TwoPhase` with the `successors()` fast path: only enabled actions are built."""

    def successors(self, state: TwoPhaseState) -> list[tuple[tuple[Any, ...], TwoPhaseState]]:
        rm_state, tm_state, tm_prepared, msgs = state
        out: list[tuple[tuple[Any, ...], TwoPhaseState]] = []
        add = out.append
        if tm_state == INIT:
            if tm_prepared == self._all:
                add(
                    (
                        ("TMCommit",),
                        TwoPhaseState(rm_state, COMMITTED, tm_prepared, msgs | {_COMMIT_MSG}),
                    )
                )
            add((("TMAbort",), TwoPhaseState(rm_state, ABORTED, tm_prepared, msgs | {_ABORT_MSG})))
            for rm in self._rm_range:
                if self._prepared_msgs[rm] in msgs:
                    add(
                        (
                            ("TMRcvPrepared", rm),
                            TwoPhaseState(rm_state, tm_state, tm_prepared | {rm}, msgs),
                        )
                    )
        commit = _COMMIT_MSG in msgs
        abort = _ABORT_MSG in msgs
        for rm, current in enumerate(rm_state):
            if current == WORKING:
                add(
                    (
                        ("RMPrepare", rm),
                        TwoPhaseState(
                            _set(rm_state, rm, PREPARED),
                            tm_state,
                            tm_prepared,
                            msgs | {self._prepared_msgs[rm]},
                        ),
                    )
                )
                add(
                    (
                        ("RMChooseToAbort", rm),
                        TwoPhaseState(_set(rm_state, rm, ABORTED), tm_state, tm_prepared, msgs),
                    )
                )
            if commit:
                add(
                    (
                        ("RMRcvCommitMsg", rm),
                        TwoPhaseState(_set(rm_state, rm, COMMITTED), tm_state, tm_prepared, msgs),
                    )
                )
            if abort:
                add(
                    (
                        ("RMRcvAbortMsg", rm),
                        TwoPhaseState(_set(rm_state, rm, ABORTED), tm_state, tm_prepared, msgs),
                    )
                )
        return out


def example_models() -> dict[str, type[Model]]:
    """The bundled example classes by name, for a CLI: each takes its size as the first
    constructor argument."""
    return {
        "counter-grid": CounterGrid,
        "two-phase": TwoPhase,
    }
