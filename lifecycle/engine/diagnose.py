"""Model-error diagnosis: which part of the model failed, for which state and action.

The hot loop catches a model's exception without knowing which call raised it (it
keeps no per-call bookkeeping, for speed). This module calls the model's parts again,
one by one, on the state the loop was expanding, and names the first that fails in a
`ModelError` with the state, the action and the trace to it. It runs only after a
failure, so it is written for clarity; the serial and parallel searches (a worker's
error is diagnosed in the coordinator) share it. It reads the search through
`Searched`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Protocol

from lifecycle.engine.fingerprint import CannotFingerprint
from lifecycle.engine.model import ModelProtocol
from lifecycle.engine.properties import Kind, Property, waiting_keys
from lifecycle.engine.result import ModelError
from lifecycle.engine.trace import Trace


class Searched(Protocol):
    """What the diagnosis reads of a search (`_Search` has all of it)."""

    model: ModelProtocol
    properties: list[Property]
    successors: Any
    within: Callable[[Any], Any] | None
    terminal: Callable[[Any], Any] | None
    tracked: bool

    def _key(self, state: Any) -> Hashable: ...

    def _trace_to(self, key: Hashable) -> Trace: ...


def diagnose(search: Searched, state: Any, action: Any, nxt: Any, exc: Exception) -> ModelError:
    """Say which part of the model failed, for which state and action."""
    trace = safe_trace(search, state)
    model = search.model
    if isinstance(exc, CannotFingerprint) and _hashable(nxt if nxt is not None else state):
        bad = nxt if nxt is not None else state
        return ModelError(
            f"a state cannot be fingerprinted: {exc} (value {exc.value!r}); use the "
            "exact store, or build states of ints, strings, tuples, frozensets, enums "
            "and frozen dataclasses",
            state=bad,
            action=action if bad is nxt else None,
            trace=trace,
            cause=exc,
        )
    try:
        hash(state)
    except TypeError as unhashable:
        return ModelError("a state is unhashable", state=state, trace=trace, cause=unhashable)
    if nxt is not None:
        try:
            hash(nxt)
        except TypeError as unhashable:
            source = "successors()" if search.successors is not None else "next_state()"
            return ModelError(
                f"{source} returned an unhashable state "
                "(use tuples, frozensets or frozen dataclasses)",
                state=state,
                action=action,
                trace=trace,
                cause=unhashable,
            )
    if search.within is not None:
        try:
            search.within(state)
        except Exception as inner:
            return ModelError("within_boundary() raised", state=state, trace=trace, cause=inner)
    if search.successors is not None:
        try:
            for action, nxt in search.successors(state):  # noqa: B007 (named on error)
                hash(nxt)
        except TypeError as inner:
            return ModelError(
                "successors() returned an unhashable state",
                state=state,
                action=action,
                trace=trace,
                cause=inner,
            )
        except Exception as inner:
            return ModelError(
                "successors() raised", state=state, action=action, trace=trace, cause=inner
            )
    else:
        try:
            candidates = list(model.actions(state))
        except Exception as inner:
            return ModelError("actions() raised", state=state, trace=trace, cause=inner)
        for candidate in candidates:
            try:
                model.next_state(state, candidate)
            except Exception as inner:
                return ModelError(
                    "next_state() raised",
                    state=state,
                    action=candidate,
                    trace=trace,
                    cause=inner,
                )
        try:
            for candidate in candidates:
                hash(candidate)
        except TypeError as inner:
            return ModelError(
                "actions() returned an unhashable action",
                state=state,
                action=None,
                trace=trace,
                cause=inner,
            )
    if search.terminal is not None:
        try:
            search.terminal(state)
        except Exception as inner:
            return ModelError("is_terminal() raised", state=state, trace=trace, cause=inner)
    if nxt is not None:
        found = diagnose_predicate(search, nxt, exc, parent=state, action=action)
        if found.cause is not exc:
            return found
        if search.within is not None and search.tracked:  # asked of each new state
            try:
                search.within(nxt)
            except Exception as inner:
                return ModelError(
                    "within_boundary() raised",
                    state=nxt,
                    action=action,
                    trace=found.trace,
                    cause=inner,
                )
    return ModelError("the model failed", state=state, action=action, trace=trace, cause=exc)


def diagnose_predicate(
    search: Searched, state: Any, exc: Exception, *, parent: Any = None, action: Any = None
) -> ModelError:
    """Say which property's predicate failed on `state` (reached from `parent` by
    `action`, when given), or that the model failed."""
    for prop in search.properties:
        what = "raised"
        try:
            value = prop.predicate(state)
            if prop.goal is not None:
                prop.goal(state)
            if prop.kind is Kind.RECOVERABLE:
                what = "returned keys that are not a bool or an iterable of hashable keys"
                for k in waiting_keys(value):
                    hash(k)
        except Exception as inner:
            if parent is not None:
                trace = safe_trace(search, parent)
                if trace is not None:
                    trace = Trace((*trace.states, state), (*trace.actions, action))
            else:
                trace = safe_trace(search, state)
                if action is None and trace is not None and trace.actions:
                    action = trace.actions[-1]  # the step that reached the state
            return ModelError(
                f"the predicate of property {prop.name!r} {what}",
                state=state,
                action=action,
                trace=trace,
                cause=inner,
            )
    return ModelError(
        "the model failed", state=state, action=action, trace=safe_trace(search, state), cause=exc
    )


def safe_trace(search: Searched, state: Any) -> Trace | None:
    """The trace to `state`, or None when it cannot be rebuilt (the state was never
    stored, or the model fails on replay)."""
    try:
        return search._trace_to(search._key(state))
    except Exception:
        return None


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
