"""Benchmark: the parallel search (`workers=2`) against the serial one, in the same run.

Run: ``.venv/bin/python -m benchmarks.bench_parallel [--repeat 3] [--quick]``.

For each model the two are checked in turn, serial then parallel, ``--repeat`` times;
the ratio is the median of the pairs' wall-clock ratios (the workers' CPU time is not
the caller's), so machine load, which drifts over minutes, cancels out. Each line also
says whether the counts and verdicts agree. Models (fingerprint store, fast path):
TwoPhase(8) (1,745,408 states), PaxosCommit in TLC's configuration (1,321,761), and
the MDM reference design with 2 devices at the issue's symmetry scope (work_access,
desktop, no re-enrollment, no offline period, no MDM toggle); ``--quick``: TwoPhase(7),
PaxosCommit with 3 RMs and 1 acceptor, and the MDM scope with one device.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

from lifecycle.engine import check
from lifecycle.examples import FastPaxosCommit, FastTwoPhase
from lifecycle.mdm import Design, LifecycleModel, Scope


def timed(make: Callable[[], Any], workers: int) -> tuple[float, tuple[Any, ...]]:
    model = make()
    gc.collect()
    start = time.perf_counter()
    result = check(model, store="fingerprint", workers=workers)
    seconds = time.perf_counter() - start
    verdicts = tuple((p.name, p.status) for p in result.properties)
    return seconds, (result.distinct_states, result.generated_states, result.depth, verdicts)


def compare(label: str, make: Callable[[], Any], repeat: int) -> None:
    ratios, serial_times, parallel_times = [], [], []
    answers = set()
    states = 0
    for _ in range(repeat):
        s, one = timed(make, 1)
        p, two = timed(make, 2)
        answers.update((one, two))
        states = one[0]
        serial_times.append(s)
        parallel_times.append(p)
        ratios.append(p / s)
    same = "same" if len(answers) == 1 else "DIFFERENT"
    print(
        f"{label:40} {states:>10,} {statistics.median(serial_times):>9.2f} "
        f"{statistics.median(parallel_times):>9.2f} {statistics.median(ratios):>7.3f} "
        f"({min(ratios):.3f}-{max(ratios):.3f})  {same} counts and verdicts",
        flush=True,
    )


def mdm(devices: int) -> LifecycleModel:
    scope = Scope(
        devices=devices,
        kinds=("work_access",),
        platforms=("desktop",),
        reenrollments=0,
        max_in_flight=1,
        local_admin=(True,),
        max_offline=0,
        mdm_toggle=False,
    )
    return LifecycleModel(Design(), scope)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    print(f"{'model':40} {'states':>10} {'1 wkr s':>9} {'2 wkrs s':>9} {'ratio':>7}")
    if args.quick:
        compare("TwoPhase(7), fast path", lambda: FastTwoPhase(7), args.repeat)
        compare("PaxosCommit(3 RMs, 1 acceptor)", lambda: FastPaxosCommit(3, 1), args.repeat)
        compare("MDM reference, 1 device, symmetry scope", lambda: mdm(1), args.repeat)
    else:
        compare("TwoPhase(8), fast path", lambda: FastTwoPhase(8), args.repeat)
        compare("PaxosCommit (TLC's 1,321,761)", lambda: FastPaxosCommit(), args.repeat)
        compare("MDM reference, 2 devices, symmetry scope", lambda: mdm(2), args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
