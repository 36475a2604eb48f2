"""The device (MDM client) state machine.

The machine state is `Device.phase`. The main exchange (`Device.session`) and the alert
session (`Device.alert`) are data of the same machine: they run inside a phase, and
the rows guard on them. A device row sees only the device: its client state, its Azure
AD join and its connection (`lifecycle.mdm.table.DeviceView`).

Why the phases are split the way they are:

- *enrolling* is its own phase so that an Azure AD join can interleave with the MDM
  enrollment (F84, F86); *provisioning* is the moment between the server's token and
  the device's first session, when applying the provisioning can still fail (Fleet
  #29042).
- *unenrolling* is the moment between "the user confirmed" / "the Exec arrived" and
  "the 1226 alert package is sent": the sessions are already terminated (F6, F14)
  but cleanup has not started (F7).
- cleanup is stepwise, in the order `CLEANUP_ORDER` gives (apps, certificates, policies,
  DM client config, then on the remote path the AAD association), so that every
  interleaving during cleanup is explored (F33-F37, F50). *dormant* is the end: no
  polling, no push (F36).
- *wiped* is a factory reset by RemoteWipe/doWipe (F52): nothing enterprise is left,
  not even the AAD association.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from lifecycle.mdm.state import ALL_ARTIFACTS, APPS, CERTS, CONFIG, POLICIES
from lifecycle.mdm.table import Also, DeviceView, Receives, Row, Send, Table, scope_bound

AAD_KINDS = ("aad_join", "aad_registered")
UNMANAGED = ("not_enrolled", "dormant", "wiped")
SESSIONS = ("idle", "enroll", "wait2", "wait4", "exec")


@dataclass(frozen=True)
class CleanupStep:
    """One step of the client's cleanup (F33-F37): the artifact it removes, the row
    that removes it, its facts and what it says."""

    name: str
    trigger: str
    artifact: int
    facts: tuple[str, ...]
    description: str


#: The cleanup steps, in the order the doc lists them (F33-F36). The order is data: the
#: phases and the cleanup rows are built from it, and a mutant swaps two steps.
CLEANUP_STEPS = {
    "apps": CleanupStep(
        "apps",
        "RemoveEnterpriseApps",
        APPS,
        ("F33",),
        "remove the enterprise app token and its LOB apps",
    ),
    "certs": CleanupStep(
        "certs",
        "RemoveCertificates",
        CERTS,
        ("F34", "F37"),
        "remove the certificates the MDM server configured",
    ),
    "policies": CleanupStep(
        "policies",
        "StopEnforcingPolicies",
        POLICIES,
        ("F35",),
        "cease enforcing the management policies",
    ),
    "config": CleanupStep(
        "config",
        "RemoveDMClientConfig",
        CONFIG,
        ("F36", "F40"),
        "remove the DM client config and the maintenance task",
    ),
}
CLEANUP_ORDER = ("apps", "certs", "policies", "config")


def phases(order: tuple[str, ...] = CLEANUP_ORDER) -> tuple[str, ...]:
    """The device's phases for a cleanup order."""
    return (
        "not_enrolled",
        "enrolling",
        "provisioning",
        "enrolled",
        "unenrolling",
        *(f"cleanup_{step}" for step in order),
        "cleanup_aad",
        "dormant",
        "wiped",
    )


PHASES = phases()
CLEANUP = tuple(p for p in PHASES if p.startswith("cleanup_"))
# Phases in which "unenrollment began" (F7, F33-F36): nothing may be applied any more.
AFTER_UNENROLL_BEGAN = ("unenrolling", *CLEANUP, "dormant")


# ------------------------------------------------------------------- conjuncts
def online(v: DeviceView) -> bool:
    """The device is connected."""
    return v.net.online


def offline(v: DeviceView) -> bool:
    """The device is not connected (an offline period)."""
    return not v.net.online


@scope_bound
def room(v: DeviceView) -> bool:
    """One more message fits in the connection (the scope's in-flight bound)."""
    return v.room()


def idle(v: DeviceView) -> bool:
    """No exchange is open on the main session."""
    return v.device.session == "idle"


@scope_bound
def attempts_left(v: DeviceView) -> bool:
    """Within the scope's re-enrollment bound (each enrollment attempt is a new
    generation, the client's new EnrollmentID)."""
    return v.device.gen < 1 + v.scope.reenrollments


def directory_free(v: DeviceView) -> bool:
    """Not Azure AD joined or registered any more: a device must leave Azure AD (and
    MDM) before it enrolls again (F85, F86)."""
    return v.directory.association == "none"


def joins_azure_ad(v: DeviceView) -> bool:
    """An Azure AD enrollment first joins (or registers with) Azure AD, which then
    triggers the MDM enrollment (F86)."""
    return v.device.kind in AAD_KINDS and v.directory.association == "none"


def enrollment_ready(v: DeviceView) -> bool:
    """An Azure AD enrollment is requested only once the device is joined or
    registered (F86)."""
    return v.device.kind not in AAD_KINDS or v.directory.association != "none"


def awaiting_enrollment(v: DeviceView) -> bool:
    """The enrollment request is out and its response awaited."""
    return v.device.session == "enroll"


def auto_enrolls(v: DeviceView) -> bool:
    """An Azure AD join or registration retries its MDM enrollment (the auto-enroll
    task), so a refused enrollment leaves the device enrolling, not unmanaged."""
    return v.device.kind in AAD_KINDS


def enrolls_by_hand(v: DeviceView) -> bool:
    """A work-access or bulk enrollment that the server refused ends."""
    return v.device.kind not in AAD_KINDS


def not_due(v: DeviceView) -> bool:
    """No session is due now: the next one waits for the poll schedule (a stimulus)."""
    return not (v.device.due or v.net.back)


def due(v: DeviceView) -> bool:
    """A session is due now: the first after enrollment, or the one the device missed
    while it was offline (its connection says it is back)."""
    return v.device.due or v.net.back


def waiting_for_package2(v: DeviceView) -> bool:
    """Package 1 is out and the server's package 2 awaited."""
    return v.device.session == "wait2"


def waiting_for_reply(v: DeviceView) -> bool:
    """The main session awaits this package: package 2 after package 1, package 4 after
    the Status package 3."""
    expected = "wait4" if v.msg.kind == "pkg4" else "wait2"
    return v.device.session == expected


def executes_unenroll(v: DeviceView) -> bool:
    """The client runs the DMClient Unenroll Exec (F27): not a mobile Azure AD joined
    device that refuses it (F21), not an Azure AD registered one on which it silently
    fails (F20)."""
    return not mobile_aadj_refuses(v) and v.device.kind != "aad_registered"


def mobile_aadj_refuses(v: DeviceView) -> bool:
    """A mobile Azure AD joined device answers an Unenroll Exec with an error status
    and stays enrolled (F21, F52), unless the design lets it proceed."""
    d = v.device
    return (
        d.platform == "mobile"
        and d.kind == "aad_join"
        and v.design.mobile_aadj_remote_unenroll == "fails"
    )


def registered_account_fails(v: DeviceView) -> bool:
    """An Azure AD registered device ("add a work account") on which the remote
    unenroll silently fails: the account stays active and keeps syncing (F20)."""
    return v.device.kind == "aad_registered"


def alert_tracked(v: DeviceView) -> bool:
    """The device reads the reply of its alert session (alert retry, keep-sessions, or
    an auth challenge it answers); the reference device does not (A2)."""
    return v.device.alert in ("sent", "resent")


def answers_alert_challenge(v: DeviceView) -> bool:
    """The device sends its alert package again with credentials after a challenge."""
    return v.design.auth_challenge == "resend"


def exchange_lost(v: DeviceView) -> bool:
    """An exchange is open, and neither its request nor its response is in flight (it
    was lost, or the device is offline), so the HTTP exchange fails (F69). A request the
    server holds stays in flight: OMA DM has no timeouts between packages (F69), and the
    model takes the pessimistic reading that a held request waits for ever."""
    d = v.device
    if d.session not in ("enroll", "wait2", "wait4"):
        return False
    if not v.net.online:
        return True
    slot = "-" if d.session == "enroll" else "main"
    return not any(m.generation == d.gen and m.session == slot for m in v.net.in_flight)


def exec_alert_lost(v: DeviceView) -> bool:
    """A kept Exec session waits on an alert session that failed: its package or reply
    was lost, or it could not be sent at all (the device was offline)."""
    d = v.device
    if d.session != "exec" or d.phase == "unenrolling" or d.alert == "acked":
        return False
    return not any(m.generation == d.gen and m.session == "alert" for m in v.net.in_flight)


def user_may_disconnect(v: DeviceView) -> bool:
    """Work Access shows an enabled Disconnect only for bulk and Work-Access-created
    enrollments (F43, F44, A15), and only if AllowManualMDMUnenrollment is 1 (F31,
    F47)."""
    d = v.device
    return d.kind in ("work_access", "bulk") and d.manual


def user_may_leave_aad(v: DeviceView) -> bool:
    """Disconnect is greyed out for Azure AD; the user removes the Azure AD association
    (or the work account) instead (F43, F45). On mobile, an Azure AD join goes by wipe
    only (F46, A16), and Windows wants a local admin to remain (F51's concern, applied
    to the user path)."""
    d = v.device
    if d.kind == "aad_registered":
        return True
    return d.kind == "aad_join" and d.platform == "desktop" and d.local_admin


def alert_retry_due(v: DeviceView) -> bool:
    """A retrying design re-sends an unacknowledged alert whose exchange failed."""
    d = v.device
    if v.design.alert_retry != "until_acknowledged" or d.alert != "sent":
        return False
    return not any(m.generation == d.gen and m.session == "alert" for m in v.net.in_flight)


def self_unenroll_enabled(v: DeviceView) -> bool:
    """NumberOfDaysAfterLostContactToUnenroll is provisioned (F13, A17)."""
    return v.design.self_unenroll_after_lost_contact


def needs_aad_removal(v: DeviceView) -> bool:
    """A remote unenroll of an Azure AD joined desktop removes the AAD association
    (F50), when the design does so. Mobile cannot leave Azure AD but by wipe (A16)."""
    d = v.device
    return (
        d.cause == "admin"
        and d.platform == "desktop"
        and v.directory.association == "joined"
        and v.design.remote_unenroll_removes_aad
    )


def keeps_aad(v: DeviceView) -> bool:
    """No AAD association removal follows the last cleanup step."""
    return not needs_aad_removal(v)


def join_state(v: DeviceView) -> str:
    """An Azure AD join makes the device joined; adding a work account registers it."""
    return "joined" if v.device.kind == "aad_join" else "registered"


def exec_session_kept(v: DeviceView) -> bool:
    """A kept Exec session waits for the alert session (keep-sessions designs)."""
    return v.device.session == "exec"


def no_exec_session(v: DeviceView) -> bool:
    """No Exec session waits for the alert session."""
    return v.device.session != "exec"


# --------------------------------------------------------------------- choices
def enrollment_options(v: DeviceView) -> Iterator[tuple[str, bool]]:
    """(kind, AllowManualMDMUnenrollment) pairs the device can enroll with. A device
    without a non-tenant local admin was set up through Azure AD, so it can only
    enroll by Azure AD join; the manual-unenroll policy has no effect on Azure AD
    enrollments (F47), so they are explored with the default (1) only."""
    for kind in v.scope.kinds:
        if not v.device.local_admin and kind != "aad_join":
            continue
        manuals = (True,) if kind in AAD_KINDS else v.scope.manual_unenroll
        for manual in manuals:
            yield (kind, manual)


def alert_formats(v: DeviceView) -> tuple[str, ...]:
    """The 1226 item carries Meta Type userrequest, or, on Windows 1803-2004, an empty
    <Meta/> (F10, A4). Both are possible on every send."""
    return ("unenroll", "unenroll_empty")


# ---------------------------------------------------------------- bodies
def enrollment_body(v: DeviceView) -> tuple[str, ...]:
    """What the enrollment request tells the server: the enrollment type, the OS, and
    whether a non-tenant local admin is in the device's inventory (F51, F84)."""
    d = v.device
    return (d.kind, d.platform, "admin" if d.local_admin else "no_admin")


def session_alerts(v: DeviceView) -> tuple[str, ...]:
    """Package 1 of a session: Alert 1201, and a pending CSP result 1226 (F65, F78)."""
    return ("1201", "csp") if v.device.result else ("1201",)


def alert_package(v: DeviceView) -> tuple[str, ...]:
    """The alert session's package 1: Alert 1201 then the 1226 unenroll alert (F9),
    then a pending CSP result (F78)."""
    tail = ("csp",) if v.device.result else ()
    return ("1201", v.arg, *tail)


def resent_alert(v: DeviceView) -> tuple[str, ...]:
    """The alert package sent again (a retry, or with credentials after a challenge),
    or tried while offline (the send fails, F11)."""
    return ("1201", "unenroll")


def resend_msgid(v: DeviceView) -> int:
    """Package 1 sent again with credentials is MsgID 2 of the session."""
    return 2


# ----------------------------------------------------------------- effects
def start_enrollment(v: DeviceView) -> None:
    """Begin an enrollment attempt of the chosen kind: a new generation (F84)."""
    kind, manual = v.arg
    d = v.device
    v.device = d._replace(
        gen=d.gen + 1,
        kind=kind,
        manual=manual,
        session="idle",
        alert="none",
        cause="-",
        result=False,
        due=False,
    )


def await_enrollment(v: DeviceView) -> None:
    """The enrollment request is out (MS-MDE2 RequestSecurityToken, F84)."""
    v.device = v.device._replace(session="enroll")


def end_exchange(v: DeviceView) -> None:
    """The exchange is over."""
    v.device = v.device._replace(session="idle")


def close_session(v: DeviceView) -> None:
    """The server closed the session. A Final means the sync got through, so no session
    is due any more; after an abort a due session stays due (it is retried)."""
    d = v.device
    v.device = d._replace(session="idle", due=d.due and v.msg.body != ("final",))


def provisioned(v: DeviceView) -> None:
    """The provisioning is applied: every enterprise artifact is in place (F33-F37) and
    the first DM session is due now (F84)."""
    v.device = v.device._replace(artifacts=ALL_ARTIFACTS, due=True, session="idle")


def start_session(v: DeviceView) -> None:
    """Package 1 is out (F57, F58, F65); a pending CSP result goes with it (F78). A due
    session stays due until the server answers: the first retries come soon (F64). A
    session missed while offline is now due on the device."""
    d = v.device
    if v.net.back:
        v.net = v.net._replace(back=False)
        v.device = d._replace(session="wait2", result=False, due=d.phase == "enrolled")
    else:
        v.device = d._replace(session="wait2", result=False)


def resent_with_credentials(v: DeviceView) -> None:
    """Package 1 is sent again with credentials; package 2 is awaited again."""
    v.device = v.device._replace(session="wait2")


def apply_policy(v: DeviceView) -> None:
    """Apply the policy and return its Status in package 3 (F35, F67). The CSP finishes
    some work asynchronously and reports it later in a 1226 of its own Type (F78)."""
    d = v.device
    v.device = d._replace(session="wait4", artifacts=d.artifacts | POLICIES, result=True, due=False)


def execute_late_command(v: DeviceView) -> None:
    """The device executes a command after unenrollment began: a policy is applied
    again (F35 says enforcement has ceased), which `cleanup_complete` forbids."""
    d = v.device
    artifacts = d.artifacts | POLICIES if v.msg.body == ("policy",) else d.artifacts
    v.device = d._replace(session="wait4", artifacts=artifacts)


def _close_connections(v: DeviceView) -> None:
    """The device drops its HTTP connections: responses in flight to it for its main
    session can no longer be delivered."""
    g = v.device.gen
    v.net = v.net._replace(
        in_flight=tuple(
            m
            for m in v.net.in_flight
            if not (m.kind in ("pkg2", "pkg4") and m.generation == g and m.session == "main")
        )
    )


def _abort_sessions(v: DeviceView) -> None:
    """Terminate every active DM session, unsignalled (F6, F14, A1, A11): the HTTP
    connections close, so responses in flight are lost. Keep-sessions designs do not."""
    if v.design.device_sessions_on_unenroll == "abort":
        v.device = v.device._replace(session="idle")
        _close_connections(v)


def execute_unenroll(v: DeviceView) -> None:
    """Execute the DMClient Unenroll Exec: abort all sessions, the current one included,
    so no Status is returned (F14, F15, A1, A9); the alert follows in a new session.
    With keep-sessions, the Exec's session stays open until the alert session ends."""
    keep = v.design.device_sessions_on_unenroll == "keep"
    v.device = v.device._replace(
        cause="admin", session="exec" if keep else "idle", alert="none", due=False
    )
    if not keep:
        _close_connections(v)


def refuse_unenroll(v: DeviceView) -> None:
    """Return an error Status for the Exec and stay enrolled (F21, A9)."""
    v.device = v.device._replace(session="wait4", due=False)


def fail_silently(v: DeviceView) -> None:
    """The Exec does nothing: the account stays active and keeps syncing (F20). The
    session ends without a Status, as after any Exec (F15)."""
    v.device = v.device._replace(session="idle", due=False)


def execute_wipe(v: DeviceView) -> None:
    """Reset the device: every enterprise artifact and the AAD association go with it;
    the device resets mid-session and returns no Status (F52, real-world 3.12)."""
    _close_connections(v)
    v.device = v.device._replace(
        session="idle", alert="none", artifacts=0, cause="wipe", result=False, due=False
    )


def acknowledge_alert(v: DeviceView) -> None:
    """The server answered the alert session. Commands piggybacked on the reply are not
    executed (A2)."""
    v.device = v.device._replace(alert="acked")


def release_exec_session(v: DeviceView) -> None:
    """The alert session is answered: the kept Exec session returns its Status now."""
    v.device = v.device._replace(alert="acked", session="wait4")


def discard(v: DeviceView) -> None:
    """Nothing happens: the message is ignored."""


def begin_user_unenroll(v: DeviceView) -> None:
    """The user confirmed the disconnect: terminate the active sessions (F6, A11)."""
    v.device = v.device._replace(cause="user", due=False)
    _abort_sessions(v)


def begin_aad_unenroll(v: DeviceView) -> None:
    """The user removes the Azure AD association or the work account; MDM unenrollment
    follows the user path (terminate sessions, alert, cleanup; A16)."""
    v.device = v.device._replace(cause="aad", due=False)
    _abort_sessions(v)


def begin_agent_unenroll(v: DeviceView) -> None:
    """The management agent calls the Unregister API (F12): the client unenrolls as on
    the user path (terminate sessions, alert, cleanup)."""
    v.device = v.device._replace(cause="agent", due=False)
    _abort_sessions(v)


def send_unenroll_alert(v: DeviceView) -> None:
    """The alert session is opened (F4, F6, F9, F15, F16, A3); cleanup starts once the
    package is sent, with no wait for the reply (F7, A2). The reply is read only if the
    design retries the alert, keeps the Exec session waiting for it, or answers an auth
    challenge on it."""
    d = v.device
    track = (
        v.design.alert_retry != "never"
        or d.session == "exec"
        or v.design.auth_challenge == "resend"
    )
    v.device = d._replace(alert="sent" if track else d.alert, result=False)


def alert_send_failed(v: DeviceView) -> None:
    """The device is offline: sending the alert fails ("Error sending unenroll alert",
    F11), and cleanup proceeds anyway: there is no retry (F3)."""


def resend_unenroll_alert(v: DeviceView) -> None:
    """A new DM session after unenrollment began: what F3 ("no retry is built in") and
    F7 rule out, so `cleanup_complete` flags it."""
    v.device = v.device._replace(alert="resent")


def answer_alert_challenge(v: DeviceView) -> None:
    """The alert package goes again with credentials; its reply is still read."""
    v.device = v.device._replace(alert="sent")


def begin_self_unenroll(v: DeviceView) -> None:
    """The device unenrolls itself after N days without a successful sync. The server
    cannot be reached, so no alert is sent (F13 inference, A17); cleanup starts."""
    v.device = v.device._replace(cause="self", session="idle", due=False)
    _close_connections(v)


def _remover(step: CleanupStep) -> object:
    def remove(v: DeviceView) -> None:
        v.device = v.device._replace(artifacts=v.device.artifacts & ~step.artifact)

    remove.__name__ = f"remove_{step.name}"
    remove.__qualname__ = remove.__name__
    remove.__doc__ = (
        f"{step.description[0].upper()}{step.description[1:]} ({', '.join(step.facts)})."
    )
    return remove


# ------------------------------------------------------------------- the table
def _rows(order: tuple[str, ...]) -> tuple[Row, ...]:
    first = f"cleanup_{order[0]}"
    rows: list[Row] = [
        Row(
            "StartEnrollment",
            "device",
            ("not_enrolled", "dormant", "wiped"),
            "enrolling",
            "user",
            ("F84", "F85", "F86", "F43", "F44", "F47"),
            "the user starts an enrollment (its kind and policy are the argument)",
            guard=(attempts_left, directory_free),
            choices=enrollment_options,
            effect=start_enrollment,
            stimulus=True,
        ),
        Row(
            "JoinAzureAD",
            "device",
            ("enrolling",),
            None,
            "aad",
            ("F20", "F43", "F86"),
            "the device joins (or registers with) Azure AD, which triggers the MDM enrollment",
            guard=(joins_azure_ad,),
            also=(Also("directory", join_state, ("none",), ("joined", "registered")),),
        ),
        Row(
            "RequestEnrollment",
            "device",
            ("enrolling",),
            None,
            "device",
            ("F84",),
            "send the MS-MDE2 enrollment request (RequestSecurityToken)",
            guard=(online, room, idle, enrollment_ready),
            effect=await_enrollment,
            sends=(Send("enroll_request", enrollment_body, session="-"),),
        ),
        Row(
            "ReceiveEnrollToken",
            "device",
            ("enrolling",),
            "provisioning",
            "device",
            ("F84",),
            "the enrollment response carries the provisioning XML",
            receives=Receives(("enroll_response",), bodies=("token",)),
            guard=(awaiting_enrollment,),
            effect=end_exchange,
        ),
        Row(
            "ReceiveEnrollFault",
            "device",
            ("enrolling",),
            "not_enrolled",
            "device",
            ("F85", "F87"),
            "the server refuses the enrollment with a SOAP fault",
            receives=Receives(("enroll_response",), bodies=("fault",)),
            guard=(awaiting_enrollment, enrolls_by_hand),
            effect=end_exchange,
        ),
        Row(
            "RetryAutoEnrollment",
            "device",
            ("enrolling",),
            None,
            "device",
            ("F85", "F86", "F87"),
            "a refused Azure AD auto-enrollment is tried again later",
            receives=Receives(("enroll_response",), bodies=("fault",)),
            guard=(awaiting_enrollment, auto_enrolls),
            effect=end_exchange,
        ),
        Row(
            "ApplyProvisioning",
            "device",
            ("provisioning",),
            "enrolled",
            "device",
            ("F33", "F34", "F84"),
            "apply the provisioning: the enrollment is in place and its first session due",
            effect=provisioned,
        ),
        Row(
            "ProvisioningFails",
            "device",
            ("provisioning",),
            "enrolling",
            "device",
            ("F84", "F85"),
            "applying the provisioning fails; the enrollment is tried again",
        ),
        Row(
            "MaintenanceSession",
            "device",
            ("enrolled",),
            None,
            "timer",
            ("F17", "F48", "F56", "F57", "F58", "F64", "F65"),
            "the scheduled maintenance task starts a DM session: package 1 with Alert 1201",
            guard=(online, room, idle, not_due),
            effect=start_session,
            sends=(Send("pkg1", session_alerts, session="main"),),
            stimulus=True,
        ),
        Row(
            "DueSession",
            "device",
            ("enrolled",),
            None,
            "timer",
            ("F57", "F64", "F84"),
            "a session that is due now runs: the first after enrollment, or one missed offline",
            guard=(online, room, idle, due),
            effect=start_session,
            sends=(Send("pkg1", session_alerts, session="main"),),
        ),
        Row(
            "ReceivePush",
            "device",
            ("enrolled",),
            None,
            "device",
            ("F59", "F61"),
            "a WNS push arrives and the device starts a session",
            receives=Receives(("push",)),
            guard=(idle, online, room),
            effect=start_session,
            sends=(Send("pkg1", session_alerts, session="main"),),
        ),
        Row(
            "DiscardPush",
            "device",
            ("*",),
            None,
            "device",
            ("F36", "F40", "F61"),
            "a push arrives that starts nothing (session open, not enrolled, dormant)",
            receives=Receives(("push",), generation="any", otherwise=True),
            effect=discard,
        ),
        Row(
            "ReceiveFinal",
            "device",
            ("*",),
            None,
            "device",
            ("F66", "F68", "F70"),
            "the server closes the session (Final only, or abort)",
            receives=Receives(("pkg2", "pkg4"), bodies=("final", "abort"), session="main"),
            guard=(waiting_for_reply,),
            effect=close_session,
        ),
        Row(
            "ReceiveChallenge",
            "device",
            ("*",),
            None,
            "device",
            ("F82", "A13"),
            "the server challenges package 1 (401/407): send it again with credentials",
            receives=Receives(("pkg2",), bodies=("challenge",), session="main"),
            guard=(waiting_for_package2,),
            effect=resent_with_credentials,
            sends=(Send("pkg1", session_alerts, session="main", msgid=resend_msgid),),
        ),
        Row(
            "ReceivePolicy",
            "device",
            ("enrolled",),
            None,
            "device",
            ("F35", "F67", "F78"),
            "apply a policy from package 2 and return its Status in package 3",
            receives=Receives(("pkg2",), bodies=("policy",), session="main"),
            guard=(waiting_for_package2,),
            effect=apply_policy,
            sends=(Send("pkg3", ("ok",), session="main"),),
        ),
        Row(
            "ReceiveCommandLate",
            "device",
            AFTER_UNENROLL_BEGAN,
            None,
            "device",
            ("F35", "F36", "A11"),
            "a kept session delivers a command after unenrollment began; it is executed",
            receives=Receives(("pkg2",), bodies=("policy", "unenroll", "wipe"), session="main"),
            guard=(waiting_for_package2,),
            effect=execute_late_command,
            sends=(Send("pkg3", ("ok",), session="main"),),
        ),
        Row(
            "ReceiveUnenrollExec",
            "device",
            ("enrolled",),
            "unenrolling",
            "device",
            ("F14", "F15", "F17", "F23", "F24", "F25", "F27", "F29", "A1", "A7", "A8", "A9"),
            "execute the DMClient Unenroll Exec: abort all sessions, no Status",
            receives=Receives(("pkg2",), bodies=("unenroll",), session="main"),
            guard=(waiting_for_package2, executes_unenroll),
            effect=execute_unenroll,
        ),
        Row(
            "RejectUnenrollExec",
            "device",
            ("enrolled",),
            None,
            "device",
            ("F21", "F52", "A9"),
            "a mobile Azure AD joined device refuses the Unenroll Exec with an error Status",
            receives=Receives(("pkg2",), bodies=("unenroll",), session="main"),
            guard=(waiting_for_package2, mobile_aadj_refuses),
            effect=refuse_unenroll,
            sends=(Send("pkg3", ("error",), session="main"),),
        ),
        Row(
            "IgnoreUnenrollExec",
            "device",
            ("enrolled",),
            None,
            "device",
            ("F20", "A9"),
            "on an Azure AD registered device the Unenroll Exec silently fails",
            receives=Receives(("pkg2",), bodies=("unenroll",), session="main"),
            guard=(waiting_for_package2, registered_account_fails),
            effect=fail_silently,
        ),
        Row(
            "ReceiveWipe",
            "device",
            ("enrolled",),
            "wiped",
            "device",
            ("F52",),
            "execute RemoteWipe/doWipe: factory reset, AAD association gone, no Status",
            receives=Receives(("pkg2",), bodies=("wipe",), session="main"),
            guard=(waiting_for_package2,),
            effect=execute_wipe,
            also=(Also("directory", "none", ("joined", "registered")),),
        ),
        Row(
            "ReceiveAlertReply",
            "device",
            ("*",),
            None,
            "device",
            ("F76", "A2", "A18"),
            "the server's reply to the alert session arrives (tracked designs only)",
            receives=Receives(("pkg2",), bodies=("final", "abort"), session="alert"),
            guard=(alert_tracked, no_exec_session),
            effect=acknowledge_alert,
        ),
        Row(
            "ReleaseExecSession",
            "device",
            ("*",),
            None,
            "device",
            ("F76", "A1"),
            "the alert session is answered, so the kept Exec session returns its Status",
            receives=Receives(("pkg2",), bodies=("final", "abort"), session="alert"),
            guard=(alert_tracked, exec_session_kept),
            effect=release_exec_session,
            sends=(Send("pkg3", ("ok",), session="main"),),
        ),
        Row(
            "ReceiveAlertChallenge",
            "device",
            ("*",),
            None,
            "device",
            ("F82", "A13"),
            "the server challenges the alert package: send it again with credentials",
            receives=Receives(("pkg2",), bodies=("challenge",), session="alert"),
            guard=(alert_tracked, answers_alert_challenge),
            effect=answer_alert_challenge,
            sends=(Send("pkg1", resent_alert, session="alert", msgid=resend_msgid),),
        ),
        Row(
            "DiscardServerPackage",
            "device",
            ("*",),
            None,
            "device",
            ("F69", "A2", "A18"),
            "a server package for no open session is ignored",
            receives=Receives(
                ("enroll_response", "pkg2", "pkg4"), generation="any", otherwise=True
            ),
            effect=discard,
        ),
        Row(
            "ReceiveAgentUnenroll",
            "device",
            ("enrolled",),
            "unenrolling",
            "device",
            ("F1", "F12"),
            "the management agent unenrolls the client through the Unregister API",
            receives=Receives(("agent",), bodies=("unenroll",)),
            effect=begin_agent_unenroll,
        ),
        Row(
            "DiscardAgentRequest",
            "device",
            ("*",),
            None,
            "device",
            ("F12",),
            "an agent request for a device that is no longer enrolled is ignored",
            receives=Receives(("agent",), generation="any", otherwise=True),
            effect=discard,
        ),
        Row(
            "SessionTimeout",
            "device",
            ("*",),
            None,
            "timer",
            ("F69", "A1", "A11"),
            "the HTTP exchange failed (package lost, or the device went offline)",
            guard=(exchange_lost,),
            effect=end_exchange,
        ),
        Row(
            "ExecSessionTimeout",
            "device",
            ("*",),
            None,
            "timer",
            ("F69", "A1"),
            "a kept Exec session gives up: its alert session failed",
            guard=(exec_alert_lost,),
            effect=end_exchange,
        ),
        Row(
            "UserDisconnect",
            "device",
            ("enrolled",),
            "unenrolling",
            "user",
            ("F1", "F2", "F6", "F8", "F31", "F44", "F47", "A11", "A15"),
            "the user confirms Disconnect in Work Access: active sessions are terminated",
            guard=(user_may_disconnect,),
            effect=begin_user_unenroll,
            stimulus=True,
        ),
        Row(
            "UserLeavesAzureAD",
            "device",
            ("enrolled",),
            "unenrolling",
            "user",
            ("F43", "F45", "F46", "A15", "A16"),
            "the user removes the Azure AD association or work account; MDM unenrollment follows",
            guard=(user_may_leave_aad,),
            effect=begin_aad_unenroll,
            also=(Also("directory", "none", ("joined", "registered")),),
            stimulus=True,
        ),
        Row(
            "SendUnenrollAlert",
            "device",
            ("unenrolling",),
            first,
            "device",
            ("F2", "F3", "F4", "F5", "F6", "F7", "F9", "F10", "F15", "F16", "A3", "A4", "A5"),
            "open a new session whose package 1 (MsgID 1) carries the 1226 unenroll alert",
            guard=(online, room),
            choices=alert_formats,
            effect=send_unenroll_alert,
            sends=(Send("pkg1", alert_package, session="alert"),),
        ),
        Row(
            "UnenrollAlertFails",
            "device",
            ("unenrolling",),
            first,
            "device",
            ("F3", "F11", "A6"),
            "the device is offline: the alert cannot be sent, and cleanup starts anyway",
            guard=(offline,),
            effect=alert_send_failed,
            sends=(Send("pkg1", resent_alert, session="alert"),),
        ),
        Row(
            "RetryUnenrollAlert",
            "device",
            (*CLEANUP, "dormant"),
            None,
            "timer",
            ("F3", "A6"),
            "re-send the unacknowledged unenroll alert in a new session (retrying designs)",
            guard=(alert_retry_due, online, room),
            effect=resend_unenroll_alert,
            sends=(Send("pkg1", resent_alert, session="alert"),),
        ),
        Row(
            "SelfUnenroll",
            "device",
            ("enrolled",),
            first,
            "timer",
            ("F13", "A17"),
            "NumberOfDaysAfterLostContactToUnenroll expires while offline: unenroll, no alert",
            guard=(self_unenroll_enabled, offline),
            effect=begin_self_unenroll,
            stimulus=True,
        ),
    ]
    for k, name in enumerate(order):
        step = CLEANUP_STEPS[name]
        here = f"cleanup_{name}"
        if k + 1 < len(order):
            rows.append(
                Row(
                    step.trigger,
                    "device",
                    (here,),
                    f"cleanup_{order[k + 1]}",
                    "device",
                    step.facts,
                    step.description,
                    effect=_remover(step),  # type: ignore[arg-type]
                )
            )
            continue
        rows.append(
            Row(
                step.trigger,
                "device",
                (here,),
                "dormant",
                "device",
                step.facts,
                f"{step.description}; the device is dormant",
                guard=(keeps_aad,),
                effect=_remover(step),  # type: ignore[arg-type]
            )
        )
        rows.append(
            Row(
                f"{step.trigger}ThenAAD",
                "device",
                (here,),
                "cleanup_aad",
                "device",
                (*step.facts, "F50"),
                f"{step.description}; the AAD association is removed next (remote path)",
                guard=(needs_aad_removal,),
                effect=_remover(step),  # type: ignore[arg-type]
            )
        )
    rows.append(
        Row(
            "RemoveAADAssociation",
            "device",
            ("cleanup_aad",),
            "dormant",
            "aad",
            ("F50", "F51", "A16"),
            "the remote unenroll removes the AAD association; the device is dormant",
            also=(Also("directory", "none", ("joined",)),),
        )
    )
    return tuple(rows)


def device_state(v: DeviceView) -> str:
    """The device machine's state: its phase."""
    return v.device.phase


def set_device_state(v: DeviceView, state: str) -> None:
    """Set the device phase (used to apply a row's `dest`)."""
    v.device = v.device._replace(phase=state)


def device_table(order: tuple[str, ...] = CLEANUP_ORDER) -> Table:
    """The device table for a cleanup order (the doc's, unless a mutant swaps steps)."""
    if sorted(order) != sorted(CLEANUP_ORDER):
        raise ValueError(f"a cleanup order is a permutation of {CLEANUP_ORDER}, not {order}")
    return Table(
        machine="device",
        description="The MDM client: enrollment, DM sessions, unenrollment and cleanup.",
        states=phases(order),
        state_of=device_state,
        set_state=set_device_state,
        rows=_rows(order),
        ends=("dormant", "wiped"),
    )


TABLE = device_table()
