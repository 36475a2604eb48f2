"""Benchmark: the distributed search on a local Ray instance, and what it costs.

Run: ``.venv/bin/python -m benchmarks.bench_ray [--rms 7]``.

In one run, on TwoPhase(`rms`) (fast path, fingerprint store):
- the local parallel search with 2 workers against Ray with 2 actors (the overhead of
  Ray's object store and scheduling, as a ratio);
- Ray with 1, 2 and 4 actors on this 2-CPU machine (more actors than CPUs share them),
  and an empty round trip to 1, 2, 4 and 8 actors: the per-level synchronisation cost
  that grows with the cluster.
From these it fits the cost model ``T(w) = E / w + X (1 - 1/w) + L r(w)`` (E: the
expansion, X: shipping the states that change owner, L: levels, r: the round trip) and
prints the expected times for 16 and 64 workers, each on its own CPU.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from lifecycle.engine import check
from lifecycle.examples import FastTwoPhase


def timed(**kwargs: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = check(FastTwoPhase(kwargs.pop("rms")), store="fingerprint", **kwargs)
    return time.perf_counter() - start, result


def round_trip(ray: Any, actors: int, repeat: int = 30) -> float:
    """Seconds for one call to every actor and back (the driver's per-round cost)."""

    @ray.remote(num_cpus=0.1)
    class Echo:
        def call(self, message: Any) -> Any:
            return message

    pool = [Echo.remote() for _ in range(actors)]
    ray.get([a.call.remote(0) for a in pool])
    start = time.perf_counter()
    for i in range(repeat):
        ray.get([a.call.remote(i) for a in pool])
    seconds = (time.perf_counter() - start) / repeat
    for a in pool:
        ray.kill(a)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rms", type=int, default=7)
    args = parser.parse_args(argv)
    import ray

    serial, result = timed(rms=args.rms)
    local, _ = timed(rms=args.rms, workers=2)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        rays = {w: timed(rms=args.rms, workers=w, backend="ray")[0] for w in (1, 2, 4)}
        trips = {w: round_trip(ray, w) for w in (1, 2, 4, 8)}
    finally:
        ray.shutdown()
    levels = result.depth
    print(f"TwoPhase({args.rms}): {result.distinct_states:,} states, {levels} levels")
    print(f"serial                         {serial:8.2f} s")
    print(f"local, 2 workers               {local:8.2f} s  ({local / serial:.2f}x serial)")
    for w, seconds in rays.items():
        ratio = seconds / serial
        print(f"Ray, {w} actor(s)                {seconds:8.2f} s  ({ratio:.2f}x serial)")
    print(f"Ray 2 actors / local 2 workers {rays[2] / local:8.2f}x")
    for w, seconds in trips.items():
        print(f"round trip to {w} actor(s)      {seconds * 1000:8.2f} ms")
    # Fit: with 1 actor nothing changes owner; 3 rounds per level (expand, route, admit).
    r1, r2 = trips[1], trips[2]
    expand = rays[1] - 3 * levels * r1
    ship = 2 * (rays[2] - expand / 2 - 3 * levels * r2)  # X (1 - 1/2) = X / 2
    # The round trip grows about linearly with the actors the driver waits for.
    slope = (trips[8] - trips[1]) / 7
    print(
        f"fit: E = {expand:.2f} s, X = {max(ship, 0.0):.2f} s, r(w) ~ {r1 * 1000:.2f} ms "
        f"+ {slope * 1000:.2f} ms per actor"
    )
    for w in (16, 64):
        rw = r1 + slope * (w - 1)
        estimate = expand / w + max(ship, 0.0) * (1 - 1 / w) + 3 * levels * rw
        print(
            f"expected with {w} workers on {w} CPUs: {estimate:.2f} s "
            f"({estimate / serial:.2f}x serial)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
