"""The MDM server: its record table, sessions, command queue, the admin's console and
the verification of the unenroll outcome.

The server machine's state is one record's `Record.status`; a server row acts on one
record: the one the server finds for a package by its own key (`resolve`), or, for a
timer or an admin action, each record in turn. Two pseudo-states stand for a package
that matches no record (*none*) or several (*ambiguous*: duplicate records,
Fleet #20764). A server row sees only the server (`lifecycle.mdm.table.ServerView`):
its records, what the package says, and the connection it came on.

- *pending*: the enrollment token was issued; the record is confirmed by the device's
  first DM session (or counts as enrolled at once, with ``enrollment_commit =
  "on_token"``);
- *enrolled*: managed, sessions served, commands delivered from the queue;
- *unenroll_queued* / *wipe_queued*: the admin asked; the Exec waits in the queue for
  the next client-initiated session (F17, F23, A8);
- *unenroll_sent* / *wipe_sent*: the Exec went out in a package 2 (or the agent was
  asked); no response is expected (F15, A9);
- *awaiting_confirmation*: the unenroll alert arrived (the "report", A5); the server
  verifies before it concludes (F55, A10);
- *presumed*: the lost-contact timer fired: the device has not checked in for longer
  than its poll interval, so the server presumes it gone; queued commands are kept
  (an admin request stays visibly pending), and a check-in brings the record back;
- *unenrolled*: the server accepted the enrollment as unenrolled;
- *failed*: the unenroll failed (mobile Azure AD error F21, the device kept checking
  in F20, A9, or MDM was turned off with the request queued), and wipe is offered (F52);
- *removed*: an old record kept beside a re-enrollment (``reenroll_policy =
  "keep_old"``); no package matches it.

A device checking in under a record the server had concluded or presumed unenrolled
resurrects it (A10, like Intune's "reappears", F91).
"""

from __future__ import annotations

from lifecycle.mdm.design import Design
from lifecycle.mdm.state import Command, Msg, Record, Server
from lifecycle.mdm.table import Receives, Row, Send, ServerView, Table, scope_bound

STATUSES = (
    "none",
    "ambiguous",
    "pending",
    "enrolled",
    "unenroll_queued",
    "unenroll_sent",
    "wipe_queued",
    "wipe_sent",
    "awaiting_confirmation",
    "presumed",
    "unenrolled",
    "failed",
    "removed",
)
RECORD_STATUSES = STATUSES[2:]
#: The statuses a package can find (a *removed* record is archival: no package finds it).
FOUND = tuple(s for s in RECORD_STATUSES if s != "removed")
# Records under which the server believes the device is still enrolled, or has not
# concluded otherwise yet (a pending record too, when the design commits on the token).
BELIEVES_ENROLLED = (
    "enrolled",
    "unenroll_queued",
    "wipe_queued",
    "failed",
    "unenroll_sent",
    "wipe_sent",
    "awaiting_confirmation",
)
SERVE_FROM = ("enrolled", "unenroll_queued", "wipe_queued", "failed")
CONCLUDED = ("presumed", "unenrolled")
#: Statuses in which the server has accepted the enrollment as unenrolled.
ACCEPTED = frozenset(("awaiting_confirmation", "unenrolled"))
#: Statuses that show the outcome of an admin's request: done, or failed visibly. An
#: accepted unenroll fulfils an unenroll or wipe request too: the device leaves
#: management either way.
RESOLVED = ACCEPTED | {"failed"}
#: A record the server concluded on its own comes back when the device checks in; an
#: unenrolled one shows the unenroll failed instead (`DetectFailedUnenroll`): the device
#: is alive under an enrollment the server confirmed gone, so the admin must see it.
RESURRECTS = ("awaiting_confirmation", "presumed")
#: Commands that get a Status from the device (the Exec and the wipe never do, F15, F52).
WITH_STATUS = ("policy",)


def believes_enrolled(record: Record, design: Design) -> bool:
    """The server counts this record as an enrolled device (its console shows it so)."""
    if record.status == "pending":
        return design.enrollment_commit == "on_token"
    return record.status in BELIEVES_ENROLLED


# --------------------------------------------------------------------- lookup
def resolve(
    server: Server, design: Design, sender: int, hardware: int, msg: Msg, by: str = "key"
) -> tuple[str, Record | None]:
    """The record the server finds for a package, by its own key (`record_key`), and
    the machine state that gives: its status, *none* or *ambiguous* (two matches: the
    server cannot pick one, so a table without a uniqueness check holds at most two
    records of one enrollment: the next request fails). See `matching`."""
    found = matching(server, design, sender, hardware, msg, by)
    if not found:
        return "none", None
    if len(found) > 1:
        return "ambiguous", None
    return found[0].status, found[0]


def matching(
    server: Server, design: Design, sender: int, hardware: int, msg: Msg, by: str = "key"
) -> list[Record]:
    """The records a package matches by the server's own key (`record_key`).

    A package names the device (DevID), its hardware (HWDevID) and the enrollment it
    belongs to (its generation); the server matches what its key says, among records
    that are not *removed*. An enrollment request first looks for the same enrollment
    (a repeated request), then for the device's other records by its identity (device
    id, or hardware id with ``record_key = "hardware_id"``). ``by = "any"`` matches by
    device id whatever the generation (a mutant that ignores the generation).
    """
    live = [r for r in server.records if r.status != "removed"]
    if msg.kind == "enroll_request":
        same = [r for r in live if r.device == sender and r.gen == msg.generation]
        if same:
            return same
        if design.record_key == "hardware_id":
            return [r for r in live if r.hardware == hardware]
        return [r for r in live if r.device == sender]
    key = design.record_key if by == "key" else "device_id"
    if key == "enrollment":
        return [r for r in live if r.device == sender and r.gen == msg.generation]
    if key == "device_id":
        return [r for r in live if r.device == sender]
    return [r for r in live if r.hardware == hardware]


# ------------------------------------------------------------------ conjuncts
def mdm_on(v: ServerView) -> bool:
    """The tenant has MDM turned on."""
    return v.server.mdm


def mdm_off(v: ServerView) -> bool:
    """The tenant has MDM turned off."""
    return not v.server.mdm


@scope_bound
def toggle_in_scope(v: ServerView) -> bool:
    """The scope lets the tenant admin turn MDM off (the environment's bound)."""
    return v.scope.mdm_toggle


def needs_challenge(v: ServerView) -> bool:
    """A challenging server answers a session's first package, which carries no
    credentials, with a 401/407 challenge before it processes any alert."""
    return v.design.auth_challenge != "none" and v.msg.msgid == 1


def authenticated(v: ServerView) -> bool:
    """The package is processed: the server does not challenge, or it carries the
    credentials (MsgID 2)."""
    return not needs_challenge(v)


def alert_session(v: ServerView) -> bool:
    """The package opens the alert session (the session the 1226 rides in, F6, F15)."""
    return v.msg.session == "alert"


def main_session(v: ServerView) -> bool:
    """The package belongs to an ordinary DM session."""
    return v.msg.session != "alert"


_RECOGNISED = {
    "type": ("unenroll",),
    "type_or_empty_meta": ("unenroll", "unenroll_empty"),
    "data_only": ("unenroll", "unenroll_empty", "csp"),
}


def is_unenroll_alert(v: ServerView) -> bool:
    """The server sees a 1226 unenroll alert in this package 1: by Meta Type (F5, F16),
    also a typeless one (F10, A4), or any 1226 (WSO2, F78), among the alerts it reads
    (every one, or only the last, F9). A server that never learns has no unenroll
    handling at all."""
    d = v.design
    if d.outcome == "never":
        return False
    alerts = v.msg.body[-1:] if d.multi_alert == "last_only" else v.msg.body
    wanted = _RECOGNISED[d.alert_recognition]
    return any(a in wanted for a in alerts)


def not_unenroll_alert(v: ServerView) -> bool:
    """The package is an ordinary session: no unenroll alert the server recognises."""
    return not is_unenroll_alert(v)


def accepts_alerts(v: ServerView) -> bool:
    """MDM is on, or the server still accepts unenroll alerts while it is off."""
    return v.server.mdm or v.design.alerts_when_mdm_off == "accept"


def rejects_alerts(v: ServerView) -> bool:
    """MDM is off and the endpoint rejects the sessions that carry alerts (Fleet
    #24209)."""
    return not accepts_alerts(v)


def verifies(v: ServerView) -> bool:
    """The server verifies the outcome of an unenroll (F55, A10)."""
    return v.design.outcome == "verify"


def trusts_alert(v: ServerView) -> bool:
    """The server concludes on the alert alone."""
    return v.design.outcome == "trust_alert"


def not_holding(v: ServerView) -> bool:
    """The package is processed now: the server aborts stale sessions, or the record has
    no open session, or this is the package it held."""
    r = v.record
    if r is None or v.design.server_stale_sessions == "abort" or v.source == "held":
        return True
    return r.session != "open"


def holds(v: ServerView) -> bool:
    """A waiting server holds a package that arrives while the record's earlier session
    is still open, if it holds none yet (a second one waits in flight)."""
    r = v.record
    return (
        r is not None
        and v.design.server_stale_sessions == "wait"
        and v.source == "net"
        and r.session == "open"
        and not r.held
    )


def serving(v: ServerView) -> bool:
    """The server serves the session: MDM is on, or queued commands were kept when it
    was turned off and are still delivered (PR #43719)."""
    return v.server.mdm or (v.design.queue_on_mdm_off == "keep" and bool(_record(v).queue))


def not_serving(v: ServerView) -> bool:
    """MDM is off and nothing is delivered: the session is refused."""
    return not serving(v)


def _record(v: ServerView) -> Record:
    assert v.record is not None, "a record row without a record"
    return v.record


def _head(v: ServerView) -> str | None:
    queue = _record(v).queue
    return queue[0][0] if queue else None


def queue_empty(v: ServerView) -> bool:
    """Nothing is queued for the record."""
    return not _record(v).queue


def head_is_policy(v: ServerView) -> bool:
    """A policy is due (sent again if its Status never came, with delivery until
    Status)."""
    return _head(v) == "policy"


def head_is_unenroll(v: ServerView) -> bool:
    """The queued DMClient Unenroll Exec is due."""
    return _head(v) == "unenroll"


def head_is_wipe(v: ServerView) -> bool:
    """The queued RemoteWipe/doWipe is due."""
    return _head(v) == "wipe"


def done_at_outcome(v: ServerView) -> bool:
    """The Exec is marked done when the server learns the outcome (F15)."""
    return v.design.exec_done_at == "outcome"


def done_at_send(v: ServerView) -> bool:
    """The Exec is marked done as soon as it is sent (WSO2)."""
    return v.design.exec_done_at == "send"


def not_verifies(v: ServerView) -> bool:
    """The server does not verify outcomes: a wipe is done at delivery."""
    return v.design.outcome != "verify"


def error_for_unenroll(v: ServerView) -> bool:
    """An error Status for the Unenroll Exec (mobile Azure AD joined, F21)."""
    return v.msg.body == ("error",)


def session_open(v: ServerView) -> bool:
    """The record has an open session awaiting this Status."""
    return v.record is not None and v.record.session == "open"


def same_enrollment(v: ServerView) -> bool:
    """The request repeats an enrollment the server already has a record for (a
    retried request)."""
    r = _record(v)
    return r.device == v.sender and r.gen == v.msg.generation


def other_enrollment(v: ServerView) -> bool:
    """The request is a new enrollment of a device the server holds a record for (by
    its identity key)."""
    return not same_enrollment(v)


def unique_records(v: ServerView) -> bool:
    """The server keeps at most one record per enrollment."""
    return v.design.record_uniqueness == "enforced"


def no_uniqueness(v: ServerView) -> bool:
    """The server does not check for an existing record (a race adds a duplicate)."""
    return v.design.record_uniqueness == "none"


def replaces(v: ServerView) -> bool:
    """A re-enrollment replaces the old record, or the old record is already concluded
    and a refusing server reuses it."""
    policy = v.design.reenroll_policy
    return policy == "replace" or (
        policy == "refuse_unless_unenrolled" and _record(v).status in CONCLUDED
    )


def refuses(v: ServerView) -> bool:
    """A refusing server turns a re-enrollment away while the old record lives
    (DeviceCapReached, F87)."""
    return (
        v.design.reenroll_policy == "refuse_unless_unenrolled"
        and _record(v).status not in CONCLUDED
    )


def keeps_old(v: ServerView) -> bool:
    """A re-enrollment is added beside the old record, which is marked removed."""
    return v.design.reenroll_policy == "keep_old"


def exec_unenroll(v: ServerView) -> bool:
    """The admin's remote unenroll is a DMClient Unenroll Exec (F23)."""
    return v.design.server_unenroll == "exec"


def agent_unenroll(v: ServerView) -> bool:
    """The admin's remote unenroll is done by the management agent (Fleet)."""
    return v.design.server_unenroll == "agent"


def shown_in_console(v: ServerView) -> bool:
    """The console lists the record as a managed device (a pending record only when the
    design commits on the token)."""
    return believes_enrolled(_record(v), v.design)


def no_request_queued(v: ServerView) -> bool:
    """No unenroll or wipe is queued for the record already."""
    return not any(c in ("unenroll", "wipe") for c, _g, _s in _record(v).queue)


def local_admin_kept(v: ServerView) -> bool:
    """For an Azure AD joined device a reference server first requires a non-tenant
    local admin in the device's inventory (F51), else offers wipe only."""
    r = _record(v)
    return not (v.design.require_local_admin and r.kind == "aad_join" and not r.local_admin)


def wipe_offered(v: ServerView) -> bool:
    """Wipe is offered where remote unenroll is not possible: after a failed unenroll,
    for a mobile Azure AD joined device (F52), or an Azure AD joined device with no
    local admin (F51)."""
    r = _record(v)
    if r.status == "failed":
        return True
    if r.kind != "aad_join":
        return False
    return r.platform == "mobile" or (v.design.require_local_admin and not r.local_admin)


def verifies_by_push(v: ServerView) -> bool:
    """A push-verifying design pushes once to see whether the device still answers
    (F55)."""
    return v.design.outcome == "verify" and v.design.verify_by == "push"


def not_pushed(v: ServerView) -> bool:
    """No verification push was sent yet."""
    return not _record(v).pushed


def presumes(v: ServerView) -> bool:
    """The lost-contact timer runs: the server verifies, and presumes after silence."""
    return v.design.outcome == "verify" and v.design.presume_unenrolled == "after_silence"


def no_open_session(v: ServerView) -> bool:
    """The record has no open session and holds no package."""
    r = _record(v)
    return r.session == "none" and not r.held


def pushed_if_verifying_by_push(v: ServerView) -> bool:
    """With push verification, the push went out first (F55)."""
    return v.design.verify_by != "push" or _record(v).pushed


def open_session(v: ServerView) -> bool:
    """The record has a session open, awaiting a Status."""
    return _record(v).session == "open"


def abandons_sessions(v: ServerView) -> bool:
    """The server gives up sessions the device abandoned (F69: aborts are never
    signalled); a waiting server does not, which is its flaw."""
    return v.design.server_stale_sessions == "abort"


def believed_enrolled(v: ServerView) -> bool:
    """The server counts the record as enrolled (a pending record only when the design
    commits on the token)."""
    return believes_enrolled(_record(v), v.design)


# ---------------------------------------------------------------- bodies
def token(v: ServerView) -> tuple[str, ...]:
    """The enrollment response: the token with the provisioning XML (F84)."""
    return ("token",)


def device_cap_reached(v: ServerView) -> tuple[str, ...]:
    """The SOAP fault DeviceCapReached: "delete or unenroll old ones" (F87)."""
    return ("fault", "DeviceCapReached")


def in_maintenance(v: ServerView) -> tuple[str, ...]:
    """The SOAP fault InMaintenance (F87): MDM is turned off."""
    return ("fault", "InMaintenance")


def custom_error(v: ServerView) -> tuple[str, ...]:
    """The SOAP fault CustomServerError (F87): the server could not pick one record."""
    return ("fault", "CustomServerError")


def head_command(v: ServerView) -> tuple[str, ...]:
    """The command at the head of the queue, in package 2."""
    return (_record(v).queue[0][0],)


def head_origin(v: ServerView) -> int:
    """Ghost: the generation the head command was queued for."""
    return _record(v).queue[0][1]


def session_reply(v: ServerView) -> tuple[str, ...]:
    """The head command, or Final only when nothing is queued."""
    return head_command(v) if _record(v).queue else ("final",)


def session_reply_origin(v: ServerView) -> int:
    """Ghost: the generation of the command sent, if any."""
    return head_origin(v) if _record(v).queue else 0


def alert_reply(v: ServerView) -> tuple[str, ...]:
    """Status for the alert (F76). A design that delivers queued commands after the
    unenroll was accepted piggybacks the next one here (real-world 3.1, 3.23)."""
    r = v.record
    if r is not None and v.design.queue_on_unenroll == "deliver" and r.queue:
        return (r.queue[0][0],)
    return ("final",)


def alert_reply_origin(v: ServerView) -> int:
    """Ghost: the generation of a command piggybacked on the alert's reply."""
    r = v.record
    if r is not None and v.design.queue_on_unenroll == "deliver" and r.queue:
        return r.queue[0][1]
    return 0


def final(v: ServerView) -> tuple[str, ...]:
    """Final only (F66)."""
    return ("final",)


def abort(v: ServerView) -> tuple[str, ...]:
    """An abort: the session ends (F68, F70)."""
    return ("abort",)


def challenge(v: ServerView) -> tuple[str, ...]:
    """A 401/407 challenge (Chal): send the package again with credentials."""
    return ("challenge",)


def agent_request(v: ServerView) -> tuple[str, ...]:
    """The request to the management agent: unenroll the device."""
    return ("unenroll",)


def no_body(v: ServerView) -> tuple[str, ...]:
    """A raw WNS push carries nothing (F61)."""
    return ()


# ------------------------------------------------------------------ effects
def _drop_queue_on_unenroll(v: ServerView) -> None:
    """Queued commands go when the unenroll is accepted, unless the design keeps them;
    a design that delivers them hands the head to the alert's reply."""
    r = _record(v)
    knob = v.design.queue_on_unenroll
    if knob == "drop":
        v.update(queue=())
    elif knob == "deliver" and r.queue and v.msg is not None and v.msg.kind == "pkg1":
        v.update(queue=r.queue[1:])


def hold_session(v: ServerView) -> None:
    """Hold the new session until the stale one completes (the F14 hazard); the
    request's connection stays open."""
    v.update(held=((v.sender, v.msg),))


def take_alert(v: ServerView) -> None:
    """The alert is the report of the unenroll (A5), but it cannot say who started it
    (A4, real-world 3.6) nor prove that cleanup finished: abort the enrollment's stale
    sessions (F14) and drop its queue."""
    v.update(session="none", pushed=False)
    _drop_queue_on_unenroll(v)


def acknowledge_duplicate(v: ServerView) -> None:
    """Accept idempotently (real-world 3.4): answer, change nothing but a command the
    design hands to the reply."""
    _drop_queue_on_unenroll(v)


def nothing(v: ServerView) -> None:
    """The server changes nothing; it only answers."""


def serve_final(v: ServerView) -> None:
    """Abort any stale session of the enrollment (F14) and answer with Final only
    (F66)."""
    v.update(session="none")


def resurrect(v: ServerView) -> None:
    """The device is alive under this enrollment: the record comes back (A10, F91),
    with whatever was still queued for it."""
    v.update(session="none", pushed=False)


def detect_failed(v: ServerView) -> None:
    """The device keeps syncing after the Exec: the unenroll failed (F20, F55, A9)."""
    v.update(session="none", pushed=False)


def deliver_head(v: ServerView) -> None:
    """Send the head command and await its Status (F67, F75). A command with a Status
    stays queued, marked sent, until the Status arrives (delivery until Status), or
    leaves the queue now (at most once); the Exec and the wipe always leave it (they
    get no Status, F15, F52)."""
    r = _record(v)
    if not r.queue:
        v.update(session="none")
        return
    (cmd, origin, _sent), rest = r.queue[0], r.queue[1:]
    keep = cmd in WITH_STATUS and v.design.delivery == "until_status"
    queue: tuple[Command, ...] = ((cmd, origin, True), *rest) if keep else rest
    v.update(queue=queue, session="open")


def deliver_exec(v: ServerView) -> None:
    """Send the Exec (F23, F29). No response will come (F15): a reference server aborts
    its side of the session at once (F14, A1); a waiting server keeps it open for a
    Status."""
    deliver_head(v)
    if v.design.server_stale_sessions == "abort":
        v.update(session="none")
    v.update(pushed=False)


def deliver_exec_marked_done(v: ServerView) -> None:
    """Send the Exec and mark it done at delivery (WSO2, latchz; real-world 3.12)."""
    deliver_head(v)
    v.update(session="none", pushed=False)
    _drop_queue_on_unenroll(v)


def receive_status(v: ServerView) -> None:
    """Close the session with a package 4 holding Final only (F66); the command whose
    Status this is leaves the queue."""
    r = _record(v)
    queue = r.queue[1:] if r.queue and r.queue[0][2] else r.queue
    v.update(session="none", queue=queue)


def receive_error(v: ServerView) -> None:
    """The unenroll failed; wipe is offered (F21, F52, A9)."""
    v.update(session="none", pushed=False)


def _new_record(v: ServerView, queue: tuple[Command, ...] = ()) -> Record:
    kind, platform, admin = v.msg.body
    gen = v.msg.generation
    return Record(
        device=v.sender,
        hardware=v.hardware,
        gen=gen,
        status="pending",
        kind=kind,
        platform=platform,
        local_admin=admin == "admin",
        # The first session after enrollment delivers the device policy (F53, F59).
        queue=(*queue, ("policy", gen, False)),
        session="none",
        held=(),
        pushed=False,
        stale=False,
        late_cmd=False,
    )


def accept_enrollment(v: ServerView) -> None:
    """Issue the token and create the record, pending until the device's first session
    (F84); it counts as enrolled at once when the design commits on the token."""
    v.add_record(_new_record(v))


def add_duplicate(v: ServerView) -> None:
    """A retried request adds a second record for the same enrollment: nothing stops
    it (Fleet #20764)."""
    v.add_record(_new_record(v))


def replace_record(v: ServerView) -> None:
    """The new enrollment replaces the device's old record. Commands queued for the old
    enrollment go with it, unless the design delivers them to the new one (real-world
    3.7, 3.11)."""
    old = _record(v)
    carried = old.queue if v.design.queue_on_reenroll == "deliver" else ()
    v.remove_record(old)
    v.add_record(_new_record(v, carried))


def keep_old_record(v: ServerView) -> None:
    """The old record is marked removed and the new one added beside it (WSO2). A
    package the old record held (it is still in flight) is let go: the server now
    answers it from the new table, as it would any package."""
    v.update(status="removed", session="none", held=())
    carried = _record(v).queue if v.design.queue_on_reenroll == "deliver" else ()
    v.add_record(_new_record(v, carried))


def queue_unenroll(v: ServerView) -> None:
    """Queue a DMClient Unenroll Exec (Data = ProviderID, A7) for the next session."""
    r = _record(v)
    v.update(queue=(*r.queue, ("unenroll", r.gen, False)))


def queue_wipe(v: ServerView) -> None:
    """Queue a RemoteWipe/doWipe Exec (F52)."""
    r = _record(v)
    v.update(queue=(*r.queue, ("wipe", r.gen, False)))


def ask_agent(v: ServerView) -> None:
    """The agent is asked to unenroll the device; the server waits for the outcome
    (the 1226 the device sends, or the silence that follows)."""
    v.update(pushed=False)


def mark_pushed(v: ServerView) -> None:
    """Push, then allow for some delay (F55)."""
    v.update(pushed=True)


def abandon_session(v: ServerView) -> None:
    """The device went silent with the session open: the server closes its side."""
    v.update(session="none")


def conclude_unenrolled(v: ServerView) -> None:
    """The device stayed silent after the Exec, the wipe or the alert: the outcome is
    learnt, it is unenrolled (F55). Queued commands go, unless the design keeps them."""
    v.update(pushed=False)
    _drop_queue_on_unenroll(v)


def presume_gone(v: ServerView) -> None:
    """Presume the device gone. Queued commands stay: if the device comes back they
    are delivered, and an admin's request stays visibly pending."""
    v.update(pushed=False)


def _carries_request(r: Record) -> bool:
    """The record holds an admin's unenroll or wipe: queued, kept queued while the
    device is presumed gone, or sent and not yet confirmed."""
    return r.status in ("unenroll_queued", "wipe_queued", "unenroll_sent", "wipe_sent") or any(
        c[0] in ("unenroll", "wipe") for c in r.queue
    )


def turn_mdm_off(v: ServerView) -> None:
    """The tenant turns MDM off. Queued commands are withdrawn, and an unenroll or
    wipe that is queued, or sent and unconfirmed, is marked failed, visibly
    (real-world 3.14): with MDM off the server confirms nothing, so the request would
    otherwise stay under way for ever (admin_unenroll_takes_effect). Or, with
    queue_on_mdm_off = keep, commands stay queued (PR #43719)."""
    records = v.server.records
    if v.design.queue_on_mdm_off == "withdraw":
        records = tuple(
            r._replace(queue=(), status="failed" if _carries_request(r) else r.status)
            for r in records
        )
    v.server = v.server._replace(mdm=False)
    v.set_records(records)


def turn_mdm_on(v: ServerView) -> None:
    """The tenant turns MDM on again."""
    v.server = v.server._replace(mdm=True)


# ------------------------------------------------------------------- the table
PKG1 = Receives(("pkg1",), generation="key", held=True)
_ALERT_GUARD = (authenticated, not_holding, is_unenroll_alert)
_SESSION_GUARD = (authenticated, not_holding, not_unenroll_alert)


def _reply(body: object, origin: object = None) -> tuple[Send, ...]:
    return (Send("pkg2", body, to="sender", msgid=None, origin=origin),)  # type: ignore[arg-type]


ROWS = (
    # ------------------------------------------------------------ enrollment
    Row(
        "RejectEnrollmentWhileMDMOff",
        "server",
        ("*",),
        None,
        "server",
        ("F87",),
        "MDM is turned off: the enrollment request is refused (InMaintenance)",
        receives=Receives(("enroll_request",), generation="key"),
        guard=(mdm_off,),
        sends=(Send("enroll_response", in_maintenance, to="sender", msgid=None),),
    ),
    Row(
        "AcceptEnrollment",
        "server",
        ("none",),
        "pending",
        "server",
        ("F84",),
        "a new enrollment: issue the token and create its record",
        receives=Receives(("enroll_request",), generation="key"),
        guard=(mdm_on,),
        effect=accept_enrollment,
        sends=(Send("enroll_response", token, to="sender", msgid=None),),
    ),
    Row(
        "RepeatEnrollment",
        "server",
        FOUND,
        None,
        "server",
        ("F84", "F85"),
        "a repeated request for an enrollment the server has: answer the token again",
        receives=Receives(("enroll_request",), generation="key"),
        guard=(mdm_on, same_enrollment, unique_records),
        sends=(Send("enroll_response", token, to="sender", msgid=None),),
    ),
    Row(
        "DuplicateEnrollment",
        "server",
        FOUND,
        "pending",
        "server",
        ("F84", "F85"),
        "a repeated request adds a second record for the same enrollment (no uniqueness)",
        receives=Receives(("enroll_request",), generation="key"),
        guard=(mdm_on, same_enrollment, no_uniqueness),
        effect=add_duplicate,
        sends=(Send("enroll_response", token, to="sender", msgid=None),),
    ),
    Row(
        "ReplaceEnrollment",
        "server",
        FOUND,
        "pending",
        "server",
        ("F84", "F85"),
        "a re-enrollment replaces the device's old record",
        receives=Receives(("enroll_request",), generation="key"),
        guard=(mdm_on, other_enrollment, replaces),
        effect=replace_record,
        sends=(Send("enroll_response", token, to="sender", msgid=None),),
    ),
    Row(
        "RefuseEnrollment",
        "server",
        FOUND,
        None,
        "server",
        ("F85", "F87"),
        "a re-enrollment is refused while the old record is not unenrolled (DeviceCapReached)",
        receives=Receives(("enroll_request",), generation="key"),
        guard=(mdm_on, other_enrollment, refuses),
        sends=(Send("enroll_response", device_cap_reached, to="sender", msgid=None),),
    ),
    Row(
        "KeepOldEnrollment",
        "server",
        FOUND,
        "pending",
        "server",
        ("F84", "F85"),
        "a re-enrollment is added beside the old record, which is marked removed",
        receives=Receives(("enroll_request",), generation="key"),
        guard=(mdm_on, other_enrollment, keeps_old),
        effect=keep_old_record,
        sends=(Send("enroll_response", token, to="sender", msgid=None),),
    ),
    Row(
        "RejectAmbiguousEnrollment",
        "server",
        ("ambiguous",),
        None,
        "server",
        ("F87",),
        "the device matches several records: the request fails (CustomServerError)",
        receives=Receives(("enroll_request",), generation="key"),
        guard=(mdm_on,),
        sends=(Send("enroll_response", custom_error, to="sender", msgid=None),),
    ),
    # ------------------------------------------------------------ the admin
    Row(
        "AdminRequestUnenroll",
        "server",
        ("pending", "enrolled", "failed"),
        "unenroll_queued",
        "admin",
        ("F1", "F8", "F22", "F23", "F31", "F51", "A7"),
        "the admin requests a remote unenroll: queue a DMClient Unenroll Exec",
        guard=(mdm_on, exec_unenroll, shown_in_console, no_request_queued, local_admin_kept),
        effect=queue_unenroll,
        stimulus=True,
    ),
    Row(
        "AgentUnenroll",
        "server",
        ("pending", "enrolled", "failed"),
        "unenroll_sent",
        "admin",
        ("F1", "F12"),
        "the admin requests a remote unenroll: the management agent is asked to do it",
        guard=(agent_unenroll, shown_in_console, no_request_queued, local_admin_kept),
        effect=ask_agent,
        sends=(Send("agent", agent_request, session="-", to="record"),),
        stimulus=True,
    ),
    Row(
        "AdminRequestWipe",
        "server",
        ("pending", "enrolled", "failed"),
        "wipe_queued",
        "admin",
        ("F51", "F52"),
        "the admin requests a remote wipe (where unenroll is not possible)",
        guard=(mdm_on, shown_in_console, no_request_queued, wipe_offered),
        effect=queue_wipe,
        stimulus=True,
    ),
    Row(
        "TurnOffMDM",
        "server",
        ("*",),
        None,
        "admin",
        ("real-world 3.14",),
        "the tenant admin turns MDM off: queued commands are withdrawn (or kept)",
        guard=(mdm_on, toggle_in_scope),
        effect=turn_mdm_off,
        on="tenant",
        stimulus=True,
    ),
    Row(
        "TurnOnMDM",
        "server",
        ("*",),
        None,
        "admin",
        ("real-world 3.14",),
        "the tenant admin turns MDM on again",
        guard=(mdm_off,),
        effect=turn_mdm_on,
        on="tenant",
        stimulus=True,
    ),
    # --------------------------------------------------------- package 1
    Row(
        "ChallengeSession",
        "server",
        ("*",),
        None,
        "server",
        ("F82", "A13"),
        "the server answers a session's first package with a 401/407 challenge",
        receives=PKG1,
        guard=(needs_challenge,),
        sends=_reply(challenge),
    ),
    Row(
        "HoldSession",
        "server",
        FOUND,
        None,
        "server",
        ("F14", "F69"),
        "a new session waits behind the enrollment's stale open session",
        receives=Receives(("pkg1",), generation="key", keep=True),
        guard=(authenticated, holds),
        effect=hold_session,
    ),
    Row(
        "RejectAmbiguousSession",
        "server",
        ("ambiguous",),
        None,
        "server",
        ("F68",),
        "the package matches several records: the session fails (Fleet #20764)",
        receives=PKG1,
        guard=(authenticated,),
        sends=_reply(abort),
    ),
    Row(
        "AcknowledgeStaleAlert",
        "server",
        ("none",),
        None,
        "server",
        ("F76",),
        "an alert session for no record the server has is acknowledged, retiring nothing",
        receives=PKG1,
        guard=(authenticated, alert_session),
        sends=_reply(final),
    ),
    Row(
        "RejectUnknownSession",
        "server",
        ("none",),
        None,
        "server",
        ("F68",),
        "a session of an unknown enrollment is answered with an abort",
        receives=PKG1,
        guard=(authenticated, main_session),
        sends=_reply(abort),
    ),
    Row(
        "ReceiveUnenrollAlert",
        "server",
        ("pending", *BELIEVES_ENROLLED, "presumed"),
        "awaiting_confirmation",
        "server",
        ("F4", "F5", "F8", "F14", "F15", "F16", "F55", "F76", "A4", "A5", "A18"),
        "the unenroll alert arrives: abort stale sessions, drop the queue, verify",
        receives=PKG1,
        guard=(*_ALERT_GUARD, accepts_alerts, verifies),
        effect=take_alert,
        sends=_reply(alert_reply, alert_reply_origin),
    ),
    Row(
        "AcceptUnenrollAlert",
        "server",
        ("pending", *BELIEVES_ENROLLED, "presumed"),
        "unenrolled",
        "server",
        ("F4", "F5", "F16", "F76", "A4"),
        "the unenroll alert arrives and the server concludes on it alone",
        receives=PKG1,
        guard=(*_ALERT_GUARD, accepts_alerts, trusts_alert),
        effect=take_alert,
        sends=_reply(alert_reply, alert_reply_origin),
    ),
    Row(
        "AcknowledgeDuplicateAlert",
        "server",
        ("unenrolled",),
        None,
        "server",
        ("F76", "A6"),
        "a duplicate unenroll alert is acknowledged idempotently",
        receives=PKG1,
        guard=(*_ALERT_GUARD, accepts_alerts),
        effect=acknowledge_duplicate,
        sends=_reply(alert_reply, alert_reply_origin),
    ),
    Row(
        "RejectAlertWhileMDMOff",
        "server",
        FOUND,
        None,
        "server",
        ("F68",),
        "MDM is turned off and the endpoint rejects the alert's session (Fleet #24209)",
        receives=PKG1,
        guard=(*_ALERT_GUARD, rejects_alerts),
        sends=_reply(abort),
    ),
    Row(
        "RejectSessionWhileMDMOff",
        "server",
        tuple(f for f in FOUND if f != "unenrolled"),
        None,
        "server",
        ("F68",),
        "MDM is turned off: the session is answered with an abort",
        receives=PKG1,
        guard=(*_SESSION_GUARD, not_serving),
        sends=_reply(abort),
    ),
    Row(
        "DetectFailedUnenrollWhileMDMOff",
        "server",
        ("unenrolled",),
        "failed",
        "server",
        ("F55", "F68", "A10"),
        "MDM is turned off, and a device the server confirmed unenrolled checks in: the "
        "session is aborted, and the record shows the unenroll failed",
        receives=PKG1,
        guard=(*_SESSION_GUARD, not_serving),
        effect=detect_failed,
        sends=_reply(abort),
    ),
    Row(
        "ConfirmEnrollment",
        "server",
        ("pending",),
        "enrolled",
        "server",
        ("F53", "F84"),
        "the device's first session confirms the enrollment; the device policy goes out",
        receives=PKG1,
        guard=(*_SESSION_GUARD, serving),
        effect=deliver_head,
        sends=_reply(session_reply, session_reply_origin),
    ),
    Row(
        "ResurrectEnrollment",
        "server",
        RESURRECTS,
        "enrolled",
        "server",
        ("F55", "F91", "A10"),
        "a device the server thought unenrolled checks in: the record comes back",
        receives=PKG1,
        guard=(*_SESSION_GUARD, serving),
        effect=resurrect,
        sends=_reply(final),
    ),
    Row(
        "DetectFailedUnenroll",
        "server",
        ("unenroll_sent", "wipe_sent", "unenrolled"),
        "failed",
        "server",
        ("F20", "F55", "A9", "A10"),
        "the device still checks in after the Exec, or after the server confirmed the "
        "unenroll by silence: the unenroll failed",
        receives=PKG1,
        guard=(*_SESSION_GUARD, serving),
        effect=detect_failed,
        sends=_reply(final),
    ),
    Row(
        "ServeSession",
        "server",
        SERVE_FROM,
        None,
        "server",
        ("F14", "F56", "F66"),
        "serve a session with nothing queued: package 2 with Final only",
        receives=PKG1,
        guard=(*_SESSION_GUARD, serving, queue_empty),
        effect=serve_final,
        sends=_reply(final),
    ),
    Row(
        "SendPolicy",
        "server",
        SERVE_FROM,
        None,
        "server",
        ("F29", "F35", "F67", "F75"),
        "send the queued policy in package 2",
        receives=PKG1,
        guard=(*_SESSION_GUARD, serving, head_is_policy),
        effect=deliver_head,
        sends=_reply(head_command, head_origin),
    ),
    Row(
        "SendUnenrollExec",
        "server",
        SERVE_FROM,
        "unenroll_sent",
        "server",
        ("F14", "F15", "F17", "F23", "F24", "F25", "F29", "A1", "A7", "A8"),
        "send the DMClient Unenroll Exec in package 2; expect no response",
        receives=PKG1,
        guard=(*_SESSION_GUARD, serving, head_is_unenroll, done_at_outcome),
        effect=deliver_exec,
        sends=_reply(head_command, head_origin),
    ),
    Row(
        "SendUnenrollExecMarkDone",
        "server",
        SERVE_FROM,
        "unenrolled",
        "server",
        ("F15", "F23"),
        "send the DMClient Unenroll Exec and mark the unenroll done at delivery (WSO2)",
        receives=PKG1,
        guard=(*_SESSION_GUARD, serving, head_is_unenroll, done_at_send),
        effect=deliver_exec_marked_done,
        sends=_reply(head_command, head_origin),
    ),
    Row(
        "SendWipe",
        "server",
        SERVE_FROM,
        "wipe_sent",
        "server",
        ("F52",),
        "send RemoteWipe/doWipe in package 2; verify the outcome",
        receives=PKG1,
        guard=(*_SESSION_GUARD, serving, head_is_wipe, verifies),
        effect=deliver_exec,
        sends=_reply(head_command, head_origin),
    ),
    Row(
        "SendWipeMarkDone",
        "server",
        SERVE_FROM,
        "unenrolled",
        "server",
        ("F52",),
        "send RemoteWipe/doWipe and mark it done at delivery (non-verifying designs)",
        receives=PKG1,
        guard=(*_SESSION_GUARD, serving, head_is_wipe, not_verifies),
        effect=deliver_exec_marked_done,
        sends=_reply(head_command, head_origin),
    ),
    # --------------------------------------------------------- package 3
    Row(
        "ReceiveErrorStatus",
        "server",
        ("unenroll_sent",),
        "failed",
        "server",
        ("F21", "F52", "A9"),
        "an error Status for the Unenroll Exec: unenroll failed",
        receives=Receives(("pkg3",), bodies=("error",), generation="key"),
        guard=(error_for_unenroll,),
        effect=receive_error,
        sends=(Send("pkg4", final, to="sender", msgid=None),),
    ),
    Row(
        "ReceiveStatus",
        "server",
        FOUND,
        None,
        "server",
        ("F66", "F67"),
        "a Status package 3 arrives: close the session with package 4",
        receives=Receives(("pkg3",), bodies=("ok",), generation="key"),
        guard=(session_open,),
        effect=receive_status,
        sends=(Send("pkg4", final, to="sender", msgid=None),),
    ),
    Row(
        "RejectStaleStatus",
        "server",
        ("*",),
        None,
        "server",
        ("F68", "F70"),
        "a Status for a session the server no longer has is answered with an abort",
        receives=Receives(("pkg3",), generation="key", otherwise=True),
        effect=nothing,
        sends=(Send("pkg4", abort, to="sender", msgid=None),),
    ),
    # ------------------------------------------------------ push and verify
    Row(
        "VerifyWithPush",
        "server",
        ("unenroll_sent", "wipe_sent", "awaiting_confirmation"),
        None,
        "server",
        ("F55", "F61"),
        "push to verify the unenroll: a live device would start a session",
        guard=(verifies_by_push, not_pushed),
        effect=mark_pushed,
        sends=(Send("push", no_body, session="main", to="record"),),
    ),
    Row(
        "AbandonSession",
        "server",
        FOUND,
        None,
        "timer",
        ("F14", "F69", "A1"),
        "the device went silent with a session open: the server closes its side",
        guard=(open_session, abandons_sessions),
        effect=abandon_session,
        timing="silence",
    ),
    Row(
        "ConfirmUnenrolled",
        "server",
        ("unenroll_sent", "wipe_sent", "awaiting_confirmation"),
        "unenrolled",
        "timer",
        ("F55", "F64", "A10"),
        "no check-in (or no answer to the push) in time: the unenroll is confirmed",
        guard=(verifies, no_open_session, pushed_if_verifying_by_push),
        effect=conclude_unenrolled,
        timing="silence",
    ),
    Row(
        "PresumeUnenrolled",
        "server",
        ("pending", *SERVE_FROM),
        "presumed",
        "timer",
        ("F55", "F64", "F90", "A10"),
        "no check-in for longer than the poll interval: the device is presumed gone",
        guard=(presumes, believed_enrolled, no_open_session),
        effect=presume_gone,
        timing="silence",
    ),
)


def server_state(v: ServerView) -> str:
    """The server machine's state: the record's status (or none/ambiguous)."""
    return v.record.status if v.record is not None else v.resolved


def set_server_state(v: ServerView, state: str) -> None:
    """Set the record's status (used to apply a row's `dest`)."""
    if v.record is not None:
        v.update(status=state)


TABLE = Table(
    machine="server",
    description="The MDM server's record table: sessions, queues, the console, verification.",
    states=STATUSES,
    state_of=server_state,
    set_state=set_server_state,
    rows=ROWS,
    ends=("ambiguous", "unenrolled", "removed"),
)
