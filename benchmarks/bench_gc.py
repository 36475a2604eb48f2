"""Benchmark: the search's garbage-collector policy.

Run: ``.venv/bin/python -m benchmarks gc``.

The search used to pause the cyclic collector for its whole run, so the reference
cycles a model makes while computing successors were never freed. It now keeps the
collector on and freezes what it stored every `_CHUNK` states (`search._FREEZE`).

1. Memory: a model that builds one throw-away reference cycle per `next_state` call,
   checked in a child process under each policy: the peak RSS.
2. Time: the MDM reference design at the default scope, under each policy,
   alternately in one process, ``ROUNDS`` times: the medians and their ratio (the
   issue's bound: at most 5% slower).
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from typing import Any

import lifecycle.engine.search as search
from benchmarks.child import run_child
from lifecycle.engine import Model, Property, check
from lifecycle.mdm import Design, LifecycleModel

ROUNDS = 3
SIDE = 700


class Cycles(Model):
    """A SIDE x SIDE torus whose `next_state` makes a reference cycle (a list that
    holds itself and 200 bytes), garbage as soon as it returns."""

    def init_states(self) -> list[Any]:
        return [(0, 0)]

    def actions(self, state: Any) -> list[str]:
        return ["A", "B"]

    def next_state(self, state: Any, action: str) -> Any:
        junk: list[Any] = [bytearray(200)]
        junk.append(junk)
        x, y = state
        return ((x + 1) % SIDE, y) if action == "A" else (x, (y + 1) % SIDE)

    def properties(self) -> list[Property]:
        return [Property.always("on_torus", lambda s: 0 <= s[0] < SIDE)]


def _child(freeze: bool) -> dict[str, Any]:
    search._FREEZE = freeze
    start = time.perf_counter()
    result = check(Cycles(), deadlock=False)
    return {
        "states": result.distinct_states,
        "seconds": round(time.perf_counter() - start, 2),
        "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _run_child(freeze: bool) -> dict[str, Any]:
    return run_child("bench_gc", "freeze" if freeze else "off")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        print(json.dumps(_child(argv[1] == "freeze")))
        return 0
    paused, frozen = _run_child(False), _run_child(True)
    print(f"a model making a reference cycle per call, {paused['states']:,} states:")
    print(f"  collector paused for the search: peak {paused['peak_mib']} MiB, {paused['seconds']}s")
    print(f"  store frozen every chunk:        peak {frozen['peak_mib']} MiB, {frozen['seconds']}s")
    times: dict[bool, list[float]] = {True: [], False: []}
    states = 0
    for _ in range(ROUNDS):
        for freeze in (False, True):
            search._FREEZE = freeze
            model = LifecycleModel(Design())
            start = time.perf_counter()
            result = check(model)
            times[freeze].append(time.perf_counter() - start)
            states = result.distinct_states
    search._FREEZE = True
    off, on = statistics.median(times[False]), statistics.median(times[True])
    print(f"reference, default scope, {states:,} states, {ROUNDS} rounds each, alternating:")
    print(f"  collector paused  median {off:6.2f}s  {[round(t, 2) for t in times[False]]}")
    print(f"  store frozen      median {on:6.2f}s  {[round(t, 2) for t in times[True]]}")
    print(f"  frozen / paused = {on / off:.3f} (bound: 1.05)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
