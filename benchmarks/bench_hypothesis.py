"""How fast does Hypothesis catch each known-bad preset?

    .venv/bin/python -m benchmarks.bench_hypothesis [--seeds 20] [--max-examples 2000] [--steps N]

For each preset with expected violations: over N seeds, the median number of examples
and the median seconds until the live-machine state machine first fails (generation
only: shrinking is not timed), the most examples any seed needed, and how many seeds
found nothing within the budget.
A preset that many seeds miss is hard for Hypothesis: it is a finding.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence

from hypothesis import Phase, settings

from lifecycle.mdm import Scope, presets
from lifecycle.testing import find_failure, lifecycle_machine, load_profile, run_length


def measure(
    name: str, seeds: int, max_examples: int, steps: int | None
) -> tuple[list[int], list[float], int]:
    design = presets()[name]
    if steps is None:
        steps = run_length(design)
    examples: list[int] = []
    seconds: list[float] = []
    misses = 0
    run = settings(
        max_examples=max_examples,
        stateful_step_count=steps,
        derandomize=False,
        database=None,
        phases=(Phase.generate,),
        report_multiple_bugs=False,
    )
    for seed in range(seeds):
        machine = lifecycle_machine(design, Scope())
        machine.stats.reset()
        find_failure(machine, settings=run, seed=seed, shorten=False)
        st = machine.stats
        if st.first_failure_examples is None or st.first_failure_seconds is None:
            misses += 1
            continue
        examples.append(st.first_failure_examples)
        seconds.append(st.first_failure_seconds)
    return examples, seconds, misses


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--max-examples", type=int, default=2000)
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="stateful_step_count (default: run_length(design), as the ci test uses)",
    )
    parser.add_argument("presets", nargs="*", help="presets to measure (default: all bad ones)")
    args = parser.parse_args(argv)
    load_profile("ci")
    names = args.presets or sorted(n for n, d in presets().items() if d.expected_violations)
    print(
        f"{'preset':34} {'expected':28} {'median examples':>15} {'median s':>9} "
        f"{'most':>6} {'missed':>8}   (seeds={args.seeds}, max_examples={args.max_examples}, "
        f"steps={args.steps or 'run_length'})"
    )
    for name in names:
        examples, seconds, misses = measure(name, args.seeds, args.max_examples, args.steps)
        med_ex = f"{statistics.median(examples):.0f}" if examples else "-"
        med_s = f"{statistics.median(seconds):.2f}" if seconds else "-"
        most = f"{max(examples)}" if examples else "-"
        expected = ",".join(presets()[name].expected_violations)
        print(f"{name:34} {expected:28} {med_ex:>15} {med_s:>9} {most:>6} {misses:>5}/{args.seeds}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
