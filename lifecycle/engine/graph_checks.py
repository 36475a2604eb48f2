"""The graph-based properties, checked on the reachable graph after a complete search.

`always_recoverable`, `eventually` and `leads_to` cannot be decided state by state: a
verdict depends on where a state can go. So every strategy (serial, parallel, Ray)
stores the reachable graph the same way (integer ids in BFS order, an `Adjacency`,
per-state marks), and these checks read only that, never the store or the workers.
Their own module so that the search's modules hold the search, and so that a new
graph-based property has one place to go. `GraphChecks` reads the stored graph, and
the search's `replay` (the model run again along a path) to rebuild a lasso's states.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from lifecycle.engine.adjacency import Adjacency, Rows
from lifecycle.engine.liveness import Fairness, Graph, Lasso, LassoRecheckFailed, find_lasso
from lifecycle.engine.model import action_name
from lifecycle.engine.properties import Kind, Property, waiting_keys
from lifecycle.engine.trace import Trace

#: The key of a `leads_to` goal that holds for every key (its `q` returned True).
_ALL = ("all keys",)

#: A path through the store (store keys, from an initial state) replayed on the model,
#: each step taking the wanted action when one is given: its states and actions.
Replay = Callable[[list[Hashable], tuple[Any, ...] | None], tuple[list[Any], list[Any]]]


class GraphChecks:
    """The graph checks on what a search stored: `keys` (id -> store key),
    `parent_ids` (-1 for an initial state), `adjacency` (every expanded state's
    edges), `outside` (the ids outside the boundary, not expanded) and `waiting`
    (the marks, ``(index, key) -> ids``, see `_Search._marks`). `keep_actions` says
    whether the edges' actions were kept; `replay` rebuilds a lasso's states.

    The findings go into the dictionaries the caller passes, as they are found, so
    that a check interrupted half-way leaves what it found before."""

    def __init__(
        self,
        keys: list[Hashable],
        parent_ids: array[int],
        adjacency: Adjacency,
        outside: set[int],
        waiting: dict[tuple[int, Hashable], list[int]],
        *,
        keep_actions: bool,
        replay: Replay,
    ) -> None:
        self.keys = keys
        self.parent_ids = parent_ids
        self.adjacency = adjacency
        self.outside = outside
        self.waiting = waiting
        self.keep_actions = keep_actions
        self.replay = replay

    def _allowed(self, without: Callable[[Any], bool] | frozenset[str] | None) -> Any:
        """State id -> the successor ids that count as a way out: every edge, or the
        edges whose action `without` does not accept (a predicate, or a set of action
        names). Computed per state on demand: the search below visits few states."""
        adjacency = self.adjacency
        if without is None:
            return adjacency.successors
        assert self.keep_actions, "a filtered recoverable property keeps actions"
        excluded: Callable[[Any], bool]
        if isinstance(without, frozenset):
            names = without

            def excluded(action: Any) -> bool:
                return action_name(action) in names

        else:
            excluded = without

        def allowed(i: int) -> list[int]:
            return [
                t
                for t, a in zip(adjacency.successors(i), adjacency.actions_of(i), strict=True)
                if not excluded(a)
            ]

        return allowed

    def _first_stuck(self, ids: list[int], out: Any) -> int | None:
        """The smallest id in `ids` (the states waiting on one key, in id order) from
        which no state outside `ids` can be reached over `out`'s edges, or None.

        A forward search from each waiting state, with memory: a state from which an
        escape was found escapes, and when a search exhausts the states it can reach
        without finding one, all of them are stuck (they are closed under `out` and all
        wait). A waiting state usually stops waiting within a few steps, so this visits
        far fewer edges than a backward search from every escaping state would. States
        outside the boundary were not expanded: they count as escapes, so a bound
        never raises a false alarm.
        """
        waiting = set(ids)
        outside = self.outside
        known = bytearray(len(self.keys))  # 0 unknown, 1 escapes, 2 stuck
        for w in ids:
            if known[w] == 1 or w in outside:
                continue
            if known[w] == 2:
                return w
            seen = {w}
            stack = [(w, iter(out(w)))]
            found = False
            while stack and not found:
                _s, successors = stack[-1]
                for t in successors:
                    if known[t] == 1 or t not in waiting or t in outside:
                        found = True
                        break
                    if known[t] == 2 or t in seen:
                        continue
                    seen.add(t)
                    stack.append((t, iter(out(t))))
                    break
                else:
                    stack.pop()
            if found:
                for s, _rest in stack:
                    known[s] = 1
            else:
                for s in seen:
                    known[s] = 2
                return w
        return None

    def check_recoverable(
        self, recoverable: list[Property], violations: dict[str, tuple[Kind, Hashable]]
    ) -> None:
        """AG(k waits -> EF k does not wait), for each property and key, on the graph
        (`_first_stuck`). Ids are in BFS order: the smallest stuck id is a shallowest
        one, which gives a shortest counterexample."""
        for index, prop in enumerate(recoverable):
            out = self._allowed(prop.without)
            stuck: int | None = None
            for (pindex, _key), ids in self.waiting.items():
                if pindex != index:
                    continue
                first = self._first_stuck(ids, out)
                if first is not None and (stuck is None or first < stuck):
                    stuck = first
            if stuck is not None:
                violations[prop.name] = (Kind.RECOVERABLE, self.keys[stuck])

    def check_liveness(
        self,
        liveness: list[Property],
        base: int,
        fairness: list[Fairness],
        lassos: dict[str, Trace],
        unknown: dict[str, str],
    ) -> None:
        """`eventually` and `leads_to` on the graph (`liveness.find_lasso`): a fair
        lasso that keeps the goal false is a violation; none, when the goal-free part
        reaches a state outside the boundary, leaves the verdict unknown. `base` is the
        mark index of the first liveness property (the recoverable ones come first)."""
        n = len(self.keys)
        graph = Graph(
            Rows(self.adjacency, n, "successors"),
            Rows(self.adjacency, n, "actions"),
            (i for i in range(n) if self.parent_ids[i] < 0),
            self.outside,
            self.waiting.get((-1, "terminal"), ()),
        )
        for j, prop in enumerate(liveness):
            marks: dict[Any, list[int]] = {
                key: ids for (index, key), ids in self.waiting.items() if index == base + j
            }
            # One check per key (eventually has one, the whole state), the shortest
            # lasso of them all reported.
            checks: list[tuple[Hashable, Any, Any]] = []
            if prop.goal is None:
                checks.append((None, _flags(n, marks.get("goal", ())), None))
            else:
                every = marks.get(("goal", _ALL), ())
                for mark, ids in marks.items():
                    if mark[0] == "trigger":
                        goal = _flags(n, every)
                        for i in marks.get(("goal", mark[1]), ()):
                            goal[i] = 1
                        checks.append((mark[1], goal, _flags(n, ids)))
            best: tuple[Lasso, Hashable] | None = None
            exact = True
            for key, goal, trigger in checks:
                lasso, known = find_lasso(
                    graph,
                    goal=goal.__getitem__,
                    trigger=None if trigger is None else trigger.__getitem__,
                    fairness=fairness,
                )
                exact = exact and known
                if lasso is not None and (best is None or len(lasso.path) < len(best[0].path)):
                    best = (lasso, key)
            if best is not None:
                lassos[prop.name] = self._lasso_trace(best[0], prop, best[1])
            elif not exact:
                unknown[prop.name] = (
                    "the states where its goal is false reach the boundary "
                    "(within_boundary), and what lies beyond was not explored"
                )

    def _lasso_trace(self, lasso: Lasso, prop: Property, key: Hashable = None) -> Trace:
        """The lasso's states, replayed from an initial state along its recorded
        actions (the store may hold fingerprints or representatives), and checked
        once more on the states themselves."""
        states, _ = self.replay([self.keys[i] for i in lasso.path], lasso.actions)
        if any(_reached(prop, key, s) for s in states[lasso.trigger :]):
            raise LassoRecheckFailed(
                f"internal error: the lasso of {prop.name!r}, replayed, reaches its goal"
            )
        return Trace(tuple(states), tuple(lasso.actions), lasso.cycle_start)


def _flags(n: int, ids: Iterable[int]) -> bytearray:
    flags = bytearray(n)
    for i in ids:
        flags[i] = 1
    return flags


def _reached(prop: Property, key: Hashable, state: Any) -> bool:
    """Whether the goal of `prop` (for `key`, a `leads_to`'s) holds in `state`."""
    if prop.goal is None:
        return bool(prop.predicate(state))
    reached = prop.goal(state)
    return reached is True or (reached is not False and key in set(waiting_keys(reached)))
