"""The mutation matrix at the default scope: the reference design holds every property
after a complete search; every known-bad preset is caught by the property it expects,
with a shortest counterexample; and in every state of those searches, every message in
flight has exactly one taker (the routing the rows declare)."""

from __future__ import annotations

import pytest
from mdm_routing import OneTaker

from lifecycle.engine import Kind, check
from lifecycle.mdm import LifecycleModel, Scope, presets
from lifecycle.mdm.design import LIVENESS
from lifecycle.mdm.explain import NOBODY, covered
from lifecycle.mdm.matrix import matrix_table, run_matrix


@pytest.mark.parametrize("name", sorted(presets()))
def test_every_preset_at_the_default_scope(name: str) -> None:
    # One test per preset, so that a parallel test run spreads the searches over cores.
    # A complete search at the default scope (one device) of every preset: the routing
    # is exclusive in every state, and the verdicts are what the preset says. A preset
    # whose bug needs its own scope (several devices) is judged there, by the matrix.
    design = presets()[name]
    # The liveness check runs where its verdict is asserted: the reference (which must
    # be `ok`) and the presets that expect a liveness violation. The others assert only
    # their expected safety violations, which the liveness check does not change.
    liveness = name == "reference" or bool(set(design.expected_violations) & set(LIVENESS))
    model = OneTaker(design, Scope(), liveness=liveness)
    result = check(model)
    assert result.complete
    assert model.broken is None, (name, model.broken_message, model.broken)
    for violation in result.violations:
        # A trace starts in an initial state and each step is an enabled action; a
        # lasso (liveness) has one more action, the one that closes its loop.
        trace = violation.trace
        assert len(trace.states) in (0, len(trace) + (0 if trace.is_lasso else 1))
        # Every counterexample explains itself: the clause that failed, for a device
        # or a record of the state that breaks it (lifecycle.mdm.explain).
        why = violation.explanation or ""
        if trace.states and violation.property != "deadlock":
            assert NOBODY not in why and ("device " in why or "record" in why), (
                name,
                violation.property,
                why,
            )
        if violation.property == "no_deadlock" and trace.states:
            # The stuck party, what it waits for, and the states it can no longer reach.
            assert " waits " in why or "mid-unenroll" in why or "holds a session" in why
            assert "can no longer reach" in why, why
    # Every property that can break on a state or a loop has an explainer.
    breakable = {p.name for p in model.properties() if p.kind is not Kind.SOMETIMES}
    assert breakable <= covered(), breakable - covered()
    if name == "reference":
        assert result.ok
    elif not design.scope_overrides:
        found = {v.property for v in result.violations}
        assert set(design.expected_violations) <= found, (name, found)


@pytest.mark.parametrize(
    "name", sorted(n for n, d in presets().items() if d.scope_overrides or n == "reference")
)
def test_matrix_rows_at_each_presets_own_scope(name: str) -> None:
    (row,) = run_matrix(Scope(), designs={name: presets()[name]})
    if name == "reference":
        assert row.complete and row.caught and not row.found
        return
    assert row.caught, (row.design, row.expected, row.found)
    for prop in row.expected:
        assert row.found[prop] >= 1
    table = matrix_table([row])
    assert table.count("\n") == 2


def test_a_two_device_bug_is_found_with_two_devices_and_absent_with_one() -> None:
    design = presets()["keyed_by_hardware_id"]
    two = design.scope(Scope())
    assert two.devices == 2 and two.shared_hardware_id
    model = LifecycleModel(design, two, liveness=False)  # reduced by symmetry
    found = check(model, stop_on_violation=True)
    violation = found.violation("server_agrees_when_quiet")
    assert violation is not None
    # Both devices enrolled, and the second one's enrollment replaced the first one's
    # record: the first device is managed by nobody.
    trace = violation.trace
    names = [a[0] for a in trace.actions]
    assert "ReplaceEnrollment" in names
    assert {a[1] for a in trace.actions if a[0] == "StartEnrollment"} == {0, 1}
    one = check(LifecycleModel(design, Scope(devices=1, reenrollments=0, max_offline=0)))
    assert one.complete and one.violation("server_agrees_when_quiet") is None
    # The same two cloned devices under a server keyed by enrollment: no such bug (this
    # scope's complete search is 6 M states, so it is bounded here; the benchmark runs
    # it to the end).
    keyed = design.__class__(name="by_enrollment", scope_overrides=design.scope_overrides)
    bounded = check(
        LifecycleModel(keyed, two, liveness=False), max_states=300_000, stop_on_violation=True
    )
    assert bounded.violation("server_agrees_when_quiet") is None
    assert bounded.distinct_states > 10 * found.distinct_states


def test_matrix_traces_are_shortest() -> None:
    """Breadth-first: no shorter trace reaches a violating state. Checked for one
    preset by bounding the depth one below the counterexample's length."""
    design = presets()["keyed_by_device_id"]
    model = LifecycleModel(design, Scope(kinds=("work_access",), platforms=("desktop",)))
    found = check(model).violation("no_stale_unenroll")
    assert found is not None
    shallower = check(model, max_depth=len(found.trace))  # depth counts states
    assert shallower.violation("no_stale_unenroll") is None
