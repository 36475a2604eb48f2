"""Benchmark: `lifecycle mutate` on the reference design at the default scope, with a
worker per CPU, as a user runs it.

Run: ``.venv/bin/python -m benchmarks mutation``. Reports the mutant count, each
verdict's count, the kill rate and the wall time (the issue's bound: under 10 minutes
on this machine).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

LIFECYCLE = Path(sys.executable).with_name("lifecycle")


def main(argv: list[str] | None = None) -> int:
    start = time.perf_counter()
    done = subprocess.run(
        [str(LIFECYCLE), "mutate", "--format", "json", "--workers", "auto", "--no-progress"],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1, 3):
        print(done.stderr, file=sys.stderr)
        return 1
    rows = json.loads(done.stdout)
    counts = Counter(r["status"] for r in rows)
    decided = counts["killed"] + counts["survived"]
    rate = counts["killed"] / decided if decided else float("nan")
    print(f"mutants {len(rows)}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"kill rate {100 * rate:.1f}% of {decided} decided mutants; wall {seconds:.0f} s")
    slow = sorted(rows, key=lambda r: -r["seconds"])[:5]
    print("slowest: " + ", ".join(f"{r['mutant']} {r['seconds']:.0f}s" for r in slow))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
