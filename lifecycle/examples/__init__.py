"""Bundled example models: small classics whose state counts are known in closed form.

They serve as documentation of the model protocol, as fixtures for the engine's tests
and benchmarks, and as the demo of `lifecycle check` before a domain model exists.

- `CounterGrid(n, dims=2)`: `dims` counters, each counting from 0 up to `n`.
  `(n + 1) ** dims` states, depth `dims * n + 1`, one deadlock-free end state.
- `TwoPhase(rms=3)`: the two-phase commit protocol with a transaction manager, a
  transcription of Lamport's `TwoPhase.tla`. `6**N + 4**N + 2**N` states for `N`
  resource managers (288 for 3, 1,568 for 4, 1,745,408 for 8), depth `3 * N + 2`.
- `PaxosCommit(rms=2, acceptors=3, ballots=2)`: Gray and Lamport's Paxos Commit, a
  transcription of PaxosCommit.tla. No closed form: its configuration's 1,321,761
  states are TLC's count, and the one-RM configuration's 1,461 states and 5,136 edges
  are too. It is the protocol the engine benchmark compares with TLC.

Each model has two ways of stating its transitions, which the checker treats alike:
`actions`/`next_state` (the protocol) and a `successors()` fast path. The plain classes
use the protocol; pass `fast=True` to the constructor (or use the `Fast...` subclasses)
to get the fast path.

    from lifecycle.engine import check
    from lifecycle.examples import TwoPhase

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
    "FastPaxosCommit",
    "FastTwoPhase",
    "PaxosCommit",
    "PaxosCommitState",
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


# -------------------------------------------------------------------- PaxosCommit
class PaxosCommitState(NamedTuple):
    """A state of `PaxosCommit`: the variables of PaxosCommit.tla.

    `rm_state[rm]` is resource manager rm's state; `a_state[ins][acc]` is acceptor acc's
    `(mbal, bal, val)` in Paxos instance `ins` (one instance per RM); `msgs` is every
    message ever sent, each a tuple led by its type:

    - `("phase1a", ins, bal)`
    - `("phase1b", ins, mbal, bal, val, acc)`
    - `("phase2a", ins, bal, val)`
    - `("phase2b", ins, bal, val, acc)`
    - `("Commit",)` and `("Abort",)`
    """

    rm_state: tuple[str, ...]
    a_state: tuple[tuple[tuple[int, int, str], ...], ...]
    msgs: frozenset[tuple[Any, ...]]


NONE = "none"
_PHASE1A, _PHASE1B, _PHASE2A, _PHASE2B = "phase1a", "phase1b", "phase2a", "phase2b"


class PaxosCommit(Model):
    """Gray and Lamport's Paxos Commit, a transcription of PaxosCommit.tla (tlaplus/Examples).

    With its bundled configuration (`rms=2`, three acceptors with majorities
    `{a1,a2}`, `{a1,a3}`, `{a2,a3}`, ballots `{0, 1}`) TLC finds 1,321,761 distinct
    states: that count, not a closed form, is this model's check, which the engine
    benchmark compares against. It is the protocol the engine issue measures TLC on
    (190 s on one worker of this machine, 100 s on two).

    Actions, with the parameters the TLA+ existential quantifiers choose:

    - `("RMPrepare", rm)`, `("RMChooseToAbort", rm)`, `("RMRcvCommitMsg", rm)`,
      `("RMRcvAbortMsg", rm)`;
    - `("Phase1a", bal, rm)` and `("Phase2a", bal, rm, majority)` for `bal` in
      `ballots \\ {0}`;
    - `("Decide", "Commit")` and `("Decide", "Abort")`, the two disjuncts of `Decide`;
    - `("Phase1b", acc, m)` and `("Phase2b", acc, m)` for each phase 1a (2a) message m.

    As in the spec, sending a message already sent leaves the state unchanged: the
    leader can always resend a phase 1a message, so the model never deadlocks.

    Properties: `always` "consistent" (TCConsistent: no RM committed while another
    aborted); `sometimes` "committed" and "aborted".
    """

    def __init__(self, rms: int = 2, acceptors: int = 3, ballots: int = 2) -> None:
        if rms < 1 or acceptors < 1 or ballots < 1:
            raise ValueError("PaxosCommit needs rms, acceptors and ballots >= 1")
        self.rms = rms
        self.acceptors = acceptors
        self.ballots = ballots
        self._rm_range = range(rms)
        self._acc_range = range(acceptors)
        self._ballot_range = range(ballots)
        # The majorities are the sets of exactly `quorum` (more than half of the)
        # acceptors: for three, the three pairs of the bundled configuration. Larger
        # sets add no behaviour (each contains one), and FastPaxosCommit's Decide
        # relies on this form.
        quorum = self._quorum = acceptors // 2 + 1
        self.majorities: list[tuple[int, ...]] = [
            ms for ms in _subsets(acceptors) if len(ms) == quorum
        ]
        self._prepare = [(_PHASE2A, rm, 0, PREPARED) for rm in self._rm_range]
        self._abort = [(_PHASE2A, rm, 0, ABORTED) for rm in self._rm_range]
        self._static: list[tuple[Any, ...]] = []
        for rm in self._rm_range:
            for name in ("RMPrepare", "RMChooseToAbort", "RMRcvCommitMsg", "RMRcvAbortMsg"):
                self._static.append((name, rm))
        for bal in range(1, ballots):
            for rm in self._rm_range:
                self._static.append(("Phase1a", bal, rm))
                self._static.extend(("Phase2a", bal, rm, ms) for ms in self.majorities)
        self._static += [("Decide", "Commit"), ("Decide", "Abort")]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(rms={self.rms}, acceptors={self.acceptors}, "
            f"ballots={self.ballots})"
        )

    def init_states(self) -> list[PaxosCommitState]:
        acceptor = (0, -1, NONE)
        a_state = tuple((acceptor,) * self.acceptors for _ in self._rm_range)
        return [PaxosCommitState((WORKING,) * self.rms, a_state, frozenset())]

    def action_names(self) -> list[str]:
        return sorted({a[0] for a in self._static} | {"Phase1b", "Phase2b"})

    def actions(self, state: PaxosCommitState) -> list[tuple[Any, ...]]:
        acts = list(self._static)
        for m in state.msgs:
            if m[0] == _PHASE1A:
                acts.extend(("Phase1b", acc, m) for acc in self._acc_range)
            elif m[0] == _PHASE2A:
                acts.extend(("Phase2b", acc, m) for acc in self._acc_range)
        return acts

    def next_state(
        self, state: PaxosCommitState, action: tuple[Any, ...]
    ) -> PaxosCommitState | None:
        rm_state, a_state, msgs = state
        name = action[0]
        if name == "RMPrepare" or name == "RMChooseToAbort":
            rm = action[1]
            if rm_state[rm] != WORKING:
                return None
            if name == "RMPrepare":
                return PaxosCommitState(
                    _set(rm_state, rm, PREPARED), a_state, msgs | {self._prepare[rm]}
                )
            return PaxosCommitState(_set(rm_state, rm, ABORTED), a_state, msgs | {self._abort[rm]})
        # A step that changes nothing (a message sent again, a decision received
        # again) returns the state itself, as TLA+'s UNCHANGED: the engine then knows
        # it without hashing it.
        if name == "RMRcvCommitMsg":
            if _COMMIT_MSG not in msgs:
                return None
            if rm_state[action[1]] == COMMITTED:
                return state
            return PaxosCommitState(_set(rm_state, action[1], COMMITTED), a_state, msgs)
        if name == "RMRcvAbortMsg":
            if _ABORT_MSG not in msgs:
                return None
            if rm_state[action[1]] == ABORTED:
                return state
            return PaxosCommitState(_set(rm_state, action[1], ABORTED), a_state, msgs)
        if name == "Phase1a":
            _, bal, rm = action
            sent: tuple[Any, ...] = (_PHASE1A, rm, bal)
            if sent in msgs:
                return state
            return PaxosCommitState(rm_state, a_state, msgs | {sent})
        if name == "Phase2a":
            _, bal, rm, majority = action
            if any(m[0] == _PHASE2A and m[1] == rm and m[2] == bal for m in msgs):
                return None
            mset = [
                m
                for m in msgs
                if m[0] == _PHASE1B and m[1] == rm and m[2] == bal and m[5] in majority
            ]
            if len({m[5] for m in mset}) < len(majority):
                return None
            return PaxosCommitState(
                rm_state, a_state, msgs | {(_PHASE2A, rm, bal, _phase2a_value(mset))}
            )
        if name == "Decide":
            if action[1] == "Commit":
                if all(self._decided(msgs, rm, PREPARED) for rm in self._rm_range):
                    if _COMMIT_MSG in msgs:
                        return state
                    return PaxosCommitState(rm_state, a_state, msgs | {_COMMIT_MSG})
                return None
            if any(self._decided(msgs, rm, ABORTED) for rm in self._rm_range):
                if _ABORT_MSG in msgs:
                    return state
                return PaxosCommitState(rm_state, a_state, msgs | {_ABORT_MSG})
            return None
        if name == "Phase1b":
            _, acc, m = action
            _, ins, bal = m
            mbal, abal, aval = a_state[ins][acc]
            if m not in msgs or mbal >= bal:
                return None
            return PaxosCommitState(
                rm_state,
                _set_acceptor(a_state, ins, acc, (bal, abal, aval)),
                msgs | {(_PHASE1B, ins, bal, abal, aval, acc)},
            )
        if name == "Phase2b":
            _, acc, m = action
            _, ins, bal, val = m
            if m not in msgs or a_state[ins][acc][0] > bal:
                return None
            message = (_PHASE2B, ins, bal, val, acc)
            if a_state[ins][acc] == (bal, bal, val) and message in msgs:
                return state
            return PaxosCommitState(
                rm_state, _set_acceptor(a_state, ins, acc, (bal, bal, val)), msgs | {message}
            )
        raise ValueError(f"unknown action {action!r}")

    def _decided(self, msgs: frozenset[tuple[Any, ...]], rm: int, val: str) -> bool:
        """Instance rm chose val: a majority sent phase 2b messages for it in one ballot."""
        return any(
            all((_PHASE2B, rm, bal, val, acc) in msgs for acc in majority)
            for bal in self._ballot_range
            for majority in self.majorities
        )

    def properties(self) -> list[Property]:
        return [
            Property.always("consistent", _paxos_consistent),
            Property.sometimes("committed", lambda s: COMMITTED in s.rm_state),
            Property.sometimes("aborted", lambda s: ABORTED in s.rm_state),
        ]


def _subsets(n: int) -> list[tuple[int, ...]]:
    return [tuple(i for i in range(n) if bits >> i & 1) for bits in range(1, 1 << n)]


def _phase2a_value(mset: list[tuple[Any, ...]]) -> str:
    """The value a leader proposes from phase 1b messages: the value voted in the
    highest ballot reported, or "aborted" when no acceptor has voted (maxbal = -1).
    Acceptors vote for at most one value per instance and ballot, so the choice among
    messages reporting that ballot (TLA+'s CHOOSE) does not matter."""
    maxbal = max(m[3] for m in mset)
    if maxbal == -1:
        return ABORTED
    return min(m[4] for m in mset if m[3] == maxbal)


def _set_acceptor(
    a_state: tuple[tuple[tuple[int, int, str], ...], ...],
    ins: int,
    acc: int,
    value: tuple[int, int, str],
) -> tuple[tuple[tuple[int, int, str], ...], ...]:
    row = a_state[ins]
    return (*a_state[:ins], (*row[:acc], value, *row[acc + 1 :]), *a_state[ins + 1 :])


def _paxos_consistent(state: PaxosCommitState) -> bool:
    rm_state = state.rm_state
    return not (COMMITTED in rm_state and ABORTED in rm_state)


class _Singletons(dict[tuple[Any, ...], frozenset[tuple[Any, ...]]]):
    """Each message's singleton set, built on first use: sending is `msgs | single`
    without building `{m}` for every successor."""

    def __missing__(self, message: tuple[Any, ...]) -> frozenset[tuple[Any, ...]]:
        single = self[message] = frozenset((message,))
        return single


class FastPaxosCommit(PaxosCommit):
    """`PaxosCommit` with the `successors()` fast path, the one the benchmark times.

    Same states and actions as the protocol path (a test compares them state by state),
    computed the way a model written for speed would: one pass over the messages sorts
    them by type and tallies the phase 2b votes, each message's singleton set is built
    once, and states are made with `tuple.__new__` rather than the NamedTuple's
    Python-level constructor.
    """

    def __init__(self, rms: int = 2, acceptors: int = 3, ballots: int = 2) -> None:
        super().__init__(rms, acceptors, ballots)
        self._singletons = _Singletons()

    def successors(self, state: PaxosCommitState) -> list[tuple[tuple[Any, ...], PaxosCommitState]]:
        rm_state, a_state, msgs = state
        new = tuple.__new__
        cls = PaxosCommitState
        singletons = self._singletons
        out: list[tuple[tuple[Any, ...], PaxosCommitState]] = []
        add = out.append

        def send(action: tuple[Any, ...], rms: Any, accs: Any, message: tuple[Any, ...]) -> None:
            add((action, new(cls, (rms, accs, msgs | singletons[message]))))

        phase1a: list[tuple[Any, ...]] = []
        phase2a: list[tuple[Any, ...]] = []
        proposed: set[tuple[int, int]] = set()  # (ins, bal) with a phase 2a message
        promises: dict[tuple[int, int], list[tuple[Any, ...]]] = {}  # (ins, mbal) -> 1b
        votes: dict[tuple[int, int, str], set[int]] = {}  # (ins, bal, val) -> acceptors
        commit = abort = False
        for m in msgs:
            kind = m[0]
            if kind == _PHASE2B:
                key3 = (m[1], m[2], m[3])
                if key3 in votes:
                    votes[key3].add(m[4])
                else:
                    votes[key3] = {m[4]}
            elif kind == _PHASE1B:
                key = (m[1], m[2])
                if key in promises:
                    promises[key].append(m)
                else:
                    promises[key] = [m]
            elif kind == _PHASE2A:
                phase2a.append(m)
                proposed.add((m[1], m[2]))
            elif kind == _PHASE1A:
                phase1a.append(m)
            elif m is _COMMIT_MSG or m == _COMMIT_MSG:
                commit = True
            else:
                abort = True
        # A step that changes nothing (a message sent again, a decision received again)
        # returns the state itself, as TLA+'s UNCHANGED: the engine then knows it
        # without hashing it. Over half of PaxosCommit's steps are such.
        for rm in self._rm_range:
            if rm_state[rm] == WORKING:
                send(("RMPrepare", rm), _set(rm_state, rm, PREPARED), a_state, self._prepare[rm])
                send(("RMChooseToAbort", rm), _set(rm_state, rm, ABORTED), a_state, self._abort[rm])
            for received, value, name in (
                (commit, COMMITTED, "RMRcvCommitMsg"),
                (abort, ABORTED, "RMRcvAbortMsg"),
            ):
                if not received:
                    continue
                if rm_state[rm] == value:
                    add(((name, rm), state))
                else:
                    add(((name, rm), new(cls, (_set(rm_state, rm, value), a_state, msgs))))
        for bal in range(1, self.ballots):
            for rm in self._rm_range:
                message: tuple[Any, ...] = (_PHASE1A, rm, bal)
                if message in msgs:
                    add((("Phase1a", bal, rm), state))
                else:
                    send(("Phase1a", bal, rm), rm_state, a_state, message)
                if (rm, bal) in proposed:
                    continue
                promised = promises.get((rm, bal))
                if promised is None:
                    continue
                for majority in self.majorities:
                    mset = [m for m in promised if m[5] in majority]
                    if len({m[5] for m in mset}) < len(majority):
                        continue
                    message = (_PHASE2A, rm, bal, _phase2a_value(mset))
                    send(("Phase2a", bal, rm, majority), rm_state, a_state, message)
        if votes:
            # Instance ins chose val when a majority voted for it in one ballot. The
            # majorities are every set of `quorum` acceptors, so that is: some ballot
            # has at least `quorum` votes.
            quorum = self._quorum
            chosen = {
                (ins, val) for (ins, _, val), voters in votes.items() if len(voters) >= quorum
            }
            for decided, sent, decision in (
                (all((rm, PREPARED) in chosen for rm in self._rm_range), commit, "Commit"),
                (any((rm, ABORTED) in chosen for rm in self._rm_range), abort, "Abort"),
            ):
                if not decided:
                    continue
                if sent:
                    add((("Decide", decision), state))
                else:
                    message = _COMMIT_MSG if decision == "Commit" else _ABORT_MSG
                    send(("Decide", decision), rm_state, a_state, message)
        for m in phase1a:
            _, ins, bal = m
            row = a_state[ins]
            for acc in self._acc_range:
                mbal, abal, aval = row[acc]
                if mbal < bal:
                    after = _set_acceptor(a_state, ins, acc, (bal, abal, aval))
                    message = (_PHASE1B, ins, bal, abal, aval, acc)
                    send(("Phase1b", acc, m), rm_state, after, message)
        for m in phase2a:
            _, ins, bal, val = m
            row = a_state[ins]
            voted = (bal, bal, val)
            for acc in self._acc_range:
                if row[acc][0] <= bal:
                    message = (_PHASE2B, ins, bal, val, acc)
                    if row[acc] == voted and message in msgs:
                        add((("Phase2b", acc, m), state))
                    else:
                        after = _set_acceptor(a_state, ins, acc, voted)
                        send(("Phase2b", acc, m), rm_state, after, message)
        return out


def example_models() -> dict[str, type[Model]]:
    """The bundled example classes by name, for a CLI: each takes its size as the first
    constructor argument."""
    return {
        "counter-grid": CounterGrid,
        "two-phase": TwoPhase,
        "paxos-commit": PaxosCommit,
    }
