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
- every `always` property is an `@invariant`;
- a state inside the boundary, not terminal, with no enabled action fails as a deadlock.

A failure raises `PropertyViolation` (or `DeadlockFound`), an `AssertionError` whose
message lists the steps in the same format as `lifecycle check`, and which carries the
`Trace` for programmatic use.
"""

from __future__ import annotations

import operator
import re
import time
from collections.abc import Callable, Iterable, Sequence
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
from lifecycle.engine.properties import waiting_keys

__all__ = [
    "DeadlockFound",
    "LifecycleFailure",
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


def failure_text(
    prop: str,
    kind: Kind,
    trace: Trace,
    format_action: Callable[[Any], str],
    found_by: str,
    detail: str = "",
) -> str:
    """The header and steps, as `lifecycle check` prints a violation."""
    if kind is Kind.DEADLOCK:
        head = f"deadlock ({kind.value}): a non-terminal state with no enabled action"
    elif kind is Kind.RECOVERABLE:
        head = f"{prop} ({kind.value}) violated: {detail}"
    else:
        head = f"{prop} ({kind.value}) violated"
    return (
        f"{head}; counterexample found by {found_by}, {len(trace)} steps:\n"
        f"{trace.render(format_action=format_action)}"
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
        type(self).stats.examples += 1

    # -- bookkeeping
    def trace(self) -> Trace:
        return Trace(tuple(self._states), tuple(self._actions))

    def _enter(self, state: Any) -> None:
        self.state = state
        self._states.append(state)
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
        self._by_name = by_name

    def _take(self, step: _Step) -> None:
        type(self).stats.steps += 1
        self._actions.append(step.action)
        self._enter(step.next_state)

    def _fail(self, cls: type[LifecycleFailure], prop: str, kind: Kind, detail: str = "") -> None:
        trace = self.trace()
        text = failure_text(prop, kind, trace, self.format_step, "Hypothesis", detail)
        failure = cls(prop, kind, trace, text)
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
        """Choose an initial state (no draw when there is only one)."""
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

    @precondition(
        lambda self: (
            self.state is not None and any(name not in self._known_names for name in self._by_name)
        )
    )
    @rule(data=st.data())
    def other_action(self, data: Any) -> None:
        """Enabled actions whose name `action_names()` did not list."""
        steps = [s for s in self._steps if action_name(s.action) not in self._known_names]
        self._take(self._draw(data, steps, "action"))

    _recoverable: Sequence[Property] = ()
    _memo_stuck: dict[tuple[str, Any], list[Any] | None]
    recoverable_budget: int = 20_000

    def teardown(self) -> None:
        """Check the `always_recoverable` properties on the last state (see
        `stuck_keys`: a stuck state stays stuck, so the last state is enough)."""
        if self.state is None or not self._recoverable:
            return
        memo = type(self)._memo_stuck  # shortening replays the same last states
        for prop in self._recoverable:
            if (prop.name, self.state) not in memo:
                memo[prop.name, self.state] = stuck_keys(
                    self._next_states, prop.predicate, self.state, self.recoverable_budget
                )
            keys = memo[prop.name, self.state]
            if keys:
                detail = (
                    f"{', '.join(map(repr, keys))} waits forever: no state reachable from "
                    "the last one frees it"
                )
                self._fail(StuckForever, prop.name, Kind.RECOVERABLE, detail)

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

    This repeats until no change keeps the failure. Every example returned is a real
    run of the machine, ending where the property fails. A candidate that fails
    otherwise (another property, a model error or a disagreement on a path Hypothesis
    never took) is not kept: the failure Hypothesis found is never lost.
    """
    best = failure

    teardown = best.kind is Kind.RECOVERABLE  # the costly end-of-run exploration

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
            and len(found.trace.actions) < len(best.trace.actions)
        ):
            best = found
            return True
        return False

    def delete_runs() -> bool:
        improved = False
        for size in range(len(best.trace.actions) - 1, 0, -1):
            i = 0
            while i + size <= len(best.trace.actions):
                actions = list(best.trace.actions)
                if shorter(actions[:i] + actions[i + size :]):
                    improved = True
                else:
                    i += 1
        return improved

    def delete_pairs() -> bool:
        # Two steps apart: a session's start and its delivery, with a step of
        # another actor between them that the failure needs.
        for i in range(len(best.trace.actions)):
            for j in range(i + 2, len(best.trace.actions)):
                actions = list(best.trace.actions)
                if shorter(actions[:i] + actions[i + 1 : j] + actions[j + 1 :]):
                    return True
        return False

    def shortcut() -> bool:
        # A stretch the model can walk in fewer steps: from each state of the example,
        # a bounded breadth-first search for a later state of the example.
        states, actions = best.trace.states, best.trace.actions
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
        self._take(self._draw(data, self._by_name[name], name))

    take.__name__ = ident
    take.__qualname__ = ident
    take.__doc__ = f"Take one enabled {name!r} action."
    return precondition(lambda self: name in self._by_name)(rule(data=st.data())(take))


def _any_rule() -> Any:
    def step(self: ModelStateMachine, data: Any) -> None:
        self._take(self._draw(data, self._steps, "action"))

    step.__doc__ = "Take one enabled action."
    return precondition(lambda self: bool(self._steps))(rule(data=st.data())(step))


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

    taken = {"start", "idle", "other_action", "no_deadlock", "step", "trace", "state"}
    namespace: dict[str, Any] = {
        "model": model,
        "check_deadlock": deadlock,
        "format_step": staticmethod(format_action),
        "stats": RunStats(),
        "_init_states": tuple(inits),
        "_known_names": frozenset(names),
        "_within": _optional(model, "within_boundary"),
        "_terminal": _optional(model, "is_terminal"),
        "_recoverable": tuple(p for p in model.properties() if p.kind is Kind.RECOVERABLE),
        "_memo_stuck": {},
        "__doc__": f"Hypothesis walks of {model!r}.",
    }
    if by_name:
        for n in names:
            ident = _identifier(n, taken)
            namespace[ident] = _name_rule(n, ident)
    else:
        namespace["step"] = _any_rule()
        namespace["_known_names"] = _AllNames()  # `step` takes every enabled action
    for prop in model.properties():
        if prop.kind is Kind.ALWAYS:
            ident = _identifier(f"always_{prop.name}", taken)
            namespace[ident] = _invariant(prop, ident)
    cls_name = name or f"{type(model).__name__}StateMachine"
    cls: type[ModelStateMachine] = type(cls_name, (ModelStateMachine,), namespace)
    return cls


class _AllNames(frozenset[str]):
    """A set that contains every name (used when a single rule takes every action)."""

    def __contains__(self, item: object) -> bool:
        return True
