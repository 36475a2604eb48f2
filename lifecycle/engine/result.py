"""What a check returns, and the errors a broken model raises.

Honest verdicts: a property is reported as holding only after a complete search. A
search stopped by a bound, the time limit or Ctrl-C reports it as unknown.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from lifecycle.engine.model import format_action
from lifecycle.engine.properties import Kind, waiting_keys
from lifecycle.engine.trace import Trace


class Status(StrEnum):
    HOLDS = "holds"
    VIOLATED = "violated"
    UNKNOWN = "unknown"
    #: The model says the property means nothing at this scope (`not_applicable()`):
    #: it is not checked, and never reported as holding.
    NOT_APPLICABLE = "not applicable"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Violation:
    """A property that fails, with a shortest trace that shows it.

    For a `sometimes` property the trace is empty: the violation is the absence of
    any witness in the whole (complete) state space.
    """

    property: str
    kind: Kind
    trace: Trace
    #: Why the trace breaks the property (`Property.explain`, or the engine's wording).
    explanation: str | None = None

    def __str__(self) -> str:
        return f"{self.kind} property {self.property!r} violated in {len(self.trace)} steps"


def explain_violation(prop: Any, kind: Kind, trace: Trace) -> str | None:
    """The explanation of a counterexample: the property's own `explain(trace)` when it
    has one, else the engine's wording for the kind. A failing `explain` is reported in
    the text, never in place of the verdict."""
    explain = getattr(prop, "explain", None)
    if explain is not None and trace.states:
        try:
            return str(explain(trace))
        except Exception as exc:
            return f"(the property's explanation raised {type(exc).__name__}: {exc})"
    return default_explanation(prop, kind, trace)


def default_explanation(prop: Any, kind: Kind, trace: Trace) -> str | None:
    """What the engine can say of a counterexample without the model's words."""
    if kind is Kind.DEADLOCK:
        return "no action is enabled in the last state, and the model does not call it terminal"
    if kind is Kind.SOMETIMES:
        return "no reachable state satisfies it"
    if kind is Kind.RECOVERABLE and prop is not None and trace.states:
        keys = list(waiting_keys(prop.predicate(trace.states[-1])))
        return (
            f"waiting on {', '.join(map(repr, keys))} in the last state, and no state "
            "reachable from it stops the wait"
        )
    if trace.is_lasso:
        return f"the goal never holds on a fair behaviour that {trace.loop_text()}"
    return None


@dataclass(frozen=True)
class ActionCoverage:
    """How often an action (by name) was enabled, and how often it led to a new state."""

    name: str
    enabled: int
    new_states: int


@dataclass(frozen=True)
class Coverage:
    actions: dict[str, ActionCoverage]
    never_enabled: tuple[str, ...]

    def table(self) -> str:
        rows = [f"{'action':32} {'enabled':>10} {'new states':>10}"]
        for name in sorted(self.actions):
            c = self.actions[name]
            rows.append(f"{name:32} {c.enabled:>10} {c.new_states:>10}")
        for name in self.never_enabled:
            rows.append(f"{name:32} {0:>10} {0:>10}   <- never enabled")
        return "\n".join(rows)


@dataclass(frozen=True)
class PropertyResult:
    name: str
    kind: Kind
    status: Status
    description: str = ""
    #: Why the property is not applicable (`Status.NOT_APPLICABLE`), else "".
    reason: str = ""


def not_applicable(model: Any) -> list[PropertyResult]:
    """The results of the properties the model's optional `not_applicable()` leaves
    out, as (property, reason) pairs: properties that mean nothing at its scope (an
    Azure AD property with no Azure AD device). `properties()` must not list them."""
    method = getattr(model, "not_applicable", None)
    if not callable(method):
        return []
    return [
        PropertyResult(p.name, p.kind, Status.NOT_APPLICABLE, p.description, str(reason))
        for p, reason in method()
    ]


@dataclass(frozen=True)
class ReachableGraph:
    """The reachable graph a search kept (`check(..., keep_graph=True)`).

    State ids are BFS positions: id `i` is `states[i]` (the state itself, or its
    fingerprint with the fingerprint store), a smaller id is never deeper, and
    `parents[i]` is the id that first reached it (-1 for an initial state), so the
    chain of parents is a shortest path. `successors[i]` lists the targets of `i`'s
    edges in the model's order, duplicates and self-loops included, and `actions[i]`
    their actions, index for index."""

    states: list[Any]
    successors: Sequence[list[int]]
    actions: Sequence[list[Any]]
    parents: Any

    def __len__(self) -> int:
        return len(self.states)

    def edges(self) -> Iterator[tuple[int, Any, int]]:
        """Every edge as (source id, action, target id)."""
        for source, (targets, actions) in enumerate(
            zip(self.successors, self.actions, strict=True)
        ):
            for target, action in zip(targets, actions, strict=True):
                yield source, action, target

    def path_to(self, ident: int) -> list[int]:
        """The ids of a shortest path from an initial state to `ident`."""
        chain = [ident]
        while self.parents[chain[-1]] >= 0:
            chain.append(self.parents[chain[-1]])
        chain.reverse()
        return chain


@dataclass
class CheckResult:
    """The outcome of `check()`.

    `ok` is True only when the search was complete and nothing is violated.
    `generated_states` counts the initial states plus every successor computed,
    duplicates included (TLC's "states generated"); `depth` is TLC's depth: the
    number of states on the longest shortest path, so initial states alone give 1.
    """

    ok: bool
    complete: bool
    distinct_states: int
    generated_states: int
    depth: int
    elapsed: float
    violations: list[Violation]
    properties: list[PropertyResult]
    coverage: Coverage
    store: str = "exact"
    stop_reason: str | None = None
    collision_probability: float | None = None
    queue: int = 0
    witnesses: dict[str, Trace] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    graph: ReachableGraph | None = None

    def status(self, name: str) -> Status:
        for p in self.properties:
            if p.name == name:
                return p.status
        raise KeyError(f"no property named {name!r}")

    def violation(self, name: str) -> Violation | None:
        for v in self.violations:
            if v.property == name:
                return v
        return None

    @property
    def states_per_second(self) -> float:
        return self.distinct_states / self.elapsed if self.elapsed > 0 else 0.0

    def summary(self) -> str:
        verdict = "OK" if self.ok else ("VIOLATED" if self.violations else "INCOMPLETE")
        lines = [
            f"{verdict}: {self.distinct_states} distinct states, "
            f"{self.generated_states} generated, depth {self.depth}, "
            f"{self.elapsed:.2f}s ({'complete' if self.complete else 'incomplete'})"
        ]
        if self.stop_reason:
            lines.append(f"search stopped early: {self.stop_reason}")
        if self.collision_probability is not None:
            lines.append(
                f"fingerprint collision probability (optimistic): {self.collision_probability:.1e}"
            )
        for p in self.properties:
            lines.append(f"  {p.status.value:9} {p.kind.value:11} {p.name}")
        return "\n".join(lines)


class ModelError(Exception):
    """The model itself failed: it raised, returned an unhashable state, or a predicate
    raised. Carries the state, the action and the trace that leads to the state, so the
    author can reproduce the failure."""

    def __init__(
        self,
        message: str,
        *,
        state: Any = None,
        action: Any = None,
        trace: Trace | None = None,
        cause: BaseException | None = None,
    ) -> None:
        self.state = state
        self.action = action
        self.trace = trace
        self.cause = cause
        self.message = message
        super().__init__(self._text())

    def _text(self) -> str:
        parts = [self.message]
        if self.cause is not None:
            parts[0] += f": {type(self.cause).__name__}: {self.cause}"
        parts.append(f"  in state: {self.state!r}")
        if self.action is not None:
            parts.append(f"  action: {format_action(self.action)}")
        if self.trace is not None and self.trace.states:
            parts.append(f"  trace to that state ({len(self.trace)} steps):")
            parts.extend("    " + line for line in self.trace.render().splitlines())
        return "\n".join(parts)
