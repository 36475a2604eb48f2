"""Benchmark: the reference design at the default scope with 1, 2 and 3 devices.

Run: ``.venv/bin/python -m benchmarks.bench_mdm`` (add ``--full`` to also time the
exact product of two devices, which does not finish in reasonable time at the default
scope; see `lifecycle.mdm.design.Scope.interleaving`).

Each run includes the `always_recoverable` graph computation (`no_deadlock`).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from lifecycle.engine import check
from lifecycle.mdm import LifecycleModel, Scope, load_design


def measure(
    devices: int, interleaving: str = "independent", time_limit: float = 600.0
) -> dict[str, object]:
    """Check the reference design at the default scope with `devices` devices."""
    scope = replace(Scope(), devices=devices, interleaving=interleaving)
    model = LifecycleModel(load_design("reference"), scope)
    start = time.perf_counter()
    result = check(model, time_limit=time_limit)
    seconds = time.perf_counter() - start
    return {
        "devices": devices,
        "interleaving": interleaving,
        "states": result.distinct_states,
        "generated": result.generated_states,
        "depth": result.depth,
        "seconds": seconds,
        "complete": result.complete,
        "ok": result.ok,
        "slices": model.compiled_slices,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--devices", type=int, nargs="*", default=[1, 2, 3])
    parser.add_argument("--full", action="store_true", help="also time interleaving='full'")
    parser.add_argument("--time-limit", type=float, default=600.0)
    args = parser.parse_args(argv)
    runs = [(n, "independent") for n in args.devices]
    if args.full:
        runs += [(n, "full") for n in args.devices if n > 1]
    header = (
        f"{'devices':>7} {'interleaving':>12} {'states':>10} {'generated':>10} {'depth':>5} "
        f"{'seconds':>8} {'slices':>7}  verdict"
    )
    print("reference design, default scope (all kinds, both platforms, 1 re-enrollment,")
    print("lossy channel, max 2 in flight per device)")
    print(header)
    print("-" * len(header))
    for devices, mode in runs:
        row = measure(devices, mode, args.time_limit)
        verdict = "ok" if row["ok"] else ("INCOMPLETE" if not row["complete"] else "VIOLATED")
        print(
            f"{row['devices']:>7} {row['interleaving']:>12} {row['states']:>10} "
            f"{row['generated']:>10} {row['depth']:>5} {row['seconds']:>8.2f} "
            f"{row['slices']:>7}  {verdict}",
            flush=True,
        )


if __name__ == "__main__":
    main()
