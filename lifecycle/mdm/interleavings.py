"""The real-world interleavings (real-world 3.1-3.23) as witnesses: for each, a state
that shows the interleaving happening, in the design that exposes it.

A model that cannot reach an interleaving says nothing about how a design handles it.
Each `Interleaving` is a `sometimes` property on the world (what the machines keep and
what is in flight), checked in its design at its scope; `witness` finds a shortest
trace to it, and docs/facts.md prints its length. An interleaving the model cannot
express carries ``out_of_scope``: the reason, printed instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from lifecycle.engine import Property, check
from lifecycle.mdm.design import Design, Scope, presets
from lifecycle.mdm.device import CLEANUP
from lifecycle.mdm.history import carries_unenroll_alert
from lifecycle.mdm.properties import LifecycleModel
from lifecycle.mdm.server import BELIEVES_ENROLLED, believes_enrolled
from lifecycle.mdm.state import Msg, World, records_of


@dataclass(frozen=True)
class Interleaving:
    """One interleaving: its catalog id, the design (a preset name) and scope changes
    that expose it, what the witness state shows, and the predicate."""

    id: str
    design: str
    shows: str
    holds: Callable[[World, Design], bool] | None = None
    scope: tuple[tuple[str, Any], ...] = ()
    out_of_scope: str = ""


def _to_server(w: World) -> Iterator[tuple[int, Msg]]:
    for i, net in enumerate(w.net):
        for m in net.in_flight:
            if m.kind in ("enroll_request", "pkg1", "pkg3"):
                yield i, m


def _alerts(w: World) -> Iterator[tuple[int, Msg]]:
    for i, m in _to_server(w):
        if carries_unenroll_alert(m):
            yield i, m


def _records(w: World, i: int, gen: int | None = None) -> list[Any]:
    return [r for r in records_of(w.server, i) if gen is None or r.gen == gen]


def _alert_with_queue(w: World) -> bool:
    return any(r.queue for i, m in _alerts(w) for r in _records(w, i, m.generation))


def _alert_lost(w: World) -> bool:
    return any(
        d.phase == "dormant"
        and d.cause == "user"
        and d.alerted
        and not w.net[i].in_flight
        and any(r.status == "enrolled" for r in _records(w, i, d.gen))
        for i, d in enumerate(w.device)
    )


def _alert_challenged(w: World) -> bool:
    return any(
        m.kind == "pkg2" and m.session == "alert" and m.body == ("challenge",)
        for net in w.net
        for m in net.in_flight
    )


def _alert_unknown(w: World) -> bool:
    return any(not w.server.mdm or not _records(w, i, m.generation) for i, m in _alerts(w))


def _exec_queued_user_unenrolls(w: World) -> bool:
    return any(
        d.cause == "user"
        and d.phase in CLEANUP
        and any(r.status == "unenroll_queued" for r in _records(w, i, d.gen))
        for i, d in enumerate(w.device)
    )


def _admin_alert_same_type(w: World) -> bool:
    return any(w.device[i].cause == "admin" and "unenroll" in m.body for i, m in _alerts(w))


def _reenroll_before_processed(w: World) -> bool:
    return any(
        m.kind == "enroll_request"
        and any(r.gen < m.generation and r.status in BELIEVES_ENROLLED for r in _records(w, i))
        for i, m in _to_server(w)
    )


def _late_alert_after_reenroll(w: World) -> bool:
    return any(
        m.generation < w.device[i].gen and w.device[i].phase == "enrolled" for i, m in _alerts(w)
    )


def _shared_hardware(w: World) -> bool:
    return len(w.device) > 1 and all(d.phase == "enrolled" for d in w.device)


def _duplicate_rows(w: World) -> bool:
    keys = [(r.device, r.gen) for r in w.server.records if r.status != "removed"]
    return len(keys) != len(set(keys))


def _wipe_queued_reenroll(w: World) -> bool:
    return any(
        m.kind == "enroll_request"
        and any(r.status == "wipe_queued" and r.gen < m.generation for r in _records(w, i))
        for i, m in _to_server(w)
    )


def _wipe_unacknowledged(w: World) -> bool:
    return any(
        d.phase == "wiped" and any(r.status == "wipe_sent" for r in _records(w, i, d.gen))
        for i, d in enumerate(w.device)
    )


def _wiped_reenrolls(w: World) -> bool:
    return any(
        m.kind == "enroll_request"
        and any(r.status == "wipe_sent" and r.gen < m.generation for r in _records(w, i))
        for i, m in _to_server(w)
    )


def _mdm_off_mid_session(w: World) -> bool:
    return not w.server.mdm and any(d.session in ("wait2", "wait4") for d in w.device)


def _reenrolls_while_off(w: World) -> bool:
    return not w.server.mdm and any(
        m.kind == "enroll_request" and m.generation > 1 for _i, m in _to_server(w)
    )


def _alerts_together(w: World) -> bool:
    return any(len(m.body) >= 3 for _i, m in _alerts(w))


def _other_type(w: World) -> bool:
    return any(m.kind == "pkg1" and "csp" in m.body for _i, m in _to_server(w))


def _second_message(w: World) -> bool:
    return any(m.kind == "pkg1" and m.msgid == 2 for _i, m in _to_server(w))


def _committed_unconfirmed(w: World, design: Design) -> bool:
    return any(
        d.phase == "enrolling"
        and d.gen > 0
        and any(believes_enrolled(r, design) for r in _records(w, i, d.gen))
        and not any(m.generation == d.gen for m in w.net[i].in_flight)
        for i, d in enumerate(w.device)
    )


def _entra_remote(w: World) -> bool:
    return any(d.kind == "aad_join" and d.phase == "cleanup_aad" for d in w.device)


def _self_unenrolled(w: World) -> bool:
    return any(d.cause == "self" and d.phase == "dormant" for d in w.device)


def _commands_in_alert_reply(w: World) -> bool:
    # The device no longer reads the alert session's reply (A2), so the command never
    # reaches it; the server's history says it went out.
    return any(r.late_cmd for r in w.server.records)


def _any_design(holds: Callable[[World], bool]) -> Callable[[World, Design], bool]:
    """A predicate that reads only the world, whatever the design."""

    def on(w: World, design: Design) -> bool:
        return holds(w)

    on.__name__ = holds.__name__
    return on


INTERLEAVINGS: tuple[Interleaving, ...] = (
    Interleaving(
        "real-world 3.1",
        "reference",
        "an unenroll alert is on its way while the record still has commands queued",
        _any_design(_alert_with_queue),
    ),
    Interleaving(
        "real-world 3.2",
        "never_presumes",
        "the device is dormant after a user unenroll whose alert was lost; the record "
        "still says enrolled",
        _any_design(_alert_lost),
    ),
    Interleaving(
        "real-world 3.3",
        "auth_challenge_resend",
        "the server answers the alert session's package 1 with a 401/407 challenge",
        _any_design(_alert_challenged),
    ),
    Interleaving(
        "real-world 3.4",
        "reference",
        "an unenroll alert is on its way while MDM is off or the server holds no record of it",
        _any_design(_alert_unknown),
    ),
    Interleaving(
        "real-world 3.5",
        "reference",
        "the user unenrolled locally while the admin's Unenroll Exec waits in the queue",
        _any_design(_exec_queued_user_unenrolls),
    ),
    Interleaving(
        "real-world 3.6",
        "reference",
        "after an Unenroll Exec the device's alert carries the userrequest Type",
        _any_design(_admin_alert_same_type),
    ),
    Interleaving(
        "real-world 3.7",
        "reference",
        "a new enrollment request arrives while the old enrollment's record still counts",
        _any_design(_reenroll_before_processed),
    ),
    Interleaving(
        "real-world 3.8",
        "reference",
        "an alert of the earlier enrollment is in flight after the device enrolled again",
        _any_design(_late_alert_after_reenroll),
    ),
    Interleaving(
        "real-world 3.9",
        "reference",
        "two devices with one hardware id are both enrolled",
        _any_design(_shared_hardware),
        scope=(
            ("devices", 2),
            ("shared_hardware_id", True),
            ("kinds", ("work_access",)),
            ("platforms", ("desktop",)),
            ("reenrollments", 0),
            ("mdm_toggle", False),
        ),
    ),
    Interleaving(
        "real-world 3.10",
        "duplicate_records",
        "the server holds two records of one enrollment",
        _any_design(_duplicate_rows),
    ),
    Interleaving(
        "real-world 3.11",
        "reference",
        "the device enrolls again while a wipe is still queued for its old enrollment",
        _any_design(_wipe_queued_reenroll),
    ),
    Interleaving(
        "real-world 3.12",
        "reference",
        "the device is wiped and the server still awaits the wipe's outcome",
        _any_design(_wipe_unacknowledged),
    ),
    Interleaving(
        "real-world 3.13",
        "reference",
        "the wiped device enrolls again while the server holds the wipe's record",
        _any_design(_wiped_reenrolls),
    ),
    Interleaving(
        "real-world 3.14",
        "reference",
        "MDM is turned off while a device is in the middle of a session",
        _any_design(_mdm_off_mid_session),
    ),
    Interleaving(
        "real-world 3.15",
        "reference",
        "a device that was enrolled asks to enroll again while the admin has turned MDM off",
        _any_design(_reenrolls_while_off),
    ),
    Interleaving(
        "real-world 3.16",
        "reference",
        "one package 1 carries Alert 1201, the 1226 unenroll alert and a CSP result 1226",
        _any_design(_alerts_together),
    ),
    Interleaving(
        "real-world 3.17",
        "reference",
        "a package 1 carries a 1226 of another Type (a CSP's asynchronous result)",
        _any_design(_other_type),
    ),
    Interleaving(
        "real-world 3.18",
        "auth_challenge_resend",
        "a session's package 1 goes again as MsgID 2 after a challenge (the 1222 large "
        "object and 1223 abort alerts are the SyncML layer's)",
        _any_design(_second_message),
    ),
    Interleaving(
        "real-world 3.19",
        "reference",
        "SessionID values",
        out_of_scope="the model has no SessionID: sessions are slots per enrollment, so "
        "SessionID 0, hex letters and reuse are the SyncML layer's to parse",
    ),
    Interleaving(
        "real-world 3.20",
        "commits_on_token",
        "the record counts as enrolled while the device's provisioning failed",
        _committed_unconfirmed,
    ),
    Interleaving(
        "real-world 3.21",
        "reference",
        "a remote unenroll of an Azure AD joined desktop removes the association",
        _any_design(_entra_remote),
    ),
    Interleaving(
        "real-world 3.22",
        "self_unenroll_keeps_aad",
        "the device unenrolled itself after losing contact; no alert was sent",
        _any_design(_self_unenrolled),
    ),
    Interleaving(
        "real-world 3.23",
        "queued_commands_delivered",
        "the server answers the unenroll alert's session with a queued command",
        _any_design(_commands_in_alert_reply),
    ),
)

#: Designs the witnesses need that are not presets (no property fails in them).
EXTRA_DESIGNS = {
    "duplicate_records": Design(name="duplicate_records", record_uniqueness="none"),
    "auth_challenge_resend": Design(name="auth_challenge_resend", auth_challenge="resend"),
}


def design_of(item: Interleaving) -> Design:
    return EXTRA_DESIGNS.get(item.design) or presets()[item.design]


class _Witness(LifecycleModel):
    """The design's model with one property: the interleaving never happens. Its first
    violation, in breadth-first order, is a shortest witness."""

    def __init__(self, item: Interleaving) -> None:
        design = design_of(item)
        scope = dataclasses.replace(design.scope(Scope()), **dict(item.scope))
        super().__init__(design, scope)
        assert item.holds is not None
        holds = item.holds
        self._only = [Property.always(item.id, lambda w: not holds(w, design), item.shows)]

    def properties(self) -> list[Property]:
        return self._only


def witness(item: Interleaving) -> int | None:
    """The length of a shortest trace to the interleaving (None: out of scope)."""
    if item.holds is None:
        return None
    result = check(_Witness(item), stop_on_violation=True)
    found = result.violation(item.id)
    if found is None:
        raise AssertionError(f"{item.id}: no reachable state shows it ({item.shows})")
    return len(found.trace)


def witness_notes() -> dict[str, str]:
    """Interleaving id -> the line docs/facts.md prints for it."""
    notes = {}
    for item in INTERLEAVINGS:
        if item.holds is None:
            notes[item.id] = f"out of scope: {item.out_of_scope}."
            continue
        notes[item.id] = f"{witness(item)} steps in design `{item.design}`: {item.shows}."
    return notes
