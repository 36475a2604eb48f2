"""Why a counterexample breaks an MDM property: the clause that failed, in the doc's
words, with the values of the state that breaks it.

A counterexample that just ends ("device 0 is dormant") leaves the reader to find
which of the property's clauses failed and for whom. Each explainer here reads the
same state the property reads (`lifecycle.mdm.properties`), finds the devices and the
server records that break it, and says so with their fields: one sentence each. They
are attached to the properties as `Property.explain` and shown by the CLI (text and
JSON `explanation`), the HTML report and the JUnit file.

An invariant or a stuck wait is explained on the trace's last state; a liveness lasso
on its loop (the states that repeat for ever).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from lifecycle.engine import Trace
from lifecycle.mdm.design import Design
from lifecycle.mdm.device import UNMANAGED
from lifecycle.mdm.server import believes_enrolled
from lifecycle.mdm.state import Device, Record, World
from lifecycle.mdm.verdicts import (
    MID_UNENROLL_PHASES,
    ghosted,
    main_sessions,
    manual_ignored,
    orphaned,
    pending_after_unenroll,
    request_lost,
    requests_settled,
    two_authorities,
    undocumented_refusal,
    unenroll_asked,
    unlearnt,
)

Explainer = Callable[[Trace], str]


def _records(world: World, i: int) -> list[Record]:
    return [r for r in world.server.records if r.device == i]


def _record(r: Record) -> str:
    return f"the server's record of device {r.device}, enrollment {r.gen} (status {r.status!r})"


def _device(i: int, d: Device) -> str:
    return f"device {i} ({d.kind}, {d.platform}, enrollment {d.gen}, phase {d.phase!r})"


#: Ends an explanation that found nobody to blame (a test holds every preset's
#: counterexamples to naming somebody).
NOBODY = "(no single device or record breaks it here)"


def _join(found: Sequence[str], fallback: str) -> str:
    return "; ".join(found) if found else f"{fallback} {NOBODY}"


# ------------------------------------------------------------------- invariants
def _records_where(flag: str, says: str) -> Callable[[World, Design], list[str]]:
    """The records whose history flag `flag` is set, each said as `says` (with
    ``{record}`` for the record)."""

    def explain(world: World, design: Design) -> list[str]:
        return [says.format(record=_record(r)) for r in world.server.records if getattr(r, flag)]

    return explain


_late_command = _records_where(
    "late_cmd",
    "the server sent a command to {record} after accepting it as unenrolled, or while MDM "
    "was turned off (real-world 3.1, 3.14)",
)
_admitted_off = _records_where(
    "admitted_off",
    "{record} was created, had a command queued, or was taken (back) into enrolled, while "
    "the tenant's MDM was turned off (real-world 3.14)",
)
_crossed = _records_where(
    "crossed",
    "{record} was changed by a package of another enrollment of the device (real-world 3.11)",
)
_missed_alert = _records_where(
    "missed_alert",
    "the server read the userrequest unenroll alert of {record} with MDM on and kept "
    "counting the device as enrolled: it took the alert for an ordinary session (F5, F16)",
)
_stale_records = _records_where(
    "stale", "{record} was retired by a message of an earlier enrollment (real-world 3.11)"
)


def _orphaned(world: World, design: Design) -> list[str]:
    out = []
    for i, (d, dirc) in enumerate(zip(world.device, world.directory, strict=True)):
        if not orphaned(d, dirc):
            continue
        if dirc.association == "joined":
            out.append(
                f"{_device(i, d)} is still joined to Azure AD (association 'joined') while "
                "it is out of MDM management and not being unenrolled: Azure AD still "
                "lists a device nobody manages (F50)"
            )
        else:
            out.append(
                f"{_device(i, d)} lost its Azure AD association and has no local admin: "
                "no user can administer it any more (F51)"
            )
    return out


def _cleanup(world: World, design: Design) -> list[str]:
    out = []
    for i, d in enumerate(world.device):
        if d.late:
            out.append(
                f"{_device(i, d)} ran a DM session, a command or a policy after its "
                f"unenrollment began (cause {d.cause!r}) (F3, F7)"
            )
        if d.phase in ("dormant", "wiped") and d.artifacts:
            out.append(
                f"{_device(i, d)} still holds enterprise artifacts (artifacts = "
                f"{d.artifacts}) after cleanup ended (F33-F36)"
            )
    return out


def _stale(world: World, design: Design) -> list[str]:
    out = [
        f"{_device(i, d)} had its enrollment retired by an alert or command of an earlier "
        "enrollment (real-world 3.8)"
        for i, d in enumerate(world.device)
        if d.stale
    ]
    return out + _stale_records(world, design)


def _disagrees(world: World, design: Design) -> list[str]:
    out = []
    for i, d in enumerate(world.device):
        believed = [r for r in _records(world, i) if believes_enrolled(r, design)]
        if d.phase == "enrolled" and not believed:
            out.append(
                f"{_device(i, d)} is enrolled and quiet, but no server record counts it as "
                f"enrolled (its records: {_statuses(world, i)}) (F55)"
            )
        elif d.phase == "enrolled" and any(r.gen != d.gen for r in believed):
            out.append(
                f"{_device(i, d)} is enrolled and quiet, but the server counts another "
                f"enrollment of it as enrolled (its records: {_statuses(world, i)}) (A10)"
            )
        elif d.phase in UNMANAGED and believed:
            out.append(
                f"{_device(i, d)} is out of management and quiet, but the server still "
                f"counts it as enrolled (its records: {_statuses(world, i)}): the server "
                "never learnt the outcome (F55)"
            )
    return out


def _statuses(world: World, i: int) -> str:
    recs = _records(world, i)
    return ", ".join(f"enrollment {r.gen}: {r.status}" for r in recs) or "none"


def _data_first(world: World, design: Design) -> list[str]:
    return [
        f"{_device(i, d)} removed enterprise data before sending (or trying to send) its "
        f"unenroll alert, on an unenroll the server must hear of (cause {d.cause!r}) "
        "(F2, F4, F11)"
        for i, d in enumerate(world.device)
        if d.data_first
    ]


def _manual(world: World, design: Design) -> list[str]:

    return [
        f"the user disconnected {_device(i, d)} through Work Access, which the doc does not "
        f"allow for it (AllowManualMDMUnenrollment = {int(d.manual)}, kind {d.kind}) "
        "(F31, F43, F47)"
        for i, d in enumerate(world.device)
        if manual_ignored(d)
    ]


def _pending(world: World, design: Design) -> list[str]:
    return [
        f"{_record(r)} is accepted as unenrolled but still queues "
        f"{', '.join(str(c[0]) for c in r.queue)} (real-world 3.1, 3.23)"
        for r in world.server.records
        if pending_after_unenroll(r)
    ]


def _two_authorities(world: World, design: Design) -> list[str]:
    return [
        f"{_device(i, d)} is managed through Work Access while Azure AD also holds it "
        f"(association {dirc.association!r}): two management authorities (F43)"
        for i, (d, dirc) in enumerate(zip(world.device, world.directory, strict=True))
        if two_authorities(d, dirc)
    ]


def _network(world: World, design: Design, what: str) -> list[str]:
    out = []
    for i, (net, d) in enumerate(zip(world.net, world.device, strict=True)):
        if what == "error":
            out += [
                f"{_device(i, d)} answered the Unenroll Exec with an error Status; the doc "
                "lets only a mobile Azure AD joined device refuse it (F21, F52)"
                for m in net.in_flight
                if undocumented_refusal(m, d)
            ]
        else:
            out += [
                f"{_device(i, d)} has {n} first packages of main DM sessions of enrollment "
                f"{g} in flight at once: a second session began before the first ended (F64)"
                for g, n in main_sessions(net.in_flight).items()
                if n > 1
            ]
    return out


def _request_lost(world: World, design: Design) -> list[str]:

    return [
        f"the admin's request {r.asked!r} on {_record(r)} vanished: the record shows "
        "neither its outcome nor the request under way, and its command is not queued "
        "(real-world 3.1, 3.5)"
        for r in world.server.records
        if request_lost(r)
    ]


# ------------------------------------------------------------------- no_deadlock
def _waits(world: World, design: Design) -> list[str]:
    """Who waits, for what, and the states it can no longer reach: the property found
    that no state reachable from the last one (without a message loss) ends the wait,
    so each wait's end is a state the party can no longer reach."""
    out = []
    for i, d in enumerate(world.device):
        if d.session != "idle":
            out.append(
                f"{_device(i, d)} waits in its DM session (session {d.session!r}) for the "
                "server (F14), and can no longer reach a state where that session is over "
                "(session 'idle')"
            )
        if d.phase in MID_UNENROLL_PHASES:
            out.append(
                f"{_device(i, d)} is mid-unenroll and can no longer reach phase 'dormant' (F7, F36)"
            )
    for r in world.server.records:
        if r.held:
            out.append(
                f"{_record(r)} holds a session behind a stale one (F69), and can no longer "
                "reach a state where the held session is served"
            )
        if r.session == "open":
            out.append(
                f"{_record(r)} has an open session awaiting the device's Status (F69), and "
                "can no longer reach a state where that session closes"
            )
    if out:
        return [
            "; ".join(out)
            + " (explored from the last state: every state reachable from it without a "
            "lucky message loss keeps the wait)"
        ]
    return out


# ---------------------------------------------------------------------- liveness
def _loop(trace: Trace) -> tuple[World, ...]:
    start = trace.cycle_start if trace.cycle_start is not None else len(trace.states) - 1
    return tuple(trace.states[start:])


def _unlearnt(loop: Sequence[World], design: Design, trace: Trace) -> list[str]:

    world = loop[0]
    out = []
    for i, d in enumerate(world.device):
        if all(unlearnt(w.device[i], _records(w, i), design) for w in loop):
            out.append(
                f"{_device(i, d)} has unenrolled, and on this fair loop the server keeps "
                f"counting it as enrolled (its records: {_statuses(world, i)}): the "
                "server never learns the outcome (F55)"
            )
    return out


def _request_stuck(loop: Sequence[World], design: Design, trace: Trace) -> list[str]:
    # The trigger may lie before the loop (the request was accepted earlier) and its
    # record may be gone from the loop (replaced by a newer enrollment's): read both.
    asked: dict[tuple[int, int], tuple[int, str]] = {}
    for step, w in enumerate(trace.states):
        for r in w.server.records:
            if unenroll_asked(r):
                asked.setdefault((r.device, r.gen), (step, r.asked))

    out = []
    for key, (step, what) in asked.items():
        if any(key in requests_settled(w) for w in loop):
            continue
        device, gen = key
        shown = [r for r in loop[0].server.records if (r.device, r.gen) == key]
        now = f"{_record(shown[0])}" if shown else "no record of that enrollment is left"
        out.append(
            f"the admin's unenroll of device {device}, enrollment {gen} (request {what!r}, "
            f"state {step}) neither takes effect nor fails visibly on this fair loop: "
            f"{_device(device, loop[0].device[device])} stays in management, and {now} "
            "(F21, F52)"
        )
    return out


def _never_cleaned(loop: Sequence[World], design: Design, trace: Trace) -> list[str]:

    world = loop[0]
    return [
        f"{_device(i, d)} began unenrolling and on this fair loop never finishes cleanup "
        f"(artifacts = {d.artifacts}) (F33-F37)"
        for i, d in enumerate(world.device)
        if all(w.device[i].phase in MID_UNENROLL_PHASES or w.device[i].artifacts for w in loop)
        and (d.phase in MID_UNENROLL_PHASES or d.phase in ("dormant", "wiped"))
    ]


def _never_answered(loop: Sequence[World], design: Design, trace: Trace) -> list[str]:

    world = loop[0]
    return [
        f"{_device(i, d)} has a DM session due, and on this fair loop, with MDM on, the "
        "server's Final never answers it: the session stays due for ever (F64, F84)"
        for i, d in enumerate(world.device)
        if all(w.server.mdm and w.device[i].phase == "enrolled" and w.device[i].due for w in loop)
    ]


def _ghosts(loop: Sequence[World], design: Design, trace: Trace) -> list[str]:

    world = loop[0]
    return [
        f"the server counts {_device(i, d)} as enrolled in an enrollment it no longer "
        f"holds (its records: {_statuses(world, i)}), and on this fair loop that is "
        "never corrected (real-world 3.2)"
        for i, d in enumerate(world.device)
        if all(ghosted(w.device[i], _records(w, i), design) for w in loop)
    ]


_STATE: dict[str, tuple[Callable[[World, Design], list[str]], str]] = {
    "no_orphaned_aad_device": (_orphaned, "a device is orphaned in Azure AD"),
    "cleanup_complete": (_cleanup, "cleanup is incomplete"),
    "no_stale_unenroll": (_stale, "a stale message retired an enrollment"),
    "no_commands_after_unenroll": (_late_command, "a command followed the unenroll"),
    "server_agrees_when_quiet": (_disagrees, "the server disagrees with a quiet device"),
    "server_notified_before_data_deleted": (_data_first, "data went before the alert"),
    "manual_unenroll_policy_respected": (_manual, "a forbidden manual unenroll happened"),
    "no_commands_pending_after_unenroll": (_pending, "a command is left queued"),
    "single_management_authority": (_two_authorities, "two management authorities"),
    "one_session_at_a_time": (lambda w, d: _network(w, d, "sessions"), "two sessions at once"),
    "unenroll_refused_only_where_documented": (
        lambda w, d: _network(w, d, "error"),
        "an undocumented refusal",
    ),
    "mdm_off_admits_nothing": (_admitted_off, "the server admitted work with MDM off"),
    "sessions_stay_in_their_enrollment": (_crossed, "a package crossed enrollments"),
    "unenroll_alert_recognised": (_missed_alert, "an unenroll alert was not acted on"),
    "admin_request_not_lost": (_request_lost, "an admin request vanished"),
    "no_deadlock": (_waits, "a party waits for ever"),
}

_LOOP: dict[str, tuple[Callable[[Sequence[World], Design, Trace], list[str]], str]] = {
    "server_eventually_learns": (_unlearnt, "the server never learns the outcome"),
    "admin_unenroll_takes_effect": (_request_stuck, "an admin unenroll never takes effect"),
    "cleanup_eventually_completes": (_never_cleaned, "cleanup never completes"),
    "due_session_answered": (_never_answered, "a due session is never answered"),
    "no_ghost_device": (_ghosts, "a ghost record is never corrected"),
}


def explainer(name: str, design: Design) -> Explainer | None:
    """The explanation of property `name`'s counterexamples, or None for a property
    the engine's own wording serves (the `sometimes` witnesses)."""
    if name in _STATE:
        clause, fallback = _STATE[name]

        def on_state(trace: Trace) -> str:
            return _join(clause(trace.states[-1], design), fallback)

        return on_state
    if name in _LOOP:
        on_loop, fallback = _LOOP[name]

        def loop(trace: Trace) -> str:
            return _join(on_loop(_loop(trace), design, trace), fallback)

        return loop
    return None


def covered() -> frozenset[str]:
    """The property names that have an explainer (a test holds it to every property
    that can break on a state or a loop)."""
    return frozenset(_STATE) | frozenset(_LOOP)


__all__ = ["NOBODY", "Explainer", "covered", "explainer"]
