"""Measured bug-finding power: Hypothesis, driving the live machines, finds the bug of
every known-bad preset under the `ci` profile, shrinks it to a short example, and
prints it as steps an engineer reads. Deterministic: a fixed seed, no database."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import Phase, settings

from lifecycle.engine import check
from lifecycle.mdm import LifecycleModel, Scope, presets
from lifecycle.testing import active_profile, find_failure, lifecycle_machine, run_length
from lifecycle.testing.lifecycle import ACTORS, category

BAD = sorted(name for name, d in presets().items() if d.expected_violations)
MAX_STEPS = 20
DEEP = active_profile() == "deep"


@pytest.mark.parametrize("name", BAD)
def test_hypothesis_finds_the_bug_of_every_known_bad_preset(name: str) -> None:
    design = presets()[name]
    # No cross-check here: agreement of the live machines with the engine is proven
    # by tests/runtime and the long run below; here every replay the shrinker makes
    # would pay for it. Stale-message bugs (keyed_by_device_id) are found thanks to
    # the machine's `any_actor` rule and slow-network runs, and the Azure AD ones
    # thanks to the per-run focus (docs/testing.md), not by a narrower scope.
    machine = lifecycle_machine(design, Scope(), cross_check=False)
    # Runs of twice the shortest counterexample's steps, at least 25 (`run_length`).
    # A 25-step run costs ~10 ms and generation stops at the first failure, so the
    # search may run up to 2000 of them: the bugs that take a streak of the right
    # draws (keeps_aad_association: seed 0 needs 1,275 examples) are found too.
    # Hypothesis' own shrink phase is left out: on a 30-step failure its index-based
    # shrinker replays ~3,000 examples (48 s for queue_survives_reenroll), while
    # `find_failure`'s shortening by meaning (deletions, then shortcuts along the
    # model's shortest paths) takes under a second and ends within a few steps of
    # the engine's shortest counterexample. The deep profile keeps its own budget.
    budget = {"stateful_step_count": run_length(design), "max_examples": 2000}
    steps = {} if DEEP else {**budget, "phases": (Phase.explicit, Phase.generate)}
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
    seen = {"quiet runs": 0, "steps in quiet runs": 0, "quiet loss": 0, "slow lost contact": 0}
    seen["second focus"] = 0
    fired: set[str] = set()
    broken: list[str] = []
    original = machine._fire

    def fire(self: Any, step: Any) -> None:
        actor = category(step, self.state.device[step.device].phase)
        fired.add(actor)
        if self._quiet:
            seen["steps in quiet runs"] += 1
            if len(self._actions) == 0:
                seen["quiet runs"] += 1
            if "network_loss" in self._quiet:
                seen["quiet loss"] += 1
            if "lost_contact" in self._quiet:
                seen["slow lost contact"] += 1
            if self._then is None and self._focus_quiet:
                seen["second focus"] += 1  # after a first unenrollment
        if actor in self._quiet and any(a not in self._quiet for a in self._by_actor):
            broken.append(f"{actor} moved while {sorted(self._by_actor)} could")
        original(self, step)

    machine._fire = fire  # type: ignore[method-assign]
    assert find_failure(machine, max_examples=80, stateful_step_count=30, seed=1) is None
    assert not broken, broken[:3]
    assert seen["quiet runs"] >= 20 and seen["steps in quiet runs"] >= 300, seen
    assert seen["quiet loss"] > 0 and seen["slow lost contact"] > 0, seen
    assert seen["second focus"] > 0, seen
    # Both timer rules move: LOST_CONTACT names real rows of the tables.
    assert {"maintenance_timer", "lost_contact"} <= fired <= set(ACTORS), fired


def test_run_length_is_twice_the_shortest_counterexample_and_at_least_the_floor() -> None:
    design = presets()["keeps_aad_association"]
    shortest = check(LifecycleModel(design, Scope())).violation("no_orphaned_aad_device")
    assert shortest is not None
    assert run_length(design) == 2 * len(shortest.trace) == 32
    assert run_length(design, floor=40) == 40
    assert run_length("reference") == 25  # nothing to find: the floor
