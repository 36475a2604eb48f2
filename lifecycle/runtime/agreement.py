"""One source of truth, two interpreters: do the live machines and the engine agree?

`LifecycleModel.successors` (the engine's compiled successor function) and
`LiveWorld.successors` (live `transitions` machines) read the same tables. For every
state given, the two must enable the same actions and reach the same states. On the
first difference `Disagreement` says which step, from which state, and how to get
there.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from lifecycle.engine import Trace, changed_fields, check
from lifecycle.mdm import LifecycleModel
from lifecycle.mdm.state import World
from lifecycle.runtime.live import LiveWorld

__all__ = [
    "Disagreement",
    "agree",
    "compare_at",
    "live_successors",
    "reachable_states",
    "walk_states",
]


class Disagreement(AssertionError):
    """The live machines and the engine disagree on a step from a state."""

    def __init__(
        self,
        message: str,
        *,
        state: World,
        action: Any,
        engine: World | None,
        live: World | None,
        path: Trace | None,
    ) -> None:
        self.state = state
        self.action = action
        self.engine = engine
        self.live = live
        self.path = path
        super().__init__(message)


def live_successors(
    model: LifecycleModel, live: LiveWorld, state: World
) -> Iterator[tuple[tuple[Any, ...], World]]:
    """The live machines' steps from `state`, with the next worlds in raw device order
    (as `LifecycleModel.raw_steps` gives them)."""
    yield from live.successors(state)


def _describe(model: LifecycleModel, action: Any) -> str:
    try:
        return model.describe_action(action)
    except Exception:
        return repr(action)


def compare_at(
    model: LifecycleModel, live: LiveWorld, state: World, path: Trace | None = None
) -> int:
    """Compare the two interpreters' steps from `state`; return how many steps agreed.

    Raises `Disagreement` naming the step and the state (and `path`, a trace from an
    initial state, when given)."""
    engine = Counter((s[0], s[1]) for s in model.raw_steps(state))
    seen = Counter(live_successors(model, live, state))
    if engine == seen:
        return sum(engine.values())
    engine_next = {a: n for a, n in engine}
    live_next = {a: n for a, n in seen}
    action: Any = None
    for a in sorted(set(engine_next) | set(live_next), key=repr):
        if engine_next.get(a) != live_next.get(a):
            action = a
            break
    if action is None:  # same pairs, different multiplicities
        action = next(iter((engine - seen) or (seen - engine)))[0]
    e, lv = engine_next.get(action), live_next.get(action)
    if e is None:
        verdict = "the live machines enable it; the engine does not"
    elif lv is None:
        verdict = "the engine enables it; the live machines do not"
    else:
        diffs = changed_fields(e, lv)
        verdict = "both enable it but reach different states (engine -> live): " + "; ".join(
            f"{k}: {x!r} -> {y!r}" for k, (x, y) in diffs.items()
        )
    lines = [
        f"live machines and engine disagree on step {_describe(model, action)} "
        f"[{action!r}]: {verdict}",
        "from state:",
        *("  " + line for line in model.state_summary(state)),
    ]
    if path is not None and len(path):
        lines.append(f"reached by ({len(path)} steps):")
        lines.extend(
            "  " + line for line in path.render(format_action=model.describe_action).splitlines()
        )
    raise Disagreement("\n".join(lines), state=state, action=action, engine=e, live=lv, path=path)


def agree(model: LifecycleModel, states: Iterable[World | tuple[World, Trace | None]]) -> int:
    """Compare the interpreters from every state given (a state, or a (state, path)
    pair); return the number of states compared. Raises `Disagreement` on the first
    difference."""
    live = LiveWorld(model)
    count = 0
    for item in states:
        if isinstance(item, World):
            state, path = item, None
        else:
            state, path = item
        compare_at(model, live, state, path)
        count += 1
    return count


def reachable_states(
    model: LifecycleModel, *, max_states: int | None = None, every: int = 1
) -> Iterator[tuple[World, Trace]]:
    """Every reachable state (or every `every`-th, in BFS order), with a shortest path
    to it, from a complete check with the reachable graph kept."""
    # Unreduced: every path is then a real trace, each device keeping its number.
    result = check(model, keep_graph=True, max_states=max_states, deadlock=False, symmetry="off")
    graph = result.graph
    assert graph is not None
    keys = graph.states
    via: list[Any] = [None] * len(keys)  # the action of each state's BFS parent edge
    for source, action, target in graph.edges():
        if via[target] is None and graph.parents[target] == source:
            via[target] = action
    for ident in range(0, len(keys), every):
        chain = graph.path_to(ident)
        states = tuple(keys[i] for i in chain)
        acts = tuple(via[i] for i in chain[1:])
        yield keys[ident], Trace(states, acts)


def walk_states(
    model: LifecycleModel, *, walks: int, steps: int, seed: int = 0
) -> Iterator[tuple[World, Trace]]:
    """States met on `walks` random walks of up to `steps` steps through the engine
    model (deterministic for a seed), each with the walk that reached it. Reaches
    deep states of scopes too large to enumerate."""
    rng = random.Random(seed)
    inits = list(model.init_states())
    seen: set[World] = set()
    for _ in range(walks):
        state = rng.choice(inits)
        states: list[World] = [state]
        acts: list[Any] = []
        for _ in range(steps):
            if state not in seen:
                seen.add(state)
                yield state, Trace(tuple(states), tuple(acts))
            pairs = sorted(model.successors(state), key=lambda p: repr(p[0]))
            if not pairs:
                break
            action, state = rng.choice(pairs)
            states.append(state)
            acts.append(action)
