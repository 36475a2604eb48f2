"""Random simulation for scopes beyond exhaustive reach (TLC's ``-simulate``,
Stateright's simulation checker).

Why: a scope too large to search still has bugs that a random walk finds quickly, and
a walk costs memory for its own path only. `simulate` runs `runs` random behaviours
of at most `depth` steps. Run `i` draws from its own generator, seeded by ``(seed,
i)``, so every run repeats exactly, whatever the number of workers; forked workers
take the runs in turn and the results are merged by run number.

Coverage counts, per action name, how often it was enabled along the walks and how
often the step taken reached a state new to its run. The verdicts are honest: a walk
proves a violation (its trace) or a `sometimes` witness (the engine's rule: a witness
is final), never that an invariant holds, so every property without a violation or a
witness is `unknown`, and the result is always incomplete. Of the violations found
for one property the shortest is kept (the earliest run among equals); it is a real
behaviour, not necessarily a shortest one.
"""

from __future__ import annotations

import multiprocessing as mp
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from lifecycle.engine.checker import resolve_workers
from lifecycle.engine.fingerprint import CannotFingerprint, fingerprint
from lifecycle.engine.model import ModelProtocol, action_name
from lifecycle.engine.properties import DEADLOCK, Kind, Property
from lifecycle.engine.result import (
    ActionCoverage,
    CheckResult,
    Coverage,
    ModelError,
    PropertyResult,
    Status,
    Violation,
    explain_violation,
    not_applicable,
)
from lifecycle.engine.search import Progress, _optional, _pairs
from lifecycle.engine.trace import Trace

#: One run's findings: property name -> (steps, run, trace).
Findings = dict[str, tuple[int, int, Trace]]


def simulate(
    model: ModelProtocol,
    *,
    runs: int,
    depth: int = 100,
    seed: int = 0,
    workers: int | str = 1,
    deadlock: bool = True,
    time_limit: float | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> CheckResult:
    """Run `runs` seeded random behaviours of at most `depth` steps and report what
    they show. See the module docstring for what the result can and cannot say."""
    workers = resolve_workers(workers)
    for name, value in (("runs", runs), ("depth", depth)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, not {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, not {seed!r}")
    properties = list(model.properties())
    start = time.perf_counter()
    deadline = start + time_limit if time_limit is not None else None
    walker = _Walker(model, properties, depth, seed, deadlock, deadline)
    if workers == 1:
        parts = [walker.walk_runs(range(runs), progress, start)]
    else:
        parts = _in_workers(walker, runs, workers)
    return _merge(model, properties, parts, runs, depth, seed, deadlock, start)


class _Walker:
    def __init__(
        self,
        model: ModelProtocol,
        properties: list[Property],
        depth: int,
        seed: int,
        deadlock: bool,
        deadline: float | None,
    ) -> None:
        self.model = model
        self.always = [p for p in properties if p.kind is Kind.ALWAYS]
        self.sometimes = [p for p in properties if p.kind is Kind.SOMETIMES]
        self.depth = depth
        self.seed = seed
        self.deadlock = deadlock
        self.deadline = deadline
        self.within = _optional(model, "within_boundary")
        self.terminal = _optional(model, "is_terminal")
        self.successors = getattr(model, "successors", None)

    def _enabled(self, state: Any) -> list[tuple[Any, Any]]:
        if self.successors is not None:
            return list(self.successors(state))
        return list(_pairs(state, self.model.actions, self.model.next_state))

    def walk_runs(
        self,
        numbers: Iterable[int],
        progress: Callable[[Progress], None] | None = None,
        start: float = 0.0,
    ) -> _Tally:
        """Walk the given runs; their findings, counts and coverage."""
        tally = _Tally()
        violations, witnesses, seen = tally.violations, tally.witnesses, tally.seen
        enabled, new = tally.enabled, tally.new
        generated = longest = done = 0
        next_tick = time.perf_counter() + 0.5
        try:
            inits = list(self.model.init_states())
        except Exception as exc:
            raise ModelError("init_states() raised", cause=exc) from exc
        if not inits:
            raise ModelError("the model has no initial state")
        for run in numbers:
            now = time.perf_counter()
            if self.deadline is not None and now >= self.deadline:
                tally.stopped = "time_limit reached"
                break
            if progress is not None and now >= next_tick:
                next_tick = now + 0.5
                progress(Progress(len(seen), generated, longest, 0, now - start))
            rng = random.Random(f"{self.seed}:{run}")
            state = rng.choice(inits)
            states: list[Any] = [state]
            actions: list[Any] = []
            visited: set[Any] = set()
            generated += 1
            for step in range(self.depth + 1):
                try:
                    key: Any = fingerprint(state)
                except CannotFingerprint:
                    key = state
                seen.add(key)
                if key not in visited:  # new to this run: the same with any workers
                    visited.add(key)
                    if actions:
                        new[action_name(actions[-1])] += 1
                self._check(state, run, states, actions, violations, witnesses)
                if step == self.depth or (self.within is not None and not self.within(state)):
                    break
                try:
                    pairs = self._enabled(state)
                except Exception as exc:
                    raise ModelError(
                        "the model raised computing the successors of a state",
                        state=state,
                        trace=Trace(tuple(states), tuple(actions)),
                        cause=exc,
                    ) from exc
                generated += len(pairs)
                for action, _ in pairs:
                    enabled[action_name(action)] += 1
                if not pairs:
                    if self.deadlock and (self.terminal is None or not self.terminal(state)):
                        _keep(violations, DEADLOCK, run, states, actions)
                    break
                action, state = pairs[rng.randrange(len(pairs))]
                states.append(state)
                actions.append(action)
            longest = max(longest, len(states))
            done += 1
        tally.generated, tally.longest, tally.done = generated, longest, done
        return tally

    def _check(
        self,
        state: Any,
        run: int,
        states: list[Any],
        actions: list[Any],
        violations: Findings,
        witnesses: Findings,
    ) -> None:
        for prop in self.always:
            try:
                bad = not prop.predicate(state)
            except Exception as exc:
                raise ModelError(f"property {prop.name!r} raised", state=state, cause=exc) from exc
            if bad:
                _keep(violations, prop.name, run, states, actions)
        for prop in self.sometimes:
            if prop.name not in witnesses and prop.predicate(state):
                _keep(witnesses, prop.name, run, states, actions)


def _keep(found: Findings, name: str, run: int, states: list[Any], actions: list[Any]) -> None:
    """Keep the shorter finding (the earlier run among equals); the trace is built only
    for a finding that is kept."""
    if _better(found, name, len(actions), run):
        found[name] = (len(actions), run, Trace(tuple(states), tuple(actions)))


def _better(found: Findings, name: str, steps: int, run: int) -> bool:
    return name not in found or (steps, run) < found[name][:2]


@dataclass
class _Tally:
    """What some runs showed: findings, the states seen, counts and coverage. Tallies
    of disjoint runs add up (`absorb`) to the tally of all of them."""

    violations: Findings = field(default_factory=dict)
    witnesses: Findings = field(default_factory=dict)
    seen: set[Any] = field(default_factory=set)
    enabled: Counter[str] = field(default_factory=Counter)
    new: Counter[str] = field(default_factory=Counter)
    generated: int = 0
    longest: int = 0
    done: int = 0
    stopped: str | None = None

    def absorb(self, other: _Tally) -> None:
        for mine, theirs in (
            (self.violations, other.violations),
            (self.witnesses, other.witnesses),
        ):
            for name, (steps, run, trace) in theirs.items():
                if _better(mine, name, steps, run):
                    mine[name] = (steps, run, trace)
        self.seen |= other.seen
        self.enabled.update(other.enabled)
        self.new.update(other.new)
        self.generated += other.generated
        self.longest = max(self.longest, other.longest)
        self.done += other.done
        self.stopped = self.stopped or other.stopped


def _in_workers(walker: _Walker, runs: int, workers: int) -> list[_Tally]:
    """The runs taken in turn by forked workers (run i by worker i mod workers). The
    workers inherit the model; only their findings are pickled back."""
    try:
        ctx = mp.get_context("fork")
    except ValueError:
        raise ValueError("workers > 1 needs the 'fork' start method; use workers=1") from None
    results = ctx.Queue()

    def work(index: int) -> None:
        try:
            results.put((index, walker.walk_runs(range(index, runs, workers)), None))
        except BaseException as exc:  # sent back, raised in the caller
            results.put((index, None, exc if _picklable(exc) else RuntimeError(repr(exc))))

    procs = [ctx.Process(target=work, args=(i,), daemon=True) for i in range(workers)]
    for proc in procs:
        proc.start()
    parts: list[Any] = [None] * workers
    try:
        for _ in procs:
            index, part, error = results.get()
            if error is not None:
                raise error
            parts[index] = part
    finally:
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
    return parts


def _picklable(value: Any) -> bool:
    import pickle

    try:
        pickle.dumps(value)
    except Exception:
        return False
    return True


def _merge(
    model: ModelProtocol,
    properties: list[Property],
    parts: list[_Tally],
    runs: int,
    depth: int,
    seed: int,
    deadlock: bool,
    start: float,
) -> CheckResult:
    tally = _Tally()
    for part in parts:
        tally.absorb(part)
    violations, witnesses, enabled, new = (
        tally.violations,
        tally.witnesses,
        tally.enabled,
        tally.new,
    )
    results = []
    for prop in properties:
        if prop.name in violations:
            status = Status.VIOLATED
        elif prop.kind is Kind.SOMETIMES and prop.name in witnesses:
            status = Status.HOLDS  # a witness is final
        else:
            status = Status.UNKNOWN
        results.append(PropertyResult(prop.name, prop.kind, status, prop.description))
    if deadlock:
        status = Status.VIOLATED if DEADLOCK in violations else Status.UNKNOWN
        results.append(
            PropertyResult(
                DEADLOCK, Kind.DEADLOCK, status, "every non-terminal state has a successor"
            )
        )
    results += not_applicable(model)
    kinds = {p.name: p.kind for p in results}
    by_name = {p.name: p for p in properties}
    order = {p.name: i for i, p in enumerate(results)}
    found = sorted(violations.items(), key=lambda kv: order[kv[0]])
    names_fn = getattr(model, "action_names", None)
    known = set(names_fn()) if callable(names_fn) else set()
    never = tuple(sorted(known - set(enabled)))
    table = {name: ActionCoverage(name, enabled[name], new[name]) for name in enabled}
    reason = f"simulation: {tally.done:,} of {runs:,} runs of at most {depth} steps, seed {seed}"
    if tally.stopped:
        reason += f" ({tally.stopped})"
    return CheckResult(
        ok=False,
        complete=False,
        distinct_states=len(tally.seen),
        generated_states=tally.generated,
        depth=tally.longest,
        elapsed=time.perf_counter() - start,
        violations=[
            Violation(
                name, kinds[name], trace, explain_violation(by_name.get(name), kinds[name], trace)
            )
            for name, (_, _, trace) in found
        ],
        properties=results,
        coverage=Coverage(table, never),
        store="simulation",
        stop_reason=reason,
        witnesses={name: trace for name, (_, _, trace) in witnesses.items()},
        extra={"simulation": {"runs": tally.done, "depth": depth, "seed": seed}},
    )
