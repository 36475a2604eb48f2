"""Benchmark: the MDM model's scopes, each checked in its own process (peak memory).

Run: ``.venv/bin/python -m benchmarks.bench_mdm`` (``--quick`` skips the two long
two-device runs; ``--only NAME`` runs one configuration).

- ``reference``: the reference design at the default scope (one device, every kind but
  bulk, both platforms, one re-enrollment, offline periods and the MDM switch). Its
  states are compared with the model before devices shared a server (16,446).
- ``factors``: where one device's states come from: the default scope with one part
  of the environment left out at a time.
- ``two_devices``: two devices sharing the server, every interleaving, no
  re-enrollment, no offline period, no MDM switch (a complete search).
- ``two_devices_default``: two devices at the full default scope, for 10 minutes:
  how far the search gets.
- ``three_devices``: three devices at the two-device scope above, for 10 minutes.
- ``hardware_id``: ``record_key = "hardware_id"`` with two cloned devices
  (``shared_hardware_id``) and no re-enrollment: the time to its first violation.

Each run includes the `always_recoverable` graph computation (`no_deadlock`) unless it
stops at a first violation.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import time
from dataclasses import replace
from typing import Any

from lifecycle.engine import Progress, check
from lifecycle.mdm import LifecycleModel, Scope, load_design

BEFORE = 16_446  # states of the reference design at the default scope before this model
TWO = Scope(devices=2, reenrollments=0, max_offline=0, mdm_toggle=False)


def _run(design: str, scope: Scope, kwargs: dict[str, Any], queue: Any) -> None:
    model = LifecycleModel(load_design(design), scope)
    levels: list[tuple[int, int]] = []

    def progress(p: Progress) -> None:
        if not levels or levels[-1][0] != p.depth:
            levels.append((p.depth, p.distinct_states))

    start, cpu = time.perf_counter(), time.process_time()
    result = check(model, progress=progress, **kwargs)
    queue.put(
        {
            "states": result.distinct_states,
            "generated": result.generated_states,
            "depth": result.depth,
            "seconds": time.perf_counter() - start,
            "cpu": time.process_time() - cpu,
            "complete": result.complete,
            "ok": result.ok,
            "violations": {v.property: len(v.trace) for v in result.violations},
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "levels": levels,
        }
    )


def measure(design: str, scope: Scope, **kwargs: Any) -> dict[str, Any]:
    """One check in a fresh forked process: its figures and its peak resident memory."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_run, args=(design, scope, kwargs, queue))
    proc.start()
    row: dict[str, Any] = queue.get()
    proc.join()
    return row


def _verdict(row: dict[str, Any]) -> str:
    if row["violations"]:
        return "violated: " + ", ".join(f"{k} ({n} steps)" for k, n in row["violations"].items())
    return "holds" if row["ok"] else "INCOMPLETE"


def _line(label: str, row: dict[str, Any]) -> str:
    return (
        f"{label:34} {row['states']:>10,} {row['generated']:>11,} {row['depth']:>5} "
        f"{row['seconds']:>8.1f} {row['cpu']:>8.1f} {row['peak_mb']:>8.0f}  {_verdict(row)}"
    )


HEADER = (
    f"{'configuration':34} {'states':>10} {'generated':>11} {'depth':>5} "
    f"{'wall s':>8} {'cpu s':>8} {'peak MB':>8}  verdict"
)


def reference() -> None:
    row = measure("reference", Scope())
    print(_line("reference, default scope", row))
    print(
        f"  states per device: {row['states']:,} (the model before devices shared a "
        f"server: {BEFORE:,}; x{row['states'] / BEFORE:.1f})"
    )


def factors() -> None:
    base = Scope()
    for label, scope in (
        ("default scope", base),
        ("  no offline periods", replace(base, max_offline=0)),
        ("  no MDM switch", replace(base, mdm_toggle=False)),
        ("  neither", replace(base, max_offline=0, mdm_toggle=False)),
        ("  no re-enrollment", replace(base, reenrollments=0)),
        ("  offline bounded to 1 (counted)", replace(base, max_offline=1)),
        ("  bulk added to the kinds", replace(base, kinds=(*base.kinds, "bulk"))),
    ):
        print(_line(label, measure("reference", scope)))


def two_devices() -> None:
    print(_line("2 devices, 0 re-enrollments, no env", measure("reference", TWO)))


def two_devices_default(limit: float = 600.0) -> None:
    row = measure("reference", replace(Scope(), devices=2), time_limit=limit)
    print(_line(f"2 devices, default scope ({limit:.0f} s)", row))
    levels = row["levels"]
    if levels:
        shown = ", ".join(f"depth {d}: {n:,}" for d, n in levels[-6:])
        print(f"  states seen by depth (last levels): {shown}")


def three_devices(limit: float = 600.0) -> None:
    row = measure("reference", replace(TWO, devices=3), time_limit=limit)
    print(_line(f"3 devices, 0 re-enr., no env ({limit:.0f} s)", row))
    levels = row["levels"]
    if levels:
        shown = ", ".join(f"depth {d}: {n:,}" for d, n in levels[-6:])
        print(f"  states seen by depth (last levels): {shown}")


def hardware_id() -> None:
    scope = replace(TWO, shared_hardware_id=True)
    row = measure("keyed_by_hardware_id", scope, stop_on_violation=True)
    print(_line("hardware_id, 2 cloned devices", row))


RUNS = {
    "reference": reference,
    "factors": factors,
    "two_devices": two_devices,
    "two_devices_default": two_devices_default,
    "three_devices": three_devices,
    "hardware_id": hardware_id,
}
LONG = ("two_devices", "two_devices_default", "three_devices")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="skip the two long runs")
    parser.add_argument("--only", choices=sorted(RUNS), action="append")
    args = parser.parse_args(argv)
    names = args.only or [n for n in RUNS if not (args.quick and n in LONG)]
    print(HEADER)
    print("-" * len(HEADER))
    for name in names:
        RUNS[name]()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
