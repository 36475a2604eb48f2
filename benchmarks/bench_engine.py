"""Engine benchmark: throughput, peak memory, overhead ratio and fingerprint bytes/state.

    .venv/bin/python -m benchmarks.bench_engine            # full: 10^6 and 1.7*10^6 states
    .venv/bin/python -m benchmarks.bench_engine --quick    # smaller sizes, for a smoke run
    .venv/bin/python -m benchmarks.bench_engine --only PaxosCommit --repeat 5

Each configuration runs in a fresh interpreter, so its peak RSS (`ru_maxrss`) is its own.
Per configuration:

- distinct states/s: distinct states over the search's wall time (and over CPU time,
  which a loaded machine disturbs less);
- peak RSS of the process, and the baseline before the search;
- store bytes: the state store measured after the search, when the frontier is gone:
  `sys.getsizeof` of the dict plus every distinct object it references (keys, parent
  keys, and for the exact store the states' own objects), counted once by `id`;
- overhead ratio: check time / bare time, where the bare time is one call of
  `actions` and of `next_state` per candidate on every reachable state (or one
  `successors()` call per state for the fast path), timed in the same process over
  the same reachable states. A ratio of 1 would mean the engine costs nothing.
  Checks and bare passes alternate (`--repeat`, 3 of each by default) and the ratio
  is the median of the pairs: on a shared machine the load drifts over minutes, so
  only times taken next to each other compare.
  "floor" is the least BFS's own ratio (`plain_bfs` over the bare pass): no checker
  written in Python can go below it on that model.
  "vs hash" divides the check's CPU time by that bare pass plus one `hash()` of every
  successor: the least any explicit-state checker must do (TLC fingerprints each too).

  "vs plain" divides it by a least breadth-first search over the same model in the
  same process (`plain_bfs`): what the engine costs beyond any BFS.

Models: `IntGrid` (synthetic, trivial successors: int states, two moves, no
properties), `CounterGrid` (tuple states, an invariant and a witness), `TwoPhase`
(Lamport's TwoPhase commit, 6^N + 4^N + 2^N states: 1,745,408 for N = 8) and
`PaxosCommit` (PaxosCommit.tla's configuration: 1,321,761 states, TLC's count, which
the verdicts check; the engine issue gives TLC 190 s on one worker of this machine and
100 s on two, and "a plain Python BFS" over its own PaxosCommit transcription 107 s;
`plain_bfs` here is the least BFS over this repository's model). Results go to
benchmarks/results/engine.json (engine-<filter>.json with --only).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from lifecycle.engine import Model
from lifecycle.engine.search import _Search
from lifecycle.examples import (
    CounterGrid,
    FastCounterGrid,
    FastPaxosCommit,
    FastTwoPhase,
    PaxosCommit,
    TwoPhase,
)

RESULTS = Path(__file__).resolve().parent / "results" / "engine.json"
TARGETS = {"states_per_s": 150_000, "ratio": 1.1, "fp_bytes_per_state": 120}
#: TLC's distinct states for PaxosCommit.cfg, and the issue's reference times (s).
PAXOS_TLC_STATES = 1_321_761
PAXOS_REFERENCE_S = {"TLC, 1 worker": 190.0, "TLC, 2 workers": 100.0, "plain Python BFS": 107.0}


class IntGrid(Model):
    """The synthetic model: an (n+1) x (n+1) grid encoded as ints, moving right or down.

    (n + 1)^2 states, depth 2n + 1, no properties: the successors are as cheap as a
    model's can be, so the time is the engine's.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.width = n + 1
        self._actions = [("Right",), ("Down",)]

    def init_states(self) -> list[int]:
        return [0]

    def actions(self, state: int) -> list[tuple[str]]:
        return self._actions

    def next_state(self, state: int, action: tuple[str]) -> int | None:
        if action[0] == "Right":
            return state + 1 if state % self.width < self.n else None
        return state + self.width if state // self.width < self.n else None

    def is_terminal(self, state: int) -> bool:
        return state == self.width * self.width - 1

    def properties(self) -> list[Any]:
        return []


class FastIntGrid(IntGrid):
    def successors(self, state: int) -> list[tuple[tuple[str], int]]:
        out = []
        if state % self.width < self.n:
            out.append((self._actions[0], state + 1))
        if state // self.width < self.n:
            out.append((self._actions[1], state + self.width))
        return out


def build(name: str, size: int, path: str, acceptors: int = 3) -> Any:
    fast = path == "successors"
    if name == "IntGrid":
        return (FastIntGrid if fast else IntGrid)(size)
    if name == "CounterGrid":
        return (FastCounterGrid if fast else CounterGrid)(size, 2)
    if name == "TwoPhase":
        return (FastTwoPhase if fast else TwoPhase)(size)
    if name == "PaxosCommit":
        return (FastPaxosCommit if fast else PaxosCommit)(size, acceptors)
    raise ValueError(name)


# ------------------------------------------------------------------ worker side
def _rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _search(model: Any, store: str, graph: bool) -> _Search:
    return _Search(
        model,
        deadlock=True,
        max_states=None,
        max_depth=None,
        time_limit=None,
        fingerprint=store == "fingerprint",
        progress=None,
        stop_on_violation=False,
        keep_graph=graph,
    )


def _deep_size(roots: Iterable[Any], counted: set[int]) -> int:
    """Bytes of every object reachable from `roots` through tuples and frozensets,
    each counted once (shared and interned objects once in all)."""
    total = 0
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in counted:
            continue
        counted.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, (tuple, frozenset, list)):
            stack.extend(obj)
    return total


def store_bytes(search: _Search) -> int:
    """The state store after the search: the dict, its keys and its values (parent keys
    or ids), plus the graph arrays in graph mode."""
    seen = search.seen
    counted: set[int] = {id(None)}
    total = sys.getsizeof(seen)
    total += _deep_size(seen.keys(), counted)
    total += _deep_size(seen.values(), counted)
    if search.graph:
        total += sys.getsizeof(search.keys) + sys.getsizeof(search.parent_ids)
        adjacency = search.adjacency
        total += sys.getsizeof(adjacency.starts) + sys.getsizeof(adjacency.targets)
        total += sys.getsizeof(adjacency.actions)
    return total


def reachable_states(model: Any) -> list[Any]:
    """Every reachable state of `model`, from an exact-store search (untimed)."""
    collector = _search(model, "exact", False)
    collector.run()
    return list(collector.seen)


def bare_pass(model: Any, states: list[Any], path: str) -> tuple[float, float]:
    """Wall and CPU seconds to call the model's transition functions once on every
    state: `actions` and `next_state` per candidate, or `successors`. The cyclic garbage
    collector is paused, as the check and `plain_bfs` pause it."""
    collecting = gc.isenabled()
    gc.disable()
    wall, cpu = time.perf_counter(), time.process_time()
    if path == "successors":
        successors: Callable[[Any], Any] = model.successors
        for state in states:
            for _ in successors(state):
                pass
    else:
        actions, next_state = model.actions, model.next_state
        for state in states:
            for action in actions(state):
                next_state(state, action)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if collecting:
        gc.enable()
    return wall, cpu


def hashed_pass(model: Any, states: list[Any], path: str) -> float:
    """CPU seconds for `bare_pass` plus hashing every successor: the floor of any
    explicit-state checker, which must at least hash what it generates."""
    cpu = time.process_time()
    if path == "successors":
        successors: Callable[[Any], Any] = model.successors
        for state in states:
            for _, nxt in successors(state):
                hash(nxt)
    else:
        actions, next_state = model.actions, model.next_state
        for state in states:
            for action in actions(state):
                nxt = next_state(state, action)
                if nxt is not None:
                    hash(nxt)
    return time.process_time() - cpu


def plain_bfs(model: Any, path: str, fingerprint: bool) -> tuple[int, float]:
    """(distinct states, CPU seconds) of the least breadth-first search over the model:
    a set of fingerprints or a dict of states to parents, and a frontier list. No
    coverage, properties, deadlock check, bounds or progress. Like the engine, it skips
    a successor that is the state itself (UNCHANGED) without hashing it. The check's
    CPU time over this one is the price of everything the engine does beyond any BFS."""
    collecting = gc.isenabled()
    gc.disable()  # as the engine does
    cpu = time.process_time()
    frontier = list(model.init_states())
    if fingerprint:
        hashes = {hash(s) for s in frontier}
    else:
        parents: dict[Any, Any] = dict.fromkeys(frontier)
    successors = getattr(model, "successors", None) if path == "successors" else None
    actions, next_state = model.actions, model.next_state
    while frontier:
        level: list[Any] = []
        for state in frontier:
            if successors is not None:
                nexts = [n for _, n in successors(state)]
            else:
                nexts = [n for a in actions(state) if (n := next_state(state, a)) is not None]
            for nxt in nexts:
                if nxt is state:
                    continue
                if fingerprint:
                    key = hash(nxt)
                    if key not in hashes:
                        hashes.add(key)
                        level.append(nxt)
                elif nxt not in parents:
                    parents[nxt] = state
                    level.append(nxt)
        frontier = level
    cpu = time.process_time() - cpu
    distinct = len(hashes) if fingerprint else len(parents)
    if collecting:
        gc.enable()
    return distinct, cpu


def timed_check(model: Any, store: str, graph: bool) -> tuple[float, float]:
    """(wall, CPU) seconds of one more check of `model`, its store freed after."""
    search = _search(model, store, graph)
    wall, cpu = time.perf_counter(), time.process_time()
    search.run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    del search
    gc.collect()
    return wall, cpu


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    model = build(spec["model"], spec["size"], spec["path"], spec.get("acceptors", 3))
    gc.collect()
    baseline = _rss_kib()
    search = _search(model, spec["store"], spec["graph"])
    wall, cpu = time.perf_counter(), time.process_time()
    result = search.run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = _rss_kib()
    out: dict[str, Any] = {
        **spec,
        "distinct": result.distinct_states,
        "generated": result.generated_states,
        "depth": result.depth,
        "ok": result.ok,
        "wall_s": wall,
        "cpu_s": cpu,
        "states_per_s": result.distinct_states / wall,
        "states_per_cpu_s": result.distinct_states / cpu,
        "baseline_rss_mib": baseline / 1024,
        "peak_rss_mib": peak / 1024,
        "store_bytes": store_bytes(search),
    }
    out["store_bytes_per_state"] = out["store_bytes"] / result.distinct_states
    if spec.get("bare"):
        if spec["store"] == "exact":
            states = list(search.keys if search.graph else search.seen)
        else:  # the fingerprint store has no states: collect them, untimed
            states = reachable_states(model)
        del search, result
        gc.collect()
        # Check and bare pass alternate, so that each ratio divides two times taken
        # next to each other: the machine is shared, and its load drifts over minutes.
        # The first check above (cold caches, then the store measured and the states
        # collected) gives the throughput and memory figures, not a ratio.
        checks, bares = [], []
        for _ in range(spec.get("repeat", 1)):
            checks.append(timed_check(model, spec["store"], spec["graph"]))
            bares.append(bare_pass(model, states, spec["path"]))
        out["check_wall_runs"] = [c[0] for c in checks]
        out["bare_wall_runs"] = [b[0] for b in bares]
        out["bare_wall_s"] = statistics.median(b[0] for b in bares)
        out["bare_cpu_s"] = statistics.median(b[1] for b in bares)
        pairs = list(zip(checks, bares, strict=True))
        out["ratio_wall_runs"] = [c[0] / b[0] for c, b in pairs]
        out["ratio_wall"] = statistics.median(out["ratio_wall_runs"])
        out["ratio_cpu"] = statistics.median(c[1] / b[1] for c, b in pairs)
        check_cpu = statistics.median(c[1] for c in checks)
        out["hashed_cpu_s"] = hashed_pass(model, states, spec["path"])
        out["ratio_hashed_cpu"] = check_cpu / out["hashed_cpu_s"]
        del states
        gc.collect()
        distinct, out["plain_bfs_cpu_s"] = plain_bfs(
            model, spec["path"], spec["store"] == "fingerprint"
        )
        assert distinct == out["distinct"], (distinct, out["distinct"])
        out["ratio_plain_bfs_cpu"] = check_cpu / out["plain_bfs_cpu_s"]
        # The least BFS's own ratio: what any checker written in Python pays at least.
        out["floor_cpu"] = out["plain_bfs_cpu_s"] / out["bare_cpu_s"]
    return out


# ------------------------------------------------------------------ driver side
def configurations(quick: bool, repeat: int = 3) -> list[dict[str, Any]]:
    grid = 547 if quick else 999  # 300,304 or 1,000,000 states
    rms = 7 if quick else 8  # 296,448 or 1,745,408 states
    configs = []
    for model, size in (("IntGrid", grid), ("TwoPhase", rms)):
        for path in ("actions", "successors"):
            for store in ("exact", "fingerprint"):
                configs.append(
                    {"model": model, "size": size, "path": path, "store": store, "graph": False}
                )
    for path in ("actions", "successors"):
        configs.append(
            {"model": "CounterGrid", "size": grid, "path": path, "store": "exact", "graph": False}
        )
    # PaxosCommit, the reference protocol: the literal transcription (protocol
    # path) and the fast path, both with the fingerprint store (the exact store holds
    # 1.3M frozensets of messages: 1.7 GB). Quick: three resource managers and one
    # acceptor, 53,625 states.
    for path in ("actions", "successors"):
        configs.append(
            {
                "model": "PaxosCommit",
                "size": 3 if quick else 2,
                "acceptors": 1 if quick else 3,
                "path": path,
                "store": "fingerprint",
                "graph": False,
            }
        )
    # Graph mode (kept for always_recoverable properties, as the MDM model uses).
    configs.append(
        {"model": "TwoPhase", "size": 7, "path": "successors", "store": "exact", "graph": True}
    )
    for c in configs:
        c["bare"] = True
        c["repeat"] = repeat
    return configs


def run_config(spec: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_engine", "--worker", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark worker failed for {spec}:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def label(r: dict[str, Any]) -> str:
    size = f"N={r['size']}" if r["model"] in ("TwoPhase", "PaxosCommit") else f"n={r['size']}"
    if r.get("acceptors", 3) != 3:
        size += f", {r['acceptors']} acc"
    graph = " +graph" if r["graph"] else ""
    return f"{r['model']}({size}) {r['path']}{graph}"


def table(rows: Sequence[dict[str, Any]]) -> str:
    head = (
        f"{'configuration':36} {'store':11} {'distinct':>10} {'wall s':>7} {'states/s':>9} "
        f"{'/cpu-s':>9} {'peak MiB':>8} {'store B/st':>10} {'ratio':>6} {'(cpu)':>6} "
        f"{'vs hash':>7} {'vs plain':>8} {'floor':>6}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{label(r):36} {r['store']:11} {r['distinct']:>10,} {r['wall_s']:>7.2f} "
            f"{r['states_per_s']:>9,.0f} {r['states_per_cpu_s']:>9,.0f} "
            f"{r['peak_rss_mib']:>8.0f} {r['store_bytes_per_state']:>10.1f} "
            f"{r.get('ratio_wall', float('nan')):>6.2f} {r.get('ratio_cpu', float('nan')):>6.2f} "
            f"{r.get('ratio_hashed_cpu', float('nan')):>7.2f} "
            f"{r.get('ratio_plain_bfs_cpu', float('nan')):>8.2f} "
            f"{r.get('floor_cpu', float('nan')):>6.2f}"
        )
    return "\n".join(lines)


def verdicts(rows: Sequence[dict[str, Any]]) -> list[str]:
    out = []
    trivial = [r for r in rows if r["model"] == "IntGrid"]
    if trivial:
        best = max(r["states_per_s"] for r in trivial)
        met = "met" if best >= TARGETS["states_per_s"] else "NOT met"
        out.append(
            f"throughput on trivial successors (IntGrid): best {best:,.0f} states/s wall "
            f"(target >= {TARGETS['states_per_s']:,}): {met}"
        )
    for r in rows:
        if "ratio_wall" in r and r["model"] != "CounterGrid":
            met = max(r["ratio_wall"], r["ratio_cpu"]) <= TARGETS["ratio"]
            runs = ", ".join(f"{x:.2f}" for x in r.get("ratio_wall_runs", [r["ratio_wall"]]))
            out.append(
                f"overhead ratio {label(r)} {r['store']}: median {r['ratio_wall']:.2f} wall "
                f"({runs}), {r['ratio_cpu']:.2f} cpu; the least BFS's own "
                f"{r.get('floor_cpu', float('nan')):.2f} (target <= {TARGETS['ratio']}): "
                f"{'met' if met else 'NOT met'}"
            )
    for r in rows:
        if r["model"] == "PaxosCommit" and r["size"] == 2:
            match = "matches" if r["distinct"] == PAXOS_TLC_STATES else "DOES NOT match"
            others = ", ".join(f"{k} {v:.0f} s" for k, v in PAXOS_REFERENCE_S.items())
            out.append(
                f"PaxosCommit {r['path']}: {r['distinct']:,} states ({match} TLC's "
                f"{PAXOS_TLC_STATES:,}) in {r['wall_s']:.1f} s; {others}; "
                f"plain BFS over this model here {r.get('plain_bfs_cpu_s', float('nan')):.1f} "
                "CPU s"
            )
    for r in rows:
        if r["store"] == "fingerprint" and r["distinct"] >= 1_000_000:
            b = r["store_bytes_per_state"]
            out.append(
                f"fingerprint store {label(r)} at {r['distinct']:,} states: {b:.1f} B/state "
                f"(target <= {TARGETS['fp_bytes_per_state']}): "
                f"{'met' if b <= TARGETS['fp_bytes_per_state'] else 'NOT met'}"
            )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller models (~300k states)")
    parser.add_argument("--only", help="run only configurations whose label contains this")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="checks and bare passes per configuration, alternated (default 3); "
        "the ratios are the medians of the pairs",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, not {args.repeat}")
    configs = configurations(args.quick, args.repeat)
    if args.only:
        configs = [c for c in configs if args.only in label({**c})]
    print(f"engine benchmark ({'quick' if args.quick else 'full'}), {len(configs)} configurations")
    load = os.getloadavg()[0]
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average {load:.2f}")
    rows = []
    for spec in configs:
        print(f"  running {label(spec)} {spec['store']} ...", flush=True)
        rows.append(run_config(spec))
    print()
    print(table(rows))
    print()
    for line in verdicts(rows):
        print(line)
    results = RESULTS
    if args.only:
        results = RESULTS.with_name(f"engine-{re.sub(r'[^A-Za-z0-9]+', '-', args.only)}.json")
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(
        json.dumps(
            {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "load_average_at_start": load,
                "quick": args.quick,
                "targets": TARGETS,
                "runs": rows,
                "verdicts": verdicts(rows),
            },
            indent=2,
        )
    )
    print(f"\nwritten {results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
