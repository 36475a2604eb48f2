"""Measured bug-finding power: Hypothesis, driving the live machines, finds the bug of
every known-bad preset under the `ci` profile, shrinks it to a short example, and
prints it as steps an engineer reads. Deterministic: a fixed seed, no database."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import settings

from lifecycle.engine import check
from lifecycle.mdm import LifecycleModel, Scope, presets
from lifecycle.testing import active_profile, find_failure, lifecycle_machine, run_length
from lifecycle.testing.lifecycle import category

BAD = sorted(name for name, d in presets().items() if d.expected_violations)
# Presets whose bug Hypothesis does not find reliably under the budget below (issue 4
# is open on this). Measured on 2026-11-30 with
# `benchmarks.bench_hypothesis --seeds 10 --max-examples 500`:
# - queue_survives_reenroll: missed by 5 of 10 seeds. Seed 0 finds it only at its
#   499th example, with a 20-step example: one step of either budget from failing,
#   and a full-suite run once missed it. It needs two unenroll initiators (the user,
#   then the admin during the re-enrollment) and a late alert.
# It is listed, not skipped: the exhaustive checker catches it (tests/mdm), and the
# benchmark measures it.
NOT_YET_FOUND_IN_CI = frozenset({"queue_survives_reenroll"})
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
    # would pay for it. Stale-message bugs (keyed_by_device_id) are found thanks to
    # the machine's `any_actor` rule and slow-network runs, and the Azure AD ones
    # thanks to the per-run focus (docs/testing.md), not by a narrower scope.
    machine = lifecycle_machine(design, Scope(), cross_check=False)
    # Runs of twice the shortest counterexample's steps, at least 25 (`run_length`):
    # shrinking a short run is several times cheaper. A run of 25 steps costs ~10 ms,
    # so the search may run up to 500 of them: generation stops at the first failure,
    # and the bugs that take a streak of the right choices (device_keeps_sessions:
    # median 210 examples) are then found by every seed measured. The deep profile
    # keeps its own budget.
    steps = {} if DEEP else {"stateful_step_count": run_length(design), "max_examples": 500}
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


def test_quiet_actors_move_only_when_nobody_else_can() -> None:
    # The schedule a run draws: a focus on one unenroll initiator keeps the other two
    # quiet, and a lossless run keeps loss quiet. A quiet actor's step is taken only
    # when every enabled actor is quiet, by its own rule and by `any_actor` alike.
    machine = lifecycle_machine("reference", Scope(), cross_check=False)
    seen = {"quiet runs": 0, "steps in quiet runs": 0, "quiet loss": 0}
    broken: list[str] = []
    original = machine._fire

    def fire(self: Any, step: Any) -> None:
        actor = category(step, self.state.device[step.device].phase)
        if self._quiet:
            seen["steps in quiet runs"] += 1
            if len(self._actions) == 0:
                seen["quiet runs"] += 1
            if "network_loss" in self._quiet:
                seen["quiet loss"] += 1
        if actor in self._quiet and any(a not in self._quiet for a in self._by_actor):
            broken.append(f"{actor} moved while {sorted(self._by_actor)} could")
        original(self, step)

    machine._fire = fire  # type: ignore[method-assign]
    assert find_failure(machine, max_examples=80, stateful_step_count=30, seed=1) is None
    assert not broken, broken[:3]
    assert seen["quiet runs"] >= 20 and seen["steps in quiet runs"] >= 300, seen
    assert seen["quiet loss"] > 0, seen


def test_run_length_is_twice_the_shortest_counterexample_and_at_least_the_floor() -> None:
    design = presets()["keeps_aad_association"]
    shortest = check(LifecycleModel(design, Scope())).violation("no_orphaned_aad_device")
    assert shortest is not None
    assert run_length(design) == 2 * len(shortest.trace) == 32
    assert run_length(design, floor=40) == 40
    assert run_length("reference") == 25  # nothing to find: the floor
