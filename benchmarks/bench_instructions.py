"""Engine overhead ratio in instructions: the same ratio as bench_engine, without noise.

    .venv/bin/python -m benchmarks.bench_instructions          # needs valgrind
    .venv/bin/python -m benchmarks.bench_instructions --only Paxos

Timed ratios on this shared 2-core machine move by 20% and more between two runs of
the same code (PaxosCommit's protocol path measured 1.11, then 1.46). Valgrind's
callgrind counts the instructions a process executes instead: the same count for the
same program and inputs whatever else the machine is doing, so a 1% change in the
engine shows as 1%.

Per configuration, four processes run under callgrind with `PYTHONHASHSEED=0`. Each
builds the model and collects its reachable states (an exact search, untimed), then:

- `setup`: nothing more (the cost every other process shares, subtracted from each);
- `check`: the engine's check (`_Search.run`, the configuration's store);
- `bare`: `bare_pass`, one call of `actions` and of `next_state` per candidate on every
  reachable state (or one `successors()` per state);
- `plain`: `plain_bfs`, the least breadth-first search over the model (it skips
  unchanged successors without hashing them, as the engine does).

ratio = check / bare (the engine's overhead ratio, target <= 1.1), floor = plain / bare
(what any BFS written in Python pays at least on this model), and check / plain.
Instructions are not seconds: cache misses, which grow with the store, count the same
as any other instruction. The sizes are small (about 10^4 states) because callgrind
runs some 50 times slower than the CPU. Results go to benchmarks/results/instructions.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks.bench_engine import (
    TARGETS,
    _search,
    bare_pass,
    build,
    label,
    plain_bfs,
    reachable_states,
)

RESULTS = Path(__file__).resolve().parent / "results" / "instructions.json"
MODES = ("setup", "check", "bare", "plain")
_COLLECTED = re.compile(r"Collected : (\d+)")


def configurations() -> list[dict[str, Any]]:
    configs = []
    for model, size, extra in (
        ("IntGrid", 150, {}),  # 22,801 states
        ("TwoPhase", 5, {}),  # 8,832 states
        ("PaxosCommit", 2, {"acceptors": 2}),  # 10,821 states
    ):
        for path in ("actions", "successors"):
            configs.append(
                {
                    "model": model,
                    "size": size,
                    "path": path,
                    "store": "fingerprint",
                    "graph": False,
                    **extra,
                }
            )
    configs.append(
        {"model": "TwoPhase", "size": 5, "path": "successors", "store": "exact", "graph": True}
    )
    return configs


def worker(spec: dict[str, Any], mode: str) -> None:
    """One measured process: the shared setup, then `mode`'s work."""
    model = build(spec["model"], spec["size"], spec["path"], spec.get("acceptors", 3))
    states = reachable_states(model)
    gc.collect()
    if mode == "check":
        _search(model, spec["store"], spec["graph"]).run()
    elif mode == "bare":
        bare_pass(model, states, spec["path"])
    elif mode == "plain":
        plain_bfs(model, spec["path"], spec["store"] == "fingerprint")


def count(spec: dict[str, Any], mode: str) -> int:
    """Instructions executed by one worker process under callgrind."""
    proc = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-m",
            "benchmarks.bench_instructions",
            "--worker",
            json.dumps(spec),
            mode,
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    found = _COLLECTED.findall(proc.stderr)
    if proc.returncode != 0 or not found:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"callgrind worker failed for {label(spec)} {mode}:\n{tail}")
    return int(found[-1])


def measure(spec: dict[str, Any], pool: ThreadPoolExecutor) -> dict[str, Any]:
    counts = dict(zip(MODES, pool.map(lambda m: count(spec, m), MODES), strict=True))
    work = {m: counts[m] - counts["setup"] for m in MODES if m != "setup"}
    return {
        **spec,
        "instructions": counts,
        "check_minus_setup": work["check"],
        "bare_minus_setup": work["bare"],
        "plain_minus_setup": work["plain"],
        "ratio": work["check"] / work["bare"],
        "floor": work["plain"] / work["bare"],
        "vs_plain": work["check"] / work["plain"],
    }


def table(rows: Sequence[dict[str, Any]]) -> str:
    head = (
        f"{'configuration':36} {'store':11} {'bare Minstr':>11} {'check':>9} {'plain':>9} "
        f"{'ratio':>6} {'floor':>6} {'vs plain':>8}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{label(r):36} {r['store']:11} {r['bare_minus_setup'] / 1e6:>11.1f} "
            f"{r['check_minus_setup'] / 1e6:>9.1f} {r['plain_minus_setup'] / 1e6:>9.1f} "
            f"{r['ratio']:>6.3f} {r['floor']:>6.3f} {r['vs_plain']:>8.3f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", help="run only configurations whose label contains this")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker[0]), args.worker[1])
        return 0
    if shutil.which("valgrind") is None:
        print("error: valgrind is missing; install it: sudo apt-get install valgrind")
        return 2
    configs = configurations()
    if args.only:
        configs = [c for c in configs if args.only in label(c)]
    print(f"engine overhead in instructions (callgrind), {len(configs)} configurations")
    rows = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for spec in configs:
            print(f"  counting {label(spec)} {spec['store']} ...", flush=True)
            try:
                rows.append(measure(spec, pool))
            except RuntimeError as exc:
                print(f"error: {exc}")
                return 1
    print()
    print(table(rows))
    print()
    target = TARGETS["ratio"]
    for r in rows:
        met = "met" if r["ratio"] <= target else "NOT met"
        print(
            f"overhead ratio {label(r)} {r['store']}: {r['ratio']:.3f} in instructions; "
            f"the least BFS's own {r['floor']:.3f} (target <= {target}): {met}"
        )
    results = RESULTS
    if args.only:
        results = RESULTS.with_name(f"instructions-{re.sub(r'[^A-Za-z0-9]+', '-', args.only)}.json")
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps({"python": sys.version.split()[0], "runs": rows}, indent=2))
    print(f"\nwritten {results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
