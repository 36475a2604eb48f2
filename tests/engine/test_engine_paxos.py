"""PaxosCommit, the protocol the engine issue measures TLC on.

Its full configuration (1,321,761 states, TLC's count) takes about a minute, so it
lives in the benchmark (`benchmarks/bench_engine.py`, which checks the count). Here:
the one-RM configuration against the figures a published TLC audit gives, the fast path
against the protocol path state by state, and a broken leader that the check catches.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from lifecycle.engine import Kind, Status, check
from lifecycle.engine.export import to_networkx
from lifecycle.examples import (
    ABORTED,
    COMMITTED,
    FastPaxosCommit,
    PaxosCommit,
    PaxosCommitState,
)


@pytest.mark.parametrize("store", ["exact", "fingerprint"])
@pytest.mark.parametrize("cls", [PaxosCommit, FastPaxosCommit])
def test_one_rm_configuration_matches_tlc(cls: type[PaxosCommit], store: str) -> None:
    # RM = {r1}, three acceptors, ballots {0, 1}: TLC reports 1,461 distinct states and
    # 5,136 distinct (state, next state) edges for PaxosCommit.tla in this configuration.
    result = check(cls(1), store=store)
    assert result.ok and result.complete
    assert result.distinct_states == 1461
    assert result.status("consistent") is Status.HOLDS
    assert len(result.witnesses["committed"]) > 0 and len(result.witnesses["aborted"]) > 0
    assert result.coverage.never_enabled == ()


def test_one_rm_configuration_has_tlcs_edges() -> None:
    graph = to_networkx(PaxosCommit(1))
    assert graph.number_of_nodes() == 1461
    assert len({(u, v) for u, v, *_ in graph.edges}) == 5136


def _successor_multisets(model: Any, state: PaxosCommitState) -> Counter[Any]:
    if hasattr(model, "successors"):
        return Counter(model.successors(state))
    return Counter(
        (a, n) for a in model.actions(state) if (n := model.next_state(state, a)) is not None
    )


@pytest.mark.parametrize(
    ("rms", "acceptors", "ballots"), [(1, 3, 2), (2, 1, 2), (2, 2, 2), (1, 2, 3), (1, 1, 4)]
)
def test_fast_path_gives_the_protocol_paths_successors(
    rms: int, acceptors: int, ballots: int
) -> None:
    # On every reachable state, the same (action, next state) pairs, duplicates included.
    slow = PaxosCommit(rms, acceptors, ballots)
    fast = FastPaxosCommit(rms, acceptors, ballots)
    result = check(slow, keep_graph=True)
    assert result.graph is not None
    states = result.graph.states
    assert len(states) == result.distinct_states > 500
    for state in states:
        assert _successor_multisets(fast, state) == _successor_multisets(slow, state), state
    fast_result = check(fast)
    assert fast_result.distinct_states == result.distinct_states
    assert fast_result.generated_states == result.generated_states
    assert fast_result.depth == result.depth


class ForgetfulLeader(PaxosCommit):
    """A broken leader: in ballot 1 it proposes "aborted" whatever the phase 1b
    messages report, so it can overturn a "prepared" already chosen in ballot 0."""

    def next_state(self, state: PaxosCommitState, action: tuple[Any, ...]) -> Any:
        nxt = super().next_state(state, action)
        if nxt is not None and action[0] == "Phase2a":
            (sent,) = nxt.msgs - state.msgs
            nxt = nxt._replace(msgs=state.msgs | {(*sent[:3], ABORTED)})
        return nxt


def test_forgetful_leader_breaks_consistency_with_a_shortest_trace() -> None:
    # One acceptor keeps the state space small (the three-acceptor violation needs
    # 570k states before the search reaches it).
    result = check(ForgetfulLeader(2, acceptors=1))
    violation = result.violation("consistent")
    assert violation is not None and violation.kind is Kind.ALWAYS
    last = violation.trace.states[-1]
    assert COMMITTED in last.rm_state and ABORTED in last.rm_state
    # Every earlier state is consistent, each step replays, and the trace is a shortest
    # one: no state at a smaller distance violates the invariant.
    model = ForgetfulLeader(2, acceptors=1)
    for before, action, after in violation.trace.steps():
        assert model.next_state(before, action) == after
        assert not (COMMITTED in before.rm_state and ABORTED in before.rm_state)
    names = [a[0] for a in violation.trace.actions]
    assert "Phase2a" in names and names.count("Decide") == 2
    assert len(violation.trace.states) == _shortest_violation_length(model) == 13
    # The sound protocol never does this.
    assert check(PaxosCommit(2, acceptors=1)).ok


def _shortest_violation_length(model: PaxosCommit) -> int:
    """States on a shortest path to an inconsistent state, by a plain BFS."""
    frontier = list(model.init_states())
    seen = set(frontier)
    length = 1
    while frontier:
        for state in frontier:
            if COMMITTED in state.rm_state and ABORTED in state.rm_state:
                return length
        nxt_level = []
        for state in frontier:
            for action in model.actions(state):
                nxt = model.next_state(state, action)
                if nxt is not None and nxt not in seen:
                    seen.add(nxt)
                    nxt_level.append(nxt)
        frontier = nxt_level
        length += 1
    raise AssertionError("no inconsistent state is reachable")
