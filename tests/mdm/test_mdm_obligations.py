"""Five clearly wrong variants of the reference design, each caught by the property
named for the obligation it breaks, with a shortest counterexample.

The variants are mutants of the tables (or, for the pending queue, a design knob): the
properties read the history the interpreter keeps (`lifecycle.mdm.history`), so none
of them depends on the row a variant changes. A variant that passed every property
would mean the property reads a flag only its own knob writes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from lifecycle.engine import check
from lifecycle.mdm import Design, LifecycleModel
from lifecycle.mdm import server as srv
from lifecycle.mdm.device import AAD_KINDS
from lifecycle.mdm.state import APPS, CERTS
from lifecycle.mdm.table import DeviceView, Receives, Row, Send, ServerView
from lifecycle.mdm.tables import REFERENCE, Tables


def _replace_rows(tables: Tables, machine: str, change: Callable[[Row], Row | None]) -> Tables:
    table = tables.by_machine()[machine]
    rows = tuple(r2 for r in table.rows if (r2 := change(r)) is not None)
    return dataclasses.replace(tables, **{machine: dataclasses.replace(table, rows=rows)})


def _add_row(tables: Tables, machine: str, row: Row) -> Tables:
    table = tables.by_machine()[machine]
    return dataclasses.replace(
        tables, **{machine: dataclasses.replace(table, rows=(*table.rows, row))}
    )


def never_sends_alert() -> Tables:
    """The device never sends the 1226 alert (F2, F4, F15): the alert rows send nothing."""

    def mute(r: Row) -> Row:
        if r.trigger in ("SendUnenrollAlert", "UnenrollAlertFails"):
            return dataclasses.replace(r, sends=())
        return r

    return _replace_rows(REFERENCE, "device", mute)


def deletes_before_alert() -> Tables:
    """The device removes apps and certificates first, then sends the alert (F4 says the
    alert goes before any enterprise data is deleted)."""

    def data_gone(v: DeviceView) -> bool:
        return not v.device.artifacts & (APPS | CERTS)

    def data_left(v: DeviceView) -> bool:
        return bool(v.device.artifacts & (APPS | CERTS))

    def delete(v: DeviceView) -> None:
        v.device = v.device._replace(artifacts=v.device.artifacts & ~(APPS | CERTS))

    def later(r: Row) -> Row:
        if r.trigger in ("SendUnenrollAlert", "UnenrollAlertFails"):
            return dataclasses.replace(r, guard=(*r.guard, data_gone))
        return r

    early = Row(
        "DeleteDataFirst",
        "device",
        ("unenrolling",),
        None,
        "device",
        ("F4",),
        "remove apps and certificates before the alert (wrong)",
        guard=(data_left,),
        effect=delete,
    )
    return _add_row(_replace_rows(REFERENCE, "device", later), "device", early)


def disconnect_despite_policy() -> Tables:
    """Disconnect is offered whatever AllowManualMDMUnenrollment says (F31, F47)."""

    def kind_only(v: DeviceView) -> bool:
        return v.device.kind in ("work_access", "bulk") and v.device.kind not in AAD_KINDS

    def loosen(r: Row) -> Row:
        if r.trigger == "UserDisconnect":
            return dataclasses.replace(r, guard=(kind_only,))
        return r

    return _replace_rows(REFERENCE, "device", loosen)


def csp_alert_discards_exec() -> Tables:
    """A 1226 of another Type (a CSP's result, F78) makes the server drop the admin's
    queued Exec and serve the session as if nothing were asked."""

    def carries_csp(v: ServerView) -> bool:
        return "csp" in v.msg.body

    def drop_exec(v: ServerView) -> None:
        r = v.record
        assert r is not None
        v.update(session="none", queue=tuple(c for c in r.queue if c[0] != "unenroll"))

    row = Row(
        "DiscardExecOnCspResult",
        "server",
        ("unenroll_queued",),
        "enrolled",
        "server",
        ("F78",),
        "a CSP result alert discards the queued Exec (wrong)",
        receives=Receives(("pkg1",), generation="key", held=True),
        guard=(*srv._SESSION_GUARD, srv.serving, carries_csp),
        effect=drop_exec,
        sends=(Send("pkg2", ("final",), to="sender", msgid=None),),
    )
    return _add_row(REFERENCE, "server", row)


VARIANTS: dict[str, tuple[Design, Callable[[], Tables], str]] = {
    "never_sends_alert": (Design(), never_sends_alert, "server_notified_before_data_deleted"),
    "deletes_before_alert": (
        Design(),
        deletes_before_alert,
        "server_notified_before_data_deleted",
    ),
    "disconnect_despite_policy": (
        Design(),
        disconnect_despite_policy,
        "manual_unenroll_policy_respected",
    ),
    "commands_kept_pending": (
        Design(queue_on_unenroll="keep_pending"),
        lambda: REFERENCE,
        "no_commands_pending_after_unenroll",
    ),
    "csp_alert_discards_exec": (Design(), csp_alert_discards_exec, "admin_request_not_lost"),
}


@pytest.fixture(scope="module")
def reference_result() -> object:
    return check(LifecycleModel(Design()))


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_each_wrong_variant_is_caught_by_its_obligation(name: str, reference_result) -> None:
    design, tables, prop = VARIANTS[name]
    # The property holds on the reference (it is not violated everywhere).
    assert reference_result.status(prop) == "holds"
    model = LifecycleModel(design, design.scope(), tables())
    result = check(model)
    assert result.status(prop) == "violated", f"{name}: {prop} is {result.status(prop)}"
    trace = result.violation(prop).trace
    assert len(trace) >= 1
    # The counterexample is shortest: one step less, and the search cannot reach it.
    shallow = check(model, max_depth=len(trace))
    assert shallow.status(prop) != "violated", f"{name}: a shorter counterexample exists"
    # The trace replays in the model: every step is one of its successors.
    states = trace.states
    for before, action, after in zip(states, trace.actions, states[1:], strict=False):
        assert action in list(model.actions(before))
        assert model.next_state(before, action) == after


def test_the_variants_pass_the_properties_they_do_not_break(reference_result) -> None:
    """A variant is caught by its own obligation, not by a property that flags any
    change: the mutant that only drops the alert leaves the manual-unenroll policy and
    the admin's requests intact."""
    result = check(LifecycleModel(Design(), Design().scope(), never_sends_alert()))
    assert result.status("manual_unenroll_policy_respected") == "holds"
    assert result.status("admin_request_not_lost") == "holds"


#: A mutant of the tables per obligation added for the mutation survivors: each is
#: killed by the property named for the obligation it breaks.
MUTANT_KILLERS = {
    "drop_conjunct:AcceptEnrollment:mdm_on": "mdm_off_admits_nothing",
    "drop_conjunct:JoinAzureAD:joins_azure_ad": "single_management_authority",
    "drop_conjunct:MaintenanceSession:idle": "one_session_at_a_time",
    "drop_conjunct:RejectUnenrollExec:mobile_aadj_refuses": (
        "unenroll_refused_only_where_documented"
    ),
    "ignore_generation:ServeSession": "sessions_stay_in_their_enrollment",
    # The server confirms the enrollment on the package that carries its unenroll
    # alert: on a lossy network that looks like a lost alert, so only the history tells.
    "drop_conjunct:ConfirmEnrollment:not_unenroll_alert": "unenroll_alert_recognised",
}


@pytest.mark.parametrize("name", sorted(MUTANT_KILLERS))
def test_each_new_obligation_kills_its_mutant(name: str, reference_result) -> None:
    from lifecycle.mdm.mutants import mutant

    prop = MUTANT_KILLERS[name]
    assert reference_result.status(prop) == "holds"
    result = check(LifecycleModel(Design(), Design().scope(), mutant(name).tables))
    assert result.status(prop) == "violated", f"{name}: {prop} is {result.status(prop)}"
