"""The composed model: scenarios the doc describes, the knobs' effects, the readable
output, and the multi-device reduction against the full product."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lifecycle.engine import Kind, check, state_fields
from lifecycle.mdm import Design, LifecycleModel, Scope, apply_row, load_design, presets
from lifecycle.mdm.model import describe_message
from lifecycle.mdm.properties import agrees
from lifecycle.mdm.state import World

BULK = Scope(kinds=("bulk",), platforms=("desktop",), local_admin=(True,), manual_unenroll=(True,))


def steps(model: LifecycleModel, *moves: tuple[str, object]) -> World:
    """Apply (trigger, arg) moves to device 0 from the first initial state."""
    state = model.init_states()[0]
    for trigger, arg in moves:
        state = apply_row(model, state, 0, trigger, arg)
    return state


def test_user_unenroll_path_cleans_up_and_the_server_learns_even_if_the_alert_is_lost() -> None:
    model = LifecycleModel(Design(), BULK)
    alert = ("pkg1", 1, "alert", "type", 0)
    s = steps(
        model,
        ("StartEnrollment", ("bulk", True)),
        ("CompleteEnrollment", None),
        ("UserDisconnect", None),
        ("SendUnenrollAlert", "type"),
        ("LoseMessage", alert),
        ("RemoveEnterpriseApps", None),
        ("RemoveCertificates", None),
        ("StopEnforcingPolicies", None),
        ("RemoveDMClientConfig", None),
    )
    bundle = (s.device[0], s.server[0], s.directory[0], s.net[0])
    assert s.device[0].phase == "dormant" and s.device[0].artifacts == 0
    assert s.server[0].record == "enrolled"  # the alert was lost (F3)
    assert not agrees(bundle)
    assert not model.quiet(bundle)  # the verification timer is pending (F55)
    s = apply_row(model, s, 0, "PresumeUnenrolled")
    bundle = (s.device[0], s.server[0], s.directory[0], s.net[0])
    assert s.server[0].record == "unenrolled" and model.quiet(bundle) and agrees(bundle)


def test_the_same_lost_alert_leaves_a_ghost_when_the_server_trusts_the_alert() -> None:
    model = LifecycleModel(load_design("trusts_alert_alone"), BULK)
    result = check(model)
    violation = result.violation("server_agrees_when_quiet")
    assert violation is not None
    names = [a[0] for a in violation.trace.actions]
    assert "UserDisconnect" in names and "LoseMessage" in names
    assert violation.trace.states[-1].server[0].record == "enrolled"


def test_exec_aborts_the_session_and_the_alert_has_msgid_1_in_a_new_session() -> None:
    model = LifecycleModel(Design(), BULK)
    s = steps(
        model,
        ("StartEnrollment", ("bulk", True)),
        ("CompleteEnrollment", None),
        ("AdminRequestUnenroll", None),
        ("MaintenanceSession", None),
        ("SendPolicy", ("net", ("pkg1", 1, "main", "none", 0))),
        ("ReceivePolicy", ("pkg2", 1, "main", "policy", 1)),
        ("ReceiveStatus", ("pkg3", 1, "main", "ok", 0)),
        ("ReceiveFinal", ("pkg4", 1, "main", "final", 0)),
        ("MaintenanceSession", None),
        ("SendUnenrollExec", ("net", ("pkg1", 1, "main", "none", 0))),
    )
    assert s.server[0].record == "unenroll_sent"
    assert s.server[0].session == "none"  # no response is expected (F15, A1)
    s = apply_row(model, s, 0, "ReceiveUnenrollExec", ("pkg2", 1, "main", "unenroll", 1))
    assert s.device[0].phase == "unenrolling" and s.device[0].session == "idle"
    assert not s.net[0].in_flight  # no Status for the Exec (F15)
    s = apply_row(model, s, 0, "SendUnenrollAlert", "type")
    assert s.net[0].in_flight == (("pkg1", 1, "alert", "type", 0),)
    assert s.device[0].phase == "cleanup_apps"  # cleanup starts once sent (F7)


def test_reference_holds_every_property_with_witnesses_for_each_path() -> None:
    result = check(LifecycleModel(Design(), Scope(max_in_flight=1)))
    assert result.ok and result.complete
    names = {p.name for p in result.properties}
    assert {
        "user_unenroll_completes",
        "aad_unenroll_completes",
        "admin_unenroll_completes",
        "wipe_completes",
    } <= names
    kinds = {p.name: p.kind for p in result.properties}
    assert kinds["no_deadlock"] is Kind.RECOVERABLE


def test_witnesses_follow_the_scope() -> None:
    names = {p.name for p in LifecycleModel(Design(), BULK).properties()}
    assert "user_unenroll_completes" in names and "aad_unenroll_completes" not in names


def test_empty_meta_is_the_cause_in_its_preset() -> None:
    """The preset's shortest counterexample is the empty <Meta/> alert; recognising it
    removes that cause (a trusting server still has a longer one: a check-in that
    overtook the alert resurrects the record, A10)."""
    bad = load_design("empty_meta_not_recognised")
    fixed = replace(bad, alert_recognition="type_or_empty_meta", expected_violations=())
    found = check(LifecycleModel(bad, BULK)).violation("server_agrees_when_quiet")
    assert found is not None
    assert "empty_meta" in repr(found.trace.actions)
    other = check(LifecycleModel(fixed, BULK)).violation("server_agrees_when_quiet")
    assert other is not None and len(other.trace) > len(found.trace)
    assert "empty_meta" not in repr(other.trace.actions)
    assert other.trace.actions[-1][0] == "ResurrectEnrollment"


def test_stale_alert_after_reenrollment_retires_new_enrollment_only_when_keyed_by_device() -> None:
    result = check(LifecycleModel(load_design("keyed_by_device_id"), BULK))
    violation = result.violation("no_stale_unenroll")
    assert violation is not None
    names = [a[0] for a in violation.trace.actions]
    assert names.count("CompleteEnrollment") == 2
    last = violation.trace.actions[-1]
    assert last[0] == "ReceiveUnenrollAlert" and last[2][1][1] == 1  # a gen-1 alert
    assert violation.trace.states[-1].device[0].gen == 2
    # The generation-keyed reference acknowledges the same late alert and retires nothing.
    assert check(LifecycleModel(Design(), BULK)).ok


def test_wait_design_leaves_the_alert_session_held_for_ever() -> None:
    for channel in ("reliable", "lossy"):
        design = replace(load_design("server_waits_for_stale_sessions"), channel=channel)
        violation = check(LifecycleModel(design, BULK)).violation("no_deadlock")
        assert violation is not None
        names = [a[0] for a in violation.trace.actions]
        # F14: the device terminated its session unsignalled, and its alert session
        # now waits behind that stale session on the server.
        assert names[-1] == "HoldSession" and "UserDisconnect" in names
        assert violation.trace.states[-1].server[0].held[0][2] == "alert"
    # The same interleaving in the reference: the stale session is aborted.
    assert check(LifecycleModel(Design(), BULK)).ok


def test_push_verification_and_self_unenroll_rows_are_live() -> None:
    design = Design(name="push", verify_by="push", self_unenroll_after_lost_contact=True)
    result = check(LifecycleModel(design, BULK))
    assert result.ok
    enabled = set(result.coverage.actions)
    assert {"VerifyWithPush", "ReceivePush", "SelfUnenroll", "PresumeUnenrolled"} <= enabled


def test_actions_read_as_steps() -> None:
    model = LifecycleModel(Design(), BULK)
    action = ("SendUnenrollExec", 0, ("net", ("pkg1", 1, "main", "none", 0)))
    text = model.describe_action(action)
    assert text.startswith("server: ") and "DMClient Unenroll Exec" in text and "device 0" in text
    assert model.actor_of(("UserDisconnect", 0)) == "user"
    assert model.actor_of(("LoseMessage", 0, ("push", 1, "main", "-", 0))) == "network"
    assert "1226" in describe_message(("pkg1", 2, "alert", "empty_meta", 0))


def test_state_fields_read_like_the_doc() -> None:
    state = LifecycleModel(Design(), Scope(devices=2)).init_states()[0]
    fields = state_fields(state)
    assert {"device[0].phase", "server[1].record", "directory[0].association"} <= set(fields)


TINY = Scope(
    devices=2,
    kinds=("bulk",),
    platforms=("desktop",),
    local_admin=(True,),
    reenrollments=0,
    max_in_flight=1,
    manual_unenroll=(True,),
)


@pytest.mark.parametrize("name", ["reference", "server_waits_for_stale_sessions", "never_learns"])
def test_independent_interleaving_gives_the_verdicts_of_the_full_product(name: str) -> None:
    design = presets()[name]
    reduced = check(LifecycleModel(design, TINY))
    full = check(LifecycleModel(design, replace(TINY, interleaving="full")))
    assert full.complete and reduced.complete
    assert full.distinct_states > 10 * reduced.distinct_states
    assert {p.name: p.status for p in reduced.properties} == {
        p.name: p.status for p in full.properties
    }
    lengths = {v.property: len(v.trace) for v in reduced.violations if v.property != "deadlock"}
    assert lengths == {
        v.property: len(v.trace) for v in full.violations if v.property != "deadlock"
    }


def test_stable_trace_keeps_device_numbers() -> None:
    """Worlds are stored with devices in canonical order; `stable_trace` renumbers the
    actions so each device keeps its number in a report."""
    from lifecycle.engine import Trace

    model = LifecycleModel(Design(), replace(TINY, interleaving="full"))
    state = model.init_states()[0]
    states, actions = [state], []
    for pick in (1, 1, 0, 0):
        action, state = next(p for p in model.successors(state) if p[0][1] == pick)
        actions.append(action)
        states.append(state)
    stable = model.stable_trace(Trace(tuple(states), tuple(actions)))
    assert len(stable) == 4
    for before, action, after in stable.steps():
        arg = action[2] if len(action) > 2 else None
        assert apply_row(model, before, action[1], action[0], arg) == after
    # Two devices moved: both appear in the renumbered actions.
    assert {a[1] for a in stable.actions} == {0, 1}
