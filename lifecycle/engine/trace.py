"""Counterexample traces and their text rendering.

The rendering shows each step's action with its parameters and only the fields that
changed, like TLC's `-difftrace`: a reader of a 20-step trace wants to see what moved.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from lifecycle.engine.model import format_action


class Stutter(Enum):
    """The action of a lasso that ends by staying in its last state for ever (TLC
    prints it "Stuttering")."""

    STUTTER = "STUTTER"

    def __repr__(self) -> str:
        return "STUTTER"


STUTTER = Stutter.STUTTER


@dataclass(frozen=True)
class Trace:
    """A path through the state graph: `states[0]` is an initial state, and
    `actions[i]` leads from `states[i]` to `states[i + 1]`.

    A lasso (a liveness counterexample) has `cycle_start` set and one action per arrow:
    the last action leads from `states[-1]` back to `states[cycle_start]`. A behaviour
    that stays in its last state for ever ends with the action `STUTTER` and
    `cycle_start == len(states) - 1`."""

    states: tuple[Any, ...]
    actions: tuple[Any, ...]
    cycle_start: int | None = None

    def __post_init__(self) -> None:
        if self.cycle_start is None:
            if self.states and len(self.actions) != len(self.states) - 1:
                raise ValueError("a trace has one action fewer than it has states")
            return
        if not 0 <= self.cycle_start < len(self.states):
            raise ValueError("a lasso's cycle_start must name one of its states")
        if len(self.actions) != len(self.states):
            raise ValueError("a lasso has one action per state: the last one closes the loop")
        if self.stutters and self.cycle_start != len(self.states) - 1:
            raise ValueError("a lasso that stutters loops on its last state")

    def __len__(self) -> int:
        """The number of steps (actions), the closing arrow of a lasso included."""
        return len(self.actions)

    @property
    def is_lasso(self) -> bool:
        return self.cycle_start is not None

    @property
    def stutters(self) -> bool:
        """A lasso whose loop is its last state staying put for ever."""
        return self.cycle_start is not None and bool(self.actions) and self.actions[-1] is STUTTER

    def loop_text(self) -> str:
        """How a lasso's loop reads, after its path: "stays in state 13 for ever" or
        "steps 16-21 repeat for ever" (steps numbered from 1, the closing arrow last)."""
        if self.cycle_start is None:
            raise ValueError("not a lasso: the trace has no loop")
        if self.stutters:
            return f"stays in state {self.cycle_start} for ever"
        return f"steps {self.cycle_start + 1}-{len(self)} repeat for ever"

    def steps(self) -> Iterator[tuple[Any, Any, Any]]:
        """Yield `(before, action, after)` for each step. A lasso's closing arrow is the
        last step (after = `states[cycle_start]`); a stutter is not a step."""
        for i, action in enumerate(self.actions):
            if i + 1 < len(self.states):
                yield self.states[i], action, self.states[i + 1]
            elif not self.stutters:
                assert self.cycle_start is not None
                yield self.states[i], action, self.states[self.cycle_start]

    def render(
        self,
        *,
        format_action: Callable[[Any], str] = format_action,
        diff: bool = True,
    ) -> str:
        return render_trace(self, format_action=format_action, diff=diff)


def state_fields(state: Any) -> dict[str, Any]:
    """Flatten a state into named fields for diffing.

    Dataclasses and namedtuples are flattened by field name, nested ones with dotted
    names (`device[0].phase`); tuples by index; anything else is one field `state`.
    """
    out: dict[str, Any] = {}
    _flatten(state, "", out, depth=0)
    return out


def _flatten(value: Any, prefix: str, out: dict[str, Any], depth: int) -> None:
    if depth > 4:
        out[prefix or "state"] = value
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            name = f"{prefix}.{f.name}" if prefix else f.name
            _flatten(getattr(value, f.name), name, out, depth + 1)
        return
    fields = getattr(value, "_fields", None)
    if isinstance(value, tuple) and isinstance(fields, tuple):
        for f in fields:
            name = f"{prefix}.{f}" if prefix else f
            _flatten(getattr(value, f), name, out, depth + 1)
        return
    if type(value) is tuple and value and any(_is_structured(v) for v in value):
        for i, v in enumerate(value):
            _flatten(v, f"{prefix}[{i}]", out, depth + 1)
        return
    if type(value) is tuple and prefix == "":
        for i, v in enumerate(value):
            _flatten(v, f"[{i}]", out, depth + 1)
        return
    out[prefix or "state"] = value


def _is_structured(value: Any) -> bool:
    return (dataclasses.is_dataclass(value) and not isinstance(value, type)) or (
        isinstance(value, tuple) and isinstance(getattr(value, "_fields", None), tuple)
    )


def changed_fields(before: Any, after: Any) -> dict[str, tuple[Any, Any]]:
    """The fields whose value differs between two states: name -> (before, after)."""
    a, b = state_fields(before), state_fields(after)
    out: dict[str, tuple[Any, Any]] = {}
    for key in list(a) + [k for k in b if k not in a]:
        va, vb = a.get(key, _MISSING), b.get(key, _MISSING)
        if va != vb:
            out[key] = (va, vb)
    return out


class _Missing:
    def __repr__(self) -> str:
        return "-"


_MISSING = _Missing()


def render_trace(
    trace: Trace,
    *,
    format_action: Callable[[Any], str] = format_action,
    diff: bool = True,
) -> str:
    """Render a trace as numbered steps; the initial state in full, then changes."""
    if not trace.states:
        return "(no trace)"
    lines = ["0. initial state"]
    for key, value in state_fields(trace.states[0]).items():
        lines.append(f"     {key} = {value!r}")
    for i, (before, action, after) in enumerate(trace.steps(), start=1):
        closing = trace.cycle_start is not None and i == len(trace.states)
        back = f"   (back to state {trace.cycle_start})" if closing else ""
        lines.append(f"{i}. {format_action(action)}{back}")
        if closing:
            continue
        if diff:
            changes = changed_fields(before, after)
            if not changes:
                lines.append("     (no field changed)")
            for key, (old, new) in changes.items():
                lines.append(f"     {key}: {old!r} -> {new!r}")
        else:
            for key, value in state_fields(after).items():
                lines.append(f"     {key} = {value!r}")
    if trace.stutters:
        last = len(trace.states) - 1
        lines.append(f"{last + 1}. stutters for ever (stays in state {last})")
    if trace.cycle_start is not None:
        lines.insert(
            0,
            f"(a lasso: states {trace.cycle_start}..{len(trace.states) - 1} repeat for ever)",
        )
    return "\n".join(lines)


def trace_to_jsonable(
    trace: Trace, encode: Callable[[Any], Any] | None = None
) -> list[dict[str, Any]]:
    """`[{action, state}, ...]`: the first entry has action None (the initial state).
    A lasso ends with `{"action": ..., "back_to": cycle_start}` (the closing arrow, or
    `"STUTTER"`)."""
    enc = encode or to_jsonable
    out: list[dict[str, Any]] = []
    for i, state in enumerate(trace.states):
        action = None if i == 0 else format_action(trace.actions[i - 1])
        out.append({"action": action, "state": enc(state)})
    if trace.cycle_start is not None:
        closing = "STUTTER" if trace.stutters else format_action(trace.actions[-1])
        out.append({"action": closing, "back_to": trace.cycle_start})
    return out


def to_jsonable(value: Any) -> Any:
    """Turn a state (dataclass, namedtuple, tuple, frozenset, enum) into JSON data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    fields = getattr(value, "_fields", None)
    if isinstance(value, tuple) and isinstance(fields, tuple):
        return {f: to_jsonable(getattr(value, f)) for f in fields}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [to_jsonable(v) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=repr)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if hasattr(type(value), "__members__") and hasattr(value, "value"):
        return to_jsonable(value.value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)
