"""The device (MDM client) state machine.

The machine state is `Device.phase`. The DM session (`Device.session`) and the alert
session (`Device.alert`) are data of the same machine: they run inside a phase, and
the rows guard on them.

Why the phases are split the way they are:

- *enrolling* is its own phase so that an Azure AD join (directory) can interleave
  with the MDM enrollment (F84, F86).
- *unenrolling* is the moment between "the user confirmed" / "the Exec arrived" and
  "the 1226 alert package is sent": the sessions are already terminated (F6, F14)
  but cleanup has not started (F7).
- cleanup is stepwise (apps, certificates, policies, DM client config, then on the
  remote path the AAD association) so that every interleaving during cleanup is
  explored (F33-F37, F50). *dormant* is the end: no polling, no push (F36).
- *wiped* is a factory reset by RemoteWipe/doWipe (F52): nothing enterprise is left,
  not even the AAD association.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lifecycle.mdm.server import route_package1, route_package3
from lifecycle.mdm.state import (
    ALL_ARTIFACTS,
    APPS,
    CERTS,
    CONFIG,
    POLICIES,
    Directory,
    Msg,
)
from lifecycle.mdm.table import Row, Table, View

PHASES = (
    "not_enrolled",
    "enrolling",
    "enrolled",
    "unenrolling",
    "cleanup_apps",
    "cleanup_certs",
    "cleanup_policies",
    "cleanup_config",
    "cleanup_aad",
    "dormant",
    "wiped",
)
CLEANUP = ("cleanup_apps", "cleanup_certs", "cleanup_policies", "cleanup_config", "cleanup_aad")
# Phases in which "unenrollment began" (F7, F33-F36): nothing may be applied any more.
AFTER_UNENROLL_BEGAN = ("unenrolling", *CLEANUP, "dormant")
# Phases in which the device is not MDM-managed and not on its way to being managed.
UNMANAGED = ("not_enrolled", "dormant", "wiped")
SESSIONS = ("idle", "wait2", "wait4", "exec")


# --------------------------------------------------------------------------- routing
def device_route(v: View, m: Msg) -> str | None:
    """Which device row handles message `m` (None: not addressed to the device).

    One function decides for every server-to-device message, so exactly one receive
    row is enabled per message: the rows' guards cannot overlap or leave a gap. A
    reply is matched to a session by enrollment generation and slot; a reply that
    matches no open session is discarded (A2, A18: the reply to the unenroll alert is
    optional and ignored, and so is anything after an unsignalled abort, F69).
    """
    kind, gen, slot, body, _origin = m
    d = v.device
    if kind == "push":
        if d.phase == "enrolled" and d.gen == gen and d.session == "idle":
            return "ReceivePush"
        return "DiscardPush"
    if kind not in ("pkg2", "pkg4"):
        return None
    if d.gen != gen or d.phase == "wiped":
        return "DiscardServerPackage"
    if slot == "alert":
        if kind == "pkg2" and d.alert in ("sent", "resent"):
            return "ReceiveAlertReply"
        return "DiscardServerPackage"
    if kind == "pkg4":
        return "ReceiveFinal" if d.session == "wait4" else "DiscardServerPackage"
    if d.session != "wait2":
        return "DiscardServerPackage"
    if body in ("final", "abort"):
        return "ReceiveFinal"
    if d.phase != "enrolled":
        return "ReceiveCommandLate"
    if body == "policy":
        return "ReceivePolicy"
    if body == "unenroll":
        if mobile_aadj_refuses(v):
            return "RejectUnenrollExec"
        return "ReceiveUnenrollExec"
    return "ReceiveWipe"


def _all_routes(v: View) -> dict[str, list[Any]]:
    """Route every message in flight once (for all device and server receive rows)."""
    out: dict[str, list[Any]] = {}
    for m in dict.fromkeys(v.net.in_flight):
        kind = m[0]
        if kind == "pkg1":
            t = route_package1(v, "net", m)
            if t is not None:
                out.setdefault(t, []).append(("net", m))
        elif kind == "pkg3":
            out.setdefault(route_package3(v, m), []).append(m)
        else:
            t = device_route(v, m)
            if t is not None:
                out.setdefault(t, []).append(m)
    for m in v.server.held:
        t = route_package1(v, "held", m)
        if t is not None:
            out.setdefault(t, []).append(("held", m))
    return out


# Triggers whose arguments come from `_all_routes` (the receive rows of the device and
# the server). The compiled successor function reads the routing table directly.
ROUTED_TRIGGERS = frozenset(
    {
        "ReceivePush",
        "DiscardPush",
        "ReceiveFinal",
        "ReceivePolicy",
        "ReceiveCommandLate",
        "ReceiveUnenrollExec",
        "RejectUnenrollExec",
        "ReceiveWipe",
        "ReceiveAlertReply",
        "DiscardServerPackage",
        "HoldSession",
        "ReceiveUnenrollAlert",
        "AcceptUnenrollAlert",
        "AcknowledgeDuplicateAlert",
        "AcknowledgeStaleAlert",
        "RejectUnknownSession",
        "ResurrectEnrollment",
        "DetectFailedUnenroll",
        "ServeSession",
        "SendPolicy",
        "SendUnenrollExec",
        "SendWipe",
        "SendWipeMarkDone",
        "ReceiveStatus",
        "ReceiveErrorStatus",
        "RejectStaleStatus",
    }
)


def all_routes(v: View) -> dict[str, list[Any]]:
    """Trigger -> arguments, for every receive row, computed once per view."""
    return v.routes(_all_routes)


def routed(v: View, trigger: str) -> list[Any]:
    """The arguments (messages, or (where, package 1) for the server) that `trigger`
    would receive in this view."""
    return v.routes(_all_routes).get(trigger, [])


def _routed(v: View, trigger: str) -> Iterator[Msg]:
    yield from routed(v, trigger)


def mobile_aadj_refuses(v: View) -> bool:
    """A mobile Azure AD joined device answers an Unenroll Exec with an error status
    and stays enrolled (F21, F52), unless the design lets it proceed."""
    d = v.device
    return (
        d.platform == "mobile"
        and d.kind == "aad_join"
        and v.design.mobile_aadj_remote_unenroll == "fails"
    )


def _main_exchange_pending(v: View) -> bool:
    """A package of the current main session is still in flight or held by the server."""
    g = v.device.gen
    if any(m[1] == g and m[2] == "main" for m in v.net.in_flight):
        return True
    return any(m[1] == g and m[2] == "main" for m in v.server.held)


def _alert_exchange_pending(v: View) -> bool:
    """The alert package or its reply is still in flight or held by the server."""
    g = v.device.gen
    if any(m[1] == g and m[2] == "alert" for m in v.net.in_flight):
        return True
    return any(m[1] == g and m[2] == "alert" for m in v.server.held)


def _close_connections(v: View) -> None:
    """The device drops its HTTP connections: responses in flight to it for its main
    session can no longer be delivered."""
    g = v.device.gen
    v.net = v.net._replace(
        in_flight=tuple(m for m in v.net.in_flight if not (m[0] in ("pkg2", "pkg4") and m[1] == g))
    )


def _abort_sessions(v: View) -> None:
    """Terminate every active DM session, unsignalled (F6, F14, A1, A11): the HTTP
    connections close, so responses in flight are lost. Keep-sessions designs do not."""
    if v.design.device_sessions_on_unenroll == "abort":
        v.device = v.device._replace(session="idle")
        _close_connections(v)


# ------------------------------------------------------------------ enrollment
def may_enroll(v: View) -> bool:
    """The device may enroll (again): within the scope's re-enrollment bound, and not
    Azure AD joined to anything any more (F84, F85, F86)."""
    return v.device.gen < 1 + v.scope.reenrollments and v.directory.association == "none"


def enrollment_options(v: View) -> Iterator[tuple[str, bool]]:
    """(kind, AllowManualMDMUnenrollment) pairs the device can enroll with. A device
    without a non-tenant local admin was set up through Azure AD, so it can only
    enroll by Azure AD join; the manual-unenroll policy has no effect on Azure AD
    joined devices (F47), so they are explored with the default (1) only."""
    for kind in v.scope.kinds:
        if not v.device.local_admin and kind != "aad_join":
            continue
        manuals = (True,) if kind == "aad_join" else v.scope.manual_unenroll
        for manual in manuals:
            yield (kind, manual)


def start_enrollment(v: View) -> None:
    """Begin an enrollment of the chosen kind (MS-MDE2 discovery, token, enroll, F84)."""
    kind, manual = v.arg
    v.device = v.device._replace(kind=kind, manual=manual, session="idle", alert="none", cause="-")


def enrollment_ready(v: View) -> bool:
    """An Azure AD join enrollment completes only once the device is joined (F86)."""
    return v.device.kind != "aad_join" or v.directory.association == "joined"


def complete_enrollment(v: View) -> None:
    """The server accepts the enrollment: a new generation, a new record, all enterprise
    artifacts provisioned (F84), and the device policy queued for the first session
    (F53). Under a device-id keyed server the record is reused;
    queued commands of the old enrollment survive only if the design delivers them
    (real-world 3.7, 3.11)."""
    gen = v.device.gen + 1
    v.device = v.device._replace(gen=gen, artifacts=ALL_ARTIFACTS)
    s = v.server
    queue = s.queue if v.design.queue_on_reenroll == "deliver" else ()
    # The first session after enrollment delivers the device policy (F53, F59 origin 5).
    queue = (*queue, ("policy", gen))
    # A session held for the old enrollment stays held: its stale session never
    # completes, and a new enrollment does not release it (per-enrollment handling).
    v.server = s._replace(gen=gen, record="enrolled", queue=queue, session="none", pushed=False)


# --------------------------------------------------------------- DM sessions
def session_idle_with_room(v: View) -> bool:
    """No DM session is open and the channel has room for package 1 (F58)."""
    return v.device.session == "idle" and v.room()


def start_session(v: View) -> None:
    """Send package 1 (Alert 1201, DevInfo) of a new client-initiated session (F57, F58,
    F65)."""
    d = v.device
    v.send(("pkg1", d.gen, "main", "none", 0))
    v.device = d._replace(session="wait2")


def push_notifications(v: View) -> Iterator[Msg]:
    """WNS pushes that start a session: enrolled, same enrollment, no session open."""
    return _routed(v, "ReceivePush")


def session_from_push(v: View) -> None:
    """A push makes the device start a session (F61, UserAgentOrigin 3, F59)."""
    v.consume(v.arg)
    start_session(v)


def useless_pushes(v: View) -> Iterator[Msg]:
    """Pushes that start nothing: a session is already open, the device is not enrolled
    under that generation, or it is dormant (push is gone with the DM config, F40)."""
    return _routed(v, "DiscardPush")


def consume_arg(v: View) -> None:
    """Take the received message out of the channel; nothing else happens."""
    v.consume(v.arg)


def closing_packages(v: View) -> Iterator[Msg]:
    """Server packages that close the open session: Final only, or an abort (F66, F68,
    F70)."""
    return _routed(v, "ReceiveFinal")


def close_session(v: View) -> None:
    """The session ends."""
    v.consume(v.arg)
    v.device = v.device._replace(session="idle")


def policy_packages(v: View) -> Iterator[Msg]:
    """Server packages 2 carrying a policy for the open session of an enrolled device."""
    return _routed(v, "ReceivePolicy")


def apply_policy(v: View) -> None:
    """Apply the policy and return its Status in package 3 (F35, F67)."""
    v.consume(v.arg)
    d = v.device
    v.send(("pkg3", d.gen, "main", "ok", 0))
    v.device = d._replace(session="wait4", artifacts=d.artifacts | POLICIES)


def late_commands(v: View) -> Iterator[Msg]:
    """Server commands arriving in a session the device kept open after unenrollment
    began (only keep-sessions designs leave one open)."""
    return _routed(v, "ReceiveCommandLate")


def execute_late_command(v: View) -> None:
    """The device executes a command after unenrollment began: a policy is applied
    again (F35 says enforcement has ceased), which `cleanup_complete` forbids."""
    v.consume(v.arg)
    d = v.device
    body = v.arg[3]
    artifacts = d.artifacts | POLICIES if body == "policy" else d.artifacts
    v.send(("pkg3", d.gen, "main", "ok", 0))
    v.device = d._replace(session="wait4", artifacts=artifacts, late=True)


def unenroll_execs(v: View) -> Iterator[Msg]:
    """DMClient Unenroll Exec commands in the open session (F23-F29)."""
    return _routed(v, "ReceiveUnenrollExec")


def execute_unenroll(v: View) -> None:
    """Execute the DMClient Unenroll Exec: abort all sessions, the current one included,
    so no Status is returned (F14, F15, A1, A9); the alert follows in a new session.
    With keep-sessions, the Exec's session stays open until the alert session ends."""
    v.consume(v.arg)
    d = v.device
    stale = d.stale or v.arg[4] != d.gen
    keep = v.design.device_sessions_on_unenroll == "keep"
    v.device = d._replace(
        cause="admin", stale=stale, session="exec" if keep else "idle", alert="none"
    )


def refused_unenroll_execs(v: View) -> Iterator[Msg]:
    """Unenroll Execs a mobile Azure AD joined device refuses (F21, F52)."""
    return _routed(v, "RejectUnenrollExec")


def refuse_unenroll(v: View) -> None:
    """Return an error Status for the Exec and stay enrolled (F21, A9)."""
    v.consume(v.arg)
    d = v.device
    v.send(("pkg3", d.gen, "main", "error", 0))
    v.device = d._replace(session="wait4")


def wipe_execs(v: View) -> Iterator[Msg]:
    """RemoteWipe/doWipe commands in the open session (F52)."""
    return _routed(v, "ReceiveWipe")


def execute_wipe(v: View) -> None:
    """Reset the device: every enterprise artifact and the AAD association go with it;
    the device resets mid-session and returns no Status (F52, real-world 3.12)."""
    v.consume(v.arg)
    _close_connections(v)
    d = v.device
    v.device = d._replace(
        session="idle",
        alert="none",
        artifacts=0,
        cause="wipe",
        stale=d.stale or v.arg[4] != d.gen,
    )
    v.directory = Directory("none")


def alert_replies(v: View) -> Iterator[Msg]:
    """Replies to the alert session, when the design tracks it (retry or keep)."""
    return _routed(v, "ReceiveAlertReply")


def acknowledge_alert(v: View) -> None:
    """The server answered the alert session. Commands piggybacked on the reply are not
    executed (A2). A kept Exec session can now return its Status."""
    v.consume(v.arg)
    d = v.device
    if d.session == "exec":
        v.send(("pkg3", d.gen, "main", "ok", 0))
        v.device = d._replace(alert="acked", session="wait4")
    else:
        v.device = d._replace(alert="acked")


def stale_packages(v: View) -> Iterator[Msg]:
    """Server packages that match no open session: replies to aborted sessions, to the
    untracked alert session, or to an earlier enrollment."""
    return _routed(v, "DiscardServerPackage")


def exchange_lost(v: View) -> bool:
    """The device waits on a package of its main session that is no longer in flight
    nor held by the server: it was lost, so the HTTP exchange fails (F69). A package
    the server holds is not lost: OMA DM has no timeouts between packages (F69), and
    the model takes the pessimistic reading that a held request waits for ever."""
    return v.device.session in ("wait2", "wait4") and not _main_exchange_pending(v)


def give_up_session(v: View) -> None:
    """The failed exchange ends the session."""
    v.device = v.device._replace(session="idle")


def exec_alert_lost(v: View) -> bool:
    """A kept Exec session waits on an alert session whose package or reply was lost."""
    d = v.device
    return (
        d.session == "exec" and d.alert in ("sent", "resent") and not (_alert_exchange_pending(v))
    )


# -------------------------------------------------------------- unenrollment
def user_may_disconnect(v: View) -> bool:
    """Work Access shows an enabled Disconnect only for bulk and Work-Access-created
    enrollments (F43, F44, A15), and only if AllowManualMDMUnenrollment is 1 (F31,
    F47)."""
    d = v.device
    return d.kind in ("work_access", "bulk") and d.manual


def begin_user_unenroll(v: View) -> None:
    """The user confirmed the disconnect: terminate the active sessions (F6, A11)."""
    v.device = v.device._replace(cause="user")
    _abort_sessions(v)


def user_may_leave_aad(v: View) -> bool:
    """Disconnect is greyed out for Azure AD; the user removes the AAD association
    instead (F43, F45). On mobile, removal is by wipe only (F46, A16). Windows asks for
    a local admin to remain before leaving Azure AD (inference: F51's concern, applied
    to the user path)."""
    d = v.device
    return d.kind == "aad_join" and d.platform == "desktop" and d.local_admin


def begin_aad_unenroll(v: View) -> None:
    """The user removes the Azure AD association; MDM unenrollment follows the user path
    (terminate sessions, alert, cleanup; A16)."""
    v.device = v.device._replace(cause="aad")
    v.directory = Directory("none")
    _abort_sessions(v)


def alert_formats(v: View) -> tuple[str, ...]:
    """The 1226 item carries Meta Type userrequest, or, on Windows 1803-2004, an empty
    <Meta/> (F10, A4). Both are possible on every send."""
    return ("type", "empty_meta") if v.room() else ()


def send_unenroll_alert(v: View) -> None:
    """Open a new session whose first package (MsgID 1) carries the 1226 unenroll alert
    (F4, F6, F9, F15, F16, A3); cleanup starts once it is sent, with no wait for the
    reply (F7, A2). The alert is tracked only if the design retries it or keeps the
    Exec session waiting for it."""
    d = v.device
    v.send(("pkg1", d.gen, "alert", v.arg, 0))
    track = v.design.alert_retry != "never" or d.session == "exec"
    v.device = d._replace(alert="sent" if track else d.alert)


def alert_retry_due(v: View) -> bool:
    """A retrying design re-sends an unacknowledged alert whose exchange failed."""
    d = v.device
    return (
        v.design.alert_retry == "until_acknowledged"
        and d.alert == "sent"
        and not _alert_exchange_pending(v)
        and v.room()
    )


def resend_unenroll_alert(v: View) -> None:
    """A new DM session after unenrollment began: what F3 ("no retry is built in") and
    F7 rule out, so `cleanup_complete` flags it."""
    d = v.device
    v.send(("pkg1", d.gen, "alert", "type", 0))
    v.device = d._replace(alert="resent", late=True)


def self_unenroll_enabled(v: View) -> bool:
    """NumberOfDaysAfterLostContactToUnenroll is provisioned (F13, A17)."""
    return v.design.self_unenroll_after_lost_contact


def begin_self_unenroll(v: View) -> None:
    """The device unenrolls itself after N days without a successful sync. The server
    cannot be reached, so no alert is sent (F13 inference, A17); cleanup starts."""
    v.device = v.device._replace(cause="self", session="idle")
    _close_connections(v)


def remove_apps(v: View) -> None:
    """Remove the enterprise app token and the LOB apps tied to it (F33, F38)."""
    v.device = v.device._replace(artifacts=v.device.artifacts & ~APPS)


def remove_certificates(v: View) -> None:
    """Remove the certificates the MDM server configured (F34, F37)."""
    v.device = v.device._replace(artifacts=v.device.artifacts & ~CERTS)


def stop_policies(v: View) -> None:
    """Cease enforcing the policies the server applied (F35)."""
    v.device = v.device._replace(artifacts=v.device.artifacts & ~POLICIES)


def needs_aad_removal(v: View) -> bool:
    """A remote unenroll of an Azure AD joined desktop removes the AAD association
    (F50), when the design does so. Mobile cannot leave Azure AD but by wipe (A16)."""
    d = v.device
    return (
        d.cause == "admin"
        and d.platform == "desktop"
        and v.directory.association == "joined"
        and v.design.remote_unenroll_removes_aad
    )


def keeps_aad(v: View) -> bool:
    """No AAD association removal follows the DM client config removal."""
    return not needs_aad_removal(v)


def remove_dm_config(v: View) -> None:
    """Remove the DM client configuration and the scheduled maintenance task (F36); the
    user is told the device is disconnected (F30). Push stops working (F40)."""
    v.device = v.device._replace(artifacts=v.device.artifacts & ~CONFIG)


ENROLL_FACTS = ("F84", "F85", "F86")
ROWS = (
    Row(
        "StartEnrollment",
        "device",
        ("not_enrolled", "dormant", "wiped"),
        "enrolling",
        "user",
        ("F84", "F85", "F86", "F43", "F44", "F47"),
        "the user starts an enrollment of a kind (work access, Azure AD join, bulk)",
        guard=may_enroll,
        choices=enrollment_options,
        effect=start_enrollment,
        stimulus=True,
    ),
    Row(
        "CompleteEnrollment",
        "device",
        ("enrolling",),
        "enrolled",
        "device",
        ENROLL_FACTS,
        "MS-MDE2 enrollment completes: new enrollment generation and server record",
        guard=enrollment_ready,
        effect=complete_enrollment,
        message="enroll",
        direction="exchange",
        peer="server",
        touches=("server",),
    ),
    Row(
        "MaintenanceSession",
        "device",
        ("enrolled",),
        None,
        "timer",
        ("F17", "F56", "F57", "F58", "F64", "F65"),
        "the scheduled maintenance task starts a DM session: package 1 with Alert 1201",
        guard=session_idle_with_room,
        effect=start_session,
        message="pkg1",
        direction="send",
        peer="server",
        stimulus=True,
        touches=("network",),
    ),
    Row(
        "ReceivePush",
        "device",
        ("enrolled",),
        None,
        "device",
        ("F59", "F61"),
        "a WNS push arrives and the device starts a session",
        choices=push_notifications,
        effect=session_from_push,
        message="push",
        direction="receive",
        peer="server",
        touches=("network",),
    ),
    Row(
        "DiscardPush",
        "device",
        ("*",),
        None,
        "device",
        ("F36", "F40", "F61"),
        "a push arrives that starts nothing (session open, not enrolled, dormant)",
        choices=useless_pushes,
        effect=consume_arg,
        message="push",
        direction="receive",
        peer="server",
        touches=("network",),
    ),
    Row(
        "ReceiveFinal",
        "device",
        ("*",),
        None,
        "device",
        ("F66", "F68", "F70"),
        "the server closes the session (Final only, or abort)",
        choices=closing_packages,
        effect=close_session,
        message="pkg2",
        direction="receive",
        peer="server",
        touches=("network",),
    ),
    Row(
        "ReceivePolicy",
        "device",
        ("enrolled",),
        None,
        "device",
        ("F35", "F67"),
        "apply a policy from package 2 and return its Status in package 3",
        choices=policy_packages,
        effect=apply_policy,
        message="pkg2",
        direction="receive",
        peer="server",
        touches=("network",),
    ),
    Row(
        "ReceiveCommandLate",
        "device",
        AFTER_UNENROLL_BEGAN,
        None,
        "device",
        ("F35", "F36", "A11"),
        "a kept session delivers a command after unenrollment began; it is executed",
        choices=late_commands,
        effect=execute_late_command,
        message="pkg2",
        direction="receive",
        peer="server",
        touches=("network",),
    ),
    Row(
        "ReceiveUnenrollExec",
        "device",
        ("enrolled",),
        "unenrolling",
        "device",
        ("F14", "F15", "F17", "F23", "F24", "F25", "F27", "F29", "A1", "A7", "A8", "A9"),
        "execute the DMClient Unenroll Exec: abort all sessions, no Status",
        choices=unenroll_execs,
        effect=execute_unenroll,
        message="pkg2",
        direction="receive",
        peer="server",
        touches=("network",),
    ),
    Row(
        "RejectUnenrollExec",
        "device",
        ("enrolled",),
        None,
        "device",
        ("F21", "F52", "A9"),
        "a mobile Azure AD joined device refuses the Unenroll Exec with an error Status",
        choices=refused_unenroll_execs,
        effect=refuse_unenroll,
        message="pkg2",
        direction="receive",
        peer="server",
        touches=("network",),
    ),
    Row(
        "ReceiveWipe",
        "device",
        ("enrolled",),
        "wiped",
        "device",
        ("F52",),
        "execute RemoteWipe/doWipe: factory reset, AAD association gone, no Status",
        choices=wipe_execs,
        effect=execute_wipe,
        message="pkg2",
        direction="receive",
        peer="server",
        touches=("network", "directory"),
    ),
    Row(
        "ReceiveAlertReply",
        "device",
        ("*",),
        None,
        "device",
        ("F76", "A2", "A18"),
        "the server's reply to the alert session arrives (tracked designs only)",
        choices=alert_replies,
        effect=acknowledge_alert,
        message="pkg2",
        direction="receive",
        peer="server",
        touches=("network",),
    ),
    Row(
        "DiscardServerPackage",
        "device",
        ("*",),
        None,
        "device",
        ("F69", "A2", "A18"),
        "a server package for no open session is ignored",
        choices=stale_packages,
        effect=consume_arg,
        message="pkg2",
        direction="receive",
        peer="server",
        touches=("network",),
    ),
    Row(
        "SessionTimeout",
        "device",
        ("*",),
        None,
        "timer",
        ("F69", "A1", "A11"),
        "the HTTP exchange failed (package lost): the session ends",
        guard=exchange_lost,
        effect=give_up_session,
    ),
    Row(
        "ExecSessionTimeout",
        "device",
        ("*",),
        None,
        "timer",
        ("F69", "A1"),
        "a kept Exec session gives up: its alert session failed",
        guard=exec_alert_lost,
        effect=give_up_session,
    ),
    Row(
        "UserDisconnect",
        "device",
        ("enrolled",),
        "unenrolling",
        "user",
        ("F1", "F2", "F6", "F8", "F11", "F31", "F44", "F47", "A11", "A15"),
        "the user confirms Disconnect in Work Access: active sessions are terminated",
        guard=user_may_disconnect,
        effect=begin_user_unenroll,
        stimulus=True,
    ),
    Row(
        "UserLeavesAzureAD",
        "device",
        ("enrolled",),
        "unenrolling",
        "user",
        ("F43", "F45", "F46", "F49", "A15", "A16"),
        "the user removes the Azure AD association; MDM unenrollment follows",
        guard=user_may_leave_aad,
        effect=begin_aad_unenroll,
        stimulus=True,
        touches=("directory",),
    ),
    Row(
        "SendUnenrollAlert",
        "device",
        ("unenrolling",),
        "cleanup_apps",
        "device",
        ("F2", "F3", "F4", "F5", "F6", "F7", "F9", "F10", "F15", "F16", "A3", "A4", "A5"),
        "open a new session whose package 1 (MsgID 1) carries the 1226 unenroll alert",
        choices=alert_formats,
        effect=send_unenroll_alert,
        message="pkg1",
        direction="send",
        peer="server",
        touches=("network",),
    ),
    Row(
        "RetryUnenrollAlert",
        "device",
        (*CLEANUP, "dormant"),
        None,
        "timer",
        ("F3", "A6"),
        "re-send the unacknowledged unenroll alert in a new session (retrying designs)",
        guard=alert_retry_due,
        effect=resend_unenroll_alert,
        message="pkg1",
        direction="send",
        peer="server",
        touches=("network",),
    ),
    Row(
        "SelfUnenroll",
        "device",
        ("enrolled",),
        "cleanup_apps",
        "timer",
        ("F13", "A17"),
        "NumberOfDaysAfterLostContactToUnenroll expires: unenroll with no alert",
        guard=self_unenroll_enabled,
        effect=begin_self_unenroll,
        stimulus=True,
    ),
    Row(
        "RemoveEnterpriseApps",
        "device",
        ("cleanup_apps",),
        "cleanup_certs",
        "device",
        ("F33", "F38"),
        "remove the enterprise app token and its LOB apps",
        effect=remove_apps,
    ),
    Row(
        "RemoveCertificates",
        "device",
        ("cleanup_certs",),
        "cleanup_policies",
        "device",
        ("F34", "F37"),
        "remove the certificates the MDM server configured",
        effect=remove_certificates,
    ),
    Row(
        "StopEnforcingPolicies",
        "device",
        ("cleanup_policies",),
        "cleanup_config",
        "device",
        ("F35",),
        "cease enforcing the management policies",
        effect=stop_policies,
    ),
    Row(
        "RemoveDMClientConfig",
        "device",
        ("cleanup_config",),
        "dormant",
        "device",
        ("F30", "F36", "F40", "F84"),
        "remove the DM client config and maintenance task; the device is dormant",
        guard=keeps_aad,
        effect=remove_dm_config,
    ),
    Row(
        "RemoveDMClientConfigThenAAD",
        "device",
        ("cleanup_config",),
        "cleanup_aad",
        "device",
        ("F36", "F50"),
        "remove the DM client config; the AAD association is removed next (remote path)",
        guard=needs_aad_removal,
        effect=remove_dm_config,
    ),
)


def device_state(v: View) -> str:
    """The device machine's state: its phase."""
    return v.device.phase


def set_device_state(v: View, state: str) -> None:
    """Set the device phase (used to apply a row's `dest`)."""
    v.device = v.device._replace(phase=state)


TABLE = Table(
    machine="device",
    description="The MDM client: enrollment, DM sessions, unenrollment and cleanup.",
    states=PHASES,
    state_of=device_state,
    set_state=set_device_state,
    rows=ROWS,
)
