"""The MDM server's per-enrollment record: session handling, command queue, and
verification of the unenroll outcome.

The machine state is `ServerRecord.record`:

- *enrolled*: managed, sessions served, commands delivered from the queue;
- *unenroll_queued* / *wipe_queued*: the admin asked; the Exec waits in the queue for
  the next client-initiated session (F17, F23, A8);
- *unenroll_sent* / *wipe_sent*: the Exec went out in a package 2; no response is
  expected (F15, A9);
- *awaiting_confirmation*: the unenroll alert arrived (the "report", A5); the server
  verifies before it concludes (F55, A10);
- *unenrolled*: the server accepted the enrollment as unenrolled;
- *failed*: the unenroll failed (mobile Azure AD error F21, or the device kept
  checking in, F20, A9), and wipe is offered (F52).

A device checking in under a record the server had concluded was unenrolled
resurrects it (A10, like Intune's "reappears", F91).
"""

from __future__ import annotations

from collections.abc import Iterator

from lifecycle.mdm.state import Msg
from lifecycle.mdm.table import Row, Table, View

RECORDS = (
    "none",
    "enrolled",
    "unenroll_queued",
    "unenroll_sent",
    "awaiting_confirmation",
    "unenrolled",
    "failed",
    "wipe_queued",
    "wipe_sent",
)
# Records under which the server believes the device is still enrolled (or has not
# concluded otherwise yet).
BELIEVES_ENROLLED = (
    "enrolled",
    "unenroll_queued",
    "wipe_queued",
    "failed",
    "unenroll_sent",
    "wipe_sent",
    "awaiting_confirmation",
)
LIVE = ("enrolled", "unenroll_queued", "wipe_queued", "failed")
ACCEPTED_UNENROLLED = ("unenrolled", "awaiting_confirmation")
SERVE_FROM = ("enrolled", "unenroll_queued", "wipe_queued", "failed")


# --------------------------------------------------------------------------- routing
def _current(v: View, gen: int) -> bool:
    """Does a message of generation `gen` address the current record? A generation-keyed
    server only matches its own generation; a device-id keyed server maps every message
    from the device to its one record (real-world 3.8)."""
    s = v.server
    return s.gen > 0 and (s.gen == gen or v.design.unenroll_key == "device_id")


def recognised(v: View, body: str) -> bool:
    """Does the server see a 1226 unenroll alert in this package 1? By Meta Type (F5,
    F16), and with the empty-Meta knob also a typeless 1226 (F10, A4). A server that
    never learns has no unenroll handling at all."""
    d = v.design
    if d.outcome == "never":
        return False
    return body == "type" or (body == "empty_meta" and d.alert_recognition == "type_or_empty_meta")


def route_package1(v: View, where: str, m: Msg) -> str | None:
    """Which server row handles package 1 `m`, from the network or held (None: it cannot
    be handled now). One function for every case keeps the rows exclusive."""
    s, d = v.server, v.design
    _, gen, slot, body, _ = m
    if where == "held" and (s.session == "open" or gen != s.gen):
        # Still behind the stale session, or held for an enrollment that was replaced:
        # that enrollment's stale session never completes, so neither does this one.
        return None
    if not _current(v, gen):
        return "AcknowledgeStaleAlert" if slot == "alert" else "RejectUnknownSession"
    if where == "net" and d.server_stale_sessions == "wait" and s.session == "open":
        return None if s.held else "HoldSession"
    if recognised(v, body):
        if s.record == "unenrolled":
            return "AcknowledgeDuplicateAlert"
        return "ReceiveUnenrollAlert" if d.outcome == "verify" else "AcceptUnenrollAlert"
    if s.record in ACCEPTED_UNENROLLED:
        return "ResurrectEnrollment"
    if s.record in ("unenroll_sent", "wipe_sent"):
        return "DetectFailedUnenroll"
    head = s.queue[0][0] if s.queue else None
    if head is None:
        return "ServeSession"
    if head == "policy":
        return "SendPolicy"
    if head == "unenroll":
        return "SendUnenrollExec"
    return "SendWipe" if d.outcome == "verify" else "SendWipeMarkDone"


def route_package3(v: View, m: Msg) -> str:
    """Which server row handles status package 3 `m`."""
    s = v.server
    if _current(v, m[1]):
        if m[3] == "error" and s.record == "unenroll_sent":
            return "ReceiveErrorStatus"
        if s.session == "open":
            return "ReceiveStatus"
    return "RejectStaleStatus"


def _package1s(v: View, trigger: str) -> Iterator[tuple[str, Msg]]:
    from lifecycle.mdm.device import routed

    yield from routed(v, trigger)


def _package3s(v: View, trigger: str) -> Iterator[Msg]:
    from lifecycle.mdm.device import routed

    yield from routed(v, trigger)


def _take(v: View) -> Msg:
    """Take the package 1 named by `view.arg` = (where, msg) from the network or from
    the held slot."""
    where, m = v.arg
    if where == "net":
        v.consume(m)
    else:
        v.server = v.server._replace(held=())
    return m


def listening(v: View, m: Msg) -> bool:
    """Is the device still reading the HTTP response to client package `m`? A client
    that abandoned the exchange (aborted the session, F6, F14, A11) or never reads the
    reply (the untracked alert session, A2, A18) has closed the connection, so the
    response is never put in flight: the device would discard it anyway, and leaving it
    out spares the model interleavings that change nothing."""
    d = v.device
    if d.gen != m[1] or d.phase == "wiped":
        return False
    if m[2] == "alert":
        return d.alert in ("sent", "resent")
    return d.session == ("wait4" if m[0] == "pkg3" else "wait2")


def _reply(v: View, m: Msg, body: str, origin: int = 0) -> None:
    """Answer a client package: the server MUST respond to every one (F66, F68)."""
    if listening(v, m):
        kind = "pkg4" if m[0] == "pkg3" else "pkg2"
        v.send((kind, m[1], m[2], body, origin))


def _reply_after_unenroll(v: View, m: Msg) -> None:
    """Status for the alert (F76). A design that delivers queued commands after the
    unenroll was accepted piggybacks the next one here (real-world 3.1, 3.23)."""
    s = v.server
    if v.design.queue_on_unenroll == "deliver" and s.queue:
        (cmd, origin), rest = s.queue[0], s.queue[1:]
        v.server = s._replace(queue=rest, late_cmd=True)
        _reply(v, m, cmd, origin)
    else:
        _reply(v, m, "final")


def _drop_queue_on_unenroll(v: View) -> None:
    """Queued commands go when the unenroll is accepted, unless the design keeps them."""
    if v.design.queue_on_unenroll == "drop":
        v.server = v.server._replace(queue=())


# ------------------------------------------------------------------ admin rows
def admin_may_unenroll(v: View) -> bool:
    """The console offers remote unenroll for a managed record with no unenroll or wipe
    pending; for an Azure AD joined device a reference server first requires a
    non-tenant local admin on the device, from its inventory (F51), else offers wipe."""
    s, d = v.server, v.device
    if any(c in ("unenroll", "wipe") for c, _ in s.queue):
        return False
    return not (v.design.require_local_admin and d.kind == "aad_join" and not d.local_admin)


def queue_unenroll(v: View) -> None:
    """Queue a DMClient Unenroll Exec (Data = ProviderID, A7) for the next session."""
    s = v.server
    v.server = s._replace(queue=(*s.queue, ("unenroll", s.gen)))


def admin_may_wipe(v: View) -> bool:
    """Wipe is offered where remote unenroll is not possible: after a failed unenroll,
    for a mobile Azure AD joined device (F52), or an Azure AD joined device with no
    local admin (F51)."""
    s, d = v.server, v.device
    if any(c in ("unenroll", "wipe") for c, _ in s.queue):
        return False
    if s.record == "failed":
        return True
    if d.kind != "aad_join":
        return False
    return d.platform == "mobile" or (v.design.require_local_admin and not d.local_admin)


def queue_wipe(v: View) -> None:
    """Queue a RemoteWipe/doWipe Exec (F52)."""
    s = v.server
    v.server = s._replace(queue=(*s.queue, ("wipe", s.gen)))


# -------------------------------------------------------------- session rows
def sessions_to_hold(v: View) -> Iterator[tuple[str, Msg]]:
    """Packages 1 arriving while an earlier session of the enrollment is still open, in
    a design that waits for stale sessions."""
    return _package1s(v, "HoldSession")


def hold_session(v: View) -> None:
    """Hold the new session until the stale one completes (the F14 hazard)."""
    _where, m = v.arg
    v.consume(m)
    v.server = v.server._replace(held=(m,))


def unenroll_alerts(v: View) -> Iterator[tuple[str, Msg]]:
    """Recognised unenroll alerts for the current record (verifying designs)."""
    return _package1s(v, "ReceiveUnenrollAlert")


def _on_alert(v: View, m: Msg) -> None:
    s = v.server
    stale = s.stale or m[1] < s.gen
    v.server = s._replace(session="none", pushed=False, stale=stale)
    _drop_queue_on_unenroll(v)
    _reply_after_unenroll(v, m)


def receive_unenroll_alert(v: View) -> None:
    """The alert is the report of the unenroll (A5), but it cannot say who started it
    (A4, real-world 3.6) nor prove that cleanup finished: abort the enrollment's stale
    sessions (F14), drop its queue, and verify (F55)."""
    _on_alert(v, _take(v))


def trusted_alerts(v: View) -> Iterator[tuple[str, Msg]]:
    """Recognised unenroll alerts for the current record (designs that trust them)."""
    return _package1s(v, "AcceptUnenrollAlert")


def accept_unenroll_alert(v: View) -> None:
    """Conclude on the alert alone: the enrollment is unenrolled."""
    _on_alert(v, _take(v))


def duplicate_alerts(v: View) -> Iterator[tuple[str, Msg]]:
    """Unenroll alerts for a record already unenrolled (retry, duplicate, late)."""
    return _package1s(v, "AcknowledgeDuplicateAlert")


def acknowledge_duplicate(v: View) -> None:
    """Accept idempotently (real-world 3.4): answer, change nothing."""
    m = _take(v)
    _reply_after_unenroll(v, m)


def stale_alerts(v: View) -> Iterator[tuple[str, Msg]]:
    """Alert sessions of another enrollment generation (generation-keyed servers)."""
    return _package1s(v, "AcknowledgeStaleAlert")


def acknowledge_stale(v: View) -> None:
    """A late alert of an earlier enrollment: acknowledge, retire nothing (real-world
    3.8)."""
    m = _take(v)
    _reply(v, m, "final")


def unknown_sessions(v: View) -> Iterator[tuple[str, Msg]]:
    """Sessions of an enrollment the server has no record for."""
    return _package1s(v, "RejectUnknownSession")


def reject_unknown(v: View) -> None:
    """Answer with an abort: unknown enrollment (WSO2 #336)."""
    m = _take(v)
    _reply(v, m, "abort")


def resurrecting_sessions(v: View) -> Iterator[tuple[str, Msg]]:
    """Ordinary sessions under a record the server thought unenrolled."""
    return _package1s(v, "ResurrectEnrollment")


def resurrect(v: View) -> None:
    """The device is alive under this enrollment: the record comes back (A10, F91)."""
    m = _take(v)
    v.server = v.server._replace(session="none", pushed=False)
    _reply(v, m, "final")


def failed_unenroll_sessions(v: View) -> Iterator[tuple[str, Msg]]:
    """Ordinary sessions after the Exec was sent: the unenroll did not happen."""
    return _package1s(v, "DetectFailedUnenroll")


def detect_failed(v: View) -> None:
    """The device keeps syncing after the Exec: the unenroll failed (F20, F55, A9)."""
    m = _take(v)
    v.server = v.server._replace(session="none", pushed=False)
    _reply(v, m, "final")


def plain_sessions(v: View) -> Iterator[tuple[str, Msg]]:
    """Sessions with nothing queued."""
    return _package1s(v, "ServeSession")


def serve_final(v: View) -> None:
    """Abort any stale session of the enrollment (F14) and answer with Final only (F66)."""
    m = _take(v)
    v.server = v.server._replace(session="none")
    _reply(v, m, "final")


def _send_head(v: View) -> None:
    m = _take(v)
    s = v.server
    (cmd, origin), rest = s.queue[0], s.queue[1:]
    v.server = s._replace(queue=rest, session="open")
    _reply(v, m, cmd, origin)


def policy_sessions(v: View) -> Iterator[tuple[str, Msg]]:
    """Sessions in which a queued policy is due."""
    return _package1s(v, "SendPolicy")


def send_policy(v: View) -> None:
    """Send the policy in package 2 and await its Status (F67, F75)."""
    _send_head(v)


def unenroll_sessions(v: View) -> Iterator[tuple[str, Msg]]:
    """Sessions in which the queued Unenroll Exec is due (any client-initiated
    session, A8)."""
    return _package1s(v, "SendUnenrollExec")


def send_unenroll_exec(v: View) -> None:
    """Send the DMClient Unenroll Exec in package 2 (F23, F29). No response will come
    (F15): a reference server aborts its side of the session at once (F14, A1); a
    waiting server keeps it open for a Status."""
    _send_head(v)
    if v.design.server_stale_sessions == "abort":
        v.server = v.server._replace(session="none")
    v.server = v.server._replace(pushed=False)


def wipe_sessions(v: View) -> Iterator[tuple[str, Msg]]:
    """Sessions in which the queued wipe is due (verifying designs)."""
    return _package1s(v, "SendWipe")


def send_wipe(v: View) -> None:
    """Send RemoteWipe/doWipe; the device resets without a Status (F52, real-world
    3.12); verification tells the outcome."""
    _send_head(v)
    if v.design.server_stale_sessions == "abort":
        v.server = v.server._replace(session="none")
    v.server = v.server._replace(pushed=False)


def wipe_sessions_marked_done(v: View) -> Iterator[tuple[str, Msg]]:
    """Sessions in which the queued wipe is due (designs that do not verify)."""
    return _package1s(v, "SendWipeMarkDone")


def send_wipe_marked_done(v: View) -> None:
    """Send the wipe and mark it done at delivery (WSO2, latchz; real-world 3.12)."""
    _send_head(v)
    v.server = v.server._replace(session="none")
    _drop_queue_on_unenroll(v)


def status_packages(v: View) -> Iterator[Msg]:
    """Status packages 3 for the open session."""
    return _package3s(v, "ReceiveStatus")


def receive_status(v: View) -> None:
    """Close the session with a package 4 holding Final only (F66)."""
    v.consume(v.arg)
    v.server = v.server._replace(session="none")
    _reply(v, v.arg, "final")


def error_statuses(v: View) -> Iterator[Msg]:
    """An error Status for the Unenroll Exec (mobile Azure AD joined, F21)."""
    return _package3s(v, "ReceiveErrorStatus")


def receive_error(v: View) -> None:
    """The unenroll failed; wipe is offered (F21, F52, A9)."""
    v.consume(v.arg)
    v.server = v.server._replace(session="none", pushed=False)
    _reply(v, v.arg, "final")


def stale_statuses(v: View) -> Iterator[Msg]:
    """Status packages for a session the server no longer has."""
    return _package3s(v, "RejectStaleStatus")


def reject_stale_status(v: View) -> None:
    """Answer with an abort (F68, F70)."""
    v.consume(v.arg)
    _reply(v, v.arg, "abort")


# ------------------------------------------------------------ push and verify
def _push_in_flight(v: View) -> bool:
    return any(m[0] == "push" for m in v.net.in_flight)


def send_push(v: View) -> None:
    """Send a raw WNS push to the device's ChannelURI (F61)."""
    v.send(("push", v.server.gen, "main", "-", 0))


def verification_push_due(v: View) -> bool:
    """A push-verifying design pushes once to see whether the device still answers
    (F55)."""
    d = v.design
    return (
        d.outcome == "verify"
        and d.verify_by == "push"
        and not v.server.pushed
        and not _push_in_flight(v)
        and v.room()
    )


def send_verification_push(v: View) -> None:
    """Push, then allow for some delay (F55)."""
    send_push(v)
    v.server = v.server._replace(pushed=True)


def device_silent(v: View) -> bool:
    """A verifying server concludes the device unenrolled when it stays silent: its
    scheduled check-in does not come (F55), or, with push verification, a push was
    sent, delivered or lost, and the delay passed with no session. The timer is an
    abstraction of time: it is enabled only when the device really is no longer
    enrolled under this record (it is mid-unenroll, dormant, wiped or re-enrolled),
    because a live device checks in before the server's timeout (the timeout is longer
    than the poll schedule, F64)."""
    d, s, des = v.device, v.server, v.design
    if des.outcome != "verify":
        return False
    if d.gen == s.gen and d.phase == "enrolled":
        return False
    pending = ("unenroll_sent", "wipe_sent", "awaiting_confirmation")
    if des.verify_by == "push" and s.record in pending:
        return s.pushed and not _push_in_flight(v)
    return True


def presume_unenrolled(v: View) -> None:
    """Conclude: unenrolled. The record's queue goes (unless the design keeps it); the
    session layer is left alone (a held session stays held)."""
    v.server = v.server._replace(pushed=False)
    _drop_queue_on_unenroll(v)


ROWS = (
    Row(
        "AdminRequestUnenroll",
        "server",
        ("enrolled", "failed"),
        "unenroll_queued",
        "admin",
        ("F1", "F8", "F18", "F23", "F31", "F51", "A7"),
        "the admin requests a remote unenroll: queue a DMClient Unenroll Exec",
        guard=admin_may_unenroll,
        effect=queue_unenroll,
        stimulus=True,
    ),
    Row(
        "AdminRequestWipe",
        "server",
        ("enrolled", "failed"),
        "wipe_queued",
        "admin",
        ("F51", "F52"),
        "the admin requests a remote wipe (where unenroll is not possible)",
        guard=admin_may_wipe,
        effect=queue_wipe,
        stimulus=True,
    ),
    Row(
        "HoldSession",
        "server",
        ("*",),
        None,
        "server",
        ("F14", "F69"),
        "a new session waits behind the enrollment's stale open session",
        choices=sessions_to_hold,
        effect=hold_session,
        message="pkg1",
        direction="receive",
        peer="device",
        touches=("network",),
    ),
    Row(
        "ReceiveUnenrollAlert",
        "server",
        BELIEVES_ENROLLED,
        "awaiting_confirmation",
        "server",
        ("F4", "F5", "F8", "F14", "F15", "F16", "F55", "F76", "A4", "A5", "A18"),
        "the unenroll alert arrives: abort stale sessions, drop the queue, verify",
        choices=unenroll_alerts,
        effect=receive_unenroll_alert,
        message="pkg1",
        direction="receive",
        peer="device",
        touches=("network",),
    ),
    Row(
        "AcceptUnenrollAlert",
        "server",
        BELIEVES_ENROLLED,
        "unenrolled",
        "server",
        ("F4", "F5", "F16", "F76", "A4"),
        "the unenroll alert arrives and the server concludes on it alone",
        choices=trusted_alerts,
        effect=accept_unenroll_alert,
        message="pkg1",
        direction="receive",
        peer="device",
        touches=("network",),
    ),
    Row(
        "AcknowledgeDuplicateAlert",
        "server",
        ("unenrolled",),
        None,
        "server",
        ("F76", "A6"),
        "a duplicate unenroll alert is acknowledged idempotently",
        choices=duplicate_alerts,
        effect=acknowledge_duplicate,
        message="pkg1",
        direction="receive",
        peer="device",
        touches=("network",),
    ),
    Row(
        "AcknowledgeStaleAlert",
        "server",
        ("*",),
        None,
        "server",
        ("F76",),
        "an alert of an earlier enrollment is acknowledged and retires nothing",
        choices=stale_alerts,
        effect=acknowledge_stale,
        message="pkg1",
        direction="receive",
        peer="device",
        touches=("network",),
    ),
    Row(
        "RejectUnknownSession",
        "server",
        ("*",),
        None,
        "server",
        ("F68",),
        "a session of an unknown enrollment is answered with an abort",
        choices=unknown_sessions,
        effect=reject_unknown,
        message="pkg1",
        direction="receive",
        peer="device",
        touches=("network",),
    ),
    Row(
        "ResurrectEnrollment",
        "server",
        ACCEPTED_UNENROLLED,
        "enrolled",
        "server",
        ("F55", "F90", "F91", "A10"),
        "a device the server thought unenrolled checks in: the record comes back",
        choices=resurrecting_sessions,
        effect=resurrect,
        message="pkg1",
        direction="receive",
        peer="device",
        touches=("network",),
    ),
    Row(
        "DetectFailedUnenroll",
        "server",
        ("unenroll_sent", "wipe_sent"),
        "failed",
        "server",
        ("F20", "F55", "A9", "A10"),
        "the device still checks in after the Exec: the unenroll failed",
        choices=failed_unenroll_sessions,
        effect=detect_failed,
        message="pkg1",
        direction="receive",
        peer="device",
        touches=("network",),
    ),
    Row(
        "ServeSession",
        "server",
        SERVE_FROM,
        None,
        "server",
        ("F14", "F56", "F66"),
        "serve a session with nothing queued: package 2 with Final only",
        choices=plain_sessions,
        effect=serve_final,
        message="pkg1",
        direction="receive",
        peer="device",
        touches=("network",),
    ),
    Row(
        "SendPolicy",
        "server",
        SERVE_FROM,
        None,
        "server",
        ("F29", "F35", "F67", "F75"),
        "send the queued policy in package 2",
        choices=policy_sessions,
        effect=send_policy,
        message="pkg1",
        direction="receive",
        peer="device",
        touches=("network",),
    ),
    Row(
        "SendUnenrollExec",
        "server",
        SERVE_FROM,
        "unenroll_sent",
        "server",
        ("F14", "F15", "F17", "F23", "F24", "F25", "F29", "A1", "A7", "A8"),
        "send the DMClient Unenroll Exec in package 2; expect no response",
        choices=unenroll_sessions,
        effect=send_unenroll_exec,
        message="pkg1",
        direction="receive",
        peer="device",
        touches=("network",),
    ),
    Row(
        "SendWipe",
        "server",
        SERVE_FROM,
        "wipe_sent",
        "server",
        ("F52",),
        "send RemoteWipe/doWipe in package 2; verify the outcome",
        choices=wipe_sessions,
        effect=send_wipe,
        message="pkg1",
        direction="receive",
        peer="device",
        touches=("network",),
    ),
    Row(
        "SendWipeMarkDone",
        "server",
        SERVE_FROM,
        "unenrolled",
        "server",
        ("F52",),
        "send RemoteWipe/doWipe and mark it done at delivery (non-verifying designs)",
        choices=wipe_sessions_marked_done,
        effect=send_wipe_marked_done,
        message="pkg1",
        direction="receive",
        peer="device",
        touches=("network",),
    ),
    Row(
        "ReceiveStatus",
        "server",
        ("*",),
        None,
        "server",
        ("F66", "F67"),
        "a Status package 3 arrives: close the session with package 4",
        choices=status_packages,
        effect=receive_status,
        message="pkg3",
        direction="receive",
        peer="device",
        touches=("network",),
    ),
    Row(
        "ReceiveErrorStatus",
        "server",
        ("unenroll_sent",),
        "failed",
        "server",
        ("F21", "F52", "A9"),
        "an error Status for the Unenroll Exec: unenroll failed",
        choices=error_statuses,
        effect=receive_error,
        message="pkg3",
        direction="receive",
        peer="device",
        touches=("network",),
    ),
    Row(
        "RejectStaleStatus",
        "server",
        ("*",),
        None,
        "server",
        ("F68", "F70"),
        "a Status for a session the server no longer has is answered with an abort",
        choices=stale_statuses,
        effect=reject_stale_status,
        message="pkg3",
        direction="receive",
        peer="device",
        touches=("network",),
    ),
    Row(
        "VerifyWithPush",
        "server",
        ("unenroll_sent", "wipe_sent", "awaiting_confirmation"),
        None,
        "server",
        ("F55", "F61"),
        "push to verify the unenroll: a live device would start a session",
        guard=verification_push_due,
        effect=send_verification_push,
        message="push",
        direction="send",
        peer="device",
        touches=("network",),
    ),
    Row(
        "PresumeUnenrolled",
        "server",
        BELIEVES_ENROLLED,
        "unenrolled",
        "timer",
        ("F55", "F64", "A10"),
        "no check-in (or no answer to the push) in time: the server concludes unenrolled",
        guard=device_silent,
        effect=presume_unenrolled,
    ),
)


def server_state(v: View) -> str:
    """The server machine's state: the record."""
    return v.server.record


def set_server_state(v: View, state: str) -> None:
    """Set the record (used to apply a row's `dest`)."""
    v.server = v.server._replace(record=state)


TABLE = Table(
    machine="server",
    description="The MDM server's enrollment record, sessions, queue and verification.",
    states=RECORDS,
    state_of=server_state,
    set_state=set_server_state,
    rows=ROWS,
)
