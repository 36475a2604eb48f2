"""The checker's entry point: `check()` validates its arguments, picks the search
strategy (serial breadth-first in `search`, parallel over forked workers in
`parallel`) and applies the symmetry reduction and its soundness gate around it."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

from lifecycle.engine.model import ModelProtocol
from lifecycle.engine.parallel import ParallelSearch
from lifecycle.engine.result import CheckResult
from lifecycle.engine.search import STORES, Progress, _Search


def check(
    model: ModelProtocol,
    *,
    deadlock: bool = True,
    max_states: int | None = None,
    max_depth: int | None = None,
    time_limit: float | None = None,
    max_memory: int | None = None,
    store: str = "exact",
    progress: Callable[[Progress], None] | None = None,
    stop_on_violation: bool = False,
    keep_graph: bool = False,
    symmetry: str = "auto",
    workers: int | str = 1,
    backend: str = "local",
    address: str | None = None,
) -> CheckResult:
    """Explore every reachable state of `model` breadth-first and check its properties.

    - `deadlock`: report a reachable, in-boundary, non-terminal state with no enabled
      action (kind `deadlock`).
    - `max_states`, `max_depth`, `time_limit` (seconds): bounds. A search they stop is
      marked incomplete, and no property is then reported as holding.
    - `max_memory` (bytes): stop the search, marked incomplete, once its memory
      reaches it, before the machine runs out. One worker: the process's resident
      memory, read with the clock (at most every 512 states). Several: the
      proportional memory of the coordinator and its workers together, read twice a
      second and after each level; the workers end the level early, and the partial
      graph is not gathered. The Ray backend refuses it. The graph checks after a
      complete search (and the parallel search's gathering of the graph for them)
      are not bounded.
    - `store`: `"exact"` keeps every state; `"fingerprint"` keeps 64-bit hashes only
      (much less memory, with a small, reported probability that a collision hid a
      state, as TLC prints it).
    - `progress`: called with a `Progress` about twice a second.
    - `stop_on_violation`: end the search at the first violation, like TLC.
    - `keep_graph`: keep the reachable graph (implied by `always_recoverable`
      properties); the result then carries it as `result.graph` (a `ReachableGraph`).
    - `symmetry`: store one representative per symmetry class, as the model's optional
      `representative(state)` gives it (Stateright's `Representative`). ``"on"``
      requires the model to declare one and every property to be declared
      ``symmetric``; ``"auto"`` (the default) reduces exactly then and otherwise
      explores every state; ``"off"`` never reduces; ``"verify"`` also runs the
      unreduced search and raises `SymmetryMismatch` unless every verdict and every
      shortest counterexample's length agree. A reduced search's counterexamples are
      real traces of the unreduced model (rebuilt step by step and re-checked).
      Liveness properties (`eventually`, `leads_to`) refuse the reduction unless
      ``"verify"`` shows, on this scope, that it gives the unreduced verdicts.
      `result.extra["symmetry"]` says what was done.
    - `workers`: processes for the search, or ``"auto"`` for one per available core.
      More than one runs the level-synchronous parallel search (`parallel`): forked
      workers that own shares of the store, with the same counts, coverage, verdicts
      and counterexamples as one worker when the search is complete.
    - `backend`: ``"local"`` (processes of this machine), or ``"ray"``: the same search
      with Ray actors as the workers (`distributed`), on the cluster at `address`
      (``"auto"`` or ``"ray://host:port"``) or, with None, a local Ray instance.

    Ctrl-C stops the search and returns the partial result, marked incomplete.
    """
    if store not in STORES:
        raise ValueError(f"store must be one of {', '.join(STORES)}, not {store!r}")
    for name, value in (("max_states", max_states), ("max_depth", max_depth)):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be a positive integer, not {value!r}")
    if time_limit is not None and not (math.isfinite(time_limit) and time_limit > 0):
        raise ValueError(f"time_limit must be a positive, finite number, not {time_limit!r}")
    if max_memory is not None and (not isinstance(max_memory, int) or max_memory < 1):
        raise ValueError(f"max_memory must be a positive number of bytes, not {max_memory!r}")
    if symmetry not in SYMMETRY:
        raise ValueError(f"symmetry must be one of {', '.join(SYMMETRY)}, not {symmetry!r}")
    if symmetry == "verify" and stop_on_violation:
        raise ValueError(
            "symmetry='verify' compares every verdict, so it needs the whole search: "
            "drop stop_on_violation"
        )
    count = resolve_workers(workers)
    if max_memory is not None and backend != "local":
        raise ValueError(
            "max_memory bounds the processes of this machine: use it with the local backend "
            "(a Ray cluster has its own memory monitor)"
        )
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if address is not None and backend != "ray":
        raise ValueError("address is for backend='ray'")
    representative, note = _representative(model, symmetry)

    def run(rep: Callable[[Any], Any] | None) -> CheckResult:
        options: dict[str, Any] = {"workers": count} if count > 1 else {}
        if max_memory is not None:
            options["max_memory"] = max_memory
        strategy: Any = ParallelSearch if count > 1 else _Search
        if backend == "ray":
            from lifecycle.engine.distributed import RaySearch

            strategy, options = RaySearch, {"workers": count, "address": address}
        search = strategy(
            model,
            deadlock=deadlock,
            max_states=max_states,
            max_depth=max_depth,
            time_limit=time_limit,
            fingerprint=store == "fingerprint",
            progress=progress,
            stop_on_violation=stop_on_violation,
            keep_graph=keep_graph,
            representative=rep,
            **options,
        )
        result = search.run()
        result.extra["symmetry"] = note if rep is representative else "off"
        result.extra["workers"] = count
        result.extra["backend"] = backend
        return result

    reduced = run(representative)
    if symmetry == "verify":
        full = run(None)
        _verify_symmetry(reduced, full)
        # The verdicts agree; a lasso is shown as the unreduced search found it, since
        # a loop of representatives need not close on the states themselves.
        live = {v.property: v for v in full.violations if v.trace.is_lasso}
        reduced.violations = [live.get(v.property, v) for v in reduced.violations]
        reduced.extra["symmetry"] = "on, verified against the unreduced search"
        reduced.extra["unreduced_states"] = full.distinct_states
    return reduced


SYMMETRY = ("auto", "on", "off", "verify")
BACKENDS = ("local", "ray")


def resolve_workers(workers: int | str) -> int:
    """The number of worker processes `workers` asks for."""
    if workers == "auto":
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # no affinity on this platform
            return max(1, os.cpu_count() or 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer or 'auto', not {workers!r}")
    return workers


class SymmetryMismatch(AssertionError):
    """The reduced search disagrees with the unreduced one: the model's representative
    (or a property declared symmetric) is wrong."""


class SymmetryUnverified(RuntimeError):
    """``symmetry="verify"`` could not compare: the unreduced search hit a bound."""


def _representative(model: Any, symmetry: str) -> tuple[Callable[[Any], Any] | None, str]:
    """The representative function to apply and a note saying why (or why not)."""
    rep = getattr(model, "representative", None)
    if symmetry == "off":
        return None, "off"
    if not callable(rep):
        if symmetry in ("on", "verify"):
            raise ValueError(
                f"symmetry={symmetry!r}: {type(model).__name__} declares no representative(state)"
            )
        return None, "off (the model declares no representative)"
    liveness = [p.name for p in model.properties() if p.liveness]
    if liveness and symmetry != "verify":
        # A representative folds states whose futures differ in who moves: a lasso of
        # the quotient need not be one of the model. Only the gate may allow it.
        if symmetry == "on":
            raise ValueError(
                f"symmetry='on': liveness property {liveness[0]!r} needs symmetry='verify', "
                "which runs the unreduced search too and compares: a reduction can hide "
                "liveness violations"
            )
        return None, f"off (liveness property {liveness[0]!r} needs symmetry='verify')"
    asymmetric = [p.name for p in model.properties() if not p.symmetric]
    if asymmetric:
        if symmetry in ("on", "verify"):
            raise ValueError(
                f"symmetry={symmetry!r}: property {asymmetric[0]!r} is not declared symmetric "
                "(Property.always(..., symmetric=True)); a reduced search could hide its "
                "violations"
            )
        return None, f"off (property {asymmetric[0]!r} is not declared symmetric)"
    return rep, "on"


def _verify_symmetry(reduced: CheckResult, full: CheckResult) -> None:
    """Fail loudly unless the reduced search gives the unreduced verdicts and lengths.

    Only two complete searches can be compared: a bound cuts the two at different
    places, so their verdicts may differ for no fault of the representative."""
    if not full.complete:
        raise SymmetryUnverified(
            "symmetry='verify' needs the unreduced search to finish, and it stopped "
            f"({full.stop_reason}); lower the scope or raise the bound"
        )
    if not reduced.complete:
        raise SymmetryMismatch(
            f"symmetry: the reduced search stopped ({reduced.stop_reason}) where the "
            "unreduced one finished"
        )
    verdicts = {p.name: p.status for p in reduced.properties}
    expected = {p.name: p.status for p in full.properties}
    if verdicts != expected:
        diff = sorted(k for k in expected if verdicts.get(k) != expected[k])
        raise SymmetryMismatch(
            f"symmetry changes the verdict of {', '.join(diff)}: "
            + "; ".join(f"{k}: {verdicts.get(k)} reduced, {expected[k]} unreduced" for k in diff)
        )
    # A lasso's length is not compared: the quotient may close its loop sooner.
    lengths = {v.property: len(v.trace) for v in reduced.violations if not v.trace.is_lasso}
    wanted = {v.property: len(v.trace) for v in full.violations if not v.trace.is_lasso}
    if lengths != wanted:
        raise SymmetryMismatch(
            f"symmetry changes the shortest counterexamples: {lengths} reduced, {wanted} unreduced"
        )
