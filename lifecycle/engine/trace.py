"""Counterexample traces and their text rendering.

The rendering shows each step's action with its parameters and only the fields that
changed, like TLC's `-difftrace`: a reader of a 20-step trace wants to see what moved.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from lifecycle.engine.model import format_action


@dataclass(frozen=True)
class Trace:
    """A path through the state graph: `states[0]` is an initial state, and
    `actions[i]` leads from `states[i]` to `states[i + 1]`."""

    states: tuple[Any, ...]
    actions: tuple[Any, ...]

    def __post_init__(self) -> None:
        if self.states and len(self.actions) != len(self.states) - 1:
            raise ValueError("a trace has one action fewer than it has states")

    def __len__(self) -> int:
        """The number of steps (actions)."""
        return len(self.actions)

    def steps(self) -> Iterator[tuple[Any, Any, Any]]:
        """Yield `(before, action, after)` for each step."""
        for i, action in enumerate(self.actions):
            yield self.states[i], action, self.states[i + 1]

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
        lines.append(f"{i}. {format_action(action)}")
        if diff:
            changes = changed_fields(before, after)
            if not changes:
                lines.append("     (no field changed)")
            for key, (old, new) in changes.items():
                lines.append(f"     {key}: {old!r} -> {new!r}")
        else:
            for key, value in state_fields(after).items():
                lines.append(f"     {key} = {value!r}")
    return "\n".join(lines)


def trace_to_jsonable(
    trace: Trace, encode: Callable[[Any], Any] | None = None
) -> list[dict[str, Any]]:
    """`[{action, state}, ...]`: the first entry has action None (the initial state)."""
    enc = encode or to_jsonable
    out: list[dict[str, Any]] = []
    for i, state in enumerate(trace.states):
        action = None if i == 0 else format_action(trace.actions[i - 1])
        out.append({"action": action, "state": enc(state)})
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
