"""Breadth-first explicit-state search: the checker's core.

Breadth-first, so every counterexample is a shortest one. The loop is written for
speed: the store maps each state (or its 64-bit fingerprint) to its parent, so a new
state costs one dictionary insertion; actions are not stored, but found again along
the (short) trace when a counterexample is printed. When a property needs the
reachable graph (`always_recoverable`, `eventually`, `leads_to`) the search keeps
integer ids and successor lists instead, and evaluates those properties on the graph
after the search.

This module is the serial strategy and the state every strategy shares: `_Search`
holds the options, the store (`seen`, and in graph mode `keys`, `parent_ids`,
`adjacency`, the marks in `waiting`), the findings as store keys, the counters, the
per-state checks, the hot loop (`_expand_level`) and the trace rebuild (`_chain`,
`_replay`). The parallel search (`parallel`) and the Ray search (`distributed`)
subclass it and replace the walk (`_bfs`) and the parent lookup. What runs on the
search's outcome lives apart, one job per module: the graph-based properties
(`graph_checks`), the `CheckResult` (`build`), the diagnosis of a model error
(`diagnose`) and the memory bound's readings (`memory`). They read the search; none
of them imports this module.
"""

from __future__ import annotations

import gc
import operator
import time
from array import array
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from lifecycle.engine.adjacency import Adjacency
from lifecycle.engine.build import build_result
from lifecycle.engine.diagnose import diagnose, diagnose_predicate
from lifecycle.engine.fingerprint import CannotFingerprint
from lifecycle.engine.fingerprint import fingerprint as digest
from lifecycle.engine.graph_checks import _ALL, GraphChecks
from lifecycle.engine.liveness import model_fairness
from lifecycle.engine.memory import _size, resident_memory
from lifecycle.engine.model import Model, ModelProtocol
from lifecycle.engine.properties import DEADLOCK, Kind, Property, waiting_keys
from lifecycle.engine.result import CheckResult, ModelError
from lifecycle.engine.trace import Trace

STORES = ("exact", "fingerprint")
_CHUNK = 512  # states expanded between clock/progress checks (at most)
_DRAIN = 1024  # items of a model's generator between clock reads
#: Freeze the store for the cyclic collector every `_CHUNK` states, rather than pause
#: the collector for the whole search (`_Search.run`); benchmarks/bench_gc.py flips it.
_FREEZE = True


@dataclass(frozen=True)
class Progress:
    """A snapshot handed to the `progress` callback about twice a second."""

    distinct_states: int
    generated_states: int
    depth: int
    queue: int
    elapsed: float

    @property
    def states_per_second(self) -> float:
        return self.distinct_states / self.elapsed if self.elapsed > 0 else 0.0


class _Stop(Exception):
    """Raised inside the loop to end the search early (bound or time limit)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _optional(model: Any, name: str) -> Callable[[Any], Any] | None:
    """The model's override of an optional method, or None when it uses the default."""
    method = getattr(model, name, None)
    if method is None:
        return None
    default = getattr(Model, name)
    if getattr(method, "__func__", None) is default:
        return None
    return method


class _Search:
    """The serial breadth-first search, and the store, findings and counters that
    every strategy shares (see the module's docstring)."""

    #: Whether this strategy's frontier walk freezes the store for the collector
    #: (`_expand_level`); a strategy whose walk does not (the parallel workers) pauses
    #: the collector for the search instead, and its forked workers inherit that.
    freezes = True

    def __init__(
        self,
        model: ModelProtocol,
        *,
        deadlock: bool,
        max_states: int | None,
        max_depth: int | None,
        time_limit: float | None,
        fingerprint: bool,
        progress: Callable[[Progress], None] | None,
        stop_on_violation: bool,
        keep_graph: bool,
        representative: Callable[[Any], Any] | None = None,
        max_memory: int | None = None,
    ) -> None:
        self.max_memory = max_memory
        for required in ("init_states", "actions", "next_state", "properties"):
            if not callable(getattr(model, required, None)):
                raise TypeError(
                    f"{type(model).__name__} is not a model: it has no {required}() method "
                    "(see lifecycle.engine.ModelProtocol)"
                )
        self.model = model
        self.deadlock = deadlock
        self.max_states = max_states
        self.max_depth = max_depth
        self.time_limit = time_limit
        self.fingerprint = fingerprint
        self.progress = progress
        self.stop_on_violation = stop_on_violation
        self.properties: list[Property] = list(model.properties())
        names = [p.name for p in self.properties]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"duplicate property names: {', '.join(sorted(dupes))}")
        if DEADLOCK in names and deadlock:
            raise ValueError(f"the property name {DEADLOCK!r} is reserved for the deadlock check")
        self.always = [p for p in self.properties if p.kind is Kind.ALWAYS]
        self.sometimes = [p for p in self.properties if p.kind is Kind.SOMETIMES]
        self.recoverable = [p for p in self.properties if p.kind is Kind.RECOVERABLE]
        self.liveness = [p for p in self.properties if p.liveness]
        # Liveness reads the model's fairness; a malformed declaration fails here.
        self.fairness = model_fairness(model) if self.liveness else []
        #: Properties whose per-state marks the graph check reads (`_marks`).
        self.tracked = bool(self.recoverable or self.liveness)
        self.graph = keep_graph or self.tracked
        self.always_open = [p.predicate for p in self.always]
        self.sometimes_open = [p.predicate for p in self.sometimes]
        self.expanded = 0
        self.within = _optional(model, "within_boundary")
        self.terminal = _optional(model, "is_terminal")
        self.successors = getattr(model, "successors", None)
        self.rep = representative
        # State store. Key is the state itself, or hash(state) in fingerprint mode.
        # Without a graph: key -> parent key (None for an initial state).
        # With a graph: key -> id; ids are assigned in BFS order, so a smaller id is
        # never deeper, and parent/successor lists are indexed by id.
        self.seen: dict[Hashable, Any] = {}
        self.parent_ids = array("q")
        #: Graph mode: every expanded state's edges, in id order (`Adjacency`).
        self.adjacency = Adjacency()
        self.keys: list[Hashable] = []
        self.outside: set[int] = set()  # ids outside the boundary (graph mode)
        self.waiting: dict[tuple[int, Hashable], list[int]] = {}  # (prop, key) -> ids
        # Actions are kept with the graph, and for a recoverable property that does not
        # count some edges as a way out (it reads each edge's action).
        # Liveness reads them for fairness and for the lasso's steps.
        filtered = any(p.without is not None for p in self.recoverable) or bool(self.liveness)
        self.keep_actions = keep_graph or filtered
        self.keep_graph = keep_graph
        # Findings, as store keys (traces are rebuilt after the search).
        self.violations: dict[str, tuple[Kind, Hashable]] = {}
        self.witnesses: dict[str, Hashable] = {}
        self.lassos: dict[str, Trace] = {}
        #: Seconds the graph checks (recoverable, liveness) took after the search.
        self.graph_seconds = 0.0
        self.liveness_unknown: dict[str, str] = {}
        # Counters.
        self.distinct = 0
        self.generated = 0
        self.depth = 0
        self.queue = 0
        self.enabled_counts: Counter[Any] = Counter()
        self.new_counts: Counter[Any] = Counter()
        self.candidates: set[Any] = set()
        # Candidate actions matter only for the names of actions never enabled. A model
        # that lists its action names (`action_names()`) saves hashing every candidate
        # of every state.
        self.collect_candidates = not callable(getattr(model, "action_names", None))
        self.start = 0.0
        self.freezing = False
        self.clock_mask = 0  # see `_expand_level`
        self.last_read = 0.0

    # ------------------------------------------------------------------ search
    def run(self) -> CheckResult:
        self.start = self.last_read = time.perf_counter()
        stop_reason: str | None = None
        # The store only grows, and the cyclic garbage collector would rescan its
        # millions of containers again and again. Pausing the collector for the whole
        # search (as this once did) lets the reference cycles a model makes while it
        # computes successors pile up: 457 MiB against 81 MiB on a model that makes
        # one per call (benchmarks/bench_gc.py). So the collector stays on, and what
        # the search stored is frozen (`gc.freeze`, O(1)) every `_CHUNK` states: a
        # collection scans only what was allocated since, so the model's garbage is
        # collected and the store is not rescanned. Each freeze follows a collection
        # of the young generations, so that no garbage is frozen with the store. It is
        # unfrozen at the end.
        collecting = gc.isenabled()
        freezing = collecting and _FREEZE and self.freezes and gc.get_freeze_count() == 0
        if not freezing:
            gc.disable()
        self.freezing = freezing
        try:
            try:
                self._bfs()
            except _Stop as stop:
                stop_reason = stop.reason
            except KeyboardInterrupt:
                stop_reason = "interrupted (Ctrl-C)"
            # The graph checks build lists by the million and call little model code:
            # the collector is paused for them.
            gc.disable()
            if stop_reason is None and (self.recoverable or self.liveness):
                started = time.perf_counter()
                try:
                    checks = self._graph_checks()
                    if self.recoverable:
                        checks.check_recoverable(self.recoverable, self.violations)
                    if self.liveness:
                        checks.check_liveness(
                            self.liveness,
                            len(self.recoverable),
                            self.fairness,
                            self.lassos,
                            self.liveness_unknown,
                        )
                except KeyboardInterrupt:
                    stop_reason = "interrupted (Ctrl-C) in the graph checks"
                self.graph_seconds = time.perf_counter() - started
        finally:
            if freezing:
                gc.unfreeze()
            if collecting:
                gc.enable()
        elapsed = time.perf_counter() - self.start
        return build_result(self, stop_reason is None, stop_reason, elapsed)

    def _graph_checks(self) -> GraphChecks:
        """The graph checks on the graph this search stored (in the parallel search,
        the graph assembled from the workers)."""
        return GraphChecks(
            self.keys,
            self.parent_ids,
            self.adjacency,
            self.outside,
            self.waiting,
            keep_actions=self.keep_actions,
            replay=self._replay,
        )

    def _initial_frontier(self) -> tuple[list[Any], _Stop | None]:
        """The stored initial states (representatives, without repeats), and the bound
        that cut them short, if one did. Every strategy starts from these."""
        frontier: list[Any] = []
        try:
            source = iter(self.model.init_states())
        except Exception as exc:
            raise ModelError("init_states() raised", cause=exc) from exc
        self.depth = 1
        cut: _Stop | None = None
        rep = self.rep
        deadline = self.start + self.time_limit if self.time_limit is not None else None
        # Taken one by one, so that a generator that never ends stops at the time
        # limit or at max_states.
        while True:
            try:
                state = next(source)
            except StopIteration:
                break
            except Exception as exc:
                raise ModelError("init_states() raised", cause=exc) from exc
            self.generated += 1
            if (
                deadline is not None
                and not self.generated % _DRAIN
                and time.perf_counter() >= deadline
            ):
                cut = _Stop(f"time_limit={self.time_limit}s reached in init_states()")
                break
            if rep is not None:
                state = rep(state)
            try:
                if self._admit_initial(state):
                    frontier.append(state)
            except _Stop as stop:
                cut = stop
                break
        if not frontier:
            if cut is not None:
                raise cut
            raise ModelError("the model has no initial state")
        return frontier, cut

    def _drain(self, items: Any) -> list[Any]:
        """`list(items)` for what a model returned, reading the clock every
        `_DRAIN` items: a generator that never ends stops at the time limit."""
        if type(items) is list or type(items) is tuple:
            return list(items)
        if self.time_limit is None:
            return list(items)
        deadline = self.start + self.time_limit
        out: list[Any] = []
        append = out.append
        for i, item in enumerate(items, 1):
            append(item)
            if not i % _DRAIN and time.perf_counter() >= deadline:
                raise _Stop(f"time_limit={self.time_limit}s reached")
        return out

    def _bfs(self) -> None:
        frontier, cut = self._initial_frontier()
        for state in frontier:
            self._check_state(state)
        if cut is not None:
            self.queue = len(frontier)
            raise cut
        # The store keys of the frontier's states, so that expanding a state does not
        # hash it again and (fingerprint mode) its children share the key object as
        # their parent. In exact mode a state is its own key.
        frontier_keys = [self._key(s) for s in frontier] if self.fingerprint else frontier
        while frontier:
            self.queue = len(frontier)
            # At the depth bound the last level is still expanded (so that deadlocks
            # there are found and the counts match an unbounded search), but any new
            # state means the bound cut the search.
            last = self.max_depth is not None and self.depth >= self.max_depth
            frontier, frontier_keys = self._expand_level(frontier, frontier_keys, last=last)
            if frontier:
                self.depth += 1
        self.queue = 0

    def _key(self, state: Any) -> Hashable:
        return digest(state) if self.fingerprint else state

    def _admit_initial(self, state: Any) -> bool:
        """Store an initial state; False when it repeats an earlier one."""
        try:
            key = self._key(state)
            known = key in self.seen
        except CannotFingerprint as exc:
            raise ModelError(
                f"an initial state cannot be fingerprinted: {exc} (value {exc.value!r})",
                state=state,
                cause=exc,
            ) from exc
        except TypeError as exc:
            raise ModelError(
                "init_states() returned an unhashable state", state=state, cause=exc
            ) from exc
        if known:
            return False
        if self.max_states is not None and self.distinct >= self.max_states:
            raise _Stop(f"max_states={self.max_states} reached")
        self.distinct += 1
        if self.graph:
            self.seen[key] = len(self.keys)
            self.keys.append(key)
            self.parent_ids.append(-1)
        else:
            self.seen[key] = None
        return True

    def _check_state(self, state: Any, ident: int | None = None, *, track: bool = True) -> None:
        try:
            for prop in self.always:
                if prop.name not in self.violations and not prop.predicate(state):
                    self._violate(prop.name, Kind.ALWAYS, state)
            if self.sometimes_open:
                self._check_sometimes(state)
            if self.tracked and track:
                if ident is None:
                    ident = self.seen[self._key(state)]
                self._track(state, ident)
        except (_Stop, KeyboardInterrupt):
            raise
        except Exception as exc:
            raise diagnose_predicate(self, state, exc) from exc

    def _check_new_state(self, state: Any) -> None:
        """The open invariants and witnesses on a state just stored. Only a failing
        invariant or a found witness goes on to the bookkeeping of `_check_state`: the
        common case is one call and a loop over the open predicates."""
        for pred in self.always_open:
            if not pred(state):
                self._check_state(state, track=False)
                break
        for pred in self.sometimes_open:
            if pred(state):
                self._check_sometimes(state)
                break

    def _track(self, state: Any, ident: int) -> None:
        """Note the marks of `state` (`_marks`) and whether it lies outside the
        boundary: the graph checks read both."""
        for mark in self._marks(state):
            self.waiting.setdefault(mark, []).append(ident)
        if self.within is not None and not self.within(state):
            self.outside.add(ident)

    def _marks(self, state: Any) -> list[tuple[int, Hashable]]:
        """What the graph checks need to know of a state, as (index, key) pairs: the
        keys it waits on, per `always_recoverable` property (index = its position);
        for liveness property j (index = len(recoverable) + j), "trigger" and "goal"
        where its `p` and `q` hold; and (-1, "terminal") for a terminal state. The
        parallel workers send the same marks, so every strategy checks alike."""
        marks = [
            (index, k)
            for index, prop in enumerate(self.recoverable)
            for k in waiting_keys(prop.predicate(state))
        ]
        if self.liveness:
            base = len(self.recoverable)
            for j, prop in enumerate(self.liveness):
                if prop.goal is None:
                    if prop.predicate(state):
                        marks.append((base + j, "goal"))
                else:
                    for k in waiting_keys(prop.predicate(state)):
                        marks.append((base + j, ("trigger", k)))
                    reached = prop.goal(state)
                    if reached is True:
                        marks.append((base + j, ("goal", _ALL)))
                    else:
                        for k in waiting_keys(reached):
                            marks.append((base + j, ("goal", k)))
            if self.terminal is not None and self.terminal(state):
                marks.append((-1, "terminal"))
        return marks

    def _violate(self, name: str, kind: Kind, state: Any) -> None:
        self.violations[name] = (kind, self._key(state))
        # Keep the hot loop's predicate lists to the properties still open.
        self.always_open[:] = [p.predicate for p in self.always if p.name not in self.violations]
        if self.stop_on_violation:
            raise _Stop(f"stopped at the first violation ({name})")

    def _check_sometimes(self, state: Any) -> None:
        for prop in self.sometimes:
            if prop.name not in self.witnesses and prop.predicate(state):
                self.witnesses[prop.name] = self._key(state)
        self.sometimes_open[:] = [
            p.predicate for p in self.sometimes if p.name not in self.witnesses
        ]

    def _expand_level(
        self, frontier: list[Any], frontier_keys: list[Any], *, last: bool = False
    ) -> tuple[list[Any], list[Any]]:
        """Expand one BFS level; return the next level and its store keys. With `last`
        (the depth bound), any new state stops the search.

        The hot loop. It is written for CPython's sake: no attribute lookups, no
        per-state comprehension or generator, no pair tuples on the actions/next_state
        path, coverage logged with C-level list appends and counted in batches.
        """
        seen = self.seen
        fingerprint = self.fingerprint
        fp = digest
        rep = self.rep
        graph = self.graph
        within = self.within
        terminal = self.terminal
        successors = self.successors
        actions = self.model.actions
        next_state = self.model.next_state
        always = self.always_open
        sometimes = self.sometimes_open
        deadlock = self.deadlock
        if last:
            limit = self.distinct
            limit_reason = f"max_depth={self.max_depth} reached"
        elif self.max_states is not None:
            limit = self.max_states
            limit_reason = f"max_states={self.max_states} reached"
        else:
            limit = 1 << 62
            limit_reason = ""
        new_frontier: list[Any] = []
        append = new_frontier.append
        if fingerprint and not graph:
            new_keys: list[Any] = []
            append_key: Callable[[Any], None] | None = new_keys.append
        else:
            new_keys = new_frontier
            append_key = None
        # Coverage, and the count of generated states: the enabled actions, counted
        # by name in batches (_flush_coverage). Only actions are kept, not (action,
        # state) pairs, so that duplicate states die at once.
        enabled_actions: list[Any] = []
        log_action = enabled_actions.append
        new_log: list[Any] = []
        log_new = new_log.append
        candidates = self.candidates
        collect = self.collect_candidates
        last_acts: Any = None  # the last candidate list seen, when models reuse one
        keys = self.keys
        parent_ids = self.parent_ids
        adjacency = self.adjacency
        add_target = adjacency.targets.append
        add_action = adjacency.actions.append
        canonical = adjacency.index.setdefault
        close_row = adjacency.starts.append
        keep_actions = self.keep_actions
        track = self._track if self.tracked else None
        check_new = self._check_new_state
        # Graph mode: the frontier is the last len(frontier) states given ids.
        base = len(keys) - len(frontier)
        distinct = self.distinct
        expanded = self.expanded
        clock = time.perf_counter
        freeze, collect_young = gc.freeze, gc.collect
        drain = self._drain
        max_rss = self.max_memory
        # The clock is read every `mask + 1` states: from every state at the start, up
        # to every 512 on a fast model, and back down where states take long, so the
        # time limit holds within about 0.05 s plus one state's expansion.
        mask, last_read = self.clock_mask, self.last_read
        freezing = self.freezing
        next_tick = self.start + 0.5
        deadline = self.start + self.time_limit if self.time_limit is not None else None
        state: Any = None
        action: Any = None
        nxt: Any = None
        position = 0
        try:
            for position, state in enumerate(frontier):  # position is read on errors
                expanded += 1
                if not expanded & mask:
                    if freezing:  # the young garbage first, then the rest is kept
                        collect_young(1)
                        freeze()
                    now = clock()
                    if now - last_read > 0.05:
                        mask = 0 if now - last_read > 0.5 else mask >> 1
                    elif now - last_read < 0.005 and mask < _CHUNK - 1:
                        mask = mask << 1 | 1
                    last_read = self.last_read = now
                    self.clock_mask = mask
                    self.distinct = distinct
                    self.queue = len(frontier) - position + len(new_frontier)
                    self._flush_coverage(enabled_actions, new_log)
                    if deadline is not None and now >= deadline:
                        raise _Stop(f"time_limit={self.time_limit}s reached")
                    if max_rss is not None and (rss := resident_memory()) >= max_rss:
                        raise _Stop(
                            f"max_memory={_size(max_rss)} reached (resident memory {_size(rss)})"
                        )
                    if now >= next_tick:
                        next_tick = now + 0.5
                        self._report()
                if within is not None and not within(state):
                    if graph:  # stored, not expanded: an empty row
                        close_row(len(adjacency.targets))
                    continue
                if graph:
                    if successors is not None:
                        pairs = successors(state)
                        if type(pairs) is not list:
                            pairs = drain(pairs)
                    else:
                        acts = actions(state)
                        if acts is not last_acts:
                            if type(acts) is list or type(acts) is tuple:
                                last_acts = acts
                            else:
                                acts = drain(acts)
                            if collect:
                                candidates.update(acts)
                        pairs = [(a, n) for a in acts if (n := next_state(state, a)) is not None]
                    dead = not pairs
                    pid = base + position
                    for action, nxt in pairs:
                        log_action(action)
                        if rep is not None:
                            nxt = rep(nxt)
                        key = fp(nxt) if fingerprint else nxt
                        ident = seen.get(key)
                        if ident is None:
                            if distinct >= limit:
                                raise _Stop(limit_reason)
                            ident = len(keys)
                            seen[key] = ident
                            keys.append(key)
                            parent_ids.append(pid)
                            distinct += 1
                            append(nxt)
                            log_new(action)
                            if always or sometimes:
                                check_new(nxt)
                            if track is not None:
                                track(nxt, ident)
                        # Edge and action together, so a bound that stops the search
                        # here leaves the two arrays the same length.
                        if keep_actions:
                            try:  # one object per distinct action (Adjacency.intern)
                                add_action(canonical(action, action))
                            except TypeError:  # unhashable: kept as it is
                                add_action(action)
                        add_target(ident)
                    close_row(len(adjacency.targets))
                # The two model styles below share their body on purpose: a helper
                # call per successor would cost more than the rest of the loop.
                elif successors is not None:
                    pairs = successors(state)
                    if type(pairs) is not list:
                        pairs = drain(pairs)
                    dead = not pairs
                    parent_key = frontier_keys[position]
                    for action, nxt in pairs:
                        log_action(action)
                        if nxt is state:  # UNCHANGED: stored already, no hash needed
                            continue
                        if rep is not None:
                            nxt = rep(nxt)
                        key = fp(nxt) if fingerprint else nxt
                        if key not in seen:
                            if distinct >= limit:
                                raise _Stop(limit_reason)
                            seen[key] = parent_key
                            distinct += 1
                            append(nxt)
                            if append_key is not None:
                                append_key(key)
                            log_new(action)
                            if always or sometimes:
                                check_new(nxt)
                else:
                    acts = actions(state)
                    if acts is not last_acts:
                        if type(acts) is list or type(acts) is tuple:
                            last_acts = acts
                        else:
                            acts = drain(acts)
                        if collect:
                            candidates.update(acts)
                    parent_key = frontier_keys[position]
                    before = len(enabled_actions)
                    for action in acts:
                        nxt = next_state(state, action)
                        if nxt is None:
                            continue
                        log_action(action)
                        if nxt is state:  # UNCHANGED: stored already, no hash needed
                            continue
                        if rep is not None:
                            nxt = rep(nxt)
                        key = fp(nxt) if fingerprint else nxt
                        if key not in seen:
                            if distinct >= limit:
                                raise _Stop(limit_reason)
                            seen[key] = parent_key
                            distinct += 1
                            append(nxt)
                            if append_key is not None:
                                append_key(key)
                            log_new(action)
                            if always or sometimes:
                                check_new(nxt)
                    dead = len(enabled_actions) == before
                if (
                    dead
                    and deadlock
                    and DEADLOCK not in self.violations
                    and (terminal is None or not terminal(state))
                ):
                    self._violate(DEADLOCK, Kind.DEADLOCK, state)
                action = nxt = None
        except (_Stop, KeyboardInterrupt):
            self.distinct, self.expanded = distinct, expanded
            self.queue = len(frontier) - position + len(new_frontier)
            self._flush_coverage(enabled_actions, new_log)
            raise
        except ModelError:
            raise
        except Exception as exc:
            raise diagnose(self, state, action, nxt, exc) from exc
        self.distinct, self.expanded = distinct, expanded
        self._flush_coverage(enabled_actions, new_log)
        return new_frontier, new_keys

    def _flush_coverage(self, actions: list[Any], new: list[Any]) -> None:
        """Count a batch of enabled actions (one per generated state) by name, and the
        actions that found new states. The loop keeps no other count of generated
        states: one addition per successor cost 1% (protocol path) to 3% (successors)
        of the instructions of a PaxosCommit check."""
        # Emptied before counting: a Ctrl-C inside the count then loses part of one
        # batch rather than counting it twice when the stop flushes again.
        enabled, fresh = actions[:], new[:]
        actions.clear()
        new.clear()
        self.generated += len(enabled)
        _count_names(self.enabled_counts, enabled)
        _count_names(self.new_counts, fresh)

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(
                Progress(
                    self.distinct,
                    self.generated,
                    self.depth,
                    self.queue,
                    time.perf_counter() - self.start,
                )
            )

    # ----------------------------------------------------------------- traces
    def _chain(self, key: Hashable) -> list[Hashable]:
        """Store keys from an initial state to `key`."""
        chain = [key]
        if self.graph:
            ident = self.seen[key]
            while self.parent_ids[ident] >= 0:
                ident = self.parent_ids[ident]
                chain.append(self.keys[ident])
        else:
            parent = self.seen[key]
            while parent is not None:
                chain.append(parent)
                parent = self.seen[parent]
        chain.reverse()
        return chain

    def _trace_to(self, key: Hashable) -> Trace:
        """Rebuild a shortest trace by replaying the model along the stored chain."""
        states, actions = self._replay(self._chain(key))
        return Trace(tuple(states), tuple(actions))

    def _replay(
        self, chain: list[Hashable], wanted: tuple[Any, ...] | None = None
    ) -> tuple[list[Any], list[Any]]:
        """The states and actions of a path through the store, given as store keys,
        replayed on the model from an initial state; `wanted`, when given, is the
        action each step must take (a lasso's recorded ones). With symmetry the store
        holds representatives; the path is rebuilt from the states themselves, each
        step matched by its representative, so it is a real path of the unreduced
        model."""
        rep = self.rep if self.rep is not None else _same
        start = next((s for s in self.model.init_states() if self._key(rep(s)) == chain[0]), None)
        if start is None:
            raise RuntimeError("cannot rebuild the trace: the initial state is gone")
        states = [start]
        actions: list[Any] = []
        for i, target in enumerate(chain[1:]):
            for action, nxt in self._enabled(states[-1]):
                if (wanted is None or action == wanted[i]) and self._key(rep(nxt)) == target:
                    states.append(nxt)
                    actions.append(action)
                    break
            else:
                raise RuntimeError(
                    "cannot rebuild the trace: the model is not deterministic "
                    "(next_state returned a different state on replay)"
                )
        return states, actions

    def _enabled(self, state: Any) -> Iterable[tuple[Any, Any]]:
        if self.successors is not None:
            return self.successors(state)
        return _pairs(state, self.model.actions, self.model.next_state)


_HEAD = operator.itemgetter(0)


def _same(state: Any) -> Any:
    return state


def _count_names(counter: Counter[Any], actions: list[Any]) -> None:
    """Add a batch of enabled actions to a coverage counter.

    Coverage is reported per action name, so when every action of the batch is a
    tuple headed by its name (the common `("RMPrepare", rm)` form), the names are
    counted, in C and on strings whose hashes are cached. Counting the actions
    themselves hashes each one, parameters and nested messages included: that cost
    15% of a PaxosCommit check. Other batches count the actions; `_coverage` names
    both kinds of key alike (a name is its own name).
    """
    if not actions:
        return
    if set(map(type, actions)) == {tuple}:
        try:
            heads = Counter(map(_HEAD, actions))
        except IndexError:  # an empty tuple among them
            heads = None
        if heads is not None and all(isinstance(head, str) for head in heads):
            counter.update(heads)
            return
    counter.update(actions)


def _pairs(
    state: Any,
    actions: Callable[[Any], Iterable[Any]],
    next_state: Callable[[Any, Any], Any],
) -> Iterable[tuple[Any, Any]]:
    """(action, next state) for the enabled candidate actions of `state`."""
    for action in actions(state):
        nxt = next_state(state, action)
        if nxt is not None:
            yield action, nxt
