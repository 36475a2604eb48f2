"""How fast does Hypothesis catch each known-bad preset?

    .venv/bin/python -m benchmarks.bench_hypothesis [--seeds 20] [--max-examples 2000] [--steps N]
    .venv/bin/python -m benchmarks.bench_hypothesis --generic [--max-examples 100] [--seeds 3]
        [--schedules fresh,recent,focus,focus] [--no-uniform] [preset ...]

For each preset with expected violations: over N seeds, the median number of examples
and the median seconds until the live-machine state machine first fails (generation
only: shrinking is not timed), the most examples any seed needed, and how many seeds
found nothing within the budget.
A preset that many seeds miss is hard for Hypothesis: it is a finding.

With ``--generic``: the generic adapter (`state_machine(LifecycleModel(...))`, which
knows nothing of MDM) on every known-bad preset, over 3 seeds, with generation only,
once with the "uniform" schedule alone and once with the default schedules
(`ModelStateMachine.schedules`), in the same run: which presets each finds (an
expected property broken, after how many examples; or "no witness": an expected
`sometimes` property no run reached while the reference design's runs did).
Hypothesis' stateful runs also depend on the hash seed (its rule set is a
frozenset): run it with PYTHONHASHSEED=0, as the test suite does.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from typing import Any

from hypothesis import Phase, settings

from lifecycle.engine import Kind
from lifecycle.mdm import LifecycleModel, Scope, presets
from lifecycle.testing import (
    find_failure,
    lifecycle_machine,
    load_profile,
    run_length,
    state_machine,
)
from lifecycle.testing.machine import ModelStateMachine


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


def _generic_run(
    design: Any, scope: Scope, schedules: tuple[str, ...], max_examples: int, seed: int
) -> Any:
    """One seeded generation-only run of the generic adapter; the machine."""
    machine = state_machine(LifecycleModel(design, scope))
    machine.schedules = schedules
    run = settings(
        max_examples=max_examples,
        stateful_step_count=run_length(design),
        derandomize=False,
        database=None,
        phases=(Phase.generate,),
        deadline=None,
    )
    find_failure(machine, settings=run, seed=seed, shorten=False)
    return machine


def _finds(design: Any, schedules: tuple[str, ...], max_examples: int, seed: int) -> bool:
    """Whether one run finds the preset: an expected property broken, or, for an
    expected `sometimes` property (a path that can never complete), no run reaching
    its witness while the reference design's runs, in the same budget, seed and
    scope, do (evidence, as `lifecycle_machine`'s test of those presets counts it)."""
    scope = design.scope(Scope())
    machine = _generic_run(design, scope, schedules, max_examples, seed)
    failure = machine.stats.first_failure
    if failure is not None:
        return bool(failure.property in design.expected_violations)
    missing = [
        p.name
        for p in LifecycleModel(design, scope).properties()
        if p.kind is Kind.SOMETIMES
        and p.name in design.expected_violations
        and p.name not in machine.stats.witnessed
    ]
    if not missing:
        return False
    reference = _generic_run(presets()["reference"], scope, schedules, max_examples, seed)
    return all(p in reference.stats.witnessed for p in missing)


def generic(
    names: list[str],
    max_examples: int,
    seeds: int,
    schedules: tuple[str, ...] = (),
    uniform: bool = True,
) -> None:
    """The generic adapter on each preset, with the uniform schedule and the default,
    over `seeds` seeds each (Hypothesis' seed pins its generation, constants
    included, so every figure is reproducible; one derandomized run would be one
    coin flip per preset)."""
    every = schedules or ModelStateMachine.schedules
    print(
        f"{'preset':34} {'uniform':>8} {'schedules':>10}   (seeds of {seeds} that find it "
        f"within {max_examples} examples)"
    )
    found = {"uniform": 0, "all": 0}
    rate = {"uniform": 0, "all": 0}
    for name in names:
        design = presets()[name]
        row = []
        for label, schedules in (("uniform", ("uniform",)), ("all", every)):
            if label == "uniform" and not uniform:
                row.append("-")
                continue
            hits = sum(_finds(design, schedules, max_examples, seed) for seed in range(seeds))
            found[label] += hits > 0
            rate[label] += hits
            row.append(f"{hits}/{seeds}")
        print(f"{name:34} {row[0]:>8} {row[1]:>10}")
        sys.stdout.flush()
    total = len(names) * seeds
    print(
        f"found by some seed: {found['uniform']} of {len(names)} with the uniform schedule, "
        f"{found['all']} of {len(names)} with {', '.join(every)}; "
        f"runs that find their preset: {rate['uniform']}/{total} and {rate['all']}/{total}"
    )


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
    parser.add_argument("--generic", action="store_true", help="the generic adapter's schedules")
    parser.add_argument(
        "--schedules",
        default="",
        help="with --generic: comma-separated schedules to measure (default: the adapter's)",
    )
    parser.add_argument(
        "--no-uniform", action="store_true", help="with --generic: skip the uniform column"
    )
    parser.add_argument("presets", nargs="*", help="presets to measure (default: all bad ones)")
    args = parser.parse_args(argv)
    load_profile("ci")
    names = args.presets or sorted(n for n, d in presets().items() if d.expected_violations)
    if args.generic:
        generic(
            names,
            args.max_examples if args.max_examples != 2000 else 100,
            args.seeds if args.seeds != 20 else 3,
            tuple(n for n in args.schedules.split(",") if n),
            not args.no_uniform,
        )
        return 0
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
