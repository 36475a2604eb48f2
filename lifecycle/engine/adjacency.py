"""The reachable graph's edges, in compressed sparse rows.

The graph checks (`always_recoverable`, liveness) and `keep_graph` read every state's
successor ids and their actions. One array and one list per state cost about 260
bytes per state on a two-edge model, more than the rest of the graph mode. The search
expands states in id order, so each state's edges are appended as one run to flat
arrays, and a row is closed when its state is done: a state costs one offset, an edge
8 bytes of target and one pointer to its action. Actions are interned by value:
models build a fresh action object per state, and the graph keeps one of each alive.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from typing import Any


class Adjacency:
    """Successor ids and actions by state id. Rows are appended in id order: edges go
    to the open row, `close` ends it. `starts[i]:starts[i + 1]` is row i's slice of
    `targets` and `actions`."""

    __slots__ = ("actions", "index", "starts", "targets")

    def __init__(self) -> None:
        self.starts = array("q", [0])
        self.targets = array("q")
        #: Per edge, its action: the first object equal to it (`intern`).
        self.actions: list[Any] = []
        self.index: dict[Any, Any] = {}

    def intern(self, action: Any) -> Any:
        """The first action seen equal to `action` (an unhashable one is kept as it
        is)."""
        try:
            return self.index.setdefault(action, action)
        except TypeError:
            return action

    def close(self) -> None:
        self.starts.append(len(self.targets))

    def add_row(self, targets: Sequence[int], actions: Sequence[Any] | None) -> None:
        """One whole row (`actions` None when the graph keeps none)."""
        self.targets.extend(targets)
        if actions is not None:
            self.actions.extend(self.intern(a) for a in actions)
        self.close()

    def pad(self, n: int) -> None:
        """Close the open row and give every state up to `n` a row: states a stopped
        search never expanded have no edges."""
        if len(self.starts) <= n and self.starts[-1] != len(self.targets):
            self.close()
        end = self.starts[-1]
        while len(self.starts) <= n:
            self.starts.append(end)

    def successors(self, i: int) -> list[int]:
        starts = self.starts
        return self.targets[starts[i] : starts[i + 1]].tolist()

    def actions_of(self, i: int) -> list[Any]:
        starts = self.starts
        return self.actions[starts[i] : starts[i + 1]]


class Rows(Sequence[Any]):
    """The rows of the first `n` states of an `Adjacency` (padded to `n`), as a
    read-only sequence: the successor ids (`kind="successors"`) or the actions
    (`kind="actions"`) of each state, each a new list. Indexing is by id, 0 to n - 1:
    it is the graph checks' inner loop, so it takes no negative or slice index."""

    __slots__ = ("_flat", "_n", "_starts", "_successors")

    def __init__(self, adjacency: Adjacency, n: int, kind: str) -> None:
        adjacency.pad(n)
        self._starts = adjacency.starts
        self._successors = kind == "successors"
        self._flat: Any = adjacency.targets if self._successors else adjacency.actions
        self._n = n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: Any) -> Any:
        if not 0 <= i < self._n:
            raise IndexError("row index out of range")
        starts = self._starts
        row = self._flat[starts[i] : starts[i + 1]]
        return row.tolist() if self._successors else row

    def __iter__(self) -> Iterator[list[Any]]:
        return (self[i] for i in range(self._n))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(
            list(a) == list(b) for a, b in zip(self, other, strict=True)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Rows({list(self)!r})"
