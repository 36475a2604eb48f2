"""The compressed edge store behind the graph mode: rows read back as written, a
stopped search's open and missing rows read as what they hold, and equal actions
share one object (the memory the flat rows save would otherwise go to copies)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lifecycle.engine import Model, check
from lifecycle.engine.adjacency import Adjacency, Rows

rows_strategy = st.lists(
    st.lists(st.tuples(st.integers(0, 50), st.sampled_from(["A", "B", ("C", 1)])), max_size=5),
    max_size=20,
)


@given(rows_strategy)
def test_rows_read_back_as_written(rows: list[list[tuple[int, object]]]) -> None:
    adjacency = Adjacency()
    for row in rows:
        adjacency.add_row([t for t, _a in row], [a for _t, a in row])
    n = len(rows)
    successors = Rows(adjacency, n, "successors")
    actions = Rows(adjacency, n, "actions")
    assert len(successors) == n
    assert [list(r) for r in successors] == [[t for t, _a in row] for row in rows]
    assert actions == [[a for _t, a in row] for row in rows]
    with pytest.raises(IndexError):
        successors[n]


def test_equal_actions_share_one_object_and_unhashable_ones_are_kept() -> None:
    adjacency = Adjacency()
    first, second = tuple(["Send", 1]), tuple(["Send", 1])
    assert first is not second
    adjacency.add_row([1, 2], [first, second])
    unhashable = ["Send", 2]
    adjacency.add_row([0], [unhashable])
    actions = Rows(adjacency, 2, "actions")
    assert actions[0][0] is first and actions[0][1] is first
    assert actions[1][0] is unhashable


def test_an_open_row_and_missing_rows_are_padded() -> None:
    adjacency = Adjacency()
    adjacency.add_row([1], ["A"])
    adjacency.targets.append(2)  # a row a bound cut: open, never closed
    adjacency.actions.append("B")
    successors = Rows(adjacency, 4, "successors")
    assert list(successors) == [[1], [2], [], []]
    assert list(Rows(adjacency, 4, "actions")) == [["A"], ["B"], [], []]


class _Ring(Model):
    """0 -> 1 -> ... -> 9 -> 0, plus a self-loop on 5, with a fresh action object
    per edge."""

    def init_states(self) -> list[int]:
        return [0]

    def actions(self, state: int) -> list[tuple[Any, ...]]:
        return [tuple(["Step", 1])] + ([tuple(["Stay", 0])] if state == 5 else [])

    def next_state(self, state: int, action: tuple[Any, ...]) -> int:
        return (state + action[1]) % 10


def test_the_search_keeps_each_state_s_edges_in_model_order() -> None:
    graph = check(_Ring(), keep_graph=True).graph
    assert graph is not None
    by_state = {s: i for i, s in enumerate(graph.states)}
    for i, state in enumerate(graph.states):
        expected = [by_state[(state + 1) % 10]] + ([i] if state == 5 else [])
        assert graph.successors[i] == expected
        assert [a[0] for a in graph.actions[i]] == ["Step"] + (["Stay"] if state == 5 else [])
    steps = {id(a) for row in graph.actions for a in row if a[0] == "Step"}
    assert len(steps) == 1  # interned: one object for ten equal actions
