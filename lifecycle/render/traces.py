"""From an engine trace to a sequence chart and a step table.

Works for any engine model. When the model can say who performs an action
(`actor_of(action)`) and, for a message, to whom it goes (`message_of(action)`, and
`reversed(action)` for a message drawn towards the actor), the steps become arrows
between the lifelines user, device, network, server, Azure AD and admin; otherwise
each step is a local step on a single "system" lifeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lifecycle.engine import Trace, changed_fields, format_action
from lifecycle.render.sequence import DEFAULT_LIFELINES, LOCAL, LOST, MESSAGE, SequenceChart, Step

LIFELINE_KEYS = tuple(key for key, _ in DEFAULT_LIFELINES)
# actors that are not lifelines of their own, drawn on the party they act on
ACTOR_ALIASES = {
    "timer": "device",
    "directory": "aad",
    "azure_ad": "aad",
    "azuread": "aad",
    "client": "device",
    "mdm": "server",
}


@dataclass(frozen=True)
class StepRow:
    """One row of a counterexample's step table."""

    index: int
    actor: str
    action: str
    changes: tuple[tuple[str, str, str], ...]  # (field, before, after)
    failing: bool = False
    facts: str = ""


def _lifeline(name: Any) -> str | None:
    if name is None:
        return None
    key = str(name).lower().replace(" ", "_")
    key = ACTOR_ALIASES.get(key, key)
    return key if key in LIFELINE_KEYS else None


def describe(model: Any, action: Any) -> str:
    fn = getattr(model, "describe_action", None)
    if callable(fn):
        return str(fn(action))
    return format_action(action)


def actor(model: Any, action: Any) -> str | None:
    fn = getattr(model, "actor_of", None)
    if callable(fn):
        try:
            return str(fn(action))
        except (KeyError, ValueError, LookupError):
            return None
    return None


def message(model: Any, action: Any) -> tuple[str | None, str | None]:
    """(message kind, peer) of an action when the model knows them, else (None, None)."""
    fn = getattr(model, "message_of", None)
    if callable(fn):
        try:
            got = fn(action)
        except (KeyError, ValueError, LookupError):
            got = None
        if got:
            kind, peer = got
            return (None if kind is None else str(kind), None if peer is None else str(peer))
    return None, None


def facts(model: Any, action: Any) -> str:
    fn = getattr(model, "facts_of", None)
    if callable(fn):
        try:
            got = fn(action)
        except (KeyError, ValueError, LookupError):
            return ""
        return ", ".join(str(f) for f in got or ())
    return ""


def short_label(model: Any, action: Any) -> str:
    fn = getattr(model, "short_label", None)
    if callable(fn):
        return str(fn(action))
    return describe(model, action)


def step_of(model: Any, action: Any, detail: str = "") -> Step:
    """One chart step for an action: the short label on the arrow; when the model has
    a separate short label, its full description goes in the notes column."""
    label = short_label(model, action)
    full = describe(model, action)
    note = full if full != label else ""
    who = _lifeline(actor(model, action))
    if who is None:
        return Step("system", "system", label, LOCAL, detail, note)
    kind, peer = message(model, action)
    target = _lifeline(peer)
    if target is None or target == who:
        return Step(who, who, label, LOCAL, detail, note)
    lost = kind is not None and "lost" in kind.lower()
    flip = getattr(model, "reversed", None)
    if callable(flip) and flip(action):
        who, target = target, who
    return Step(who, target, label, LOST if lost else MESSAGE, detail, note)


def _change_text(changes: dict[str, tuple[Any, Any]], limit: int = 6) -> str:
    items = [f"{k}: {a!r} -> {b!r}" for k, (a, b) in changes.items()]
    if len(items) > limit:
        items = [*items[:limit], f"... and {len(items) - limit} more"]
    return "\n".join(items)


def trace_chart(
    model: Any,
    trace: Trace,
    *,
    title: str,
    failing_note: str = "",
    subtitle: str = "",
) -> SequenceChart:
    """The trace as a sequence chart whose last step is marked as the failing one."""
    steps = []
    for before, action, after in trace.steps():
        detail_parts = []
        fact_text = facts(model, action)
        if fact_text:
            detail_parts.append(f"facts: {fact_text}")
        change = _change_text(changed_fields(before, after))
        if change:
            detail_parts.append(change)
        steps.append(step_of(model, action, "\n".join(detail_parts)))
    if trace.stutters:
        # The behaviour stays in its last state: drawn on the last step's lifeline.
        where = steps[-1].source if steps else "system"
        steps.append(Step(where, where, "nothing more happens, for ever", LOCAL))
    used = {s.source for s in steps} | {s.target for s in steps}
    if "system" in used:
        lifelines: tuple[tuple[str, str], ...] = (("system", "System"),)
        if used - {"system"}:
            lifelines = (*DEFAULT_LIFELINES, *lifelines)
    else:
        lifelines = DEFAULT_LIFELINES
    return SequenceChart(
        title=title,
        steps=tuple(steps),
        lifelines=lifelines,
        failing=None if trace.is_lasso else (len(steps) - 1 if steps else None),
        failing_note=failing_note,
        subtitle=subtitle,
        loop_start=trace.cycle_start if trace.is_lasso and steps else None,
    )


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def trace_rows(model: Any, trace: Trace) -> tuple[StepRow, ...]:
    """The step table of a trace: who, what, and the changed fields (before, after)."""
    rows = []
    n = len(trace)
    for i, (before, action, after) in enumerate(trace.steps(), start=1):
        who = actor(model, action) or "system"
        changes = tuple(
            (k, _short(a), _short(b)) for k, (a, b) in changed_fields(before, after).items()
        )
        text = describe(model, action)
        if trace.is_lasso and i == len(trace.states):
            text += f" (back to the state after step {trace.cycle_start})"
        rows.append(
            StepRow(i, who, text, changes, i == n and not trace.is_lasso, facts(model, action))
        )
    if trace.stutters:
        rows.append(StepRow(n, "system", "nothing more happens, for ever (stutters)", (), False))
    return tuple(rows)
