"""`state_machine(model)`: a Hypothesis `RuleBasedStateMachine` for any engine model.

The exhaustive checker visits every state within a scope; Hypothesis walks long random
paths instead, which reach interleavings a bounded search cannot afford. This adapter
reads the same model protocol as `lifecycle.engine.check`:

- its rules choose among the *enabled* actions only, and skip self-loops (an action
  that leaves the state unchanged cannot break an invariant), so no step is wasted;
- when the model names its actions (`action_names()`), there is one rule per action
  name and the rule draws only the action's parameters. A shrunk example then keeps
  its meaning: deleting an earlier step never turns a later "user disconnects" into
  "a message is lost", and Hypothesis' swarm testing switches whole kinds of action
  off per example, which finds bugs that need one actor to stay quiet;
- each run draws a schedule (`ModelStateMachine.schedules`) that decides which of the
  enabled steps the rules may draw: all of them, or, so that actions enabled almost
  everywhere do not take most of the run, the steps to unvisited states by the names
  taken least, or newly enabled, or with a drawn set of names kept quiet;
- every `always` property is an `@invariant`;
- a state inside the boundary, not terminal, with no enabled action fails as a deadlock;
- `always_recoverable` properties are checked on the last state of each run, and
  `eventually` and `leads_to` properties, in bounded form, on the run followed by a
  round-robin fair continuation from its last state (`ModelStateMachine.teardown`).

A failure raises `PropertyViolation` (or `DeadlockFound`, `StuckForever`,
`LivenessNotMet`), an `AssertionError` whose message lists the steps in the same
format as `lifecycle check`, and which carries the `Trace` for programmatic use.
"""

from __future__ import annotations

import operator
import re
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from lifecycle.engine import Kind, Model, ModelError, Property, Trace, action_name, check
from lifecycle.engine import format_action as default_format_action
from lifecycle.engine.liveness import Fairness, model_fairness
from lifecycle.engine.properties import waiting_keys
from lifecycle.engine.result import explain_violation

__all__ = [
    "SCHEDULES",
    "DeadlockFound",
    "LifecycleFailure",
    "LivenessNotMet",
    "ModelStateMachine",
    "PropertyViolation",
    "RunStats",
    "StuckForever",
    "enabled_steps",
    "minimize",
    "replay",
    "state_machine",
    "stuck_keys",
]


# ------------------------------------------------------------------------- failures
class LifecycleFailure(AssertionError):
    """A property failed on a path Hypothesis found.

    `property` and `kind` name what failed; `trace` is the path from an initial state
    (after shrinking, when Hypothesis re-raises it); `text` is the rendered steps.
    """

    def __init__(self, prop: str, kind: Kind, trace: Trace, text: str) -> None:
        self.property = prop
        self.kind = kind
        self.trace = trace
        self.text = text
        super().__init__(text)


class PropertyViolation(LifecycleFailure):
    """An `always` property is false in the state the steps reach."""


class DeadlockFound(LifecycleFailure):
    """A non-terminal state inside the boundary has no enabled action."""


class StuckForever(LifecycleFailure):
    """An `always_recoverable` property fails: in the last state of the run, a party
    waits, and no state reachable from it (all explored) frees it."""


class LivenessNotMet(LifecycleFailure):
    """An `eventually` or `leads_to` property fails its bounded check: neither the run
    nor the round-robin fair continuation from its last state meets the goal (see
    `ModelStateMachine.teardown`). `trace` is the run followed by the continuation,
    a plain trace (not a lasso); its first `run_steps` steps are the run's.

    `bounded` tells the two endings apart. True: the continuation took
    `liveness_budget` fair steps without the goal, which a longer one might still meet
    (evidence, not proof). False: it ended where a fair behaviour may stay for ever (a
    terminal state, or one where no fair action is enabled), so the goal never comes:
    a genuine violation under the model's fairness, which `lifecycle.engine.check`
    reports too."""

    def __init__(
        self,
        prop: str,
        kind: Kind,
        trace: Trace,
        text: str,
        run_steps: int = 0,
        bounded: bool = True,
    ) -> None:
        super().__init__(prop, kind, trace, text)
        self.run_steps = run_steps
        self.bounded = bounded


def failure_text(
    prop: str,
    kind: Kind,
    trace: Trace,
    format_action: Callable[[Any], str],
    found_by: str,
    detail: str = "",
    why: str | None = None,
) -> str:
    """The header, the explanation (`why`) and the steps, as `lifecycle check` prints a
    violation."""
    if kind is Kind.DEADLOCK:
        head = f"deadlock ({kind.value}): a non-terminal state with no enabled action"
    elif kind is Kind.RECOVERABLE or detail:
        head = f"{prop} ({kind.value}) violated: {detail}"
    else:
        head = f"{prop} ({kind.value}) violated"
    because = f"why: {why}\n" if why else ""
    return (
        f"{head}; counterexample found by {found_by}, {len(trace)} steps:\n"
        f"{because}{trace.render(format_action=format_action)}"
    )


# ------------------------------------------------------------------------ the model
def _optional(model: Any, name: str) -> Callable[[Any], Any] | None:
    """The model's own `within_boundary`/`is_terminal`, or None for the default."""
    method = getattr(model, name, None)
    if not callable(method):
        return None
    if getattr(method, "__func__", None) is getattr(Model, name):
        return None
    return method


class _Step:
    """One enabled action and its result; it prints as the described action, which is
    what Hypothesis shows for each draw of a failing example."""

    __slots__ = ("action", "next_state", "text")

    def __init__(self, action: Any, next_state: Any, text: str) -> None:
        self.action = action
        self.next_state = next_state
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text)


def enabled_steps(
    model: Any, state: Any, format_action: Callable[[Any], str] = default_format_action
) -> list[tuple[Any, Any]]:
    """`(action, next_state)` for each enabled action of `state`, in a stable order.

    Uses the model's `successors()` fast path when it has one, else `actions()` and
    `next_state()`, exactly as `lifecycle.engine.check` does. States outside the
    boundary have no enabled action (the checker does not expand them either). The
    order is by the action's rendering, so it does not depend on hash seeds.
    """
    within = _optional(model, "within_boundary")
    if within is not None and not within(state):
        return []
    successors = getattr(model, "successors", None)
    if callable(successors):
        pairs = list(successors(state))
    else:
        pairs = []
        for action in model.actions(state):
            nxt = model.next_state(state, action)
            if nxt is not None:
                pairs.append((action, nxt))
    return sorted(pairs, key=lambda p: format_action(p[0]))


def stuck_keys(
    successors: Callable[[Any], Iterable[Any]],
    waiting: Callable[[Any], Any],
    start: Any,
    budget: int = 20_000,
) -> list[Any] | None:
    """The keys of an `always_recoverable` property that wait forever from `start`.

    Explores the states reachable from `start` (breadth-first, `successors(state)`
    yields next states) until every key waiting in `start` is seen not waiting. Returns
    the keys that never stop waiting when the exploration is complete (a definite
    violation of AG EF: nothing reachable frees them), and None when the budget ran out
    first (unknown). A stuck state stays stuck in every state after it, so checking
    the last state of a run finds every stuck state the run went through.
    """
    open_keys = set(waiting_keys(waiting(start)))
    if not open_keys:
        return []
    seen = {start}
    frontier = [start]
    while frontier:
        nxt: list[Any] = []
        for state in frontier:
            for succ in successors(state):
                if succ in seen:
                    continue
                seen.add(succ)
                if len(seen) > budget:
                    return None
                open_keys &= set(waiting_keys(waiting(succ)))
                if not open_keys:
                    return []
                nxt.append(succ)
        frontier = nxt
    return sorted(open_keys, key=repr)


class _Continuation:
    """The round-robin fair continuation from one state (`states[0]`), built lazily one
    step at a time (`ModelStateMachine._fair_step`) and shared by every property and
    every run that ends in that state. `end` says why it stopped, once it has:
    `"terminal"` (an `is_terminal` state), `"stutter"` (no fair action enabled) or
    `"boundary"` (outside `within_boundary`: not expanded). `since` is the scheduler's
    memory: per fair instance, the step it was last taken at (or first seen enabled)."""

    __slots__ = ("actions", "end", "since", "states")

    def __init__(self, start: Any) -> None:
        self.states: list[Any] = [start]
        self.actions: list[Any] = []
        self.end: str | None = None
        self.since: dict[Hashable, int] = {}


#: Every schedule a run may draw (`ModelStateMachine.schedules`).
SCHEDULES = ("uniform", "fresh", "recent", "quiet", "focus")

#: The focus of a "focus" run before it is first needed (None means "no focus").
_UNRESOLVED: Hashable = ("unresolved focus",)

#: Entries a machine class keeps in its liveness memos before it starts them afresh.
LIVENESS_MEMO_LIMIT = 4096


# --------------------------------------------------------------------------- stats
@dataclass
class RunStats:
    """Counters a benchmark reads: examples run, and when the first failure was seen."""

    examples: int = 0
    steps: int = 0
    started: float = field(default_factory=time.perf_counter)
    first_failure_examples: int | None = None
    first_failure_seconds: float | None = None
    first_failure: LifecycleFailure | None = None
    #: The `sometimes` properties some run reached a witness of. A run shows what can
    #: happen, never what cannot: a property missing here is evidence, not proof.
    witnessed: set[str] = field(default_factory=set)

    def reset(self) -> None:
        self.examples = 0
        self.steps = 0
        self.witnessed = set()
        self.started = time.perf_counter()
        self.first_failure_examples = None
        self.first_failure_seconds = None
        self.first_failure = None

    def failed(self, failure: LifecycleFailure) -> None:
        if self.first_failure_examples is None:
            self.first_failure_examples = self.examples
            self.first_failure_seconds = time.perf_counter() - self.started
            self.first_failure = failure


# -------------------------------------------------------------------- the machine
class ModelStateMachine(RuleBasedStateMachine):
    """Base class of the machines `state_machine()` builds; not used directly.

    `self.state` is the current model state; `self.trace()` the path so far.
    """

    model: Any = None
    check_deadlock: bool = True
    format_step: Callable[[Any], str] = staticmethod(default_format_action)
    stats: RunStats
    _init_states: Sequence[Any] = ()
    _known_names: frozenset[str] = frozenset()
    #: The model's `action_names()`, sorted (empty when it lists none).
    _listed_names: tuple[str, ...] = ()
    _within: Callable[[Any], Any] | None = None
    _terminal: Callable[[Any], Any] | None = None

    def __init__(self) -> None:
        super().__init__()
        self.state: Any = None
        self._states: list[Any] = []
        self._actions: list[Any] = []
        self._steps: list[_Step] = []
        self._enabled = 0
        self._by_name: dict[str, list[_Step]] = {}
        self._before: frozenset[str] = frozenset()  # the names enabled one state back
        # What the rules may draw from (`_offer`): the enabled steps the run's schedule
        # leaves, by name and in all.
        self._offered: dict[str, list[_Step]] = {}
        self._offered_steps: list[_Step] = []
        self._schedule = "uniform"
        self._quiet_names: frozenset[str] = frozenset()
        # The "focus" schedule (see `_focus_steps`): the drawn ranks of the two focus
        # actors, the one in force (resolved lazily), and the deferred fairness kind.
        self._focus_ranks: tuple[int, int] = (0, 0)
        self._focus: Hashable = _UNRESOLVED
        self._focus_phase = 0
        self._focus_acted = False
        self._defer: str | None = None
        self._taken: Counter[str] = Counter()
        self._visited: set[Any] = set()
        self._failed = False  # a check failed: the end-of-run checks are not run
        type(self).stats.examples += 1

    # -- bookkeeping
    def trace(self) -> Trace:
        return Trace(tuple(self._states), tuple(self._actions))

    def _witness(self, state: Any) -> None:
        """Record the `sometimes` properties `state` is a witness of (`RunStats`)."""
        witnessed = type(self).stats.witnessed
        for prop in self._sometimes:
            if prop.name not in witnessed and prop.predicate(state):
                witnessed.add(prop.name)

    def _enter(self, state: Any) -> None:
        self.state = state
        self._states.append(state)
        self._witness(state)
        try:
            pairs = enabled_steps(self.model, state, self.format_step)
        except Exception as exc:
            raise ModelError(
                "the model raised while listing the enabled actions",
                state=state,
                trace=self.trace(),
                cause=exc,
            ) from exc
        self._enabled = len(pairs)
        # Self-loops cannot change whether an invariant holds, so the rules never
        # spend a step on them; they still count as enabled for the deadlock check.
        self._steps = [_Step(a, n, self.format_step(a)) for a, n in pairs if n != state]
        by_name: dict[str, list[_Step]] = {}
        for step in self._steps:
            by_name.setdefault(action_name(step.action), []).append(step)
        self._before = frozenset(self._by_name)
        self._by_name = by_name
        self._offer()

    def _offer(self) -> None:
        """The steps the rules may draw from, by the run's schedule (see `SCHEDULES`).
        Every schedule offers some step whenever one is enabled, and replays
        (`_take_action`) may take any enabled step."""
        steps = self._steps
        schedule = self._schedule
        if schedule != "uniform" and steps:
            self._visited.add(self.state)
            visited = self._visited
            steps = [s for s in steps if s.next_state not in visited] or steps
            if schedule == "fresh":
                taken = self._taken
                least = min(taken[action_name(s.action)] for s in steps)
                steps = [s for s in steps if taken[action_name(s.action)] == least]
            elif schedule == "recent":
                before = self._before
                steps = [s for s in steps if action_name(s.action) not in before] or steps
            elif schedule == "focus":
                steps = self._focus_steps(steps)
            else:
                quiet = self._quiet_names
                steps = [s for s in steps if action_name(s.action) not in quiet] or steps
        if steps is self._steps:
            self._offered, self._offered_steps = self._by_name, steps
            return
        offered: dict[str, list[_Step]] = {}
        for step in steps:
            offered.setdefault(action_name(step.action), []).append(step)
        self._offered, self._offered_steps = offered, steps

    def _take(self, step: _Step) -> None:
        type(self).stats.steps += 1
        self._actions.append(step.action)
        self._taken[action_name(step.action)] += 1
        if self._schedule == "focus" and self._focus is not _UNRESOLVED:
            kind, actor = self._role(step.action)
            if kind is None and actor == self._focus:
                self._focus_acted = True
        self._enter(step.next_state)

    # -- the "focus" schedule
    @classmethod
    def _role(cls, action: Any) -> tuple[str | None, Hashable]:
        """What the schedules know of an action, from the model's own declarations:
        the kind of the first weak or strong fairness constraint that matches it
        (None: an action the model does not promise to take, such as a user's, an
        operator's or a fault), and its actor (`actor_of`, else its name)."""
        memo = cls._memo_roles
        found = memo.get(action)
        if found is None:
            kind = next(
                (
                    f.kind
                    for f in cls._schedule_fairness
                    if f.kind != "finite" and f.matches(action)
                ),
                None,
            )
            actor_of = getattr(cls.model, "actor_of", None)
            actor = actor_of(action) if callable(actor_of) else action_name(action)
            if len(memo) > 100_000:
                memo.clear()
            found = memo[action] = (kind, actor)
        return found

    def _focus_steps(self, steps: list[_Step]) -> list[_Step]:
        """The "focus" schedule: the system's own steps (those a fairness constraint
        promises) run, and of the steps nobody promises (the environment's: users,
        operators, faults), those of one *focus* actor; the other environment actors
        move only when nobody else can. The first focus holds until it has acted and
        the system's steps have run out; then the second takes over (one party
        starts something, the system settles, another party acts: a stale command
        after a re-enrollment). One fairness kind may also be *deferred*, offered
        only when nothing else is (strong: the deliveries of a lossy channel, so
        messages arrive late). Which actor is a focus is drawn as a rank among the
        environment actors enabled where the focus is first needed (one rank more:
        no focus, the environment waits for the system), so a draw means the same in
        every run: the offer is a pure function of the run's states and draws."""
        # Each step with its (fairness kind, actor), read once.
        roles = [(s, *self._role(s.action)) for s in steps]
        defer = self._defer
        if defer is not None:
            roles = [r for r in roles if r[1] != defer] or roles
        system = any(kind is not None for _s, kind, _a in roles)
        if self._focus_acted and not system and self._focus_phase == 0:
            self._focus_phase, self._focus_acted = 1, False
            self._focus = _UNRESOLVED
        actors = sorted({actor for _s, kind, actor in roles if kind is None}, key=repr)
        if not actors:
            return [s for s, _k, _a in roles]
        if self._focus is _UNRESOLVED:
            rank = self._focus_ranks[self._focus_phase] % (len(actors) + 1)
            self._focus = actors[rank] if rank < len(actors) else None
        focus = self._focus
        preferred = [s for s, kind, actor in roles if kind is not None or actor == focus]
        return preferred or [s for s, _k, _a in roles]

    def _why(self, prop: str, kind: Kind, trace: Trace) -> str | None:
        """The property's explanation of `trace` (`Property.explain`), as the exhaustive
        check gives it."""
        found = next((p for p in self.model.properties() if p.name == prop), None)
        return explain_violation(found, kind, trace) if found is not None else None

    def _fail(self, cls: type[LifecycleFailure], prop: str, kind: Kind, detail: str = "") -> None:
        trace = self.trace()
        why = self._why(prop, kind, trace)
        text = failure_text(prop, kind, trace, self.format_step, "Hypothesis", detail, why)
        failure = cls(prop, kind, trace, text)
        self._failed = True
        type(self).stats.failed(failure)
        raise failure

    # -- replay by meaning (see `minimize`)
    def _begin(self, state: Any) -> None:
        """Start a replay at `state`, as `start` would without drawing."""
        self._enter(state)

    def _take_action(self, action: Any, rebind: bool = False) -> bool:
        """Take the enabled step whose action is `action`; False when none is. With
        `rebind`, when `action` itself is not enabled, take the one enabled step of
        the same name, if there is exactly one (see `replay`)."""
        for step in self._steps:
            if step.action == action:
                self._take(step)
                return True
        if rebind:
            same = self._by_name.get(action_name(action), [])
            if len(same) == 1:
                self._take(same[0])
                return True
        return False

    @classmethod
    def _moves(cls, state: Any) -> list[tuple[Any, Any]]:
        """`(action, next state)` for every step the machine can take from `state`, in
        the form `_take_action` accepts: what `minimize`'s shortcut search walks."""
        return enabled_steps(cls.model, state, repr)

    def _check_all(self) -> None:
        """Run every invariant, as Hypothesis does after each step."""
        for invar in self.invariants:
            invar.function(self)

    def _draw(self, data: Any, steps: list[_Step], label: str) -> _Step:
        # A one-element sampled_from makes no choice, but is still printed.
        drawn: _Step = data.draw(st.sampled_from(steps), label=label)
        return drawn

    # -- rules shared by every generated machine
    @initialize(data=st.data())
    def start(self, data: Any) -> None:
        """Choose an initial state (no draw when there is only one), and the run's
        schedule (see `SCHEDULES`)."""
        unknown = set(self.schedules) - set(SCHEDULES)
        if unknown or not self.schedules:
            raise ValueError(
                f"schedules must be drawn from {', '.join(SCHEDULES)}, not "
                f"{sorted(unknown) or 'none'}"
            )
        if self.schedules != ("uniform",):
            self._schedule = data.draw(st.sampled_from(self.schedules), label="schedule")
            names = self._listed_names
            if self._schedule == "focus":
                self._focus_ranks = (
                    data.draw(st.integers(0, 7), label="first focus"),
                    data.draw(st.integers(0, 7), label="second focus"),
                )
                kinds = ("none", "none", "strong", "weak")
                picked = data.draw(st.sampled_from(kinds), label="deferred")
                self._defer = None if picked == "none" else picked
            if self._schedule == "quiet" and names:
                flags = data.draw(
                    st.lists(st.booleans(), min_size=len(names), max_size=len(names)),
                    label="quiet names",
                )
                self._quiet_names = frozenset(n for n, q in zip(names, flags, strict=True) if q)
        inits = self._init_states
        if len(inits) == 1:
            self._enter(inits[0])
        else:
            self._enter(data.draw(st.sampled_from(inits), label="initial state"))

    @precondition(lambda self: self.state is not None and not self._steps)
    @rule()
    def idle(self) -> None:
        """Nothing but self-loops is enabled (a terminal state, outside the boundary,
        or a state whose enabled actions all leave it unchanged): stutter.

        Hypothesis needs some valid rule in every state; shrinking removes these.
        """

    @precondition(lambda self: bool(self._offered_steps))
    @rule(data=st.data())
    def any_step(self, data: Any) -> None:
        """A step the schedule offers, whatever its name. Hypothesis' swarm testing
        switches some rules off for a whole run; when every offered step belongs to a
        rule switched off, this one keeps the run going (else Hypothesis would end
        the example as invalid), so a switched-off action is slowed down, not
        silenced."""
        self._take(self._draw(data, self._offered_steps, "any step"))

    @precondition(
        lambda self: (
            self.state is not None and any(name not in self._known_names for name in self._offered)
        )
    )
    @rule(data=st.data())
    def other_action(self, data: Any) -> None:
        """Enabled actions whose name `action_names()` did not list."""
        steps = [s for s in self._offered_steps if action_name(s.action) not in self._known_names]
        self._take(self._draw(data, steps or self._steps, "action"))

    #: The schedules a run draws from in `start`, each a way to choose among the
    #: enabled steps that knows nothing of the model:
    #: - "uniform": every enabled step is offered (the rules draw among them);
    #: - "fresh": steps to a state this run has not visited yet come first, and among
    #:   them those whose action name the run has taken least often. Environment
    #:   actions that are enabled almost everywhere (a toggle, a timer) then take
    #:   turns with the protocol's steps instead of most of the run;
    #: - "quiet": the run draws a set of action names that stay quiet, offered only
    #:   when nothing else is (swarm testing with a fallback): runs where one actor
    #:   keeps still;
    #: - "focus": the model's fairness tells the system's steps from the
    #:   environment's, and its `actor_of` who acts; one environment actor at a time
    #:   acts, then another, and one fairness kind may be deferred (`_focus_steps`).
    #: The default draws "focus" half the time and "fresh" and "recent" a quarter
    #: each: on the 24 known-bad MDM presets (benchmarks/bench_hypothesis.py
    #: --generic, 3 seeds of 100 examples), 51 of the 72 runs find their preset with
    #: it, against 29 with the five schedules drawn alike and 3 with "uniform" alone.
    #: A subclass (or the class `state_machine` returns) may set any of `SCHEDULES`,
    #: repeated to weigh it; ("uniform",) draws nothing.
    schedules: tuple[str, ...] = ("fresh", "recent", "focus", "focus")

    #: The model's fairness as the "focus" schedule reads it (read even without
    #: liveness properties; none when the model declares none or it is invalid).
    _schedule_fairness: Sequence[Fairness] = ()
    _memo_roles: dict[Any, tuple[str | None, Hashable]]

    #: The `sometimes` properties, whose witnesses the runs record (`_witness`).
    _sometimes: Sequence[Property] = ()

    _recoverable: Sequence[Property] = ()
    _memo_stuck: dict[tuple[str, Any], list[Any] | None]
    recoverable_budget: int = 20_000

    _liveness: Sequence[Property] = ()
    _fairness: Sequence[Fairness] = ()
    _memo_live: dict[Any, _Continuation]
    _memo_marks: dict[tuple[str, Any], tuple[frozenset[Hashable], frozenset[Hashable] | bool]]
    _memo_instances: dict[Any, tuple[Hashable, ...]]
    #: Fair steps the bounded check of `eventually` and `leads_to` continues a run with
    #: before it reports the goal as not met (see `teardown`).
    liveness_budget: int = 200

    def teardown(self) -> None:
        """The end-of-run checks, on a run whose steps passed every invariant.

        `always_recoverable`: on the last state (see `stuck_keys`: a stuck state stays
        stuck, so the last state is enough).

        `eventually` and `leads_to`, bounded (`_check_liveness`): from the last state,
        the run goes on with a round-robin *fair* scheduler (`fair_continuation`) for
        at most `liveness_budget` steps. `eventually(p)` fails when `p` holds in no
        state of the run nor of the continuation; `leads_to(p, q)` when a key that `p`
        triggered in some state of the run, with no state from that one on where `q`
        holds for it, still has no such state in the continuation. Obligations the
        continuation itself triggers are not checked.
        """
        if self.state is None or self._failed:
            return
        if self._recoverable:
            memo = type(self)._memo_stuck  # shortening replays the same last states
            for prop in self._recoverable:
                if (prop.name, self.state) not in memo:
                    memo[prop.name, self.state] = stuck_keys(
                        self._next_states, prop.predicate, self.state, self.recoverable_budget
                    )
                keys = memo[prop.name, self.state]
                if keys:
                    detail = (
                        f"{', '.join(map(repr, keys))} waits forever: no state reachable "
                        "from the last one frees it"
                    )
                    self._fail(StuckForever, prop.name, Kind.RECOVERABLE, detail)
        if self._liveness:
            self._check_liveness()

    # -- bounded liveness
    @classmethod
    def _fair_instances(cls, action: Any) -> tuple[Hashable, ...]:
        """The fair instances `action` takes, as the engine numbers them: one per weak
        or strong constraint that matches it, `(index, action)`, or `(index,)` when the
        constraint is grouped. None, for an action a continuation leaves switched off
        (only `finite` constraints match it, or none)."""
        memo = cls._memo_instances
        found = memo.get(action)
        if found is None:
            found = memo[action] = tuple(
                (index,) if f.grouped else (index, action)
                for index, f in enumerate(cls._fairness)
                if f.kind != "finite" and f.matches(action)
            )
        return found

    @classmethod
    def _fair_step(cls, cont: _Continuation) -> None:
        """Extend `cont` by one step of the round-robin fair scheduler, or set its
        `end`. The scheduler takes, among the enabled steps whose action a weak or
        strong constraint matches, the one whose least recently served instance has
        waited longest (an instance is served when taken, and waits from when it is
        first seen enabled); ties go to the first in the order of `enabled_steps`
        (by `format_step` text). So each instance enabled at step t is taken within as
        many steps as there are instances served no later than it: a continuously
        enabled one is never starved, whatever else gets enabled meanwhile."""
        state = cont.states[-1]
        step = len(cont.actions)
        if cls._within is not None and not cls._within(state):
            cont.end = "boundary"
            return
        if cls._terminal is not None and cls._terminal(state):
            cont.end = "terminal"
            return
        since = cont.since
        best: tuple[int, Any, Any, tuple[Hashable, ...]] | None = None
        for action, nxt in enabled_steps(cls.model, state, cls.format_step):
            instances = cls._fair_instances(action)
            if not instances:
                continue
            for inst in instances:
                since.setdefault(inst, step)
            rank = min(since[inst] for inst in instances)
            if best is None or rank < best[0]:
                best = (rank, action, nxt, instances)
        if best is None:
            cont.end = "stutter"
            return
        _rank, action, nxt, instances = best
        for inst in instances:
            since[inst] = step + 1
        cont.actions.append(action)
        cont.states.append(nxt)

    @classmethod
    def _continuation(cls, state: Any) -> _Continuation:
        memo = cls._memo_live  # shortening replays the same last states
        cont = memo.get(state)
        if cont is None:
            if len(memo) >= LIVENESS_MEMO_LIMIT:
                memo.clear()
            cont = memo[state] = _Continuation(state)
        return cont

    @classmethod
    def fair_continuation(cls, state: Any, steps: int | None = None) -> tuple[Trace, str | None]:
        """The round-robin fair continuation from `state` (see `_fair_step`), at most
        `steps` steps (default `liveness_budget`), and why it stopped before: None (it
        did not), `"terminal"`, `"stutter"` (no fair action enabled) or `"boundary"`."""
        limit = cls.liveness_budget if steps is None else steps
        cont = cls._continuation(state)
        while len(cont.actions) < limit and cont.end is None:
            cls._fair_step(cont)
        taken = min(limit, len(cont.actions))
        end = cont.end if taken == len(cont.actions) else None
        return Trace(tuple(cont.states[: taken + 1]), tuple(cont.actions[:taken])), end

    def _extend(self, cont: _Continuation, steps: int) -> bool:
        """Make `cont` at least `steps` long; False when it ends shorter."""
        while len(cont.actions) < steps:
            if cont.end is not None:
                return False
            try:
                self._fair_step(cont)
            except Exception as exc:
                raise ModelError(
                    "the model raised in the fair continuation of the bounded liveness "
                    "check, from the last state of the run",
                    state=cont.states[-1],
                    trace=self.trace(),
                    cause=exc,
                ) from exc
        return True

    def _marks(
        self, prop: Property, state: Any
    ) -> tuple[frozenset[Hashable], frozenset[Hashable] | bool]:
        """What a liveness property says of `state`: the keys `p` triggers (none for
        `eventually`, whose one obligation is the initial state's) and the goal, True
        when met for every key, else the keys it is met for."""
        memo = type(self)._memo_marks
        found = memo.get((prop.name, state))
        if found is not None:
            return found
        try:
            if prop.goal is None:
                found = (frozenset(), bool(prop.predicate(state)))
            else:
                reached = prop.goal(state)
                goal: frozenset[Hashable] | bool = (
                    True if reached is True else frozenset(waiting_keys(reached))
                )
                found = (frozenset(waiting_keys(prop.predicate(state))), goal)
        except Exception as exc:
            raise ModelError(
                f"the predicate of property {prop.name!r} raised",
                state=state,
                trace=self.trace(),
                cause=exc,
            ) from exc
        if len(memo) >= 64 * LIVENESS_MEMO_LIMIT:
            memo.clear()
        memo[prop.name, state] = found
        return found

    def _pending(self, prop: Property) -> dict[Hashable, int]:
        """The obligations the run leaves open: key -> the state that triggered it, the
        earliest with no state from it on where the goal holds for the key."""
        pending: dict[Hashable, int] = {}
        for i, state in enumerate(self._states):
            triggered, goal = self._marks(prop, state)
            if prop.goal is None:
                triggered = frozenset((True,)) if i == 0 else frozenset()
            for key in triggered:
                pending.setdefault(key, i)
            if goal is True:
                pending.clear()
            elif goal:
                for key in goal:
                    pending.pop(key, None)
        return pending

    def _check_liveness(self) -> None:
        """The bounded check of `eventually` and `leads_to` (see `teardown`)."""
        budget = self.liveness_budget
        for prop in self._liveness:
            pending = self._pending(prop)
            if not pending:
                continue
            cont = self._continuation(self.state)
            taken = 0
            while pending and taken < budget and self._extend(cont, taken + 1):
                taken += 1
                _triggered, goal = self._marks(prop, cont.states[taken])
                if goal is True:
                    pending.clear()
                elif goal:
                    for key in goal:
                        pending.pop(key, None)
            if not pending:
                continue
            end = cont.end if taken == len(cont.actions) else None
            if end == "boundary":
                continue  # what lies beyond the boundary was not explored: unknown
            self._fail_liveness(prop, pending, cont, taken, end)

    def _fail_liveness(
        self,
        prop: Property,
        pending: dict[Hashable, int],
        cont: _Continuation,
        taken: int,
        end: str | None,
    ) -> None:
        run = len(self._actions)
        budget = self.liveness_budget
        trace = Trace(
            (*self._states, *cont.states[1 : taken + 1]),
            (*self._actions, *cont.actions[:taken]),
        )
        if prop.goal is None:
            what = "the goal is not met in the run"
        else:
            keys = sorted(pending, key=repr)
            states = ", ".join(str(pending[k]) for k in keys)
            where = f"state{'s' if len(keys) > 1 else ''} {states}"
            if len(keys) == 1 and keys[0] is True:  # a trigger without keys
                what = f"the goal of the trigger in {where} is not met in the run"
            else:
                named = ", ".join(map(repr, keys))
                what = f"the goal of {named} (triggered in {where}) is not met in the run"
        if end is None:
            verdict = (
                f"{what} nor within {budget} fair steps after it (bounded: a longer "
                "continuation may still meet it; `lifecycle check` decides)"
            )
        elif end == "terminal":
            verdict = (
                f"{what} nor in its fair continuation, which ends in a terminal state: "
                "the behaviour ends without it"
            )
        else:
            verdict = (
                f"{what} nor in its fair continuation, which ends where no fair action is "
                "enabled: a fair behaviour may stutter there for ever without it"
            )
        if run and taken:
            span = f"steps 1-{run} are the run, {run + 1}-{run + taken} its fair continuation"
        elif run:
            span = f"steps 1-{run} are the run, which has no fair continuation"
        elif taken:
            span = f"the run has no step, steps 1-{taken} are its fair continuation"
        else:
            span = "the run has no step and no fair continuation"
        detail = (
            f"{verdict} [bounded liveness check, not a proof: round-robin over the fair "
            f"actions for at most {budget} steps after the run; {span}]"
        )
        why = self._why(prop.name, prop.kind, trace)
        text = failure_text(
            prop.name, prop.kind, trace, self.format_step, "Hypothesis", detail, why
        )
        failure = LivenessNotMet(prop.name, prop.kind, trace, text, run, end is None)
        self._failed = True
        type(self).stats.failed(failure)
        raise failure

    def _next_states(self, state: Any) -> list[Any]:
        return [n for _, n in enabled_steps(self.model, state, self.format_step)]

    @invariant()
    def no_deadlock(self) -> None:
        if not self.check_deadlock or self.state is None or self._enabled:
            return
        if self._within is not None and not self._within(self.state):
            return
        if self._terminal is not None and self._terminal(self.state):
            return
        self._fail(DeadlockFound, "deadlock", Kind.DEADLOCK)


def replay(
    machine: type[ModelStateMachine],
    start: Any,
    actions: Sequence[Any],
    *,
    skip_disabled: bool = False,
    rebind: bool = False,
    teardown: bool = True,
) -> LifecycleFailure | None:
    """Run `actions` (action values, not Hypothesis' draws) from `start` on a fresh
    instance of `machine`, checking the invariants after each step and the teardown
    checks at the end. The failure it raises, or None when the steps pass or one of
    them is not enabled where it is taken. With `rebind`, a step that is not enabled
    as recorded is taken as the one enabled step of the same kind, if there is
    exactly one: the same delivery or command for another enrollment generation or
    message, once an earlier step is gone. The kind is the action's name for
    `state_machine` (whatever its parameters) and the trigger and device for
    `lifecycle_machine`. With `skip_disabled`, a step still not
    enabled is left out instead, and the failure's trace has the steps taken. Without
    `teardown`, the end-of-run checks (`always_recoverable`, which explore what the
    last state can reach) are not run. The machine's `stats` are left as they were."""
    stats = machine.stats
    saved = (
        stats.examples,
        stats.steps,
        stats.first_failure_examples,
        stats.first_failure_seconds,
        stats.first_failure,
    )
    run = machine()
    try:
        run._begin(start)
        run._check_all()
        for action in actions:
            if not run._take_action(action, rebind):
                if skip_disabled:
                    continue
                return None
            run._check_all()
        if teardown:
            run.teardown()
    except LifecycleFailure as failure:
        return failure
    finally:  # replays are not examples Hypothesis ran
        (
            stats.examples,
            stats.steps,
            stats.first_failure_examples,
            stats.first_failure_seconds,
            stats.first_failure,
        ) = saved
    return None


def minimize(machine: type[ModelStateMachine], failure: LifecycleFailure) -> LifecycleFailure:
    """Shorten a failing example while the same property still fails.

    Hypothesis shrinks the sequence of its own choices: a rule choice and an index
    among the enabled steps. Deleting an early step shifts what later indices mean,
    so on long examples its shrinker can stop well above the shortest failure (21
    steps for a bug that takes 5). Here steps change by meaning, and each candidate
    is replayed on the machine (`replay`):

    - deletions: every run of consecutive steps, from all but one step down to single
      steps (a lost message and its retry go together, and so does a whole enrollment
      cycle), then every pair of steps apart. A later step that a deletion disables
      is dropped too, and one that names what the deletion changed (a message of the
      second enrollment generation, once the first is gone) is rebound to the one
      enabled step of its kind;
    - shortcuts: a stretch between two states of the example that the model walks in
      fewer steps is replaced by the shortest path, which the engine's `check` finds
      from each state of the example (at most `SHORTCUT_BUDGET` states each).

    A `LivenessNotMet` failure is shortened on its run only: each replay computes the
    fair continuation afresh, and a candidate is kept when the run and continuation
    together take fewer steps (as many: when the run is shorter).

    This repeats until no change keeps the failure. Every example returned is a real
    run of the machine, ending where the property fails. A candidate that fails
    otherwise (another property, a model error or a disagreement on a path Hypothesis
    never took) is not kept: the failure Hypothesis found is never lost.
    """
    best = failure

    # The costly end-of-run checks, where these failures are raised.
    teardown = best.kind in (Kind.RECOVERABLE, Kind.EVENTUALLY, Kind.LEADS_TO)

    def run_of(found: LifecycleFailure) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """The run's states and actions: a liveness failure's trace goes on with the
        fair continuation, which a replay of the run recomputes."""
        if isinstance(found, LivenessNotMet):
            n = found.run_steps
            return found.trace.states[: n + 1], found.trace.actions[:n]
        return found.trace.states, found.trace.actions

    def measure(found: LifecycleFailure) -> tuple[int, int]:
        """Fewer steps first; as many, a shorter run (and a longer continuation)."""
        return len(found.trace.actions), len(run_of(found)[1])

    def shorter(candidate: list[Any]) -> bool:
        nonlocal best
        try:
            found = replay(
                machine,
                best.trace.states[0],
                candidate,
                skip_disabled=True,
                rebind=True,
                teardown=teardown,
            )
        except Exception:  # another error on a path Hypothesis never took: not this one
            return False
        if (
            found is not None
            and type(found) is type(best)
            and found.property == best.property
            and measure(found) < measure(best)
        ):
            best = found
            return True
        return False

    def delete_runs() -> bool:
        improved = False
        for size in range(len(run_of(best)[1]) - 1, 0, -1):
            i = 0
            while i + size <= len(run_of(best)[1]):
                actions = list(run_of(best)[1])
                if shorter(actions[:i] + actions[i + size :]):
                    improved = True
                else:
                    i += 1
        return improved

    def delete_pairs() -> bool:
        # Two steps apart: a session's start and its delivery, with a step of
        # another actor between them that the failure needs.
        for i in range(len(run_of(best)[1])):
            for j in range(i + 2, len(run_of(best)[1])):
                actions = list(run_of(best)[1])
                if shorter(actions[:i] + actions[i + 1 : j] + actions[j + 1 :]):
                    return True
        return False

    def shortcut() -> bool:
        # A stretch the model can walk in fewer steps: from each state of the example,
        # a bounded breadth-first search for a later state of the example.
        states, actions = run_of(best)
        last = {state: j for j, state in enumerate(states)}  # the latest visit
        for i in range(len(actions) - 1):
            for j, path in _shorter_paths(machine._moves, states[i], last, i, SHORTCUT_BUDGET):
                if shorter([*actions[:i], *path, *actions[j:]]):
                    return True
        return False

    while delete_runs() or delete_pairs() or shortcut():
        pass
    return best


#: States a shortcut search (`minimize`) may visit from one state of the example.
SHORTCUT_BUDGET = 5000


class _Reach(Model):
    """A machine's moves from one state of an example, as an engine model with one
    `sometimes` property per later state of the example: `check`'s witness for each
    is a shortest path to it (breadth-first)."""

    def __init__(
        self, moves: Callable[[Any], list[tuple[Any, Any]]], start: Any, targets: dict[int, Any]
    ) -> None:
        self.successors = moves
        self._start = start
        self._targets = targets

    def init_states(self) -> list[Any]:
        return [self._start]

    def properties(self) -> list[Property]:
        return [
            Property.sometimes(str(j), partial(operator.eq, target))
            for j, target in self._targets.items()
        ]


def _shorter_paths(
    moves: Callable[[Any], list[tuple[Any, Any]]],
    start: Any,
    last: dict[Any, int],
    i: int,
    budget: int,
) -> list[tuple[int, list[Any]]]:
    """`(j, actions)` for each later state j of an example that the machine reaches
    from `start` (its state i) in fewer than j - i steps: the shortest such path,
    most steps saved first. The search visits at most `budget` states, and goes no
    deeper than a path that could still save a step."""
    targets = {j: state for state, j in last.items() if j >= i + 2}
    if not targets:
        return []
    horizon = max(targets) - i - 1  # deeper paths cannot save a step
    result = check(
        _Reach(moves, start, targets), deadlock=False, max_states=budget, max_depth=horizon + 1
    )
    found = []
    for name, trace in result.witnesses.items():
        j = int(name)
        saved = j - i - len(trace.actions)
        if saved > 0:
            found.append((saved, j, list(trace.actions)))
    found.sort(key=lambda f: (-f[0], f[1]))
    return [(j, path) for _saved, j, path in found]


def _identifier(name: str, taken: set[str]) -> str:
    ident = re.sub(r"\W", "_", name) or "action"
    if ident[0].isdigit():
        ident = "_" + ident
    base, n = ident, 2
    while ident in taken:
        ident, n = f"{base}_{n}", n + 1
    taken.add(ident)
    return ident


def _name_rule(name: str, ident: str) -> Any:
    def take(self: ModelStateMachine, data: Any) -> None:
        self._take(self._draw(data, self._offered[name], name))

    take.__name__ = ident
    take.__qualname__ = ident
    take.__doc__ = f"Take one enabled {name!r} action."
    return precondition(lambda self: name in self._offered)(rule(data=st.data())(take))


def _any_rule() -> Any:
    def step(self: ModelStateMachine, data: Any) -> None:
        self._take(self._draw(data, self._offered_steps, "action"))

    step.__doc__ = "Take one enabled action."
    return precondition(lambda self: bool(self._offered_steps))(rule(data=st.data())(step))


def _invariant(prop: Property, ident: str) -> Any:
    predicate = prop.predicate

    def check(self: ModelStateMachine) -> None:
        if self.state is None:
            return
        try:
            ok = predicate(self.state)
        except Exception as exc:
            raise ModelError(
                f"the predicate of property {prop.name!r} raised",
                state=self.state,
                trace=self.trace(),
                cause=exc,
            ) from exc
        if not ok:
            self._fail(PropertyViolation, prop.name, Kind.ALWAYS)

    check.__name__ = ident
    check.__qualname__ = ident
    check.__doc__ = f"always {prop.name}: {prop.description}"
    return invariant()(check)


def state_machine(
    model: Any,
    *,
    name: str | None = None,
    deadlock: bool = True,
    format_action: Callable[[Any], str] | None = None,
    by_name: bool | None = None,
) -> type[ModelStateMachine]:
    """A Hypothesis `RuleBasedStateMachine` subclass that walks `model`.

    - `model`: any engine model (`lifecycle.engine.ModelProtocol`).
    - `deadlock`: fail on a non-terminal, in-boundary state with no enabled action.
    - `format_action`: how steps are printed; defaults to the model's
      `describe_action` when it has one, as `lifecycle check` prints them.
    - `by_name`: one rule per action name (the default when the model has
      `action_names()`), or a single rule over all enabled actions (`False`).

    Run it like any Hypothesis state machine::

        TestMyModel = state_machine(MyModel()).TestCase          # collected by pytest

        from hypothesis.stateful import run_state_machine_as_test
        run_state_machine_as_test(state_machine(MyModel()), settings=...)

    `always` properties are invariants; `always_recoverable` properties are checked
    on the last state of each run by exploring what is reachable from it (budget
    `recoverable_budget` states, a class attribute; past it, nothing is reported).

    `eventually` and `leads_to` properties are checked in bounded form at the end of
    each run (`ModelStateMachine.teardown`): from the last state, a deterministic
    round-robin scheduler takes the enabled *fair* actions (those a `Fairness.weak` or
    `Fairness.strong` constraint of the model's `fairness()` matches; the others are
    switched off, and a model without `fairness()` has no continuation at all) for at
    most `liveness_budget` steps (a class attribute, 200 by default). The goal must
    come in the run or in that continuation, else `LivenessNotMet` is raised, its
    trace the run followed by the continuation. When the continuation ends in a
    terminal state or one where no fair action is enabled, the failure is genuine (a
    fair behaviour stays there for ever without the goal); when the budget runs out,
    it says so, and a larger budget may pass. A continuation that leaves the boundary
    reports nothing. Passing is evidence, never a proof: the exhaustive `check()`
    decides liveness on every fair behaviour.

    `sometimes` properties are statements about the whole reachable graph, which a
    random walk cannot decide; the exhaustive `check()` decides them.
    """
    for required in ("init_states", "properties"):
        if not callable(getattr(model, required, None)):
            raise TypeError(
                f"{type(model).__name__} is not a model: it has no {required}() method "
                "(see lifecycle.engine.ModelProtocol)"
            )
    if not callable(getattr(model, "successors", None)) and not (
        callable(getattr(model, "actions", None)) and callable(getattr(model, "next_state", None))
    ):
        raise TypeError(
            f"{type(model).__name__} is not a model: it needs actions() and next_state(), "
            "or successors()"
        )
    inits = list(model.init_states())
    if not inits:
        raise ValueError(f"{type(model).__name__}.init_states() returned no state")
    if format_action is None:
        describe = getattr(model, "describe_action", None)
        format_action = describe if callable(describe) else default_format_action
    names_fn = getattr(model, "action_names", None)
    if by_name is None:
        by_name = callable(names_fn)
    if by_name and not callable(names_fn):
        raise TypeError(f"by_name=True needs {type(model).__name__}.action_names()")
    names: list[str] = sorted(set(names_fn())) if by_name and names_fn is not None else []
    props = list(model.properties())
    liveness = tuple(p for p in props if p.liveness)

    taken = {"start", "idle", "other_action", "any_step", "no_deadlock", "step", "trace", "state"}
    taken |= {"teardown", "fair_continuation"}  # the machine's own methods
    namespace: dict[str, Any] = {
        "model": model,
        "check_deadlock": deadlock,
        "format_step": staticmethod(format_action),
        "stats": RunStats(),
        "_init_states": tuple(inits),
        "_known_names": frozenset(names),
        "_listed_names": tuple(sorted(set(names_fn()))) if callable(names_fn) else (),
        "_within": _optional(model, "within_boundary"),
        "_terminal": _optional(model, "is_terminal"),
        "_recoverable": tuple(p for p in props if p.kind is Kind.RECOVERABLE),
        "_sometimes": tuple(p for p in props if p.kind is Kind.SOMETIMES),
        "_memo_stuck": {},
        "_liveness": liveness,
        # As the engine: the fairness is read (and validated) only for liveness.
        "_fairness": tuple(model_fairness(model)) if liveness else (),
        "_memo_live": {},
        "_memo_marks": {},
        "_memo_instances": {},
        "_schedule_fairness": _declared_fairness(model),
        "_memo_roles": {},
        "__doc__": f"Hypothesis walks of {model!r}.",
    }
    if by_name:
        for n in names:
            ident = _identifier(n, taken)
            namespace[ident] = _name_rule(n, ident)
    else:
        namespace["step"] = _any_rule()
        namespace["_known_names"] = _AllNames()  # `step` takes every enabled action
    for prop in props:
        if prop.kind is Kind.ALWAYS:
            ident = _identifier(f"always_{prop.name}", taken)
            namespace[ident] = _invariant(prop, ident)
    cls_name = name or f"{type(model).__name__}StateMachine"
    cls: type[ModelStateMachine] = type(cls_name, (ModelStateMachine,), namespace)
    return cls


def _declared_fairness(model: Any) -> tuple[Fairness, ...]:
    """The model's fairness for the "focus" schedule, or none: a schedule is a search
    heuristic, so a fairness that does not validate leaves it without one instead of
    failing (the liveness check reports it)."""
    try:
        return tuple(model_fairness(model))
    except Exception:
        return ()


class _AllNames(frozenset[str]):
    """A set that contains every name (used when a single rule takes every action)."""

    def __contains__(self, item: object) -> bool:
        return True
