"""The result builder: a search's findings, turned into its `CheckResult`.

Every strategy (serial, parallel, Ray) ends with the same findings, as store keys:
violations, witnesses, lassos, counts, coverage logs and, when asked for, the
reachable graph. This module alone turns them into verdicts, traces and a report, so
that every strategy answers alike (Stateright's checker builder shares its report
the same way). It reads the findings through `Findings`, and rebuilds each trace with
the search's own `_trace_to` (the parallel search asks its workers for the chain).
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Hashable
from typing import Any, Protocol

from lifecycle.engine.adjacency import Adjacency, Rows
from lifecycle.engine.liveness import Fairness
from lifecycle.engine.model import ModelProtocol, action_name
from lifecycle.engine.properties import DEADLOCK, Kind, Property
from lifecycle.engine.result import (
    ActionCoverage,
    CheckResult,
    Coverage,
    PropertyResult,
    ReachableGraph,
    Status,
    Violation,
    explain_violation,
    not_applicable,
)
from lifecycle.engine.trace import Trace


class Findings(Protocol):
    """What the result builder reads of a search (`_Search` has all of it)."""

    model: ModelProtocol
    properties: list[Property]
    sometimes: list[Property]
    recoverable: list[Property]
    liveness: list[Property]
    fairness: list[Fairness]
    rep: Callable[[Any], Any] | None
    deadlock: bool
    fingerprint: bool
    keep_graph: bool
    # Findings, as store keys.
    violations: dict[str, tuple[Kind, Hashable]]
    witnesses: dict[str, Hashable]
    lassos: dict[str, Trace]
    liveness_unknown: dict[str, str]
    # Counters.
    distinct: int
    generated: int
    depth: int
    queue: int
    graph_seconds: float
    enabled_counts: Counter[Any]
    new_counts: Counter[Any]
    candidates: set[Any]
    # The reachable graph (graph mode).
    keys: list[Hashable]
    adjacency: Adjacency
    parent_ids: array[int]

    def _trace_to(self, key: Hashable) -> Trace: ...


def build_result(
    search: Findings, complete: bool, stop_reason: str | None, elapsed: float
) -> CheckResult:
    """The search's result: `complete` when no bound, limit or interrupt cut it."""
    violations: list[Violation] = []
    by_name = {p.name: p for p in search.properties}

    def found(prop: Property | None, name: str, kind: Kind, trace: Trace) -> None:
        why = explain_violation(prop, kind, trace)
        violations.append(Violation(name, kind, trace, why))

    for name, (kind, key) in search.violations.items():
        trace = search._trace_to(key)
        named = by_name.get(name)
        if (
            search.rep is not None
            and kind is Kind.ALWAYS
            and named is not None
            and named.predicate(trace.states[-1])
        ):
            # A reduced search's counterexample must fail in the unreduced model too.
            raise RuntimeError(
                f"symmetry: the counterexample of {name!r}, rebuilt without the "
                "representative, does not violate it: the representative or the "
                "property's symmetry is wrong"
            )
        found(named, name, kind, trace)
    for prop in search.liveness:
        if prop.name in search.lassos:
            found(prop, prop.name, prop.kind, search.lassos[prop.name])
    if complete:
        for prop in search.sometimes:
            if prop.name not in search.witnesses:
                found(prop, prop.name, Kind.SOMETIMES, Trace((), ()))
    violated = {v.property for v in violations}
    results = []
    listed = list(search.properties)
    for prop in listed:
        if prop.name in violated:
            status = Status.VIOLATED
        elif prop.kind is Kind.SOMETIMES and prop.name in search.witnesses:
            status = Status.HOLDS  # a witness is final, complete or not
        elif prop.name in search.liveness_unknown:
            status = Status.UNKNOWN
        else:
            status = Status.HOLDS if complete else Status.UNKNOWN
        results.append(PropertyResult(prop.name, prop.kind, status, prop.description))
    if search.deadlock:
        status = (
            Status.VIOLATED
            if DEADLOCK in violated
            else (Status.HOLDS if complete else Status.UNKNOWN)
        )
        results.append(
            PropertyResult(
                DEADLOCK, Kind.DEADLOCK, status, "every non-terminal state has a successor"
            )
        )
    results += not_applicable(search.model)
    order = {p.name: i for i, p in enumerate(results)}
    violations.sort(key=lambda v: order.get(v.property, 0))
    probability = None
    if search.fingerprint:
        # TLC's optimistic estimate: n * (g - n) / 2^64.
        n, g = search.distinct, search.generated
        probability = n * max(g - n, 0) / float(1 << 64)
    extra: dict[str, Any] = {}
    if search.recoverable or search.liveness:
        extra["graph_checks_s"] = round(search.graph_seconds, 3)
    if search.liveness:
        extra["fairness"] = [f.describe() for f in search.fairness] or [
            "none declared: every behaviour may stutter for ever"
        ]
        if search.liveness_unknown:
            extra["liveness_unknown"] = dict(search.liveness_unknown)
    graph = None
    if search.keep_graph:
        n = len(search.keys)
        graph = ReachableGraph(
            search.keys,
            Rows(search.adjacency, n, "successors"),
            Rows(search.adjacency, n, "actions"),
            search.parent_ids,
        )
    witnesses = {name: search._trace_to(key) for name, key in search.witnesses.items()}
    return CheckResult(
        ok=complete and not violations and not search.liveness_unknown,
        complete=complete,
        distinct_states=search.distinct,
        generated_states=search.generated,
        depth=search.depth,
        elapsed=elapsed,
        violations=violations,
        properties=results,
        coverage=coverage(search),
        store="fingerprint" if search.fingerprint else "exact",
        stop_reason=stop_reason,
        collision_probability=probability,
        queue=search.queue,
        witnesses=witnesses,
        extra=extra,
        graph=graph,
    )


def coverage(search: Findings) -> Coverage:
    """Per action name: how often it was enabled and found a new state; and the
    candidate (or declared, `action_names()`) actions never enabled."""
    enabled: Counter[str] = Counter()
    new: Counter[str] = Counter()
    for action, count in search.enabled_counts.items():
        enabled[action_name(action)] += count
    for action, count in search.new_counts.items():
        new[action_name(action)] += count
    known = {action_name(a) for a in search.candidates}
    names_fn = getattr(search.model, "action_names", None)
    if callable(names_fn):
        known.update(names_fn())
    never = tuple(sorted(known - set(enabled)))
    table = {name: ActionCoverage(name, enabled[name], new[name]) for name in enabled}
    return Coverage(table, never)
