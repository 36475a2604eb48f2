"""Liveness under fairness, checked on the stored reachable graph after a complete search.

`Property.eventually(p)` (◇p from the initial states) and `Property.leads_to(p, q)`
(□(p ⇒ ◇q)) fail exactly when some *fair* behaviour keeps `q` false for ever from a
state where it must come (an initial state, or a `p` state). Such a behaviour ends in a
loop of states where `q` is false: a cycle of the graph, or one state that stutters for
ever. So the check is the classic one (TLC's, musil's):

1. the region R of states where the goal is false, entered from the trigger states;
2. its strongly connected components (an iterative Tarjan: no recursion limit);
3. for each, the Emerson–Lei refinement: a component whose weakly fair instance is
   enabled in all its states but never taken inside it has no fair cycle; one with a
   strongly fair instance enabled somewhere but never taken loses the states where it
   is enabled, and what remains is split into components again;
4. a state of R where no fair instance is enabled (or a terminal one) may stutter for
   ever, which is a fair behaviour;
5. a breadth-first search for the shortest path to such a loop, and a loop through
   every arrow fairness asks for.

Fairness is per *instance*: each distinct action value a constraint matches is fair on
its own (TLA+'s ∀ d : WF(A(d))), unless the constraint is `grouped`. A self-loop edge is
a step like any other: taking it takes its action.

Before a lasso is reported it is re-checked on the graph, independently of the code
that found it: every arrow is an edge, the goal never holds on the loop (nor between the
trigger and the loop), and the loop is fair. A failed re-check is an internal error.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from lifecycle.engine.model import action_name
from lifecycle.engine.trace import STUTTER


@dataclass(frozen=True)
class Fairness:
    """A fairness assumption on the actions `action` names (an action name, as
    `action_name()` gives it, or a predicate on actions).

    - `Fairness.weak(a)`: an instance continuously enabled from some point on is
      eventually taken.
    - `Fairness.strong(a)`: an instance enabled infinitely often is eventually taken.
    - `Fairness.finite(a)`: the actions are taken only finitely often (TLA+'s
      ◇□[¬A]_vars): a behaviour's loop never takes one. The assumption for an
      environment that may act, or never act, but does not act for ever (a user, an
      admin): without it, a user who clicks for ever can starve any obligation.

    Each distinct action value is its own instance; with ``grouped=True`` all the
    actions the constraint matches form one (taking any of them counts)."""

    kind: str
    action: str | Callable[[Any], bool]
    grouped: bool = False

    @staticmethod
    def weak(action: str | Callable[[Any], bool], *, grouped: bool = False) -> Fairness:
        return Fairness("weak", action, grouped)

    @staticmethod
    def strong(action: str | Callable[[Any], bool], *, grouped: bool = False) -> Fairness:
        return Fairness("strong", action, grouped)

    @staticmethod
    def finite(action: str | Callable[[Any], bool]) -> Fairness:
        return Fairness("finite", action)

    def __post_init__(self) -> None:
        if self.kind not in ("weak", "strong", "finite"):
            raise ValueError(f"fairness is 'weak', 'strong' or 'finite', not {self.kind!r}")
        if not (isinstance(self.action, str) or callable(self.action)):
            raise TypeError(
                f"Fairness.{self.kind}() takes an action name or a predicate on actions, "
                f"not {self.action!r}"
            )

    def matches(self, action: Any) -> bool:
        if isinstance(self.action, str):
            return action_name(action) == self.action
        return bool(self.action(action))

    def describe(self) -> str:
        what = self.action if isinstance(self.action, str) else _callable_name(self.action)
        if self.kind == "finite":
            return f"{what} taken only finitely often"
        return f"{self.kind}{' grouped' if self.grouped else ''} fairness on {what}"


def _callable_name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__name__", None) or repr(fn)


def model_fairness(model: Any) -> list[Fairness]:
    """The model's declared fairness (its optional `fairness()`), validated."""
    method = getattr(model, "fairness", None)
    if method is None:
        return []
    declared = list(method())
    for f in declared:
        if not isinstance(f, Fairness):
            raise TypeError(
                f"{type(model).__name__}.fairness() must return Fairness.weak(...) and "
                f"Fairness.strong(...) values, not {f!r}"
            )
    return declared


@dataclass(frozen=True)
class Lasso:
    """A fair behaviour on the graph, as state ids: `path[0]` is initial, `actions[i]`
    leads from `path[i]` to `path[i + 1]`, and the last action leads from `path[-1]`
    back to `path[cycle_start]` (or is `STUTTER`, with `cycle_start == len(path) - 1`).
    `trigger` is the position from which the goal must come (0 for `eventually`)."""

    path: tuple[int, ...]
    actions: tuple[Any, ...]
    cycle_start: int
    trigger: int


class LassoRecheckFailed(RuntimeError):
    """The lasso the search found is not a fair counterexample: a bug in the engine."""


class Graph:
    """What the liveness check reads: successor ids and their actions per state, the
    initial ids, and the ids that were not expanded (outside the boundary)."""

    def __init__(
        self,
        successors: Sequence[Sequence[int]],
        actions: Sequence[Sequence[Any]],
        initial: Iterable[int],
        unexpanded: Iterable[int] = (),
        terminal: Iterable[int] = (),
    ) -> None:
        self.succ = successors
        self.acts = actions
        self.initial = list(initial)
        self.unexpanded = set(unexpanded)
        self.terminal = set(terminal)
        self.n = len(successors)
        self._loops: dict[tuple[Fairness, ...], Graph] = {}
        self._instances: dict[tuple[Fairness, ...], _Instances] = {}
        self._resting: dict[tuple[Fairness, ...], bytearray] = {}
        self._tree: tuple[dict[int, int], dict[int, tuple[int, Any] | None]] | None = None

    def loops(self, finite: Sequence[Fairness]) -> Graph:
        """The graph a behaviour's loop may use: without the edges of actions taken
        only finitely often. Built once per set of such constraints (every property
        of a check asks for the same)."""
        if not finite:
            return self
        cache_key = tuple(finite)
        cached = self._loops.get(cache_key)
        if cached is not None:
            return cached
        succ: list[Sequence[int]] = [()] * self.n
        acts: list[Sequence[Any]] = [()] * self.n
        # Keyed by the action object's id: models share action objects between
        # states, and an id hashes at once where a nested action tuple would not. The
        # graph keeps every action alive, so no id is reused meanwhile.
        keep: dict[int, bool] = {}
        unexpanded = self.unexpanded
        for u in range(self.n):
            if u in unexpanded:
                continue
            here = self.acts[u]
            flags = [keep.get(id(a)) for a in here]
            if None in flags:
                for a in here:
                    if id(a) not in keep:
                        keep[id(a)] = not any(f.matches(a) for f in finite)
                flags = [keep[id(a)] for a in here]
            if all(flags):
                succ[u], acts[u] = self.succ[u], here
                continue
            pairs = [(v, a) for v, a, ok in zip(self.succ[u], here, flags, strict=True) if ok]
            succ[u] = [v for v, _a in pairs]
            acts[u] = [a for _v, a in pairs]
        loops = Graph(succ, acts, self.initial, self.unexpanded, self.terminal)
        loops.full = self
        self._loops[cache_key] = loops
        return loops

    def instances(self, fairness: Sequence[Fairness]) -> _Instances:
        """The fair instances of `fairness`, numbered once for every property."""
        key = tuple(fairness)
        found = self._instances.get(key)
        if found is None:
            found = self._instances[key] = _Instances(fairness)
        return found

    def resting(self, fairness: Sequence[Fairness]) -> bytearray:
        """Flags of the states where a behaviour may stutter for ever: expanded, and
        terminal or with no fair instance enabled. Computed once."""
        key = tuple(fairness)
        found = self._resting.get(key)
        if found is not None:
            return found
        inst = self.instances(fairness)
        of = inst.of
        flags = bytearray(self.n)
        for u in range(self.n):
            if u in self.unexpanded:
                continue
            if u in self.terminal or not any(of(a) for a in self.acts[u]):
                flags[u] = 1
        self._resting[key] = flags
        return flags

    def tree(self) -> tuple[dict[int, int], dict[int, tuple[int, Any] | None]]:
        """The breadth-first tree from the initial states, computed once: each
        reachable state's depth, and the (state, action) that first reached it (None
        for an initial state). A search's graph holds only reachable states; a
        hand-made one may hold more, which are absent here."""
        if self._tree is not None:
            return self._tree
        depth = dict.fromkeys(self.initial, 0)
        before: dict[int, tuple[int, Any] | None] = dict.fromkeys(self.initial)
        queue = deque(self.initial)
        while queue:
            u = queue.popleft()
            if u in self.unexpanded:
                continue
            for v, action in zip(self.succ[u], self.acts[u], strict=True):
                if v not in depth:
                    depth[v] = depth[u] + 1
                    before[v] = (u, action)
                    queue.append(v)
        self._tree = (depth, before)
        return self._tree

    #: The graph this one was cut from (`loops`); what is enabled is read there.
    full: Graph | None = None

    def enabling(self) -> Graph:
        return self.full if self.full is not None else self


class _Instances:
    """Fair instances: each (constraint, action) pair, or (constraint,) when grouped,
    numbered; per action the instance numbers it takes, cached."""

    def __init__(self, fairness: Sequence[Fairness]) -> None:
        self.fairness = [f for f in fairness if f.kind != "finite"]
        self.number: dict[Hashable, int] = {}
        self.strong: list[bool] = []
        self.label: list[str] = []
        #: By the action object's id (see `Graph.loops`); the instance numbers are
        #: keyed by value, so equal actions that are distinct objects still share.
        self.of_action: dict[int, tuple[int, ...]] = {}
        self.alive: list[Any] = []  # the actions whose ids are keys, kept alive

    def of(self, action: Any) -> tuple[int, ...]:
        found = self.of_action.get(id(action))
        if found is not None:
            return found
        out = []
        for index, f in enumerate(self.fairness):
            if f.matches(action):
                key: Hashable = (index,) if f.grouped else (index, action)
                number = self.number.get(key)
                if number is None:
                    number = self.number[key] = len(self.strong)
                    self.strong.append(f.kind == "strong")
                    self.label.append(f.describe())
                out.append(number)
        found = self.of_action[id(action)] = tuple(out)
        self.alive.append(action)
        return found

    def enabled(self, graph: Graph, u: int) -> set[int]:
        """The fair instances enabled at `u`: every edge counts, those of actions
        taken only finitely often too."""
        out: set[int] = set()
        for action in graph.enabling().acts[u]:
            out.update(self.of(action))
        return out


def find_lasso(
    graph: Graph,
    *,
    goal: Callable[[int], Any],
    trigger: Callable[[int], Any] | None,
    fairness: Sequence[Fairness],
) -> tuple[Lasso | None, bool]:
    """The shortest fair lasso on which the goal never holds from a trigger state on
    (`trigger` None: from an initial state), and whether the answer is exact: False when
    no lasso was found but the goal-free region reaches an unexpanded state."""
    inst = graph.instances(fairness)
    n = graph.n
    succ = graph.succ
    region = bytearray(n)  # 1: the goal is false there
    for u in range(n):
        if not goal(u):
            region[u] = 1
    starts = [u for u in (graph.initial if trigger is None else range(n)) if region[u]]
    if trigger is not None:
        depth, _before = graph.tree()
        starts = [u for u in starts if trigger(u) and u in depth]
    # The part of the region reachable from the starts, staying in the region.
    live = bytearray(n)
    queue = deque(starts)
    for u in starts:
        live[u] = 1
    while queue:
        u = queue.popleft()
        for v in succ[u]:
            if region[v] and not live[v]:
                live[v] = 1
                queue.append(v)
    unexpanded = any(live[u] for u in graph.unexpanded)
    # Where a fair behaviour may end: a stutter, or a fair component.
    loop_at: dict[int, tuple[int, ...] | None] = {}  # id -> its fair core, None = stutter
    resting = graph.resting(fairness)
    for u in range(n):
        if live[u] and resting[u]:
            loop_at[u] = None
    expanded_live = bytearray(live)
    for u in graph.unexpanded:
        expanded_live[u] = 0
    loops = graph.loops([f for f in fairness if f.kind == "finite"])
    for component in _components(range(n), loops.succ, expanded_live):
        for core in _fair_cores(loops, inst, component):
            members = tuple(core)
            for u in members:
                loop_at.setdefault(u, members)
    if not loop_at:
        return None, not unexpanded
    prefix, trig = _shortest_prefix(graph, starts, trigger is not None, region, loop_at)
    end = prefix[-1][0]
    found_core = loop_at[end]
    path = [u for u, _a in prefix]
    actions = [a for _u, a in prefix[1:]]
    if found_core is None:
        lasso = Lasso(tuple(path), (*actions, STUTTER), len(path) - 1, trig)
    else:
        cycle, cycle_actions = _fair_cycle(loops, inst, set(found_core), end)
        start = len(path) - 1
        path.extend(cycle[1:])
        lasso = Lasso(tuple(path), (*actions, *cycle_actions), start, trig)
    recheck(graph, lasso, goal=goal, trigger=trigger, fairness=fairness)
    return lasso, True


def _components(
    nodes: Iterable[int], succ: Sequence[Sequence[int]], inside: Any
) -> list[list[int]]:
    """The nontrivial strongly connected components (a cycle inside: two states or
    more, or a self-loop) of the subgraph of the states `inside` holds (a set, or a
    bytearray of flags). An iterative Tarjan: no recursion limit."""
    flags = isinstance(inside, bytearray)
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: list[list[int]] = []
    for root in nodes:
        if (not inside[root] if flags else root not in inside) or root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(succ[root]))]
        while work:
            v, it = work[-1]
            descended = False
            for w in it:
                if not inside[w] if flags else w not in inside:
                    continue
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(succ[w])))
                    descended = True
                    break
                if w in on_stack and index[w] < low[v]:
                    low[v] = index[w]
            if descended:
                continue
            work.pop()
            if work:
                u = work[-1][0]
                if low[v] < low[u]:
                    low[u] = low[v]
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1 or v in succ[v]:
                    out.append(component)
    return out


def _fair_cores(graph: Graph, inst: _Instances, component: list[int]) -> list[list[int]]:
    """The maximal subsets of `component` that are strongly connected and whose
    all-visiting loop is fair (Emerson–Lei refinement); disjoint. All of them, not the
    first: the shortest lasso may end in any."""
    cores: list[list[int]] = []
    work = [component]
    while work:
        states = work.pop()
        members = set(states)
        enabled_count: dict[int, int] = {}
        enabled_at: dict[int, set[int]] = {}
        for u in states:
            here = enabled_at[u] = inst.enabled(graph, u)
            for i in here:
                enabled_count[i] = enabled_count.get(i, 0) + 1
        taken: set[int] = set()
        for u in states:
            for v, action in zip(graph.succ[u], graph.acts[u], strict=True):
                if v in members:
                    taken.update(inst.of(action))
        size = len(states)
        if any(
            not inst.strong[i] and count == size and i not in taken
            for i, count in enabled_count.items()
        ):
            continue  # a weak instance always enabled, never taken: no fair loop here
        starving = {i for i in enabled_count if inst.strong[i] and i not in taken}
        if not starving:
            cores.append(states)
            continue
        keep = {u for u in states if not (enabled_at[u] & starving)}
        work.extend(_components(states, graph.succ, keep))
    return cores


def _shortest_prefix(
    graph: Graph,
    starts: list[int],
    phased: bool,
    region: bytearray,
    loop_at: dict[int, Any],
) -> tuple[list[tuple[int, Any]], int]:
    """The shortest path from an initial state to a loop state that passes a start and
    stays in the region from there on. Before the start (leads_to) the path may go
    anywhere: each start's offset is its breadth-first depth, and the starts join the
    region's search when its levels reach that depth. Returns [(id, action that
    reached it)] and the position of the start."""
    succ, acts = graph.succ, graph.acts
    if phased:
        depth, before = graph.tree()
        pending = sorted((depth[u], u) for u in starts if u in depth)
    else:
        before = dict.fromkeys(graph.initial)
        pending = [(0, u) for u in starts]
    after: dict[int, tuple[int, Any] | None] = {}
    level: list[int] = []
    distance = pending[0][0] if pending else 0
    position = 0
    found: int | None = None
    while level or position < len(pending):
        while position < len(pending) and pending[position][0] == distance:
            u = pending[position][1]
            position += 1
            if u not in after:
                after[u] = None
                level.append(u)
        found = next((u for u in level if u in loop_at), None)
        if found is not None:
            break
        following: list[int] = []
        for u in level:
            if u in graph.unexpanded:
                continue
            for v, action in zip(succ[u], acts[u], strict=True):
                if region[v] and v not in after:
                    after[v] = (u, action)
                    following.append(v)
        level = following
        distance += 1
        if not level and position < len(pending):
            distance = max(distance, pending[position][0])
    assert found is not None, "a loop state is reachable from a start by construction"
    tail: list[tuple[int, Any]] = []
    u = found
    while (step := after[u]) is not None:
        tail.append((u, step[1]))
        u = step[0]
    head: list[tuple[int, Any]] = []
    while (back := before.get(u)) is not None:
        head.append((u, back[1]))
        u = back[0]
    head.append((u, None))
    head.reverse()
    tail.reverse()
    return head + tail, len(head) - 1 if phased else 0


def _fair_cycle(
    graph: Graph, inst: _Instances, core: set[int], entry: int
) -> tuple[list[int], list[Any]]:
    """A loop from `entry` back to itself inside `core` that is fair: it takes an edge
    of every fair instance taken inside the core, and visits a state where each other
    enabled instance is disabled (those are weak, by the refinement)."""
    taken_edge: dict[int, tuple[int, int, Any]] = {}
    enabled: dict[int, set[int]] = {u: inst.enabled(graph, u) for u in core}
    for u in sorted(core):
        for v, action in zip(graph.succ[u], graph.acts[u], strict=True):
            if v in core:
                for i in inst.of(action):
                    taken_edge.setdefault(i, (u, v, action))
    wanted_instances = set().union(*enabled.values()) if enabled else set()
    path = [entry]
    actions: list[Any] = []
    taken_so_far: set[int] = set()
    visited = {entry}

    def walk_to(target: int) -> None:
        if path[-1] == target and len(path) > 1:
            return
        steps = _path_within(graph, core, path[-1], target)
        for v, action in steps:
            path.append(v)
            actions.append(action)
            visited.add(v)
            taken_so_far.update(inst.of(action))

    for i in sorted(wanted_instances):
        if i in taken_so_far:
            continue
        if i in taken_edge:
            u, v, action = taken_edge[i]
            if path[-1] != u:
                walk_to(u)
            path.append(v)
            actions.append(action)
            visited.add(v)
            taken_so_far.update(inst.of(action))
        elif any(i not in enabled[u] for u in visited):
            continue
        else:
            off = min(u for u in core if i not in enabled[u])
            walk_to(off)
    if len(path) == 1:  # nothing asked for: any loop through the entry
        first = _path_within(graph, core, entry, entry)
        for v, action in first:
            path.append(v)
            actions.append(action)
    elif path[-1] != entry:
        walk_to(entry)
    # The loop's last state is the entry again: drop it, the closing arrow returns.
    return path[:-1] if len(path) > 1 else path, actions


def _path_within(graph: Graph, core: set[int], source: int, target: int) -> list[tuple[int, Any]]:
    """A shortest non-empty path inside `core` from `source` to `target`, as the
    (state, action) pairs after `source`."""
    parent: dict[int, tuple[int, Any]] = {}
    queue = deque([source])
    while queue:
        u = queue.popleft()
        for v, action in zip(graph.succ[u], graph.acts[u], strict=True):
            if v not in core or v in parent:
                continue
            parent[v] = (u, action)
            if v == target:
                steps = []
                w = v
                while True:
                    p, a = parent[w]
                    steps.append((w, a))
                    if p == source:
                        break
                    w = p
                steps.reverse()
                return steps
            queue.append(v)
    raise AssertionError("a core is strongly connected")


def recheck(
    graph: Graph,
    lasso: Lasso,
    *,
    goal: Callable[[int], Any],
    trigger: Callable[[int], Any] | None,
    fairness: Sequence[Fairness],
) -> None:
    """Raise `LassoRecheckFailed` unless `lasso` is a fair counterexample on `graph`.
    Written apart from the search, from the definitions only."""
    path, actions, c = lasso.path, lasso.actions, lasso.cycle_start

    def fail(why: str) -> None:
        raise LassoRecheckFailed(f"internal error: the liveness counterexample {why}")

    if not path or len(actions) != len(path) or not 0 <= c < len(path):
        fail("is not a lasso")
    if path[0] not in set(graph.initial):
        fail("does not start in an initial state")
    for i, action in enumerate(actions):
        source = path[i]
        if action is STUTTER:
            if i != len(path) - 1 or c != i:
                fail("stutters before its end")
            continue
        target = path[i + 1] if i + 1 < len(path) else path[c]
        if not any(
            v == target and a == action
            for v, a in zip(graph.succ[source], graph.acts[source], strict=True)
        ):
            fail(f"takes an arrow the graph lacks, from state id {source}")
    t = lasso.trigger
    if trigger is not None and not trigger(path[t]):
        fail("does not pass the trigger where it says")
    if t > c:
        fail("triggers inside its loop")
    if any(goal(u) for u in path[t:]):
        fail("reaches the goal")
    loop_states = set(path[c:])
    loop_actions = actions[c:]
    for f in fairness:
        if f.kind == "finite" and any(a is not STUTTER and f.matches(a) for a in loop_actions):
            fail(f"loops through {f.describe()}")
    if actions[-1] is STUTTER and path[-1] in graph.terminal:
        return  # a terminal state stutters for ever legitimately
    for f in fairness:
        if f.kind == "finite":
            continue
        enabled: dict[Hashable, int] = {}  # instance -> loop states where it is enabled
        for u in loop_states:
            for key in {"all" if f.grouped else a for a in graph.acts[u] if f.matches(a)}:
                enabled[key] = enabled.get(key, 0) + 1
        taken = {
            "all" if f.grouped else a for a in loop_actions if a is not STUTTER and f.matches(a)
        }
        for key, count in enabled.items():
            if key in taken:
                continue
            if f.kind == "strong":
                fail(f"starves the strongly fair {key!r}, which its loop enables")
            if count == len(loop_states):
                fail(f"starves the weakly fair {key!r}, enabled all along its loop")
