"""Parallel breadth-first search over forked worker processes, with the serial answers.

Why this shape (TLC's and Stateright's multi-core BFS, made deterministic):

- **Level-synchronous.** Every worker expands its share of one BFS level, then the
  level's new states are admitted, then the next level starts. The levels are the
  serial search's levels, so distinct and generated counts, depth and verdicts agree.
- **A shared table (fingerprint store).** Every worker keeps the states it finds. A
  table of fingerprints in shared memory (`_claims.c`, compiled at install time) holds,
  per fingerprint, the smallest *claim* made for it (an atomic minimum), so that of
  the workers that find one new state the one with the smallest claim keeps it, and a
  state stored at an earlier level is never claimed again. Nothing is shipped but a
  frontier rebalanced between levels. Shipping every new state to an owner cost more
  than the search it shared out (1.2-1.7x the serial time on 2 cores).
- **Owners (exact store, or no compiler).** Each state belongs to one worker,
  ``hash(key) % workers`` (forked workers share the parent's hash seed). Its owner
  alone stores it, so the visited set is partitioned and never locked. A successor
  owned elsewhere is shipped to its owner in batches at the end of the level.
- **The serial order.** A state carries its *path*: the position of its initial state,
  then the index of each step among its parent's successors, packed into one integer
  (its *order*: the parent's order shifted by 32 bits, or'ed with the step; in the
  shared mode the parent's *rank*, its position in its level, shifted by 16, so that
  a claim fits 64 bits). The
  serial search finds the states of a level in exactly the lexicographic order of
  their paths (by induction over the levels), which is the numeric order of their
  orders. So an owner that keeps, of the candidates for one new state, the one of
  smallest order keeps the serial search's parent and discovering action, and the
  smallest order among a level's violations is the serial search's counterexample:
  coverage and every counterexample are those of ``workers=1``, run after run. (This
  holds when the model lists a state's successors in an order fixed by the state's
  value; an order that follows, say, a set's iteration can change when the state is
  copied between processes, and then only which shortest trace is shown may differ.)
- **Fork**, not spawn: the workers inherit the model as it is, including one defined in
  ``__main__`` or a test file, and nothing of it is pickled but states and actions.

The coordinator (the calling process) keeps no states: it hands out the initial
states, runs the levels, merges each level's findings, asks the owners for the parent
chains of the counterexamples (the traces are then rebuilt by replay, as in the serial
search), and assembles the reachable graph from the workers when a property needs it.
"""

from __future__ import annotations

import bisect
import contextlib
import mmap
import multiprocessing as mp
import os
import pickle
import queue as queue_module
import signal
import sys
import time
import traceback
from array import array
from collections import Counter
from collections.abc import Hashable, Iterable, Iterator
from multiprocessing.connection import wait
from typing import Any

from lifecycle.engine.adjacency import Adjacency
from lifecycle.engine.fingerprint import fingerprint as digest

try:  # the shared fingerprint table, compiled at install time (setup.py)
    from lifecycle.engine import _claims  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - without a compiler: ship states to owners
    _claims = None
from lifecycle.engine.diagnose import diagnose, diagnose_predicate
from lifecycle.engine.memory import _size, group_memory
from lifecycle.engine.model import action_name
from lifecycle.engine.properties import DEADLOCK, Kind
from lifecycle.engine.result import ModelError
from lifecycle.engine.search import _CHUNK, _count_names, _Search, _Stop

_BATCH = 2048  # successors per shipped batch
_POLL = 0.5  # seconds between progress reports while a level runs
_STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
_STEP_BITS = 32  # a state's order: its parent's, shifted, or'ed with its step
_STEPS = 1 << _STEP_BITS
# The shared table (fingerprint store): a claim is `level << 48 | rank << 16 | step`.
_TABLE_SLOTS = 1 << 24  # the table may always grow to 256 MiB
_TABLE_MAX_SLOTS = 1 << 28  # and never past 4 GiB
_TABLE_FULL = 0.7  # stop, incomplete, before probing gets slow
_ANY_CLAIM = (1 << 64) - 1  # `migrate` keeps every claim below it
_TABLE_FIRST = 1 << 18  # the first table (4 MiB); it grows fourfold as it fills
_TABLE_GROWTH = 4
_TABLE_LOAD = 0.5  # grow before a level could take the table past this load


def _table_slots(max_states: int | None) -> int:
    """The most slots the shared table grows to (it starts at `_TABLE_FIRST`): twice
    `max_states` when the search is bounded by it; else a sixteenth of the machine's
    memory, between `_TABLE_SLOTS` and `_TABLE_MAX_SLOTS`."""
    if max_states is not None:
        return max(1 << 16, 1 << (2 * max_states - 1).bit_length())
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        memory = 0
    fits = max(memory // (16 * 16), 1)
    return min(_TABLE_MAX_SLOTS, max(_TABLE_SLOTS, 1 << (fits.bit_length() - 1)))


_LEVEL_SHIFT, _RANK_SHIFT = 48, 16
_SHARED_STEPS = 1 << _RANK_SHIFT
_SHARED_RANKS = 1 << (_LEVEL_SHIFT - _RANK_SHIFT)
_ORDER_MASK = (1 << _LEVEL_SHIFT) - 1


class _WorkerFailed(Exception):
    """A worker hit an error; the coordinator turns it into a ModelError."""


class ParallelSearch(_Search):
    """`_Search` with `_bfs` run over `workers` forked processes. The result builder
    (`build`), the graph-based checks (`graph_checks`), the diagnosis (`diagnose`) and
    the trace rebuild are shared with the serial search; only the store lives in the
    workers, so `_chain` asks them for parents."""

    least_workers = 2  # one worker is the serial search

    def __init__(self, *args: Any, workers: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if workers < self.least_workers:
            raise ValueError(f"{type(self).__name__} needs at least {self.least_workers} workers")
        self.workers = workers
        # With the fingerprint store and the compiled table, every worker keeps the
        # states it finds and the shared table arbitrates; otherwise states are shipped
        # to the worker that owns them.
        self.shared = self.fingerprint and _claims is not None
        self.slots = 0
        #: The most slots the shared table may grow to (`_table_slots`), and the
        #: number of levels the workers have expanded (a claim's level field).
        self.most_slots = 0
        self.levels = 0
        #: How an exact store's state picks its owner: its hash, which forked workers
        #: share (the distributed search, across processes and machines, fingerprints).
        self.hash_key: Any = hash
        self.conns: list[Any] = []
        self.procs: list[Any] = []
        self.inboxes: list[Any] = []
        self.counters: Any = None
        self.stop_flag: Any = None
        self.next_tick = 0.0
        self.admitted = 0
        self.interrupted: list[bool] = []
        #: Why `max_memory` stopped the search, once it has (see `_watch_memory`).
        self.memory_hit: str | None = None

    # ------------------------------------------------------------ coordinator
    freezes = False  # the workers walk their own frontiers (see `_Search.freezes`)

    def run(self) -> Any:
        try:
            context = mp.get_context("fork")
        except ValueError:
            raise ValueError(
                "workers > 1 needs the 'fork' start method, which this platform lacks; "
                "use workers=1"
            ) from None
        self.context = context
        previous: dict[int, Any] | None = None
        interrupted = self.interrupted
        if _main_thread():
            # Ctrl-C (and a hang-up) reaches the whole process group. The workers
            # ignore it; here it raises a flag, so that no message between the
            # processes is cut in half. SIGTERM is taken the same way.
            def on_interrupt(signum: int, frame: Any) -> None:
                interrupted.append(True)
                if self.stop_flag is not None:
                    self.stop_flag.value = 1

            previous = {number: signal.signal(number, on_interrupt) for number in _STOP_SIGNALS}
        try:
            return super().run()
        finally:
            for number, handler in (previous or {}).items():
                signal.signal(number, handler)
            self._shutdown()

    def _start(self) -> None:
        ctx = self.context
        n = self.workers
        if self.shared:
            # The table grows only as the search needs it, so a bound does not cap it:
            # the last level a bound cuts still claims every successor it finds.
            self.most_slots = max(_table_slots(None), _table_slots(self.max_states))
            # Growing maps a memory file in the forked workers (Linux); elsewhere the
            # table has its largest size from the start, as before it could grow.
            grows = hasattr(os, "memfd_create") and os.path.isdir(f"/proc/{os.getpid()}/fd")
            self.slots = min(_TABLE_FIRST, self.most_slots) if grows else self.most_slots
            # MAP_SHARED and anonymous: the forked workers see the same pages.
            self.table = mmap.mmap(-1, 16 * self.slots)
            _claims.attach(self.table)
        self.inboxes = [ctx.Queue() for _ in range(n)]
        self.counters = ctx.Array("q", n, lock=False)  # states generated, per worker
        self.stop_flag = ctx.Value("b", 0, lock=False)
        for index in range(n):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=self._worker, args=(index, theirs), daemon=True)
            proc.start()
            theirs.close()
            self.conns.append(mine)
            self.procs.append(proc)

    def _shutdown(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError, ValueError):
                conn.send(("quit",))
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()  # it ignores SIGTERM
                proc.join()
        for inbox in self.inboxes:
            inbox.close()
            inbox.cancel_join_thread()
        self.conns, self.procs, self.inboxes = [], [], []

    def _owner(self, key: Hashable) -> int:
        """A fingerprint is its own hash; a state's hash is the same in every forked
        worker (they share the parent's hash seed)."""
        return (key if self.fingerprint else self.hash_key(key)) % self.workers  # type: ignore[operator]

    def _ask(self, message: tuple[Any, ...] | list[tuple[Any, ...]]) -> list[Any]:
        """Send one command to every worker (or one each, from a list) and gather
        their replies, reporting progress while they work."""
        for index, conn in enumerate(self.conns):
            conn.send(message[index] if isinstance(message, list) else message)
        replies: list[Any] = [None] * self.workers
        index_of = {id(conn): i for i, conn in enumerate(self.conns)}
        waiting = list(self.conns)
        while waiting:
            for ready in wait(waiting, timeout=_POLL):
                index = index_of[id(ready)]
                conn = self.conns[index]
                try:
                    replies[index] = conn.recv()
                except EOFError:
                    raise self._died(index) from None
                waiting.remove(conn)
            for conn in waiting:
                if not self.procs[index_of[id(conn)]].is_alive():
                    raise self._died(index_of[id(conn)])
            now = time.perf_counter()
            if now >= self.next_tick:
                self.next_tick = now + _POLL
                self._watch_memory()
                generated = self.generated
                self.generated += sum(self.counters)
                self._report()
                self.generated = generated
        for reply in replies:
            if reply[0] == "error":
                self._raise_worker_error(reply)
        return replies

    def _watch_memory(self) -> None:
        """`max_memory` for the whole group: this process and its workers (their
        proportional memory, `group_memory`), read with each progress tick while a
        level runs. Once reached, the workers end the level at their next chunk (the
        stop flag, as Ctrl-C does) and the search stops, incomplete."""
        limit = self.max_memory
        if limit is None or self.memory_hit is not None:
            return
        used = group_memory(self._worker_pids())
        if used >= limit:
            self.memory_hit = (
                f"max_memory={_size(limit)} reached (memory of the search and its "
                f"{self.workers} workers {_size(used)})"
            )
            if self.stop_flag is not None:
                self.stop_flag.value = 1

    def _worker_pids(self) -> list[int]:
        return [proc.pid for proc in self.procs if proc.pid is not None]

    def _ask_one(self, index: int, message: tuple[Any, ...]) -> Any:
        """One command to one worker, and its reply."""
        conn = self.conns[index]
        conn.send(message)
        return conn.recv()

    def _died(self, index: int) -> ModelError:
        return ModelError(
            f"parallel search: worker {index} died (exit code {self.procs[index].exitcode}); "
            "run with workers=1 to see why"
        )

    def _raise_worker_error(self, reply: tuple[Any, ...]) -> None:
        _, where, state, action, nxt, exc, text = reply
        if where == "internal":
            raise RuntimeError(f"parallel search: a worker failed:\n{text}")
        if where == "pickle":
            raise ModelError(
                "parallel search: a state or action cannot be sent to another worker "
                f"({text}); make states and actions picklable, or use workers=1",
                state=state,
                action=action,
            )
        if exc is None:
            exc = _WorkerFailed(text)
        if where == "predicate":
            raise diagnose_predicate(self, state, exc) from exc
        if isinstance(exc, ModelError):
            raise exc
        raise diagnose(self, state, action, nxt, exc) from exc

    def _bfs(self) -> None:
        self._start()
        self.admitted = 0
        self.next_tick = self.start + _POLL
        frontier, cut = self._initial_frontier()
        if self.shared:  # room for the initial states and their first level
            self._fit_table(len(frontier))
        roots: list[list[tuple[int, Hashable, Any]]] = [[] for _ in range(self.workers)]
        for position, state in enumerate(frontier):
            self._check_state(state, track=False)
            key = self._key(state)
            if self.shared:
                if _claims.claim(key, (1 << _LEVEL_SHIFT) | position) < 0:
                    raise RuntimeError("parallel search: no room for an initial state")
                roots[position % self.workers].append((position, key, state))
            else:
                roots[self._owner(key)].append((position, key, state))
        self.admitted = self.distinct
        for mine in roots:
            for _, _, state in mine:
                try:
                    pickle.dumps(state, pickle.HIGHEST_PROTOCOL)
                except Exception as exc:
                    self._raise_worker_error(
                        ("error", "pickle", state, None, None, None, _text(exc))
                    )
        self._ask([("roots", mine) for mine in roots])
        if cut is not None:
            self.queue = len(frontier)
            raise cut
        queue = len(frontier)
        deadline = self.start + self.time_limit if self.time_limit is not None else None
        try:
            while queue:
                self.queue = queue
                if self.interrupted:
                    raise KeyboardInterrupt
                if deadline is not None and time.perf_counter() >= deadline:
                    raise _Stop(f"time_limit={self.time_limit}s reached")
                last = self.max_depth is not None and self.depth >= self.max_depth
                closed = set(self.violations) | set(self.witnesses)
                expanded = self._ask(("expand", closed, deadline))
                if self.shared and any(r[4] for r in expanded):
                    # A claim found no room: undo the level everywhere, grow, run it again
                    # (unless the search is stopping anyway: growing touches every page).
                    self._ask(("undo",))
                    self._stop_after(expanded)
                    self._fit_table(queue, refused=True)
                    continue
                self.levels += 1
                self._merge_expansion(expanded)
                self._stop_after(expanded)
                fresh = sum(r[2] for r in expanded)
                if last and fresh:
                    raise _Stop(f"max_depth={self.max_depth} reached")
                if self.shared:
                    winners = self._ask(("winners",))
                    fresh = sum(len(r[1]) for r in winners)
                limited = self.max_states is not None and self.distinct + fresh > self.max_states
                room = max(self.max_states - self.distinct, 0) if limited else None  # type: ignore[operator]
                if self.shared:
                    orders = [r[1] for r in winners]
                    admitted = self._ask(("admit_ranked", orders, room))
                else:
                    quotas: list[int | None] = [None] * self.workers
                    if room is not None:
                        left = room
                        for index, reply in enumerate(expanded):
                            quotas[index] = min(reply[2], left)
                            left -= quotas[index]  # type: ignore[operator]
                    admitted = self._ask([("admit", quota) for quota in quotas])
                self._merge_admission(admitted)
                if limited:
                    raise _Stop(f"max_states={self.max_states} reached")
                if self.stop_on_violation and self.violations:
                    name = next(iter(self.violations))
                    raise _Stop(f"stopped at the first violation ({name})")
                queue = sum(r[1] for r in admitted)
                if queue:
                    self.depth += 1
                if self.shared and queue:
                    self._fit_table(queue)
                    self._rebalance([r[1] for r in admitted])
            self.queue = 0
        except BaseException:
            # Stopped: the graph-based checks do not run on a partial graph, so it is
            # gathered only when the caller asked to keep it, and not when the memory
            # bound stopped the search (gathering it would pass the bound).
            self._gather_counts()
            if self.keep_graph and self.memory_hit is None:
                self._assemble_graph()
            raise
        self._gather_counts()
        if self.graph:
            self._assemble_graph()

    def _stop_after(self, expanded: list[Any]) -> None:
        """End the search if Ctrl-C, the memory bound or the time limit came during
        the level just expanded (a level shorter than a progress tick is measured too)."""
        if self.interrupted:
            raise KeyboardInterrupt
        self._watch_memory()
        if self.memory_hit is not None:
            raise _Stop(self.memory_hit)
        if any(r[1] for r in expanded):
            raise _Stop(f"time_limit={self.time_limit}s reached")

    def _fit_table(self, queue: int, refused: bool = False) -> None:
        """Grow the shared table before a level could fill it past `_TABLE_LOAD`: the
        next level is taken to find at most twice the frontier in new states. A claim
        lands on a random slot, so a table far larger than the search pays a page fault
        for nearly every claim (and keeps the pages): with a 1 GiB table, PaxosCommit's
        claims took 3.8 us each, against 0.4 us in a mapped one. When a level finds
        more than that (`refused`: a claim found no room near its slot), the workers
        have undone it, and the table grows at least fourfold before it runs again."""
        need = (self.distinct + 2 * queue) / _TABLE_LOAD
        if not refused and need <= self.slots:
            return
        slots = self.slots * _TABLE_GROWTH if refused else self.slots
        while slots < need:
            slots *= _TABLE_GROWTH
        slots = min(slots, self.most_slots)
        if slots <= self.slots:
            if refused or self.distinct > _TABLE_FULL * self.slots:
                raise _Stop(
                    f"the workers' shared fingerprint table is full ({self.slots:,} "
                    "slots); use workers=1, or set max_states to size it"
                )
            return
        self._grow(slots, (self.levels + 2) << _LEVEL_SHIFT if refused else _ANY_CLAIM)

    def _grow(self, slots: int, below: int) -> None:
        """Move the table to a larger one: every claim below `below` (a level being run
        again is dropped) is copied, and the workers map the new table. The forked
        workers cannot inherit a mapping made now, so it is a memory file they open."""
        size = 16 * slots
        fd = os.memfd_create("lifecycle-claims")
        try:
            os.ftruncate(fd, size)
            table = mmap.mmap(fd, size)
            if _claims.migrate(self.table, table, below) < 0:
                table.close()
                raise RuntimeError("parallel search: the shared table did not fit its new size")
            self._ask(("table", f"/proc/{os.getpid()}/fd/{fd}", size))
        finally:
            os.close(fd)
        _claims.attach(table)
        self.table.close()
        self.table, self.slots = table, slots

    def _rebalance(self, sizes: list[int]) -> None:
        """Even out the frontiers: in the shared mode a worker keeps the states it wins,
        so one worker could end up with most of a level. A worker above the mean by
        more than a tenth gives its excess to those below it."""
        mean = sum(sizes) / len(sizes)
        if not sizes or max(sizes) <= 1.1 * mean + 16:
            return
        give = [max(0, round(size - mean)) for size in sizes]
        need = [max(0, round(mean - size)) for size in sizes]
        plans: list[list[tuple[int, int]]] = [[] for _ in sizes]
        for source in range(len(sizes)):
            for target in range(len(sizes)):
                moved = min(give[source], need[target])
                if moved:
                    plans[source].append((target, moved))
                    give[source] -= moved
                    need[target] -= moved
        self._ask([("rebalance", plan) for plan in plans])

    def _merge_expansion(self, replies: list[Any]) -> None:
        """Deadlocks found while expanding the level: the smallest order is the serial
        search's first."""
        dead = [r[3] for r in replies if r[3] is not None]
        if dead and DEADLOCK not in self.violations:
            _, key = min(dead, key=lambda found: found[0])
            self.violations[DEADLOCK] = (Kind.DEADLOCK, key)

    def _merge_admission(self, replies: list[Any]) -> None:
        """Violations and witnesses among the level's new states, smallest order first."""
        self.admitted += sum(r[1] for r in replies)
        self.distinct = self.admitted
        violations = _smallest(reply[2] for reply in replies)
        for name in sorted(violations, key=lambda n: violations[n][0]):
            self.violations.setdefault(name, (Kind.ALWAYS, violations[name][1]))
        witnesses = _smallest(reply[3] for reply in replies)
        for name, (_, key) in witnesses.items():
            self.witnesses.setdefault(name, key)
        self.always_open[:] = [p.predicate for p in self.always if p.name not in self.violations]
        self.sometimes_open[:] = [
            p.predicate for p in self.sometimes if p.name not in self.witnesses
        ]

    def _gather_counts(self) -> None:
        """Generated states and coverage, summed over the workers."""
        self.interrupted.clear()
        self.stop_flag.value = 0
        for reply in self._ask(("counts",)):
            _, generated, enabled, new, candidates = reply
            self.generated += generated
            self.enabled_counts.update(enabled)
            self.new_counts.update(new)
            self.candidates.update(candidates)

    def _assemble_graph(self) -> None:
        """The reachable graph in the serial search's ids: states sorted by (depth,
        order) are exactly the serial BFS order."""
        records: list[Any] = []
        expansions: dict[Hashable, Any] = {}
        for reply in self._ask(("graph",)):
            records.extend(reply[1])
            expansions.update(reply[2])
        records.sort(key=lambda e: e[0])  # (level, order)
        none: tuple[tuple[Any, ...], tuple[Any, ...]] = ((), ())
        entries = [
            (rank, key, parent, *expansions.get(key, none), waits, outside)
            for rank, key, parent, waits, outside in records
        ]
        self.seen = {e[1]: i for i, e in enumerate(entries)}
        self.keys = [e[1] for e in entries]
        seen = self.seen
        self.parent_ids = array("q", (-1 if e[2] is None else seen[e[2]] for e in entries))
        # A bound can cut the last level: its edges to states never stored are dropped.
        adjacency = self.adjacency = Adjacency()
        for e in entries:
            acts = e[4] if self.keep_actions else (None,) * len(e[3])
            kept = [(seen[k], a) for k, a in zip(e[3], acts, strict=True) if k in seen]
            adjacency.add_row(
                [t for t, _a in kept], [a for _t, a in kept] if self.keep_actions else None
            )
        self.waiting = {}
        self.outside = set()
        for ident, entry in enumerate(entries):
            for pindex, k in entry[5]:
                self.waiting.setdefault((pindex, k), []).append(ident)
            if entry[6]:
                self.outside.add(ident)

    def _chain(self, key: Hashable) -> list[Hashable]:
        if self.graph and isinstance(self.seen.get(key), int) and self.keys:
            return super()._chain(key)
        chain = [key]
        reply: Any
        while True:
            if self.shared:  # whoever admitted it keeps its parent
                replies = [r for r in self._ask(("parent", chain[-1])) if r[0] == "parent"]
                reply = replies[0] if replies else ("missing",)
            else:
                reply = self._ask_one(self._owner(chain[-1]), ("parent", chain[-1]))
            if reply[0] != "parent":
                raise RuntimeError(f"parallel search: no parent for a stored state ({reply!r})")
            if reply[1] is None:
                break
            chain.append(reply[1])
        chain.reverse()
        return chain

    # ----------------------------------------------------------------- worker
    def _worker(self, index: int, conn: Any) -> None:
        for number in _STOP_SIGNALS:
            signal.signal(number, signal.SIG_IGN)
        try:
            (_SharedWorker if self.shared else _Worker)(self, index, conn).serve()
        except (EOFError, KeyboardInterrupt, BrokenPipeError):
            pass
        finally:
            conn.close()
            os._exit(0)


class _Worker:
    """One worker: the owner of a share of the store and of each level's frontier."""

    #: Whether a level's counts wait until it stands (the shared mode may undo a level).
    defers_counts = False

    def __init__(self, search: ParallelSearch, index: int, conn: Any) -> None:
        self.s = search
        self.index = index
        self.conn = conn
        self.n = search.workers
        # key -> parent key (None for an initial state); in graph mode also a record
        # per state: (level, order), parent, successor keys, actions, waiting keys and
        # whether it lies outside the boundary.
        self.seen: dict[Hashable, Hashable | None] = {}
        self.graph: dict[Hashable, tuple[Any, ...]] = {}
        self.expansions: dict[Hashable, tuple[tuple[Any, ...], tuple[Any, ...]]] = {}
        self.frontier: list[tuple[int, Hashable, Any]] = []
        self.candidates: dict[Hashable, list[Any]] = {}
        self.shipped: set[Hashable] = set()  # fingerprints the owners keep for ever
        self.generated = 0
        self.enabled: Counter[Any] = Counter()
        self.new: Counter[str] = Counter()
        self.names: set[str] = set()
        self.closed: set[str] = set()
        self.level = 0
        self.parent = os.getppid()
        self.pending: list[Any] = []  # the expanded level's actions, not yet counted

    def serve(self) -> None:
        while True:
            message = self.conn.recv()
            command = message[0]
            if command == "quit":
                return
            self.conn.send(self.handle(message))

    def handle(self, message: tuple[Any, ...]) -> Any:
        """Run one command (`on_<name>`) and return its reply: an error report when the
        model or this worker failed."""
        try:
            return getattr(self, "on_" + message[0])(*message[1:])
        except _Reply as early:
            return early.reply
        except Exception:
            return ("error", "internal", None, None, None, None, traceback.format_exc())

    # -------------------------------------------------------------- commands
    def on_roots(self, roots: list[tuple[int, Hashable, Any]]) -> tuple[Any, ...]:
        for order, key, state in roots:
            self.seen[key] = None
            if self.s.graph:
                self._record(1, order, key, None, state)
        self.frontier = roots
        return ("roots",)

    def on_parent(self, key: Hashable) -> tuple[Any, ...]:
        if key not in self.seen:
            return ("missing",)
        return ("parent", self.seen[key])

    def on_counts(self) -> tuple[Any, ...]:
        self._commit()
        enabled: Counter[str] = Counter()
        for action, count in self.enabled.items():
            enabled[action_name(action)] += count
        return ("counts", self.generated, enabled, self.new, self.names)

    def on_graph(self) -> tuple[Any, ...]:
        """The records of the states this worker stored, and the successors of those
        it expanded (the same worker, unless the frontier was rebalanced)."""
        records = [
            (rank, key, parent, waits, outside)
            for key, (rank, parent, waits, outside) in self.graph.items()
        ]
        return ("graph", records, self.expansions)

    def _pause(self, logged: int, deadline: float | None) -> bool | None:
        """Every `_CHUNK` states: publish the progress count; None to go on, else
        whether the deadline (True) or a stop request (False) ends the level."""
        self.s.counters[self.index] = self.generated + logged
        if self.s.stop_flag.value:
            return False
        if deadline is not None and time.perf_counter() >= deadline:
            return True
        return None

    def _pairs(self, state: Any) -> list[Any] | None:
        """The (action, next state) pairs of a frontier state, or None when it lies
        outside the boundary. Candidate action names are collected for coverage."""
        s = self.s
        if s.within is not None and not s.within(state):
            return None
        if s.successors is not None:
            pairs = s.successors(state)
            return pairs if type(pairs) is list else list(pairs)
        acts = s.model.actions(state)
        if type(acts) is not list and type(acts) is not tuple:
            acts = list(acts)
        if s.collect_candidates:
            self.names.update(action_name(a) for a in acts)
        next_state = s.model.next_state
        return [(a, x) for a in acts if (x := next_state(state, a)) is not None]

    def _check_admitted(
        self,
        state: Any,
        rank: int,
        key: Hashable,
        found: tuple[list[Any], list[Any], dict[str, Any], dict[str, Any]],
    ) -> None:
        """The open invariants and witnesses on a state just stored, keeping per
        property the finding of smallest rank."""
        always, sometimes, violations, witnesses = found
        for prop in always:
            if not prop.predicate(state):
                best = violations.get(prop.name)
                if best is None or rank < best[0]:
                    violations[prop.name] = (rank, key)
        for prop in sometimes:
            if prop.predicate(state):
                best = witnesses.get(prop.name)
                if best is None or rank < best[0]:
                    witnesses[prop.name] = (rank, key)

    def on_expand(self, closed: set[str], deadline: float | None) -> tuple[Any, ...]:
        """Expand this worker's frontier, with this worker kind's treatment of each
        state's successors (`_taker`); gather the candidates for the next level."""
        self.level += 1
        self.closed = closed
        self.candidates.clear()
        log: list[Any] = []
        take, finish = self._taker(log)
        try:
            timed_out, dead = self._walk(deadline, take, log)
        except _Full:
            return ("expanded", False, 0, None, True)
        finally:
            finish()
        self.pending = log
        if not self.defers_counts:
            self._commit()
        return ("expanded", timed_out, len(self.candidates), dead, False)

    def _commit(self) -> None:
        """Count the expanded level's enabled actions."""
        _count_names(self.enabled, self.pending)
        self.generated += len(self.pending)
        self.pending = []
        self.s.counters[self.index] = self.generated

    def _walk(
        self, deadline: float | None, take: Any, log: list[Any]
    ) -> tuple[bool, tuple[int, Hashable] | None]:
        """The frontier, state by state: progress and the deadline every `_CHUNK`
        states, the boundary, deadlocks (the smallest order first), the successors
        handed to `take`, and the graph's edges. Whether the deadline cut the level,
        and the deadlock found."""
        s = self.s
        terminal = s.terminal
        deadlock = s.deadlock and DEADLOCK not in self.closed
        graph = s.graph
        keep_actions = s.keep_actions
        dead: tuple[int, Hashable] | None = None
        state: Any = None
        try:
            for position, (order, own_key, state) in enumerate(self.frontier):
                if not (position + 1) & (_CHUNK - 1):
                    stop = self._pause(len(log), deadline)
                    if stop is not None:
                        return stop, dead
                pairs = self._pairs(state)
                if pairs is None:  # outside the boundary: stored, not expanded
                    continue
                if not pairs:
                    if (
                        deadlock
                        and (dead is None or order < dead[0])
                        and (terminal is None or not terminal(state))
                    ):
                        dead = (order, own_key)
                    continue
                succ_keys = take(order, own_key, state, pairs)
                if graph:
                    self.expansions[own_key] = (
                        tuple(succ_keys),
                        tuple(a for a, _ in pairs) if keep_actions else (),
                    )
        except (_Reply, _Full):
            raise
        except _StepFailed as failed:
            cause = failed.__cause__
            assert isinstance(cause, Exception)
            raise _Reply(
                ("error", "model", state, failed.action, failed.nxt, _portable(cause), _text(cause))
            ) from None
        except Exception as exc:
            raise _Reply(
                ("error", "model", state, None, None, _portable(exc), _text(exc))
            ) from None
        return False, dead

    def _taker(self, log: list[Any]) -> tuple[Any, Any]:
        """Owner mode: `take(order, own_key, state, pairs)` sorts one state's
        successors into this worker's candidates and one outgoing table per other
        owner (with the smallest order per state), and returns their keys; `finish`
        ships the tables and takes in the others' (`_finish_level`)."""
        s = self.s
        n, me = self.n, self.index
        seen, shipped = self.seen, self.shipped
        fingerprint = s.fingerprint
        fp = digest
        hash_key = s.hash_key
        rep = s.rep
        graph = s.graph
        log_action = log.append
        name_of = action_name
        outgoing: list[dict[Hashable, list[Any]]] = [{} for _ in range(n)]
        outgoing[me] = self.candidates

        def take(order: int, own_key: Hashable, state: Any, pairs: list[Any]) -> list[Any]:
            base = order << _STEP_BITS
            succ_keys: list[Hashable] = []
            action: Any = None
            nxt: Any = None
            step = -1
            try:
                for action, nxt in pairs:
                    step += 1
                    log_action(action)
                    if nxt is state and not graph:
                        continue
                    if rep is not None:
                        nxt = rep(nxt)
                    key = fp(nxt) if fingerprint else nxt
                    if graph:
                        succ_keys.append(key)
                    owner = (key if fingerprint else hash_key(key)) % n
                    if owner == me:
                        if key in seen:
                            continue
                    elif fingerprint and key in shipped:
                        continue
                    table = outgoing[owner]
                    c = table.get(key)
                    if c is None:
                        table[key] = [base | step, nxt, own_key, name_of(action)]
                    elif base | step < c[0]:
                        c[0], c[1], c[2], c[3] = base | step, nxt, own_key, name_of(action)
            except Exception as exc:
                raise _StepFailed(action, nxt) from exc
            if step >= _STEPS:
                raise ValueError(f"a state has more than {_STEPS} successors")
            return succ_keys

        return take, lambda: self._finish_level(outgoing)

    def _finish_level(self, outgoing: list[dict[Hashable, list[Any]]]) -> None:
        """Ship each owner its candidates, tell it the level is done, and take in the
        other owners' candidates until each has said so."""
        failure: _Reply | None = None
        inboxes = self.s.inboxes
        for owner, table in enumerate(outgoing):
            if owner == self.index:
                continue
            if self.s.fingerprint:
                self.shipped.update(table)
            items = [(k, *c) for k, c in table.items()]
            for start in range(0, len(items), _BATCH):
                try:
                    self._ship(owner, items[start : start + _BATCH])
                except _Reply as exc:
                    failure = failure or exc
                    break
            inboxes[owner].put(pickle.dumps((self.index, self.level, None)))
        inbox = inboxes[self.index]
        done = 0
        while done < self.n - 1:
            try:
                _source, level, batch = pickle.loads(inbox.get(timeout=5))
            except queue_module.Empty:
                if os.getppid() != self.parent:  # the coordinator is gone
                    os._exit(1)
                continue
            if level != self.level:
                raise RuntimeError(f"parallel search: level {level} batch in level {self.level}")
            if batch is None:
                done += 1
                continue
            self._merge_batch(batch)
        if failure is not None:
            raise failure

    def _merge_batch(self, batch: list[Any]) -> None:
        """Take in another worker's candidates: of two for one state, the smaller
        order."""
        seen, cand = self.seen, self.candidates
        for key, order, nxt, parent_key, name in batch:
            if key in seen:
                continue
            c = cand.get(key)
            if c is None:
                cand[key] = [order, nxt, parent_key, name]
            elif order < c[0]:
                c[0], c[1], c[2], c[3] = order, nxt, parent_key, name

    def _ship(self, owner: int, batch: list[Any]) -> None:
        try:
            data = pickle.dumps((self.index, self.level, batch), pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            bad = next((item for item in batch if not _picklable(item)), batch[0])
            raise _Reply(("error", "pickle", bad[2], None, None, None, _text(exc))) from None
        self.s.inboxes[owner].put(data)

    def on_admit(self, quota: int | None) -> tuple[Any, ...]:
        """Store the level's new states (under a `max_states` bound, the `quota` of
        smallest order), check the open properties on them, and make them the
        frontier."""
        entries: Any = self.candidates.items()
        if quota is not None and quota < len(self.candidates):
            entries = sorted(entries, key=lambda kv: kv[1][0])[:quota]
        self.candidates = {}
        return self._admit((c[0], key, c[1], c[2], c[3]) for key, c in entries)

    def _admit(self, entries: Iterable[tuple[int, Hashable, Any, Any, str]]) -> tuple[Any, ...]:
        """Store each (order, key, state, parent key, action name) and check the open
        properties on it, keeping per property the finding of smallest order; the
        stored states become the frontier."""
        s = self.s
        always = [p for p in s.always if p.name not in self.closed]
        sometimes = [p for p in s.sometimes if p.name not in self.closed]
        violations: dict[str, tuple[int, Hashable]] = {}
        witnesses: dict[str, tuple[int, Hashable]] = {}
        found = (always, sometimes, violations, witnesses)
        check = self._check_admitted
        frontier: list[tuple[int, Hashable, Any]] = []
        append = frontier.append
        seen = self.seen
        names: list[str] = []
        graph = s.graph
        level = self.level + 1
        state: Any = None
        try:
            for order, key, state, parent_key, name in entries:
                seen[key] = parent_key
                names.append(name)
                append((order, key, state))
                check(state, order, key, found)
                if graph:
                    self._record(level, order, key, parent_key, state)
        except Exception as exc:
            raise _Reply(
                ("error", "predicate", state, None, None, _portable(exc), _text(exc))
            ) from None
        self.new.update(names)
        self.frontier = frontier
        return ("admitted", len(frontier), violations, witnesses)

    def _record(
        self, level: int, order: int, key: Hashable, parent: Hashable | None, state: Any
    ) -> None:
        """Graph mode: what the coordinator needs to rebuild the graph and the
        `always_recoverable` bookkeeping of this state."""
        s = self.s
        wait = s._marks(state)
        outside = s.within is not None and not s.within(state)
        self.graph[key] = ((level, order), parent, wait, outside)


class _SharedWorker(_Worker):
    """A worker of the shared mode (fingerprint store): it keeps the states it finds,
    and the shared table says which of the workers that found a new state keeps it
    (the one with the smallest claim, the serial search's choice). Only a rebalanced
    frontier is shipped. A frontier entry's number is its *rank*: its position in the
    serial search's order of its level, computed from every worker's sorted orders.
    `known` holds every fingerprint this worker has claimed: it will not win it again,
    so the hot path is one set lookup, as in the serial search."""

    defers_counts = True  # until `on_winners`: `on_undo` may drop the level

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.known: set[Hashable] = set()
        self.claimed: list[Hashable] = []  # the keys `known` gained in this level

    def on_undo(self) -> tuple[Any, ...]:
        """Forget the level just expanded, which a claim without room cut short (in
        this worker or another): the table grows and the level runs again."""
        self.known.difference_update(self.claimed)
        self.claimed = []
        self.candidates.clear()
        self.pending = []
        self.level -= 1
        if self.s.graph:  # the frontier's edges are found again when the level reruns
            for _order, key, _state in self.frontier:
                self.expansions.pop(key, None)
        self.s.counters[self.index] = self.generated
        return ("undone",)

    def on_table(self, path: str, size: int) -> tuple[Any, ...]:
        """Map the grown table (`ParallelSearch._grow`) in place of the old one."""
        with open(path, "r+b") as file:
            table = mmap.mmap(file.fileno(), size)
        _claims.attach(table)
        self.s.table.close()
        self.s.table = table
        return ("table",)

    def _taker(self, log: list[Any]) -> tuple[Any, Any]:
        """Shared mode: `take` claims each successor not claimed by this worker yet in
        the shared table, and keeps as a candidate each claim that is the smallest so
        far; nothing is shipped, so `finish` does nothing."""
        s = self.s
        cand = self.candidates
        fp = digest
        claim = _claims.claim
        rep = s.rep
        graph = s.graph
        log_action = log.append
        level_bits = (self.level + 1) << _LEVEL_SHIFT
        known = self.known
        known_add = known.add
        claimed: list[Hashable] = []
        self.claimed = claimed
        claimed_add = claimed.append
        self.frontier.sort(key=_first)  # rank order (a rebalance appends)

        def take(rank: int, own_key: Hashable, state: Any, pairs: list[Any]) -> list[Any]:
            if len(pairs) >= _SHARED_STEPS:
                raise ValueError(f"a state has more than {_SHARED_STEPS - 1} successors")
            base = level_bits | (rank << _RANK_SHIFT)
            succ_keys: list[Hashable] = []
            action: Any = None
            nxt: Any = None
            try:
                for step, (action, nxt) in enumerate(pairs):
                    log_action(action)
                    if nxt is state and not graph:
                        continue
                    if rep is not None:
                        nxt = rep(nxt)
                    key = fp(nxt)
                    if graph:
                        succ_keys.append(key)
                    # Claimed by this worker already: stored at an earlier level, or
                    # claimed in this one, with a smaller claim (the frontier is
                    # expanded in rank order).
                    if key in known:
                        continue
                    value = base | step
                    before = claim(key, value)
                    if before == 0 or before > value:  # the smallest claim so far: ours
                        cand[key] = [value, nxt, own_key, action]
                    elif before < 0:  # no room near its slot: the table must grow
                        raise _Full
                    known_add(key)
                    claimed_add(key)
            except _Full:
                raise
            except Exception as exc:
                raise _StepFailed(action, nxt) from exc
            return succ_keys

        return take, _nothing

    def on_winners(self) -> tuple[Any, ...]:
        """The candidates whose claim is still the smallest (every worker has finished
        the level, and it stands), in order; their orders, for the ranks."""
        self._commit()
        lookup = _claims.lookup
        won = [(*c, key) for key, c in self.candidates.items() if lookup(key) == c[0]]
        won.sort(key=_first)
        self.won: list[Any] = won
        self.candidates = {}
        return ("winners", array("q", (c[0] & _ORDER_MASK for c in won)))

    def on_admit_ranked(self, orders: list[array[int]], room: int | None) -> tuple[Any, ...]:
        """Store the winners with their ranks among every worker's (only those ranked
        below `room`, under a `max_states` bound: the serial search's first)."""
        won, self.won = self.won, []
        return self._admit(self._ranked(won, orders, room))

    def _ranked(
        self, won: list[Any], orders: list[array[int]], room: int | None
    ) -> Iterator[tuple[int, Hashable, Any, Any, str]]:
        """The winners as `_admit` takes them, each with its rank: its position among
        this worker's sorted winners plus the orders below it in the others'."""
        others = [o for i, o in enumerate(orders) if i != self.index and o]
        other = others[0] if len(others) == 1 else None
        left = bisect.bisect_left
        name_of = action_name
        for position, (value, state, parent_key, action, key) in enumerate(won):
            order = value & _ORDER_MASK
            if other is not None:
                rank = position + left(other, order)
            else:
                rank = position + sum(left(o, order) for o in others)
            if room is not None and rank >= room:
                continue
            if rank >= _SHARED_RANKS:
                raise ValueError(f"a level of more than {_SHARED_RANKS:,} states")
            yield rank, key, state, parent_key, name_of(action)

    def on_rebalance(self, plan: list[tuple[int, int]]) -> tuple[Any, ...]:
        """Give `count` frontier states to each `target` of the plan (every k-th, so the
        ranks stay spread), and take in what others give."""
        inboxes = self.s.inboxes
        frontier = self.frontier
        for target, count in plan:
            step = max(1, len(frontier) // max(count, 1))
            picked = set(range(len(frontier) - 1, -1, -step)[:count])
            moving = [frontier[i] for i in sorted(picked)]
            frontier = [entry for i, entry in enumerate(frontier) if i not in picked]
            for start in range(0, len(moving), _BATCH):
                data = pickle.dumps(
                    (self.index, -1, moving[start : start + _BATCH]), pickle.HIGHEST_PROTOCOL
                )
                inboxes[target].put(data)
        for owner in range(self.n):
            if owner != self.index:
                inboxes[owner].put(pickle.dumps((self.index, -1, None)))
        done = 0
        inbox = inboxes[self.index]
        while done < self.n - 1:
            try:
                _source, _level, batch = pickle.loads(inbox.get(timeout=5))
            except queue_module.Empty:
                if os.getppid() != self.parent:
                    os._exit(1)
                continue
            if batch is None:
                done += 1
            else:
                frontier.extend(batch)
        self.frontier = frontier
        return ("rebalanced", len(frontier))


def _first(entry: Any) -> Any:
    return entry[0]


class _Full(Exception):
    """A claim found no room near its slot in the shared table (see `_fit_table`)."""


class _StepFailed(Exception):
    """The model (or the store) failed on one successor: which action and next state."""

    def __init__(self, action: Any, nxt: Any) -> None:
        super().__init__("a successor failed")
        self.action, self.nxt = action, nxt


def _nothing() -> None:
    return None


class _Reply(Exception):
    """Carries a worker's reply out of a command (an error report)."""

    def __init__(self, reply: tuple[Any, ...]) -> None:
        super().__init__(reply[0])
        self.reply = reply


def _smallest(found: Any) -> dict[str, tuple[int, Hashable]]:
    """Per property, the finding with the smallest order among the workers'."""
    best: dict[str, tuple[int, Hashable]] = {}
    for reply in found:
        for name, (order, key) in reply.items():
            if name not in best or order < best[name][0]:
                best[name] = (order, key)
    return best


def _picklable(item: Any) -> bool:
    try:
        pickle.dumps(item)
    except Exception:
        return False
    return True


def _portable(exc: BaseException) -> BaseException | None:
    """The exception itself when it survives pickling, else None (its text is sent)."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return None
    return exc


def _text(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread() and sys.platform != "win32"
