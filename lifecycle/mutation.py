"""`lifecycle mutate`: check every mutant of the tables and say which properties kill it.

This answers "which design decision does each property justify": a property that kills
no mutant guards nothing the tables could get wrong, and a mutant no property kills is
either a gap in the properties or a change that makes no difference.

Verdicts, and why each is honest:

- ``killed``: some property holds on the reference and is violated on the mutant. An
  ``always`` or deadlock violation is a real trace even when the mutant's search hit
  its budget; a ``sometimes`` or ``always_recoverable`` property is only reported
  violated by the engine on a complete search.
- ``equivalent``: the mutant's party steps equal the reference's on every party view
  of the reference's reachable states (`same_steps_as`: the same successor relation,
  decided without a search); or no property is violated and the reachable graph equals
  the reference's (same states, same actions, same successors), compared by 64-bit digests;
  or equals it up to self-loops (steps that change nothing: no state predicate and no
  way out of a wait depends on them), or, for a swapped cleanup order, up to the
  order of the cleanup steps (`project_cleanup`); or the mutant changes a row the
  reference never fires (deleting it, or a send of it, removes no edge). Each is
  checked independently by `tests/test_mutation.py`.
- ``survived``: a complete search, no property violated, and a different graph.
- ``unknown``: the search hit the per-mutant budget (states or seconds) before any
  property was violated: neither killed nor survived.
- ``error``: the mutant made a row raise (the model is malformed); reported with the
  message, counted apart.

Mutants are checked in parallel, one serial search per worker process (forked, so the
tables, which hold functions, are never pickled: each worker picks its mutants by
position in the deterministic list).
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from lifecycle.engine import check
from lifecycle.engine.checker import resolve_workers
from lifecycle.engine.fingerprint import fingerprint
from lifecycle.engine.result import ReachableGraph
from lifecycle.mdm import Design, LifecycleModel, Scope, device
from lifecycle.mdm.mutants import OPERATORS, Mutant, mutants
from lifecycle.mdm.tables import REFERENCE
from lifecycle.render.report import describe_scope

STATUSES = ("killed", "survived", "equivalent", "unknown", "error")
#: The per-mutant budget, as multiples of the reference's states, and seconds.
STATE_FACTOR = 4
TIME_LIMIT = 60.0


@dataclass(frozen=True)
class MutantResult:
    """What checking one mutant found."""

    mutant: str
    operator: str
    description: str
    status: str
    killed_by: tuple[str, ...] = ()
    trace_length: int | None = None
    states: int = 0
    seconds: float = 0.0
    reason: str = ""

    @property
    def equivalent(self) -> bool:
        return self.status == "equivalent"

    def as_dict(self) -> dict[str, Any]:
        """The JSON row: the issue's five keys, then the verdict's details."""
        return {
            "mutant": self.mutant,
            "operator": self.operator,
            "killed_by": list(self.killed_by),
            "equivalent": self.equivalent,
            "trace_length": self.trace_length,
            "status": self.status,
            "description": self.description,
            "states": self.states,
            "seconds": round(self.seconds, 3),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Reference:
    """The reference check the mutants are compared with: which properties hold, the
    triggers that fire, and its reachable graph (raw, and as a digest)."""

    design: Design
    scope: Scope
    holds: frozenset[str]
    fired: frozenset[str]
    graph: ReachableGraph
    digest: Digest
    size: tuple[int, int]  # distinct and generated states
    model: Any  # the reference model, its step memos filled by the search

    @property
    def states(self) -> int:
        return self.size[0]

    @functools.cached_property
    def moves(self) -> frozenset[tuple[int, int, int]]:
        """The digest's edges that change the state (no self-loops)."""
        return _moves(self.digest)

    @functools.cached_property
    def steps(self) -> frozenset[tuple[int, int]]:
        """The state-changing edges without their actions (`unlabelled_moves`)."""
        return unlabelled_moves(self.digest)

    @functools.cached_property
    def by_position(self) -> Digest:
        """The graph up to the cleanup order (`project_cleanup`)."""
        return project_cleanup(self.graph, device.CLEANUP_ORDER)


#: A reachable graph as data two searches can compare: the fingerprints of its states
#: and of its (state, action, successor) edges. 64-bit fingerprints: two different
#: graphs of the reference's size share a digest with probability about 1e-8.
Digest = tuple[frozenset[int], frozenset[tuple[int, int, int]]]


def digest(
    graph: ReachableGraph,
    state: Callable[[Any], Any] = lambda s: s,
    action: Callable[[Any], Any] = lambda a: a,
) -> Digest:
    """The graph's digest, after mapping each state and action (a projection)."""
    fps = [fingerprint(state(s)) for s in graph.states]
    # Actions are shared objects (memoised steps): one fingerprint per object. The memo
    # keeps each action alive, so its id is not reused meanwhile.
    memo: dict[int, tuple[int, Any]] = {}
    edges = set()
    for i, (succ, acts) in enumerate(zip(graph.successors, graph.actions, strict=True)):
        src = fps[i]
        for t, a in zip(succ, acts, strict=True):
            known = memo.get(id(a))
            if known is None:
                known = memo[id(a)] = (fingerprint(action(a)), a)
            edges.add((src, known[0], fps[t]))
    return frozenset(fps), frozenset(edges)


def _moves(d: Digest) -> frozenset[tuple[int, int, int]]:
    return frozenset(e for e in d[1] if e[0] != e[2])


def unlabelled_moves(d: Digest) -> frozenset[tuple[int, int]]:
    """A digest's state-changing steps as (state, successor) fingerprint pairs: which
    row takes a step is left out, and so are self-loops."""
    return frozenset((src, dst) for src, _action, dst in d[1] if src != dst)


def reference(design: Design, scope: Scope) -> Reference:
    """Check the unmutated tables; every property must hold, or mutation means nothing."""
    model = LifecycleModel(design, scope, REFERENCE)
    result = check(model, keep_graph=True)
    if not result.complete:
        raise ValueError(f"the reference search is incomplete ({result.stop_reason})")
    broken = [p.name for p in result.properties if p.status == "violated"]
    if broken:
        raise ValueError(f"design {design.name} already violates {', '.join(broken)}")
    fired = frozenset(name for name, c in result.coverage.actions.items() if c.enabled and name)
    assert result.graph is not None
    return Reference(
        design,
        scope,
        frozenset(p.name for p in result.properties if p.status == "holds"),
        fired,
        result.graph,
        digest(result.graph),
        (result.distinct_states, result.generated_states),
        model,
    )


def _cleanup_positions(order: Sequence[str]) -> dict[str, str]:
    """Cleanup phase and trigger -> its position in `order`."""
    names: dict[str, str] = {}
    for k, step in enumerate(order):
        names[f"cleanup_{step}"] = f"cleanup#{k}"
        trigger = device.CLEANUP_STEPS[step].trigger
        names[trigger] = f"cleanup#{k}"
        names[f"{trigger}ThenAAD"] = f"cleanup#{k}+aad"
    return names


def project_cleanup(graph: ReachableGraph, order: Sequence[str]) -> Digest:
    """The graph's digest with each cleanup phase and step named by its position in
    `order` and each device's artifacts by their count: two cleanup orders that no
    other part of the model can tell apart give the same projection."""
    names = _cleanup_positions(order)

    def state(w: Any) -> Any:
        devices = tuple(
            d._replace(phase=names.get(d.phase, d.phase), artifacts=bin(d.artifacts).count("1"))
            for d in w.device
        )
        return w._replace(device=devices)

    def action(a: Any) -> Any:
        return (names.get(a[0], a[0]), *a[1:])

    return digest(graph, state, action)


def _cleanup_order(m: Mutant) -> tuple[str, ...]:
    return tuple(
        p.removeprefix("cleanup_")
        for p in m.tables.device.states
        if p.startswith("cleanup_") and p != "cleanup_aad"
    )


#: Mutants that differ from the reference only in what no party can observe, each with
#: its one-line justification. A justification is taken only when the mutant's search
#: bears it out (it reaches only reference states, and violates nothing), and
#: `tests/test_mutation.py` checks each claim on the graphs independently: every step
#: the mutant adds starts where the device is offline, and from its end the reference
#: times out straight back to that start (a detour no message and no record shows).
#: The other `online` conjuncts are not here: dropping them adds steps that do not
#: come back (a session started offline also clears what the device remembered of the
#: offline period), so they stay survivors.
JUSTIFIED: dict[str, str] = {
    "drop_conjunct:RequestEnrollment:online": (
        "the enrollment request tried while offline fails at once and nothing goes in "
        "flight (F11); the device's timeout then brings it back to where it was, so the "
        "attempt is a detour no message and no record shows"
    ),
}


def _dead_change(m: Mutant, ref: Reference) -> str | None:
    """Why a mutant cannot change the reachable graph, if it cannot: it deletes a row,
    or one of its sends, that never fires in the reference."""
    if m.operator not in ("delete_row", "remove_send"):
        return None
    trigger = m.name.split(":")[1]
    if trigger in ref.fired:
        return None
    return f"{trigger} never fires in the reference at this scope, so the change removes no edge"


def _verdict(m: Mutant, status: str, **details: Any) -> MutantResult:
    return MutantResult(m.name, m.operator, m.description, status, **details)


def _equivalent(m: Mutant, states: int, started: float, reason: str) -> MutantResult:
    return _verdict(
        m, "equivalent", states=states, seconds=time.perf_counter() - started, reason=reason
    )


def check_mutant(
    m: Mutant, ref: Reference, *, max_states: int | None = None, time_limit: float = TIME_LIMIT
) -> MutantResult:
    """Check one mutant against the reference."""
    dead = _dead_change(m, ref)
    if dead is not None:
        return _verdict(m, "equivalent", reason=dead)
    limit = max_states if max_states is not None else STATE_FACTOR * ref.states
    started = time.perf_counter()
    model = LifecycleModel(ref.design, ref.scope, m.tables)
    try:
        same = model.same_steps_as(ref.model)
    except Exception:  # the search below reports the row that raises
        same = False
    if same:
        return _equivalent(
            m,
            ref.states,
            started,
            "every party's steps equal the reference's on every view its search met: the "
            "same successor relation, so the same reachable graph",
        )
    try:
        # The search reuses the steps `same_steps_as` memoised. The graph is kept from
        # the start: a mutant no property kills is compared with the reference's graph,
        # and a second search would cost as much as the first.
        result = check(model, max_states=limit, time_limit=time_limit, keep_graph=True)
    except Exception as exc:  # a mutant may make a row raise (a ModelError, or worse)
        return _verdict(
            m,
            "error",
            seconds=time.perf_counter() - started,
            reason=" ".join(f"{type(exc).__name__}: {exc}".split())[:200],
        )
    seconds = time.perf_counter() - started
    killers = [p.name for p in result.properties if p.status == "violated" and p.name in ref.holds]
    if killers:
        lengths = [len(v.trace) for v in result.violations if v.property in killers and v.trace]
        return _verdict(
            m,
            "killed",
            killed_by=tuple(killers),
            trace_length=min(lengths) if lengths else None,
            states=result.distinct_states,
            seconds=seconds,
            reason="" if result.complete else f"search stopped: {result.stop_reason}",
        )
    if not result.complete:
        return _verdict(
            m,
            "unknown",
            states=result.distinct_states,
            seconds=seconds,
            reason=f"budget exceeded: {result.stop_reason}",
        )
    graph = result.graph
    assert graph is not None
    # Equal graphs have equal counts: compare digests only then (it costs a second).
    same_size = (result.distinct_states, result.generated_states) == ref.size
    mine = digest(graph) if result.distinct_states == ref.states else None
    exact = same_size and mine == ref.digest
    if not exact and mine is not None and mine[0] == ref.digest[0] and _moves(mine) == ref.moves:
        return _equivalent(
            m,
            result.distinct_states,
            started,
            "the reachable graph equals the reference's up to steps that change nothing "
            "(self-loops), which no property reads and no party observes",
        )
    if (
        not exact
        and mine is not None
        and mine[0] == ref.digest[0]
        and unlabelled_moves(mine) == ref.steps
    ):
        return _equivalent(
            m,
            result.distinct_states,
            started,
            "the same states and the same steps between them as the reference: only "
            "which row takes a step differs (another row takes the same step), which "
            "no property reads and no party observes",
        )
    if exact or (
        same_size
        and m.operator == "swap_cleanup"
        and project_cleanup(graph, _cleanup_order(m)) == ref.by_position
    ):
        return _equivalent(
            m,
            result.distinct_states,
            started,
            "the reachable graph equals the reference's"
            if exact
            else "the reachable graph equals the reference's up to the order of the cleanup "
            "steps (cleanup phases named by position, artifacts by count)",
        )
    reason = ""
    states = mine[0] if mine is not None else {fingerprint(state) for state in graph.states}
    if states <= ref.digest[0]:
        if m.name in JUSTIFIED:
            return _equivalent(
                m, result.distinct_states, started, f"justified: {JUSTIFIED[m.name]}"
            )
        fewer = unlabelled_moves(mine if mine is not None else digest(graph)) <= ref.steps
        reason = (
            "reaches only reference states, "
            + (
                "by fewer steps: it behaves as if a message were lost or a step never taken"
                if fewer
                else "by steps the reference does not take between them"
            )
            + ", which no safety property can tell, and it starves none of the liveness "
            "obligations"
        )
    return _verdict(m, "survived", states=result.distinct_states, seconds=seconds, reason=reason)


# Set in the parent before the workers fork; read by `_work` in each worker.
_JOB: dict[str, Any] = {}


def _work(index: int) -> MutantResult:
    job = _JOB
    return check_mutant(
        job["mutants"][index],
        job["reference"],
        max_states=job["max_states"],
        time_limit=job["time_limit"],
    )


def run(
    design: Design,
    scope: Scope,
    *,
    operators: Sequence[str] = OPERATORS,
    names: Iterable[str] = (),
    max_states: int | None = None,
    time_limit: float = TIME_LIMIT,
    workers: int | str = 1,
    progress: Callable[[int, int, MutantResult], None] | None = None,
) -> tuple[Reference, list[MutantResult]]:
    """Check the mutants of the reference tables (all, or those `names` lists) at
    `scope`; results come in the mutant list's order."""
    chosen = list(mutants(REFERENCE, tuple(operators)))
    wanted = list(names)
    if wanted:
        known = {m.name: m for m in mutants(REFERENCE)}
        missing = [n for n in wanted if n not in known]
        if missing:
            raise KeyError(f"no mutant named {missing[0]!r} (see lifecycle mutate --format json)")
        chosen = [known[n] for n in wanted]
    ref = reference(design, scope)
    n = resolve_workers(workers)
    results: dict[int, MutantResult] = {}
    _JOB.update(mutants=chosen, reference=ref, max_states=max_states, time_limit=time_limit)
    try:
        for i, result in _checked(len(chosen), n):
            results[i] = result
            if progress is not None:
                progress(len(results), len(chosen), result)
    finally:
        _JOB.clear()
    return ref, [results[i] for i in range(len(chosen))]


def _checked(count: int, workers: int) -> Iterator[tuple[int, MutantResult]]:
    """(position, result) for each of the job's mutants, as they finish: in this
    process, or in `workers` forked ones."""
    if workers == 1 or count < 2:
        yield from ((i, _work(i)) for i in range(count))
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(_work, i): i for i in range(count)}
        for future in as_completed(futures):
            yield futures[future], future.result()


def summary(results: Sequence[MutantResult]) -> dict[str, Any]:
    """Counts per status and the kill rate among mutants that are not equivalent,
    unknown or errors (those are neither killed nor survived)."""
    counts = {s: sum(r.status == s for r in results) for s in STATUSES}
    decided = counts["killed"] + counts["survived"]
    rate = counts["killed"] / decided if decided else None
    return {"mutants": len(results), **counts, "kill_rate": rate}


def to_json(results: Sequence[MutantResult]) -> str:
    return json.dumps([r.as_dict() for r in results], indent=2)


def fact_proofs(ref: Reference, results: Sequence[MutantResult]) -> dict[str, list[str]]:
    """Behavioural fact -> the killed mutants that prove the model needs it: a mutant
    of a row that cites the fact (the decision the fact justifies), or one a property
    that cites the fact kills (the obligation the fact states). Each mutant is named
    once per fact, with how it is tied (``row`` or ``property``)."""
    from lifecycle.mdm import catalog
    from lifecycle.render.facts import cited_ids

    rows = {r.trigger: cited_ids(" ".join(r.facts)) for r in REFERENCE.rows()}
    props = {p.name: cited_ids(p.description) for p in ref.model.properties()}
    # Per fact, each mutant once, with the first way it is tied (row before property).
    tied: dict[str, dict[str, str]] = {
        i: {} for i, e in catalog.FACTS.items() if e.kind == "behavioural"
    }
    for r in results:
        if r.status != "killed":
            continue
        ways = [(f, "row") for f in rows.get(r.mutant.split(":")[1], ())]
        ways += [(f, "property") for k in r.killed_by for f in props.get(k, ())]
        for fact, how in ways:
            if fact in tied:
                tied[fact].setdefault(r.mutant, how)
    return {f: [f"`{m}` ({how})" for m, how in ms.items()] for f, ms in tied.items()}


def to_markdown(ref: Reference, results: Sequence[MutantResult]) -> str:
    """The mutation table as Markdown (docs/mutation.md is this, generated)."""
    s = summary(results)
    rate = "n/a" if s["kill_rate"] is None else f"{100 * s['kill_rate']:.1f}%"
    lines = [
        "<!-- Generated by `make mutation` (`lifecycle mutate --format markdown`); do not "
        "edit by hand. -->",
        "",
        "# Mutation of the reference tables",
        "",
        "Which design decision does each property justify? `lifecycle mutate` makes every "
        "small wrong variant of the transition tables (`lifecycle.mdm.mutants`: delete a "
        "row, drop one conjunct of a guard, remove one send, swap two consecutive cleanup "
        "steps, make a receive row ignore the enrollment generation), checks each at the "
        "default scope (every row the reference fires is reached there) and reports the "
        "properties that kill it, with the shortest counterexample. The scope's own "
        "bounds (messages in flight, re-enrollments, offline periods, the MDM switch) are "
        "not mutated: dropping one only unbounds the search. Nor are the adversary's "
        "events deleted (a lost message, an offline period, the tenant's MDM switch, a "
        "failed provisioning): deleting one checks the design in a kinder world, not a "
        "wrong design.",
        "",
        "Verdicts: **killed** (a property that holds on the reference is violated), "
        "**equivalent** (the reachable graph equals the reference's, up to self-loops, "
        "the cleanup order or which row takes a step where the note says so, or the "
        "changed row never fires), "
        "**survived** (a complete search, a different graph, nothing violated), "
        "**unknown** (the per-mutant budget ran out first: 4x the reference's states or "
        "the time limit), **error** (a row raised).",
        "",
        "A survivor whose note says it reaches only reference states, by fewer steps, "
        "behaves as if a message were lost or a step never taken, which the lossy network "
        "already allows: no safety property can tell it apart; only a liveness property "
        "under fairness can, and those the model states (`server_eventually_learns`, "
        "`admin_unenroll_takes_effect`, `cleanup_eventually_completes`, "
        "`no_ghost_device`) kill those that starve one of them. One that reaches them by "
        "steps the reference does not take is a shortcut between states the reference "
        "reaches anyway (it skips a check, or acts early), which no property of the "
        "states can tell either; only the history can, and "
        "`unenroll_alert_recognised` reads it for the commonest such mistake, a server "
        "that takes the unenroll alert for an ordinary session.",
        "",
        f"Design `{ref.design.name}` at scope {describe_scope(ref.scope)}: {s['mutants']} mutants, "
        f"{s['killed']} killed, {s['survived']} survived, {s['equivalent']} equivalent, "
        f"{s['unknown']} unknown, {s['error']} errors; kill rate {rate} of the mutants "
        "that are neither equivalent nor undecided.",
        "",
        "| mutant | operator | status | killed by | shortest counterexample | note |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        length = "-" if r.trace_length is None else f"{r.trace_length} steps"
        killed = ", ".join(f"`{k}`" for k in r.killed_by) or "-"
        note = r.reason.replace("|", "\\|") or "-"
        lines.append(f"| `{r.mutant}` | {r.operator} | {r.status} | {killed} | {length} | {note} |")
    proofs = fact_proofs(ref, results)
    proven = [f for f, found in proofs.items() if found]
    lines += [
        "",
        "## Behavioural facts and the mutants that prove them",
        "",
        "A behavioural fact is proven when a property kills a mutant tied to it: a mutant "
        "of a row that cites the fact (the decision it justifies), or one that a property "
        "citing the fact kills (the obligation it states). "
        f"{len(proven)} of {len(proofs)} behavioural facts are proven at this scope.",
        "",
        "| fact | killed mutants (up to three) |",
        "|---|---|",
    ]
    for fact, found in proofs.items():
        shown = ", ".join(found[:3]) + (f" and {len(found) - 3} more" if len(found) > 3 else "")
        lines.append(f"| [{fact}](facts.md#{fact.lower()}) | {shown or '**none**'} |")
    return "\n".join(lines) + "\n"
