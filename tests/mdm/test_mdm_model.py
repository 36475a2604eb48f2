"""The composed model: scenarios the doc describes, the honest server, devices sharing
one server, the knobs' effects, the readable output, and the device-order symmetry
against every order."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lifecycle.engine import Kind, check, state_fields
from lifecycle.mdm import Design, LifecycleModel, Scope, load_design, presets
from lifecycle.mdm import server as server_table
from lifecycle.mdm.model import CONTACT_PHASES, describe_message
from lifecycle.mdm.state import Msg, World
from lifecycle.mdm.verdicts import agrees

WORK = Scope(
    kinds=("work_access",),
    platforms=("desktop",),
    local_admin=(True,),
    manual_unenroll=(True,),
    max_offline=0,
    mdm_toggle=False,
)


def step(
    model: LifecycleModel, world: World, trigger: str, arg: Any = None, party: Any = 0
) -> World:
    """Fire one enabled step by its trigger (and argument, when several are enabled)."""
    found = [
        s
        for s in model.raw_steps(world)
        if s[0][0] == trigger and s[2] == party and (arg is None or s[0][2:3] == (arg,))
    ]
    assert len(found) == 1, (trigger, arg, [s[0] for s in model.raw_steps(world)])
    return found[0][1]


def run(model: LifecycleModel, *moves: Any) -> World:
    world = model.init_states()[0]
    for move in moves:
        world = step(model, world, *move) if isinstance(move, tuple) else step(model, world, move)
    return world


def enroll(model: LifecycleModel) -> World:
    """Enroll device 0 (work access) and finish its first session."""
    return run(
        model,
        ("StartEnrollment", ("work_access", True)),
        "RequestEnrollment",
        "AcceptEnrollment",
        "ReceiveEnrollToken",
        "ApplyProvisioning",
        "DueSession",
        "ConfirmEnrollment",
        "ReceivePolicy",
        "ReceiveStatus",
        "ReceiveFinal",
    )


def continue_from(model: LifecycleModel, world: World, *moves: Any) -> World:
    for move in moves:
        world = step(model, world, *move) if isinstance(move, tuple) else step(model, world, move)
    return world


def test_enrollment_is_an_exchange_of_messages_and_the_first_session_confirms_it() -> None:
    model = LifecycleModel(Design(), WORK)
    world = run(model, ("StartEnrollment", ("work_access", True)), "RequestEnrollment")
    assert world.net[0].in_flight[0].kind == "enroll_request"
    assert world.server.records == ()  # nothing changes the server but its own rows
    world = continue_from(model, world, "AcceptEnrollment")
    (record,) = world.server.records
    assert record.status == "pending" and record.gen == 1 and record.kind == "work_access"
    world = continue_from(model, world, "ReceiveEnrollToken", "ApplyProvisioning")
    assert world.device[0].due  # the first session is due now, not a stimulus
    assert not model.quiet_devices(world)[0]
    world = continue_from(model, world, "DueSession", "ConfirmEnrollment")
    assert world.server.records[0].status == "enrolled"


def test_user_unenroll_path_cleans_up_and_the_server_learns_even_if_the_alert_is_lost() -> None:
    model = LifecycleModel(Design(), WORK)
    world = continue_from(
        model,
        enroll(model),
        "UserDisconnect",
        ("SendUnenrollAlert", "unenroll"),
    )
    alert = world.net[0].in_flight[0]
    assert alert.session == "alert" and alert.msgid == 1 and "unenroll" in alert.body
    world = continue_from(
        model,
        world,
        ("LoseMessage", alert),
        "RemoveEnterpriseApps",
        "RemoveCertificates",
        "StopEnforcingPolicies",
        "RemoveDMClientConfig",
    )
    d, (record,) = world.device[0], world.server.records
    assert d.phase == "dormant" and d.artifacts == 0
    assert record.status == "enrolled"  # the alert was lost (F3)
    assert not agrees(d, world.server.records, model.design)
    assert not model.quiet_devices(world)[0]  # the lost-contact timer is due (F55)
    world = step(model, world, "PresumeUnenrolled", record, party=0)
    assert world.server.records[0].status == "presumed"
    assert model.quiet_devices(world)[0] and agrees(
        world.device[0], world.server.records, model.design
    )


def test_an_offline_but_alive_device_is_presumed_and_comes_back() -> None:
    # The honest server: its timer cannot tell an offline device from a gone one.
    model = LifecycleModel(Design(), replace(WORK, max_offline=1))
    world = enroll(model)
    (record,) = world.server.records
    # Online and enrolled, the device checks in within its poll interval: no timeout.
    assert "PresumeUnenrolled" not in {s[0][0] for s in model.raw_steps(world)}
    world = continue_from(model, world, "GoOffline")
    world = step(model, world, "PresumeUnenrolled", record, party=0)
    assert world.device[0].phase == "enrolled" and world.server.records[0].status == "presumed"
    world = continue_from(model, world, "ComeOnline")
    assert not model.quiet_devices(world)[0]  # the missed session is due
    world = continue_from(model, world, "DueSession", "ResurrectEnrollment")
    assert world.server.records[0].status == "enrolled"


def test_a_server_that_never_presumes_leaves_the_lost_alert_unconcluded() -> None:
    model = LifecycleModel(Design(presume_unenrolled="never"), WORK)
    world = continue_from(model, enroll(model), "UserDisconnect", ("SendUnenrollAlert", "unenroll"))
    world = continue_from(model, world, ("LoseMessage", world.net[0].in_flight[0]))
    names = {s[0][0] for s in model.raw_steps(world)}
    assert "PresumeUnenrolled" not in names and "ConfirmUnenrolled" not in names


def test_a_server_that_trusts_the_alert_is_left_with_a_ghost() -> None:
    model = LifecycleModel(load_design("trusts_alert_alone"), WORK)
    violation = check(model).violation("server_agrees_when_quiet")
    assert violation is not None
    last = violation.trace.states[-1]
    assert last.device[0].phase == "dormant"
    # A ghost (real-world 3.2): the record counts the unenrolled device as enrolled
    # (failed: a check-in after the confirmed unenroll shows it as not taken).
    assert last.server.records[0].status in ("enrolled", "failed")
    # The shortest way: the alert concluded the record, then a package of an earlier
    # session arrived and brought it back (A10); a lost alert is the other way.
    assert [a[0] for a in violation.trace.actions][-2:] == [
        "AcceptUnenrollAlert",
        "DetectFailedUnenroll",
    ]
    # The verifying reference at the same scope concludes in both cases.
    assert check(LifecycleModel(Design(), WORK)).ok


def test_exec_aborts_the_session_and_the_alert_has_msgid_1_in_a_new_session() -> None:
    model = LifecycleModel(Design(), WORK)
    world = enroll(model)
    world = step(model, world, "AdminRequestUnenroll", world.server.records[0])
    world = continue_from(model, world, "MaintenanceSession", "SendUnenrollExec")
    (record,) = world.server.records
    assert record.status == "unenroll_sent" and record.session == "none"  # F15, A1
    world = continue_from(model, world, "ReceiveUnenrollExec")
    assert world.device[0].phase == "unenrolling" and world.device[0].session == "idle"
    assert not world.net[0].in_flight  # no Status for the Exec (F15)
    world = continue_from(model, world, ("SendUnenrollAlert", "unenroll"))
    (alert,) = world.net[0].in_flight
    assert (alert.kind, alert.session, alert.msgid) == ("pkg1", "alert", 1)
    assert world.device[0].phase == "cleanup_apps"  # cleanup starts once sent (F7)


def test_server_rows_read_only_what_the_package_says() -> None:
    # The admin's guard reads the inventory the device reported at enrollment, never
    # the device: an Azure AD joined device without a local admin is refused an
    # unenroll and offered a wipe (F51).
    model = LifecycleModel(Design(), replace(WORK, kinds=("aad_join",), local_admin=(False,)))
    world = run(
        model,
        ("StartEnrollment", ("aad_join", True)),
        "JoinAzureAD",
        "RequestEnrollment",
        "AcceptEnrollment",
        "ReceiveEnrollToken",
        "ApplyProvisioning",
        "DueSession",
        "ConfirmEnrollment",
    )
    (record,) = world.server.records
    assert record.kind == "aad_join" and not record.local_admin
    names = {s[0][0] for s in model.raw_steps(world)}
    assert "AdminRequestWipe" in names and "AdminRequestUnenroll" not in names


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
    names = {p.name for p in LifecycleModel(Design(), WORK).properties()}
    assert "user_unenroll_completes" in names and "aad_unenroll_completes" not in names


def test_bulk_gives_the_verdicts_of_work_access() -> None:
    # Why the default scope leaves bulk out: it behaves as work_access in every row.
    for name in ("reference", "keyed_by_device_id", "trusts_alert_alone"):
        design = presets()[name]
        base = replace(WORK, mdm_toggle=True)
        bulk = check(LifecycleModel(design, replace(base, kinds=("bulk",))))
        work = check(LifecycleModel(design, base))
        assert bulk.distinct_states == work.distinct_states
        assert {p.name: p.status for p in bulk.properties} == {
            p.name: p.status for p in work.properties
        }
        assert {v.property: len(v.trace) for v in bulk.violations} == {
            v.property: len(v.trace) for v in work.violations
        }


def test_stale_alert_after_reenrollment_retires_new_enrollment_only_when_keyed_by_device() -> None:
    result = check(LifecycleModel(load_design("keyed_by_device_id"), WORK))
    violation = result.violation("no_stale_unenroll")
    assert violation is not None
    names = [a[0] for a in violation.trace.actions]
    assert names.count("StartEnrollment") == 2
    last = violation.trace.actions[-1]
    assert last[0] == "ReceiveUnenrollAlert" and last[2].generation == 1  # a gen-1 alert
    assert violation.trace.states[-1].device[0].gen == 2
    # The enrollment-keyed reference acknowledges the same late alert, retiring nothing.
    assert check(LifecycleModel(Design(), WORK)).ok


def test_wait_design_leaves_the_alert_session_held_for_ever() -> None:
    for channel in ("reliable", "lossy"):
        design = replace(load_design("server_waits_for_stale_sessions"), channel=channel)
        violation = check(LifecycleModel(design, WORK)).violation("no_deadlock")
        assert violation is not None
        # F14: the device terminated its session unsignalled; the waiting server keeps
        # that session open for a Status that never comes (and would hold the alert
        # session behind it). The shortest stuck state shows the open session.
        last = violation.trace.states[-1]
        assert any(r.session == "open" for r in last.server.records)
        held = [m for r in last.server.records for _k, m in r.held]
        assert not held or held[0].session == "alert"
        # No message loss is needed to get there, nor to stay there.
        if channel == "reliable":
            assert all(a[0] != "LoseMessage" for a in violation.trace.actions)
    # The same interleaving in the reference: the stale session is aborted.
    assert check(LifecycleModel(Design(), WORK)).ok


def test_push_verification_and_self_unenroll_rows_are_live() -> None:
    design = Design(name="push", verify_by="push", self_unenroll_after_lost_contact=True)
    result = check(LifecycleModel(design, replace(WORK, max_offline=None)))
    assert result.ok
    enabled = {n for n, c in result.coverage.actions.items() if c.enabled}
    assert {"VerifyWithPush", "ReceivePush", "SelfUnenroll", "ConfirmUnenrolled"} <= enabled


def test_actions_read_as_steps() -> None:
    model = LifecycleModel(Design(), WORK)
    action = ("SendUnenrollExec", 0, Msg("pkg1", 1, "main", ("1201",)))
    text = model.describe_action(action)
    assert text.startswith("server: ") and "DMClient Unenroll Exec" in text and "device 0" in text
    assert model.actor_of(("UserDisconnect", 0)) == "user"
    assert model.actor_of(("TurnOffMDM", None)) == "admin"
    assert "tenant" in model.describe_action(("TurnOffMDM", None))
    assert "1226" in describe_message(Msg("pkg1", 2, "alert", ("1201", "unenroll_empty")))


def test_state_fields_read_like_the_doc() -> None:
    state = LifecycleModel(Design(), Scope(devices=2)).init_states()[0]
    fields = state_fields(state)
    assert {"device[0].phase", "device[1].phase", "directory[0].association"} <= set(fields)
    assert "server.mdm" in fields


def test_devices_share_the_server() -> None:
    # One record table for every device: keyed by hardware id, a cloned device's
    # enrollment replaces the other device's record (Fleet #50612); keyed by
    # enrollment, both records stay.
    scope = replace(WORK, devices=2, reenrollments=0, shared_hardware_id=True)
    outcomes = {}
    for key in ("enrollment", "hardware_id"):
        model = LifecycleModel(Design(record_key=key), scope)
        world = model.init_states()[0]
        for party in (0, 1):
            world = step(model, world, "StartEnrollment", ("work_access", True), party=party)
            world = step(model, world, "RequestEnrollment", party=party)
            accept = (
                "AcceptEnrollment" if party == 0 or key == "enrollment" else "ReplaceEnrollment"
            )
            world = step(model, world, accept, party=party)
        outcomes[key] = sorted(r.device for r in world.server.records)
    assert outcomes == {"enrollment": [0, 1], "hardware_id": [1]}


def test_a_reduced_counterexample_is_a_raw_trace_with_stable_device_numbers() -> None:
    """The store holds representatives, but a counterexample is rebuilt from the
    model's own successors: every step is one of the raw steps of the state before
    it, and each device keeps its number (the cloned-device bug takes both)."""
    design = presets()["keyed_by_hardware_id"]
    model = LifecycleModel(design, design.scope(Scope()), liveness=False)
    result = check(model, stop_on_violation=True)
    assert result.extra["symmetry"] == "on"
    violation = result.violation("server_agrees_when_quiet")
    assert violation is not None
    for before, action, after in violation.trace.steps():
        assert (action, after) in [(s[0], s[1]) for s in model.raw_steps(before)]
    starts = [a[1] for a in violation.trace.actions if a[0] == "StartEnrollment"]
    assert sorted(starts) == [0, 1]


def reachable(model: LifecycleModel) -> list[World]:
    """Every reachable world, by a plain breadth-first walk of `successors` (no engine)."""
    seen = set(model.init_states())
    todo = list(seen)
    while todo:
        world = todo.pop()
        for _, nxt in model.successors(world):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return list(seen)


SILENCE_ROWS = {row.trigger for row in server_table.ROWS if row.timing == "silence"}


def test_a_device_in_contact_is_never_presumed_silent() -> None:
    # The timing assumption: a record whose device is online and in contact (its
    # enrollment exchange included, and a check-in the server cannot resolve because
    # two records match it) is never taken by a lost-contact timer.
    assert {"PresumeUnenrolled", "ConfirmUnenrolled", "AbandonSession"} == SILENCE_ROWS
    designs = (
        Design(),
        Design(enrollment_commit="on_token"),
        Design(enrollment_commit="on_token", record_uniqueness="none"),
        Design(verify_by="push"),
    )
    for design in designs:
        model = LifecycleModel(design, WORK)
        timed = 0
        for world in reachable(model):
            for action in model.actions(world):
                if action[0] not in SILENCE_ROWS:
                    continue
                timed += 1
                record, device = action[2], world.device[action[1]]
                in_contact = (
                    world.net[action[1]].online
                    and device.phase in CONTACT_PHASES
                    and (record.device, record.gen) == (action[1], device.gen)
                )
                assert not in_contact, (design, action, world)
        assert timed > 0, design  # the timers do fire where the device is silent


def test_a_token_committed_record_is_not_presumed_during_the_enrollment_exchange() -> None:
    model = LifecycleModel(Design(enrollment_commit="on_token"), WORK)
    world = run(model, ("StartEnrollment", ("work_access", True)), "RequestEnrollment")
    for move in ("AcceptEnrollment", "ReceiveEnrollToken"):
        world = continue_from(model, world, move)
        # Committed at the token: a pending record counts as an enrolled device.
        assert server_table.believes_enrolled(world.server.records[0], model.design)
        assert "PresumeUnenrolled" not in {a[0] for a in model.actions(world)}, move


def test_a_removed_record_holds_no_package() -> None:
    # keep_old marks the old record removed: a package it held is let go, not kept by a
    # record no package can match any more.
    model = LifecycleModel(Design(server_stale_sessions="wait", reenroll_policy="keep_old"), WORK)
    worlds = reachable(model)
    assert any(r.status == "removed" for w in worlds for r in w.server.records)
    assert any(r.held for w in worlds for r in w.server.records)
    stuck = [w for w in worlds for r in w.server.records if r.status == "removed" and r.held]
    assert not stuck, stuck[0]


def test_a_server_that_never_presumes_still_completes_an_admin_unenroll() -> None:
    # The admin's unenroll is confirmed by the verification the server asked for, not by
    # the lost-contact timer, so `presume_unenrolled = "never"` does not block it.
    result = check(LifecycleModel(Design(presume_unenrolled="never"), WORK))
    assert result.complete
    assert "admin_unenroll_completes" in {p.name for p in result.properties}
    assert result.violation("admin_unenroll_completes") is None
