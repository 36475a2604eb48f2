"""Walking a model by hand: a path is an initial state and a list of choices.

The explorer keeps no session on the server. Its address says where you are: the
path `2.0.5` is initial state 2, then the enabled step 0 there, then the enabled
step 5 of the state that reached. Any page can be bookmarked, shared, reloaded or
opened twice, and the back button is the browser's own (as Stateright's Explorer
does with its fingerprint paths). The steps of a state are listed in the order of
`enabled_steps` (by their rendering), so a path means the same on every run.

This module knows the engine's model protocol only, nothing of MDM: any model that
`lifecycle.engine.check` accepts can be explored.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from lifecycle.engine import Kind, Property, Trace, changed_fields
from lifecycle.engine import format_action as default_format_action
from lifecycle.engine.properties import waiting_keys
from lifecycle.engine.trace import STUTTER
from lifecycle.testing.machine import enabled_steps

__all__ = [
    "PathError",
    "PropertyAtState",
    "StepChoice",
    "Walk",
    "Walker",
]

#: The longest path the explorer follows: an address is typed by a person, not
#: generated, and a path this long is a mistake (or an attempt to make the server
#: compute for ever).
MAX_PATH = 2_000


class PathError(ValueError):
    """A path that names no state of the model (one line, for an HTTP 400)."""


@dataclass(frozen=True)
class StepChoice:
    """One enabled step of a state, as the page offers it."""

    index: int
    action: Any
    text: str
    next_state: Any
    #: The step leaves the state as it is (a self-loop).
    stays: bool


@dataclass(frozen=True)
class PropertyAtState:
    """What a property says of one state, in words."""

    name: str
    kind: str
    description: str
    #: "holds", "violated", "witness", "not here", "waiting", ...: one word for a badge.
    status: str
    detail: str


@dataclass(frozen=True)
class Walk:
    """Where a path leads: its choices, and the states and actions on the way."""

    choices: tuple[int, ...]
    states: tuple[Any, ...]
    actions: tuple[Any, ...]

    @property
    def state(self) -> Any:
        return self.states[-1]

    def prefix(self, steps: int) -> str:
        """The address of the state after `steps` steps of this walk."""
        return encode(self.choices[: steps + 1])

    def trace(self) -> Trace:
        return Trace(self.states, self.actions)


def encode(choices: Sequence[int]) -> str:
    return ".".join(str(c) for c in choices)


def parse(text: str) -> tuple[int, ...]:
    """`"2.0.5"` -> (2, 0, 5); a one-line `PathError` for anything else."""
    text = text.strip()
    if not text:
        return (0,)
    parts = text.split(".")
    if len(parts) > MAX_PATH + 1:
        raise PathError(
            f"the path has {len(parts) - 1} steps; the explorer takes at most {MAX_PATH}"
        )
    out = []
    for i, part in enumerate(parts):
        if not (part.isascii() and part.isdigit()) or len(part) > 6:
            shown = part[:20].encode("unicode_escape").decode()
            raise PathError(f"path part {i + 1} ({shown!r}) is not a step number")
        out.append(int(part))
    return tuple(out)


class Walker:
    """The model, seen one state at a time."""

    def __init__(self, model: Any, format_action: Callable[[Any], str] | None = None) -> None:
        self.model = model
        describe = getattr(model, "describe_action", None)
        self.format_action: Callable[[Any], str] = format_action or (
            describe if callable(describe) else default_format_action
        )
        self.init_states = tuple(model.init_states())
        if not self.init_states:
            raise ValueError(f"{type(model).__name__}.init_states() returned no state")
        self.properties: tuple[Property, ...] = tuple(model.properties())
        self._steps: dict[Any, tuple[StepChoice, ...]] = {}

    def steps(self, state: Any) -> tuple[StepChoice, ...]:
        """The enabled steps of `state`, numbered as paths number them."""
        found = self._steps.get(state)
        if found is None:
            if len(self._steps) > 100_000:
                self._steps.clear()
            pairs = enabled_steps(self.model, state, self.format_action)
            found = self._steps[state] = tuple(
                StepChoice(i, a, self.format_action(a), n, n == state)
                for i, (a, n) in enumerate(pairs)
            )
        return found

    def follow(self, choices: Sequence[int]) -> Walk:
        """The walk a path names; `PathError` (one line) at the first bad choice."""
        if not choices:
            choices = (0,)
        first = choices[0]
        if first >= len(self.init_states):
            raise PathError(
                f"there is no initial state {first}: the model has {len(self.init_states)}"
            )
        states = [self.init_states[first]]
        actions = []
        for depth, choice in enumerate(choices[1:], start=1):
            steps = self.steps(states[-1])
            if choice >= len(steps):
                raise PathError(
                    f"step {depth} of the path chooses {choice}, but state {depth - 1} "
                    f"has {len(steps)} enabled step{'' if len(steps) == 1 else 's'}"
                )
            actions.append(steps[choice].action)
            states.append(steps[choice].next_state)
        return Walk(tuple(choices), tuple(states), tuple(actions))

    def path_of(self, trace: Trace) -> tuple[int, ...]:
        """The choices that walk `trace` (its path part: a lasso's closing arrow is not
        a step forward). `PathError` when a step is not an enabled step of the model,
        which for a trace the checker found would be an internal error."""
        if not trace.states:
            return (0,)
        try:
            first = self.init_states.index(trace.states[0])
        except ValueError:
            raise PathError("the trace does not start in an initial state of the model") from None
        choices = [first]
        for i in range(len(trace.states) - 1):
            before, action, after = trace.states[i], trace.actions[i], trace.states[i + 1]
            match = next(
                (s for s in self.steps(before) if s.action == action and s.next_state == after),
                None,
            )
            if match is None:
                raise PathError(f"step {i + 1} of the trace is not an enabled step of the model")
            choices.append(match.index)
        return tuple(choices)

    def path_of_texts(self, texts: Sequence[str], init: int = 0) -> tuple[int, ...]:
        """The choices whose steps read as `texts` (a counterexample loaded from
        `lifecycle check --format json`, which records each step's description).
        `PathError` names the first step no enabled step reads as."""
        if init >= len(self.init_states):
            raise PathError(f"there is no initial state {init}")
        choices = [init]
        state = self.init_states[init]
        for i, text in enumerate(texts, start=1):
            match = [s for s in self.steps(state) if s.text == text]
            if not match:
                shown = text[:80].encode("unicode_escape").decode()
                raise PathError(f"step {i} ({shown!r}) is not enabled in the state before it")
            choices.append(match[0].index)
            state = match[0].next_state
        return tuple(choices)

    def changes(self, walk: Walk) -> dict[str, tuple[Any, Any]]:
        """The fields the last step changed (none at an initial state)."""
        if len(walk.states) < 2:
            return {}
        return changed_fields(walk.states[-2], walk.states[-1])

    def describe(self, action: Any) -> str:
        """An action as the page shows it; a lasso's stutter reads as staying put."""
        return "stays put" if action is STUTTER else self.format_action(action)

    def at(self, state: Any) -> list[PropertyAtState]:
        """What each property says of `state` alone. A `sometimes`, `eventually` or
        `leads_to` property is about behaviours, not one state: the page says whether
        this state is a witness, meets the goal or triggers the obligation, never
        whether the property holds."""
        rows = []
        for prop in self.properties:
            try:
                status, detail = _judge(prop, state)
            except Exception as exc:  # a model's predicate: shown, never a crash
                status, detail = "error", f"the predicate raised {type(exc).__name__}: {exc}"
            rows.append(
                PropertyAtState(prop.name, prop.kind.value, prop.description, status, detail)
            )
        return rows


def _keys(value: Any) -> list[Hashable]:
    return sorted(waiting_keys(value), key=repr)


def _judge(prop: Property, state: Any) -> tuple[str, str]:
    if prop.kind is Kind.ALWAYS:
        ok = bool(prop.predicate(state))
        return ("holds", "true in this state") if ok else ("violated", "false in this state")
    if prop.kind is Kind.SOMETIMES:
        if prop.predicate(state):
            return "witness", "this state is a witness"
        return "not here", "this state is not a witness"
    if prop.kind is Kind.RECOVERABLE:
        waiting = _keys(prop.predicate(state))
        if not waiting:
            return "free", "nobody waits in this state"
        return "waiting", "waiting: " + ", ".join(map(repr, waiting))
    if prop.kind is Kind.EVENTUALLY:
        if prop.predicate(state):
            return "goal", "the goal holds in this state"
        return "not yet", "the goal does not hold in this state"
    # leads_to: p triggers keys, the goal meets them
    triggered = _keys(prop.predicate(state))
    goal = prop.goal(state) if prop.goal is not None else False
    met = "all" if goal is True else ", ".join(map(repr, _keys(goal))) or "none"
    if triggered:
        return "triggered", f"triggers {', '.join(map(repr, triggered))}; goal met for {met}"
    return "quiet", f"triggers nothing; goal met for {met}"
