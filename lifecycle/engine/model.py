"""The model protocol the checker explores.

The split between *which* actions are candidates (`actions`) and *what* they do
(`next_state`) is what lets traces name their steps, as in Stateright's `Model` trait.
States and actions are plain hashable values, so the checker can store, compare and
print them without knowing anything about the domain.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from lifecycle.engine.properties import Property

State = Hashable
Action = Hashable


@runtime_checkable
class ModelProtocol(Protocol):
    """What `check()` needs from a model.

    `within_boundary` and `is_terminal` are optional: an object that lacks them gets
    the defaults of `Model` (everything in bounds, nothing terminal). A step that
    changes nothing may return `state` itself (TLA+'s UNCHANGED): the checker counts
    it without hashing it, since the state being expanded is stored already.
    """

    def init_states(self) -> Iterable[Any]: ...

    def actions(self, state: Any) -> Iterable[Any]: ...

    def next_state(self, state: Any, action: Any) -> Any | None: ...

    def properties(self) -> Sequence[Property]: ...


class Model:
    """Optional base class that supplies the defaults of the optional methods.

    Subclasses override `init_states`, `actions`, `next_state` and `properties`.
    A subclass may also define `successors(state)`, yielding `(action, next_state)`
    for the *enabled* actions only; the checker then uses it instead of calling
    `actions` and `next_state` separately, which saves a call per candidate action.
    """

    def init_states(self) -> Iterable[Any]:
        raise NotImplementedError

    def actions(self, state: Any) -> Iterable[Any]:
        raise NotImplementedError

    def next_state(self, state: Any, action: Any) -> Any | None:
        raise NotImplementedError

    def properties(self) -> Sequence[Property]:
        return []

    def within_boundary(self, state: Any) -> bool:
        """States outside the boundary are counted but not expanded (TLC's CONSTRAINT)."""
        return True

    def is_terminal(self, state: Any) -> bool:
        """Legitimate end states, which are not deadlocks."""
        return False


def action_name(action: Any) -> str:
    """The name of an action, for coverage and traces.

    `("RMPrepare", rm)` is named `RMPrepare`; a string is its own name; an enum member
    is named by its member name; a dataclass, namedtuple or other object by its type.
    """
    if isinstance(action, str):
        return action
    if type(action) is tuple:
        if action and isinstance(action[0], str):
            return action[0]
        return "tuple"
    name = getattr(action, "name", None)
    if isinstance(name, str) and type(action).__module__ == "enum":
        return name
    if hasattr(type(action), "__members__"):  # enum.Enum subclasses
        return str(getattr(action, "name", type(action).__name__))
    return type(action).__name__


def format_action(action: Any) -> str:
    """A one-line rendering of an action with its parameters: `RMPrepare(rm=1)`."""
    import dataclasses

    if isinstance(action, str):
        return action
    if type(action) is tuple:
        if action and isinstance(action[0], str):
            args = ", ".join(repr(a) for a in action[1:])
            return f"{action[0]}({args})" if len(action) > 1 else action[0]
        return repr(action)
    if dataclasses.is_dataclass(action) and not isinstance(action, type):
        args = ", ".join(
            f"{f.name}={getattr(action, f.name)!r}" for f in dataclasses.fields(action)
        )
        return f"{type(action).__name__}({args})"
    fields = getattr(action, "_fields", None)
    if isinstance(fields, tuple):
        args = ", ".join(f"{f}={getattr(action, f)!r}" for f in fields)
        return f"{type(action).__name__}({args})"
    if hasattr(type(action), "__members__"):
        return action_name(action)
    return repr(action)
