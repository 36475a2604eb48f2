"""Benchmark: what the interpreter's history and the loss-free `no_deadlock` cost the
reference check.

Run: ``.venv/bin/python -m benchmarks history``.

Three variants of the reference design at the default scope, run alternately in one
process (the machine is shared, so only ratios measured side by side mean anything):

- ``full``: the model as shipped: the history `lifecycle.mdm.history` keeps after every
  row, and `no_deadlock` that does not count a `LoseMessage` step as a way out;
- ``no history``: the history functions replaced by no-ops (the properties that read
  the history then hold vacuously: this variant is for timing only);
- ``lossy recovery``: the full model with `no_deadlock` counting every edge.

Each is checked ``ROUNDS`` times; the median wall time is reported, with its ratio to
``no history`` (the issue's bound: the history costs at most 1.3x).
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable
from typing import Any

from lifecycle.engine import check
from lifecycle.mdm import Design, LifecycleModel, history, tables

ROUNDS = 5


class _LossyRecovery(LifecycleModel):
    def properties(self) -> Any:
        return [
            dataclasses.replace(p, without=None) if p.name == "no_deadlock" else p
            for p in super().properties()
        ]


def _no_history() -> Callable[[], None]:
    """Stub the history out of the checker's interpreter; return the undo."""
    saved = (tables.keep_device_history, tables.keep_record_history)

    def nothing(*args: Any) -> None:
        return None

    tables.keep_device_history = nothing  # type: ignore[assignment]
    tables.keep_record_history = nothing  # type: ignore[assignment]

    def undo() -> None:
        tables.keep_device_history, tables.keep_record_history = saved

    return undo


def _time(variant: str) -> tuple[float, int]:
    design = Design()
    undo = _no_history() if variant == "no history" else None
    try:
        cls = _LossyRecovery if variant == "lossy recovery" else LifecycleModel
        start = time.perf_counter()
        result = check(cls(design, design.scope()))
        return time.perf_counter() - start, result.distinct_states
    finally:
        if undo is not None:
            undo()


def main(argv: list[str] | None = None) -> int:
    assert history.keep_device_history is tables.keep_device_history
    variants = ("no history", "full", "lossy recovery")
    times: dict[str, list[float]] = {v: [] for v in variants}
    states: dict[str, int] = {}
    for _ in range(ROUNDS):
        for v in variants:
            seconds, n = _time(v)
            times[v].append(seconds)
            states[v] = n
    base = statistics.median(times["no history"])
    print(f"{'variant':16} {'states':>9} {'median s':>9} {'ratio':>6}")
    for v in variants:
        med = statistics.median(times[v])
        print(f"{v:16} {states[v]:>9,} {med:>9.2f} {med / base:>6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
