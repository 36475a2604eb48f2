"""Benchmark: what liveness under fairness costs.

Run: ``.venv/bin/python -m benchmarks liveness``.

1. The reference design at the default scope, checked with the liveness properties
   (`leads_to` under the model's fairness) and without them (``liveness=False``: the
   safety properties, `no_deadlock` included), alternately in one process, ``ROUNDS``
   times each: the medians and their ratio (the issue's bound: at most 2x; TLC pays
   about 3x for liveness).
2. A synthetic model of ``SYNTHETIC`` states (a torus of counters that may wrap, with
   weak fairness on every step and an `eventually` goal the wrap keeps it from), in a
   child process so that its peak memory is its own: the time of the search, the time
   of the liveness check after it, and the peak RSS.
3. The graph's memory per state: the same synthetic model searched with only an
   invariant (no graph kept) and with `keep_graph=True`, each in a child process under
   `tracemalloc`; the difference of the memory the search holds when it ends (store,
   ids, parents, the edge arrays), per state, is what the graph mode keeps beyond the
   store (the issue's bound: at most 150 B). Peak RSS is not used for this: the
   allocator's arenas and the dict's resizes move it by more than the graph itself.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
import tracemalloc
from typing import Any

from benchmarks.bench_engine import _search
from benchmarks.child import run_child
from lifecycle.engine import Fairness, Model, Property, check
from lifecycle.mdm import Design, LifecycleModel

ROUNDS = 3
SIDE = 1000  # the torus is SIDE x SIDE states
SYNTHETIC = SIDE * SIDE


class Torus(Model):
    """(x, y) on a SIDE x SIDE torus: Right and Up move one step, wrapping around; the
    goal (SIDE-1, SIDE-1) is reachable, but a fair behaviour may circle a row for ever,
    so `eventually` fails with a lasso (weak fairness on Right and Up, each enabled
    everywhere and taken around the ring)."""

    def __init__(self, liveness: bool = True) -> None:
        self.liveness = liveness

    def init_states(self) -> list[Any]:
        return [(0, 0)]

    def actions(self, state: Any) -> list[Any]:
        return ["Right", "Up"]

    def next_state(self, state: Any, action: Any) -> Any:
        x, y = state
        return ((x + 1) % SIDE, y) if action == "Right" else (x, (y + 1) % SIDE)

    def properties(self) -> list[Property]:
        if self.liveness:
            return [Property.eventually("corner", lambda s: s == (SIDE - 1, SIDE - 1))]
        return [Property.always("on_torus", lambda s: 0 <= s[0] < SIDE)]

    def fairness(self) -> list[Fairness]:
        return [Fairness.weak("Right")]


def _reference(liveness: bool) -> tuple[float, int]:
    model = LifecycleModel(Design(), liveness=liveness)
    start = time.perf_counter()
    result = check(model)
    elapsed = time.perf_counter() - start
    assert result.complete and result.ok, result.summary()
    return elapsed, result.distinct_states


def _child(mode: str) -> dict[str, Any]:
    """Run in a child process: one synthetic check, its figures as JSON. In the
    "plain" and "graph" modes, the search runs under tracemalloc and reports the
    memory it holds when it ends."""
    if mode in ("plain", "graph"):
        tracemalloc.start()
        search = _search(Torus(liveness=False), "exact", mode == "graph")
        search.deadlock = False
        result = search.run()
        held = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        return {"states": result.distinct_states, "held_bytes": held}
    model = Torus(liveness=True)
    start = time.perf_counter()
    result = check(model, deadlock=False)
    elapsed = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "states": result.distinct_states,
        "seconds": round(elapsed, 2),
        "graph_checks_s": result.extra.get("graph_checks_s", 0.0),
        "peak_mib": round(peak_kib / 1024, 1),
        "verdict": {p.name: p.status.value for p in result.properties},
        "lasso": [len(v.trace) for v in result.violations if v.trace.is_lasso],
    }


def _run_child(mode: str) -> dict[str, Any]:
    return run_child("bench_liveness", mode)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        print(json.dumps(_child(argv[1])))
        return 0
    times: dict[bool, list[float]] = {True: [], False: []}
    states = 0
    for _ in range(ROUNDS):
        for liveness in (False, True):
            elapsed, states = _reference(liveness)
            times[liveness].append(elapsed)
    safety, live = statistics.median(times[False]), statistics.median(times[True])
    print(f"reference, default scope, {states:,} states, {ROUNDS} rounds each, alternating:")
    print(f"  safety only (liveness=False)  median {safety:6.2f}s  {times[False]}")
    print(f"  with the liveness properties  median {live:6.2f}s  {times[True]}")
    print(f"  liveness costs {live / safety:.2f}x the safety-only check (bound: 2x)")
    live_run = _run_child("liveness")
    print(
        f"synthetic torus, {live_run['states']:,} states, eventually under weak fairness: "
        f"{live_run['seconds']}s in all, of which {live_run['graph_checks_s']}s the liveness "
        f"check; peak RSS {live_run['peak_mib']} MiB; verdict {live_run['verdict']}, lasso "
        f"of {live_run['lasso']} steps"
    )
    plain, graph = _run_child("plain"), _run_child("graph")
    per_state = (graph["held_bytes"] - plain["held_bytes"]) / plain["states"]
    print(
        f"graph mode memory (tracemalloc, held at the end of the search): "
        f"{plain['held_bytes'] / 2**20:.1f} MiB without the graph, "
        f"{graph['held_bytes'] / 2**20:.1f} MiB with it: {per_state:.0f} B per state "
        "beyond the store (bound: 150 B)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
