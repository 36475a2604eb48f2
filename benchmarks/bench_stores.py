"""Benchmark: the fingerprint store against the exact store, in the same run.

Run: ``.venv/bin/python -m benchmarks.bench_stores [--repeat 3] [--quick]``.

For each model the two stores are checked in turn, exact then fingerprint, ``--repeat``
times, each check in the same process with its store freed after; the ratio is the
median of the pairs' ratios (CPU seconds), so that machine load, which drifts over
minutes, cancels out. Models: the MDM reference design at the default scope (the
`no_deadlock` graph included), and PaxosCommit (TLC's configuration, 1,321,761
states, fast path; ``--quick``: 3 RMs and 1 acceptor, 53,625 states).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

from lifecycle.engine import check
from lifecycle.engine.fingerprint import IMPLEMENTATION
from lifecycle.examples import FastPaxosCommit
from lifecycle.mdm import LifecycleModel, Scope, load_design


def timed(make: Callable[[], Any], store: str) -> tuple[float, int, bool]:
    model = make()
    gc.collect()
    start = time.process_time()
    result = check(model, store=store)
    seconds = time.process_time() - start
    return seconds, result.distinct_states, result.ok


def compare(label: str, make: Callable[[], Any], repeat: int) -> None:
    ratios, exact_times, printed_times = [], [], []
    counts = set()
    for _ in range(repeat):
        e, n1, ok1 = timed(make, "exact")
        f, n2, ok2 = timed(make, "fingerprint")
        counts.add((n1, ok1, n2, ok2))
        exact_times.append(e)
        printed_times.append(f)
        ratios.append(f / e)
    (n1, ok1, n2, ok2), *rest = sorted(counts)
    same = "same" if (n1, ok1) == (n2, ok2) and not rest else "DIFFERENT"
    print(
        f"{label:34} {n1:>10,} {statistics.median(exact_times):>9.2f} "
        f"{statistics.median(printed_times):>9.2f} {statistics.median(ratios):>7.3f} "
        f"({min(ratios):.3f}-{max(ratios):.3f})  {same} verdicts and counts",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    print(f"fingerprint implementation: {IMPLEMENTATION}")
    print(f"{'model':34} {'states':>10} {'exact s':>9} {'fprint s':>9} {'ratio':>7}")
    compare(
        "MDM reference, default scope",
        lambda: LifecycleModel(load_design("reference"), Scope()),
        args.repeat,
    )
    if args.quick:
        compare("PaxosCommit(3 RMs, 1 acceptor)", lambda: FastPaxosCommit(3, 1), args.repeat)
    else:
        compare("PaxosCommit (TLC's 1,321,761)", lambda: FastPaxosCommit(), args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
