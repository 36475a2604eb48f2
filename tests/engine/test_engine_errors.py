"""A broken model yields a `ModelError` that names the failing part, the state and the
action, and carries (and prints) the trace that leads to the state."""

from __future__ import annotations

from typing import Any

import pytest

from lifecycle.engine import Model, ModelError, Property, check

STORES = ("exact", "fingerprint")

# The path to the failing state (3, 1) is Inc(x) Inc(x) Inc(x) Inc(y) in some order;
# BFS reaches it at depth 4 whichever order it took.
BOOM = (3, 1)


class Grid(Model):
    """A 6x6 grid of (x, y) counters; subclasses break one part of it at BOOM."""

    def init_states(self) -> list[Any]:
        return [(0, 0)]

    def actions(self, state: Any) -> list[Any]:
        return [("IncX",), ("IncY",)]

    def next_state(self, state: Any, action: Any) -> Any:
        x, y = state
        if action == ("IncX",):
            return (x + 1, y) if x < 5 else None
        return (x, y + 1) if y < 5 else None

    def is_terminal(self, state: Any) -> bool:
        return state == (5, 5)

    def properties(self) -> list[Property]:
        return [Property.always("small", lambda s: s[0] + s[1] < 20)]


class FastGrid(Grid):
    def successors(self, state: Any) -> list[Any]:
        return [(a, n) for a in self.actions(state) if (n := self.next_state(state, a))]


def raise_error(model_error: ModelError) -> str:
    text = str(model_error)
    assert "Traceback" not in text
    return text


def assert_trace_reaches(err: ModelError, state: Any, steps: int) -> None:
    assert err.trace is not None
    assert err.trace.states[0] == (0, 0)
    assert err.trace.states[-1] == state
    assert len(err.trace) == steps
    text = str(err)
    assert f"trace to that state ({steps} steps)" in text
    assert "0. initial state" in text
    # Every step of the trace is printed with its action.
    for i, action in enumerate(err.trace.actions, start=1):
        assert f"{i}. {action[0]}" in text


@pytest.mark.parametrize("store", STORES)
def test_next_state_raises(store: str) -> None:
    class Broken(Grid):
        def next_state(self, state: Any, action: Any) -> Any:
            if state == BOOM and action == ("IncY",):
                raise ZeroDivisionError("deliberate")
            return super().next_state(state, action)

    with pytest.raises(ModelError) as info:
        check(Broken(), store=store)
    err = info.value
    assert err.state == BOOM and err.action == ("IncY",)
    assert isinstance(err.cause, ZeroDivisionError)
    text = raise_error(err)
    assert text.startswith("next_state() raised: ZeroDivisionError: deliberate")
    assert "in state: (3, 1)" in text
    assert "action: IncY" in text
    assert_trace_reaches(err, BOOM, 4)


@pytest.mark.parametrize("store", STORES)
def test_actions_raises(store: str) -> None:
    class Broken(Grid):
        def actions(self, state: Any) -> list[Any]:
            if state == BOOM:
                raise KeyError("no actions here")
            return super().actions(state)

    with pytest.raises(ModelError) as info:
        check(Broken(), store=store)
    err = info.value
    text = raise_error(err)
    assert text.startswith("actions() raised: KeyError")
    assert err.state == BOOM and "in state: (3, 1)" in text
    assert_trace_reaches(err, BOOM, 4)
    # The action that reached the failing state is the trace's last step.
    assert err.trace is not None and err.trace.actions[-1] in (("IncX",), ("IncY",))


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("fast", [False, True])
def test_unhashable_next_state(store: str, fast: bool) -> None:
    base: type[Grid] = FastGrid if fast else Grid

    class Broken(base):  # type: ignore[valid-type,misc]
        def next_state(self, state: Any, action: Any) -> Any:
            nxt = Grid.next_state(self, state, action)
            if state == BOOM and action == ("IncX",):
                return [4, 1]  # a list: unhashable
            return nxt

    with pytest.raises(ModelError) as info:
        check(Broken(), store=store)
    err = info.value
    text = raise_error(err)
    source = "successors()" if fast else "next_state()"
    assert text.startswith(f"{source} returned an unhashable state")
    assert "TypeError" in text and "unhashable" in text
    assert err.state == BOOM and err.action == ("IncX",)
    assert "action: IncX" in text
    assert_trace_reaches(err, BOOM, 4)


def test_unhashable_initial_state() -> None:
    class Broken(Grid):
        def init_states(self) -> list[Any]:
            return [[0, 0]]

    with pytest.raises(ModelError) as info:
        check(Broken())
    text = raise_error(info.value)
    assert "init_states() returned an unhashable state" in text
    assert "in state: [0, 0]" in text


def test_init_states_raises() -> None:
    class Broken(Grid):
        def init_states(self) -> list[Any]:
            raise RuntimeError("no start")

    with pytest.raises(ModelError, match=r"init_states\(\) raised: RuntimeError: no start"):
        check(Broken())


def test_no_initial_state() -> None:
    class Empty(Grid):
        def init_states(self) -> list[Any]:
            return []

    with pytest.raises(ModelError, match="no initial state"):
        check(Empty())


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("keep_graph", [False, True])
@pytest.mark.parametrize("kind", ["always", "sometimes", "always_recoverable"])
def test_raising_predicate(store: str, keep_graph: bool, kind: str) -> None:
    def predicate(state: Any) -> Any:
        if state == BOOM:
            raise ValueError("bad predicate")
        # always: holds; sometimes: no witness yet (so it is still evaluated);
        # always_recoverable: nobody waits.
        return {"always": True, "sometimes": False, "always_recoverable": ()}[kind]

    class Broken(Grid):
        def properties(self) -> list[Property]:
            return [getattr(Property, kind)("fragile", predicate)]

    with pytest.raises(ModelError) as info:
        check(Broken(), store=store, keep_graph=keep_graph)
    err = info.value
    text = raise_error(err)
    assert text.startswith("the predicate of property 'fragile' raised: ValueError: bad predicate")
    assert err.state == BOOM and "in state: (3, 1)" in text
    # The action that led to the state is named, and the trace ends at the state.
    assert err.action in (("IncX",), ("IncY",))
    assert f"action: {err.action[0]}" in text
    assert_trace_reaches(err, BOOM, 4)
    assert err.trace is not None and err.trace.actions[-1] == err.action


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("bad", [[["a list is unhashable"]], 5])
def test_recoverable_predicate_returning_unusable_keys(store: str, bad: Any) -> None:
    """An `always_recoverable` predicate must return a bool or hashable keys; the error
    names the state whose keys were wrong, not the state being expanded."""

    class Broken(Grid):
        def properties(self) -> list[Property]:
            return [Property.always_recoverable("waits", lambda s: bad if s == BOOM else ())]

    with pytest.raises(ModelError) as info:
        check(Broken(), store=store)
    err = info.value
    text = raise_error(err)
    assert text.startswith("the predicate of property 'waits' returned keys that are not a bool")
    assert err.state == BOOM
    assert_trace_reaches(err, BOOM, 4)


def test_raising_predicate_on_an_initial_state() -> None:
    class Broken(Grid):
        def properties(self) -> list[Property]:
            return [Property.always("fragile", lambda s: bool(1 / 0))]

    with pytest.raises(ModelError) as info:
        check(Broken())
    err = info.value
    assert "the predicate of property 'fragile' raised: ZeroDivisionError" in str(err)
    assert err.state == (0, 0) and err.action is None
    assert err.trace is not None and len(err.trace) == 0


@pytest.mark.parametrize("method", ["within_boundary", "is_terminal"])
@pytest.mark.parametrize("recoverable", [False, True])
def test_optional_methods_that_raise(method: str, recoverable: bool) -> None:
    """With an `always_recoverable` property the search keeps the graph and asks
    `within_boundary` of each new state as it stores it, not only as it expands it."""

    def broken(self: Any, state: Any) -> bool:
        if state == BOOM:
            raise IndexError("optional")
        return state == (5, 5) if method == "is_terminal" else True

    class Broken(Grid):
        def actions(self, state: Any) -> list[Any]:
            # (3, 1) is a sink here, so is_terminal is asked about it.
            return [] if state == BOOM else super().actions(state)

        def properties(self) -> list[Property]:
            extra = [Property.always_recoverable("free", lambda s: ())] if recoverable else []
            return [*super().properties(), *extra]

    setattr(Broken, method, broken)
    with pytest.raises(ModelError) as info:
        check(Broken())
    err = info.value
    assert f"{method}() raised: IndexError: optional" in str(err)
    assert err.state == BOOM
    assert_trace_reaches(err, BOOM, 4)


def test_not_a_model() -> None:
    with pytest.raises(TypeError, match=r"no init_states\(\) method"):
        check(object())  # type: ignore[arg-type]

    class NoNext:
        def init_states(self) -> list[int]:
            return [0]

        def actions(self, state: int) -> list[str]:
            return []

        def properties(self) -> list[Property]:
            return []

    with pytest.raises(TypeError, match=r"NoNext is not a model: it has no next_state\(\)"):
        check(NoNext())  # type: ignore[arg-type]


def test_property_names_must_be_unique_and_not_deadlock() -> None:
    class Twice(Grid):
        def properties(self) -> list[Property]:
            return [Property.always("p", bool), Property.always("p", bool)]

    class Reserved(Grid):
        def properties(self) -> list[Property]:
            return [Property.always("deadlock", bool)]

    with pytest.raises(ValueError, match="duplicate"):
        check(Twice())
    with pytest.raises(ValueError, match="reserved"):
        check(Reserved())
    assert check(Reserved(), deadlock=False).ok


def test_a_raising_liveness_goal_is_named_with_its_trace() -> None:
    def goal(state: Any) -> bool:
        if state == BOOM:
            raise ZeroDivisionError("boom")
        return state == (5, 5)

    class Broken(Grid):
        def properties(self) -> list[Property]:
            return [Property.leads_to("corner", lambda s: s == (0, 0), goal)]

    with pytest.raises(ModelError, match="the predicate of property 'corner' raised") as info:
        check(Broken())
    assert info.value.state == BOOM
    assert info.value.trace is not None and info.value.trace.states[-1] == BOOM


def test_unhashable_action() -> None:
    class Broken(Grid):
        def actions(self, state: Any) -> list[Any]:
            return [["IncX"]] if state == BOOM else super().actions(state)

        def next_state(self, state: Any, action: Any) -> Any:
            return None if isinstance(action, list) else super().next_state(state, action)

    with pytest.raises(ModelError) as info:
        check(Broken())
    text = raise_error(info.value)
    assert text.startswith("actions() returned an unhashable action")
    assert info.value.state == BOOM
    assert_trace_reaches(info.value, BOOM, 4)
