"""Properties as data, in the style of Stateright: `always`, `sometimes`, `eventually`,
`leads_to`, plus `always_recoverable`, a branching-time check computed on the reachable
graph.

Predicates take the state and return a bool. They are data so that the checker, the
Hypothesis adapter and the reports can all read the same list.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

#: The name under which the deadlock check is reported: no property may take it.
DEADLOCK = "deadlock"


class Kind(StrEnum):
    ALWAYS = "always"
    SOMETIMES = "sometimes"
    EVENTUALLY = "eventually"
    LEADS_TO = "leads_to"
    RECOVERABLE = "recoverable"
    DEADLOCK = "deadlock"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Property:
    """A named property of a model.

    Build one with the constructors, not directly:

    - `Property.always(name, p)`: `p` holds in every reachable state (an invariant).
    - `Property.sometimes(name, p)`: some reachable state satisfies `p`. After a
      complete search, no witness is a violation, which catches vacuous models.
    - `Property.always_recoverable(name, waiting)`: for every reachable state `s` and
      every key `k` in `waiting(s)`, some state reachable from `s` has `k` not in
      `waiting`. In CTL, AG(k waits -> EF not k waits) for each key. It catches one
      party stuck forever while others (a timer, a user) can still move, which the
      global deadlock check cannot see. `waiting` returns an iterable of hashable keys
      (the parties that wait); a bool is accepted for a single party. With
      ``without=accepts(action)`` or ``without={"LoseMessage"}`` (action names), the
      way out must not take such an edge (e.g. a message loss): the search then keeps
      each edge's action.
    - `Property.eventually(name, p)`: on every fair behaviour, `p` eventually holds
      (◇p from the initial states).
    - `Property.leads_to(name, p, q)`: whenever `p` holds, `q` holds then or later, on
      every fair behaviour (p ⇝ q, TLA+'s ``p ~> q``). Keyed, as TLA+'s
      ``∀ d : P(d) ~> Q(d)``: `p` may return the keys it holds for (an iterable of
      hashable keys, or a bool for one), and `q` the keys whose goal holds (True: all of
      them); each key is checked on its own, so one device's goal cannot stand in for
      another's.

    The two liveness kinds read the model's optional `fairness()` (a list of
    `Fairness.weak(...)` and `Fairness.strong(...)`); without it no action is fair and a
    behaviour may stutter for ever, as in TLA+. They are checked on the reachable graph
    after a complete search (`lifecycle.engine.liveness`), and a violation's trace is a
    lasso (`Trace.cycle_start`).

    ``symmetric=True`` declares that the predicate gives the same answer on every
    state of a symmetry class (the states a model's `representative` maps to one):
    only then may a search store representatives instead of states. An
    `always_recoverable` property's keys must be symmetric too (name a kind of wait,
    not a party's number).
    """

    name: str
    kind: Kind
    predicate: Callable[[Any], Any]
    description: str = ""
    symmetric: bool = False
    #: For `always_recoverable`: edges whose action this accepts (a predicate on the
    #: action, or a frozenset of action names) do not count as a way out (a lucky
    #: message loss is not recovery). None: every edge counts.
    without: Callable[[Any], bool] | frozenset[str] | None = None
    #: For `leads_to`: the goal `q` (`predicate` is the trigger `p`).
    goal: Callable[[Any], Any] | None = None
    #: Why a counterexample breaks the property, in the model's words and with the
    #: values of its states: called with the counterexample `Trace` (its last state
    #: for an invariant or a stuck wait, its loop for a lasso). None: the engine's
    #: own wording (`lifecycle.engine.result.default_explanation`).
    explain: Callable[[Any], str] | None = None

    @property
    def liveness(self) -> bool:
        return self.kind in (Kind.EVENTUALLY, Kind.LEADS_TO)

    @staticmethod
    def always(
        name: str,
        predicate: Callable[[Any], bool],
        description: str = "",
        *,
        symmetric: bool = False,
        explain: Callable[[Any], str] | None = None,
    ) -> Property:
        return Property(name, Kind.ALWAYS, predicate, description, symmetric, explain=explain)

    @staticmethod
    def sometimes(
        name: str,
        predicate: Callable[[Any], bool],
        description: str = "",
        *,
        symmetric: bool = False,
        explain: Callable[[Any], str] | None = None,
    ) -> Property:
        return Property(name, Kind.SOMETIMES, predicate, description, symmetric, explain=explain)

    @staticmethod
    def always_recoverable(
        name: str,
        waiting: Callable[[Any], Iterable[Hashable] | bool],
        description: str = "",
        *,
        symmetric: bool = False,
        without: Callable[[Any], bool] | Iterable[str] | None = None,
        explain: Callable[[Any], str] | None = None,
    ) -> Property:
        if without is not None and not callable(without):
            without = frozenset(without)
        return Property(
            name, Kind.RECOVERABLE, waiting, description, symmetric, without, explain=explain
        )

    @staticmethod
    def eventually(
        name: str,
        predicate: Callable[[Any], bool],
        description: str = "",
        *,
        symmetric: bool = False,
        explain: Callable[[Any], str] | None = None,
    ) -> Property:
        return Property(name, Kind.EVENTUALLY, predicate, description, symmetric, explain=explain)

    @staticmethod
    def leads_to(
        name: str,
        trigger: Callable[[Any], Iterable[Hashable] | bool],
        goal: Callable[[Any], Iterable[Hashable] | bool],
        description: str = "",
        *,
        symmetric: bool = False,
        explain: Callable[[Any], str] | None = None,
    ) -> Property:
        return Property(
            name, Kind.LEADS_TO, trigger, description, symmetric, goal=goal, explain=explain
        )


def waiting_keys(value: Iterable[Hashable] | bool | None) -> Iterable[Hashable]:
    """Normalise what an `always_recoverable` predicate returns to a set of keys."""
    if value is True:
        return (True,)
    if value is False or value is None:
        return ()
    return value
