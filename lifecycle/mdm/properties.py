"""The properties an unenrollment design must satisfy, and `LifecycleModel`: the
composition with its properties, the engine model the checker explores.

Each property is stated per device and quantified over all devices; a device's
verdict reads the device, its Azure AD entry and the records the server holds for it.
Why each is what it is:

- `no_deadlock` (always_recoverable): the engine's global deadlock check cannot see a
  device and a server stuck on each other while a user click, a timer or a push is
  still enabled. So: from every reachable state, each waiting party can still reach a
  state where it no longer waits (AG EF, on the reachable graph), over a path that
  takes no `LoseMessage` step: a recovery that needs the network to lose a message is
  luck, not design. The waiting parties: a device exchange awaiting the server
  (``device session``), a device mid-unenroll (unenrolling or in cleanup: it must
  reach dormant), a session the server holds behind a stale one, and the server's
  own open session awaiting a Status (``server open session``). F14, F69.
- `no_orphaned_aad_device` holds in *every* state, not just quiescent ones: it excuses
  the cleanup window explicitly (an Azure AD joined device mid-unenroll is still on
  its way to removing the association) but not its end (dormant, wiped, never
  enrolled). So a design that keeps the association is caught the moment cleanup
  ends, and a device with no admin left is caught the moment the association goes.
  F50, F51.
- `cleanup_complete`: a dormant or wiped device holds no enterprise artifact, and no
  session was started, command executed nor policy applied after unenrollment began
  (history). F3, F7, F33-F36.
- `no_stale_unenroll`: no alert or command of an earlier enrollment retires a newer
  one (history on both sides). Real-world 3.8, 3.11.
- `no_commands_after_unenroll`: the server sent no command to an enrollment it had
  accepted as unenrolled, nor while MDM was turned off (history). Real-world 3.1,
  3.14, 3.23.
- `server_agrees_when_quiet`: when a device is quiet (online, nothing in flight, no
  package held for it, and only stimuli enabled for it and for the server's timers on
  its records), the server's records agree with it: an enrolled device has a record
  of its enrollment that the server counts as enrolled, and no other such record; a
  device out of management has none. F55, A10.
- `server_notified_before_data_deleted`: on every unenroll path that notifies the
  server (user, Azure AD, agent, admin), no enterprise artifact is removed before the
  device has sent (or, offline, tried to send) its unenroll alert. F2, F4, F11. The
  self-unenroll timer (F13, A17) and the wipe (F52) notify nobody, so they are exempt.
- `manual_unenroll_policy_respected`: a user Disconnect only happens on an enrollment
  Work Access can disconnect (bulk or created there, not Azure AD: F43, F44) whose
  AllowManualMDMUnenrollment is 1 (F31, F47). Reads the device's own record of how
  its unenrollment started and under which policy it enrolled.
- `no_commands_pending_after_unenroll`: once the server has accepted an enrollment as
  unenrolled, no command is left in its queue (nor sent, which
  `no_commands_after_unenroll` states). Real-world 3.1, 3.23.
- `unenroll_alert_recognised`: a package 1 of an enrollment carrying the userrequest
  unenroll alert (the Meta Type of both documented alerts, F5, F16), read while MDM is
  on, leaves the record no longer counting the device as enrolled. A server that
  takes it for an ordinary session (confirms, serves or resurrects the enrollment)
  learns the outcome only when a timer presumes it, if ever: on a lossy network that
  looks like a lost alert, so only the history can tell (history).
- `admin_request_not_lost`: an admin's unenroll or wipe request ends as done (the
  server accepted an unenroll), failed visibly (the console shows *failed*), or is
  still visibly pending (its command queued or sent, the outcome being verified); it
  never silently vanishes. Real-world 3.1, 3.5, 3.17.
- `due_session_answered` (leads_to): a due session (the first after enrollment,
  F84, or one missed offline, F64) is eventually answered with the server's Final
  while MDM is on. A device that never reads the Final, or a server that never sends
  it, keeps it due for ever: on a lossy network that looks like lost packages, so
  only liveness can tell. F57, F64, F84.
- `*_unenroll_completes` (sometimes): each unenroll path reaches a dormant device and
  an unenrolled record, so a model that cannot unenroll fails loudly. Each is tied to
  its path: the user and Azure AD witnesses need a record the device's unenroll
  alert retired (the server learnt of the user's unenroll), not any path that ends
  unenrolled. Only the paths the scope allows are listed.

The history these read (was the alert sent before the first artifact went, what
retired a record, what the admin asked) is kept by the interpreter after every row,
the same way for every row (`lifecycle.mdm.history`); no row writes it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Sequence
from typing import Any

from lifecycle.engine import Property
from lifecycle.mdm.design import PROPERTY_NAMES
from lifecycle.mdm.explain import explainer
from lifecycle.mdm.model import LifecycleComposition
from lifecycle.mdm.state import Device, Directory, Record, World
from lifecycle.mdm.verdicts import (
    AAD_DONE,
    ADMIN_DONE,
    ADMITTED_OFF,
    CLEANED,
    CLEANUP_BROKEN,
    CROSSED,
    DATA_FIRST,
    DISAGREES,
    FIRST_SESSION_DONE,
    GHOSTED,
    LATE_COMMAND,
    LOSS_ACTIONS,
    MANUAL_IGNORED,
    MID_UNENROLL,
    MISSED_ALERT,
    ORPHANED,
    PENDING_AFTER,
    POLICY_ACKED,
    REQUEST_LOST,
    SERVER_AWAITS,
    SERVER_HOLDS,
    SESSION_DUE,
    SESSION_WAITS,
    STALE_RETIRED,
    TWO_AUTHORITIES,
    TWO_SESSIONS,
    UNDOCUMENTED_ERROR,
    UNLEARNT,
    USER_DONE,
    WIPE_DONE,
    device_verdicts,
    network_bits,
    pending_after_unenroll,
    request_lost,
    requests_settled,
    unenroll_asked,
)

__all__ = ["PROPERTY_NAMES", "LifecycleModel", "build_properties", "device_verdicts"]


def build_properties(model: LifecycleComposition) -> list[Property]:
    """The properties for a model (the witnesses depend on its scope).

    The predicates share one evaluation per state: the engine asks every predicate of a
    new state in turn, so the state's verdict bits are computed by the first and kept
    (with the state) for the others; each device's bits are memoised on the device,
    its Azure AD entry and its records.
    """
    design = model.design
    memo: dict[tuple[Device, Directory, tuple[Record, ...]], int] = {}
    # The last state's bits, and each device's: the engine asks every predicate of a
    # state in turn, so the first computes them and the others read them.
    last: list[Any] = [None, 0, ()]

    def verdicts(state: World) -> int:
        if state is last[0]:
            return int(last[1])
        devices, srv, dirs, nets = state
        bits_all = 0
        out: list[int] = []
        one = len(devices) == 1
        for i, (d, r) in enumerate(zip(devices, dirs, strict=True)):
            recs = srv.records if one else tuple(rec for rec in srv.records if rec.device == i)
            key = (d, r, recs)
            found = memo.get(key)
            if found is None:
                found = memo[key] = device_verdicts(d, r, recs, design)
            out.append(found)
            bits_all |= found
        for net, dev in zip(nets, devices, strict=True):
            if net.in_flight:
                bits_all |= network_bits(net, dev, srv.records)
        for rec in srv.records:
            if rec.stale:
                bits_all |= STALE_RETIRED
            if rec.late_cmd:
                bits_all |= LATE_COMMAND
            if rec.held:
                bits_all |= SERVER_HOLDS
            if rec.session == "open":
                bits_all |= SERVER_AWAITS
            if pending_after_unenroll(rec):
                bits_all |= PENDING_AFTER
            if request_lost(rec):
                bits_all |= REQUEST_LOST
            if rec.admitted_off:
                bits_all |= ADMITTED_OFF
            if rec.crossed:
                bits_all |= CROSSED
            if rec.missed_alert:
                bits_all |= MISSED_ALERT
        last[:] = [state, bits_all, tuple(out)]
        return bits_all

    def per_device(state: World) -> tuple[int, ...]:
        verdicts(state)
        result: tuple[int, ...] = last[2]
        return result

    def never(bit: int) -> Any:
        def holds(state: World) -> bool:
            return not verdicts(state) & bit

        return holds

    def devices_where(bit: int, present: bool = True) -> Any:
        """The devices (by number: liveness is checked without symmetry) whose verdict
        has `bit` set (or clear): a keyed `leads_to`'s trigger or goal."""

        def keys(state: World) -> list[int]:
            return [i for i, b in enumerate(per_device(state)) if bool(b & bit) is present]

        return keys

    due, answered = devices_where(SESSION_DUE), devices_where(SESSION_DUE, present=False)

    # MDM off refuses every session (and F64's retries with it): no answer is owed.
    def due_while_on(state: World) -> list[int]:
        return due(state) if state.server.mdm else []

    def answered_or_off(state: World) -> list[int]:
        return answered(state) if state.server.mdm else list(range(len(state.device)))

    def asked_enrollments(state: World) -> list[tuple[int, int]]:
        return [(r.device, r.gen) for r in state.server.records if unenroll_asked(r)]

    def agree(state: World) -> bool:
        if not verdicts(state) & DISAGREES:
            return True
        # Some device disagrees: it is a violation if that device is quiet.
        quiet = model.quiet_devices(state)
        return all(
            not (bits & DISAGREES) or not q
            for bits, q in zip(per_device(state), quiet, strict=True)
        )

    def waiting(state: World) -> list[Hashable]:
        # Keys name the kind of wait, not the device number: devices are stored in
        # canonical order, so a number does not follow a device from state to state.
        # "Some device waits on its exchange -> EF no device does" is implied by every
        # per-device form: a device stuck for ever keeps the key set in every state it
        # can reach.
        bits = verdicts(state)
        keys: list[Hashable] = []
        if bits & SESSION_WAITS:
            keys.append(("device", "session"))
        if bits & MID_UNENROLL:
            keys.append(("device", "mid-unenroll"))
        if bits & SERVER_HOLDS:
            keys.append(("server", "held session"))
        if bits & SERVER_AWAITS:
            keys.append(("server", "open session"))
        return keys

    props = [
        Property.always_recoverable(
            "no_deadlock",
            waiting,
            "From every reachable state, every waiting party can still stop waiting without "
            "a lucky message loss: a device in its exchange or mid-unenroll, a session the "
            "server holds, the server's open session awaiting a Status (F14, F69; AG EF on "
            "the reachable graph without LoseMessage edges).",
            without=LOSS_ACTIONS,
        ),
        Property.always(
            "no_orphaned_aad_device",
            never(ORPHANED),
            "Never an Azure AD joined device that is no longer MDM-managed nor being "
            "unenrolled, never a device left with no admin user (F50, F51); every state.",
        ),
        Property.always(
            "cleanup_complete",
            never(CLEANUP_BROKEN),
            "Once unenrolled, no enterprise artifact remains, and no DM session starts and "
            "no policy is applied after unenrollment began (F3, F7, F33-F36).",
        ),
        Property.always(
            "no_stale_unenroll",
            never(STALE_RETIRED),
            "An alert or command from an earlier enrollment never retires a newer "
            "enrollment (real-world 3.8, 3.11).",
        ),
        Property.always(
            "no_commands_after_unenroll",
            never(LATE_COMMAND),
            "The server issues no command to an enrollment it has accepted as unenrolled, "
            "nor while MDM is turned off (real-world 3.1, 3.14, 3.23).",
        ),
        Property.always(
            "server_agrees_when_quiet",
            agree,
            "When a device is quiet (online, nothing in flight, only user, admin and "
            "periodic timers can act), the server's records agree with it (F55, A10).",
        ),
        Property.always(
            "server_notified_before_data_deleted",
            never(DATA_FIRST),
            "On every path that notifies the server, the device sends (or, offline, "
            "tries) its unenroll alert before it removes any enterprise data (F2, F4, F11).",
        ),
        Property.always(
            "manual_unenroll_policy_respected",
            never(MANUAL_IGNORED),
            "A user disconnects only an enrollment Work Access may disconnect: not an "
            "Azure AD one, and only with AllowManualMDMUnenrollment = 1 (F31, F43, F44, F47).",
        ),
        Property.always(
            "no_commands_pending_after_unenroll",
            never(PENDING_AFTER),
            "Once the server accepted the unenroll, no command is left queued for the "
            "enrollment (real-world 3.1, 3.23).",
        ),
        Property.always(
            "single_management_authority",
            never(TWO_AUTHORITIES),
            "A device enrolled through Work Access or bulk enrollment is not also Azure AD "
            "joined or registered: one management authority at a time (F85, F86).",
        ),
        Property.always(
            "one_session_at_a_time",
            never(TWO_SESSIONS),
            "A device opens no DM session while its previous one is still in progress: "
            "never two package 1s of one enrollment's main session in flight (F56, F57).",
        ),
        Property.always(
            "unenroll_refused_only_where_documented",
            never(UNDOCUMENTED_ERROR),
            "Only a mobile Azure AD joined device answers the Unenroll Exec with an error "
            "Status (F21, F52); elsewhere it unenrolls, or, Azure AD registered, fails "
            "silently (F20).",
        ),
        Property.always(
            "mdm_off_admits_nothing",
            never(ADMITTED_OFF),
            "While the tenant has MDM turned off, the server enrolls no device (nor "
            "confirms or resurrects an enrollment) and queues no command (real-world "
            "3.14, 3.15).",
        ),
        Property.always(
            "sessions_stay_in_their_enrollment",
            never(CROSSED),
            "A session or Status of one enrollment never changes the record of another: "
            "every message belongs to one enrollment generation (real-world 3.8).",
        ),
        Property.always(
            "unenroll_alert_recognised",
            never(MISSED_ALERT),
            "A server that reads an enrollment's userrequest unenroll alert while MDM is on "
            "acts on it: the record stops counting the device as enrolled (accepted, or "
            "its verification begins); it never takes the alert for an ordinary session "
            "(F5, F16).",
        ),
        Property.always(
            "admin_request_not_lost",
            never(REQUEST_LOST),
            "An admin's unenroll or wipe request ends done, failed visibly, or stays "
            "visibly pending; it is never silently dropped (real-world 3.1, 3.5, 3.17).",
        ),
    ]
    props += [
        Property.leads_to(
            "server_eventually_learns",
            devices_where(UNLEARNT),
            devices_where(UNLEARNT, present=False),
            "Once a device has unenrolled, the server's record of that enrollment "
            "eventually stops counting it as enrolled, on every fair behaviour: the "
            "alert is best effort, so the server must learn some other way (F3, F55).",
        ),
        Property.leads_to(
            "admin_unenroll_takes_effect",
            asked_enrollments,
            requests_settled,
            "An admin's (or the agent's) unenroll request leads to the device leaving "
            "that enrollment, or to its record showing the failure: a mobile Azure AD "
            "joined device refuses, and the console offers a wipe (F14, F21, F52).",
        ),
        Property.leads_to(
            "cleanup_eventually_completes",
            devices_where(MID_UNENROLL),
            devices_where(CLEANED),
            "A device that began unenrolling eventually reaches dormant (or wiped) with "
            "every enterprise artifact removed (F33-F37).",
        ),
        Property.leads_to(
            "due_session_answered",
            due_while_on,
            answered_or_off,
            "A DM session that is due (the first after enrollment, or one missed offline) "
            "is eventually answered with the server's Final while MDM is on: the device "
            "retries it within minutes until it is (F57, F64, F84).",
        ),
        Property.leads_to(
            "no_ghost_device",
            devices_where(GHOSTED),
            devices_where(GHOSTED, present=False),
            "A record that counts a device as enrolled in an enrollment the device no "
            "longer holds (a ghost in the console) is eventually corrected "
            "(real-world 3.2, 3.7).",
        ),
    ]
    scope = model.scope
    kinds = scope.kinds
    can_user = any(k in kinds for k in ("work_access", "bulk")) and True in scope.manual_unenroll
    can_aad = (
        "aad_join" in kinds and "desktop" in scope.platforms and True in scope.local_admin
    ) or ("aad_registered" in kinds and True in scope.local_admin)
    can_admin = "desktop" in scope.platforms and (
        any(k in kinds for k in ("work_access", "bulk")) or True in scope.local_admin
    )
    can_wipe = "aad_join" in kinds and ("mobile" in scope.platforms or False in scope.local_admin)
    props.append(
        Property.sometimes(
            "first_session_completes",
            lambda s: bool(verdicts(s) & FIRST_SESSION_DONE),
            "An enrollment's first DM session is answered: the device is enrolled and no "
            "session is due any more (F56, F66, F84).",
        )
    )
    props.append(
        Property.sometimes(
            "policy_acknowledged",
            lambda s: bool(verdicts(s) & POLICY_ACKED),
            "The device policy the first session delivers is executed and its Status is "
            "on its way to the server, which awaits it (F67, F75).",
        )
    )
    if can_user:
        props.append(
            Property.sometimes(
                "user_unenroll_completes",
                lambda s: bool(verdicts(s) & USER_DONE),
                "A user Disconnect from Work Access ends with a dormant device and an "
                "unenrolled record (F1-F7, F44).",
            )
        )
    if can_aad:
        props.append(
            Property.sometimes(
                "aad_unenroll_completes",
                lambda s: bool(verdicts(s) & AAD_DONE),
                "Removing the Azure AD association ends with a dormant, unjoined device "
                "and an unenrolled record (F43, F45).",
            )
        )
    if can_admin:
        props.append(
            Property.sometimes(
                "admin_unenroll_completes",
                lambda s: bool(verdicts(s) & ADMIN_DONE),
                "A remote unenroll ends with a dormant device and an unenrolled record "
                "(F14-F17, F23-F29).",
            )
        )
    if can_wipe:
        props.append(
            Property.sometimes(
                "wipe_completes",
                lambda s: bool(verdicts(s) & WIPE_DONE),
                "A remote wipe, the path for mobile Azure AD joined devices, ends with a "
                "wiped device and an unenrolled record (F52).",
            )
        )
    # Symmetric, all of them: each reads every device alike (the verdict bits of all
    # devices together, quiet devices all alike, wait keys that name no device), so
    # renumbering the devices never changes an answer. The engine then stores one
    # world per class of device orders; tests/mdm run its symmetry="verify" gate.
    # Each counterexample explains itself in the doc's words (`lifecycle.mdm.explain`).
    return [
        dataclasses.replace(p, symmetric=not p.liveness, explain=explainer(p.name, design))
        for p in props
    ]


def inapplicable(scope: Any) -> dict[str, str]:
    """The properties that mean nothing at `scope`, and why: checking them could only
    say "holds", and a verdict that cannot fail is not one, so they are reported as
    not applicable (never as holding)."""
    out = {}
    if not set(scope.kinds) & {"aad_join", "aad_registered"}:
        out["no_orphaned_aad_device"] = "no Azure AD kind in the scope (--kind aad_join)"
    if not scope.mdm_toggle:
        out["mdm_off_admits_nothing"] = "the scope never turns MDM off (--mdm-toggle)"
    if False not in scope.manual_unenroll and not set(scope.kinds) & {"aad_join", "aad_registered"}:
        out["manual_unenroll_policy_respected"] = (
            "every enrollment allows manual unenrollment and none is Azure AD, so no "
            "Disconnect is forbidden (--manual-unenroll both, or --kind aad_join)"
        )
    if scope.reenrollments == 0 and scope.devices == 1:
        why = "one enrollment per device and one device: no other enrollment exists"
        out["no_stale_unenroll"] = why + " (--reenrollments 1)"
        out["sessions_stay_in_their_enrollment"] = why + " (--reenrollments 1)"
    return out


class LifecycleModel(LifecycleComposition):
    """The Windows MDM lifecycle for one design at one scope, with the properties a
    design must satisfy: the engine model `lifecycle check` explores.

    Actions are ``(trigger, party)`` or ``(trigger, party, arg)``; see
    `LifecycleComposition`.
    """

    _properties: list[Property] | None = None

    def __init__(self, *args: Any, liveness: bool = True, **kwargs: Any) -> None:
        """``liveness=False`` leaves out the liveness properties (`LIVENESS`): they
        name devices by number, so a search with them stores every device order, and
        without them the symmetry reduction may run."""
        super().__init__(*args, **kwargs)
        self.liveness = liveness

    def properties(self) -> Sequence[Property]:
        if self._properties is None:
            props = build_properties(self)
            skipped = inapplicable(self.scope)
            self._properties = [
                p for p in props if (self.liveness or not p.liveness) and p.name not in skipped
            ]
        return self._properties

    def not_applicable(self) -> list[tuple[Property, str]]:
        """The properties this scope leaves without meaning (`inapplicable`), with why."""
        skipped = inapplicable(self.scope)
        return [(p, skipped[p.name]) for p in build_properties(self) if p.name in skipped]
