"""The history the interpreter keeps for the properties: ghost fields that no row writes.

A property that needs the past (was the alert sent before the first artifact went? did
the message that retired a record come from an earlier enrollment? was a command sent
after the unenroll was accepted?) reads ghost fields of `Device` and `Record`. If rows
wrote them, a property would only see what the rows that write them were written to
report: a design that breaks an obligation through another row would pass. So no row
writes a ghost field. Both interpreters of the tables (the checker's,
`lifecycle.mdm.tables`, and the live `transitions` machines, `lifecycle.runtime`) call
`keep_device_history` after every device row and `keep_record_history` after every
server row, and these read only what every row has: the party before and after it
fired, the message it took and the messages it sent.

What is kept, and the rule that keeps it (the same for every row):

- ``Device.alerted``: an unenroll alert (a package 1 carrying a 1226 of the unenroll
  Type, or with an empty ``<Meta/>``) left the device, or was tried while it was offline,
  since its current unenrollment began. An unenrollment runs while the device is in
  `AFTER_UNENROLL_BEGAN`; both fields are cleared outside it (F4, F11).
- ``Device.data_first``: an enterprise artifact was removed in the current unenrollment
  before any unenroll alert was tried (F2, F4).
- ``Device.late``: after unenrollment began, an artifact came back (a policy applied), a
  new DM session was started (a package 1 with MsgID 1 once the alert package is out),
  or a server command was executed and answered with a Status (F3, F7, F33-F36).
- ``Device.stale``: the device left its phase on a command queued for another of its
  enrollments (the command's origin differs from the device's generation).
- ``Record.stale``: a message of an earlier enrollment moved a record into an
  unenrolled status (`ACCEPTED`) (real-world 3.8).
- ``Record.late_cmd``: the server sent a command on a record it has accepted as
  unenrolled, or while MDM was turned off (real-world 3.1, 3.14, 3.23).
- ``Record.asked``: what the admin last asked of the record: the status the admin's row
  left it in (``"-"``: nothing), until the record shows its outcome (`RESOLVED`: done, or
  failed visibly), so that `admin_request_not_lost` can tell a request that is still
  visibly pending from one that silently vanished.
- ``Record.admitted_off``: the record was created, a command queued on it, or it was
  taken (back) into *enrolled* (a first session confirming it, a presumed device
  resurrected), while the tenant had MDM turned off (real-world 3.14, 3.15).
- ``Record.crossed``: a package 1 or 3 of another enrollment generation changed the
  record (real-world 3.8: every message belongs to one enrollment).
- ``Record.missed_alert``: the server read a package 1 of this enrollment carrying
  the userrequest unenroll alert (the Meta Type every server must recognise, F5, F16)
  while MDM was on, and the row left the record counting the device as enrolled: it
  took the alert for an ordinary session. A package held behind an open session, or
  answered with an authentication challenge, has not been read yet.
- ``Record.retired``: while the record is accepted as unenrolled, whether the device's
  unenroll alert retired it or the server concluded it on its own, so that a witness
  of the user path needs the server to have learnt of the user's unenroll.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from typing import Any

from lifecycle.mdm.device import AFTER_UNENROLL_BEGAN, CLEANUP
from lifecycle.mdm.server import ACCEPTED, BELIEVES_ENROLLED, RESOLVED
from lifecycle.mdm.state import DEVICE_GHOSTS, RECORD_GHOSTS, Device, Msg, Record
from lifecycle.mdm.table import DeviceView, Row, ServerView

#: Package 1 alert tokens that are an unenroll alert (F5, F10).
UNENROLL_ALERTS = frozenset(("unenroll", "unenroll_empty"))
#: Package 2 bodies that are a server command (they get a Status, or none, F15).
COMMANDS = frozenset(("policy", "unenroll", "wipe"))
#: The commands that may retire the record they are sent on.
RETIRING = frozenset(("unenroll", "wipe"))
_BEGAN = frozenset(AFTER_UNENROLL_BEGAN)
#: The alert token every server must recognise: Meta Type userrequest (F5, F16).
USERREQUEST = "unenroll"
#: Statuses in which a record counts the device as enrolled (or is about to) and has
#: not accepted an unenroll.
_COUNTING = frozenset(("pending", *BELIEVES_ENROLLED)) - ACCEPTED
#: Statuses in which a server must act on an unenroll alert it reads: a presumed record
#: too (the device checking in with its alert).
_OWES_ALERT = _COUNTING | {"presumed"}
#: Phases after the alert package is out: a package 1 opening a session here is new.
_AFTER_ALERT = frozenset((*CLEANUP, "dormant"))
#: A record's real fields: what a server keeps, without the ghosts.
_real = operator.itemgetter(*(i for i, f in enumerate(Record._fields) if f not in RECORD_GHOSTS))


def carries_unenroll_alert(msg: Msg) -> bool:
    """A package 1 carrying an unenroll alert."""
    return msg.kind == "pkg1" and not UNENROLL_ALERTS.isdisjoint(msg.body)


def is_command(msg: Msg) -> bool:
    """A package 2 carrying a server command."""
    return msg.kind == "pkg2" and bool(msg.body) and msg.body[0] in COMMANDS


def keep_device_history(
    v: DeviceView, row: Row, before: Device, msg: Msg | None, outgoing: Iterable[Msg]
) -> None:
    """Update the device's ghost fields after `row` fired (see the module docstring)."""
    after = v.device
    # Kept only while an unenrollment runs: outside one there is nothing to remember,
    # and a state is not split by what an earlier unenrollment did.
    within = before.phase in _BEGAN and after.phase in _BEGAN
    alerted = before.alerted and within
    data_first = before.data_first and within
    late = before.late
    was_after = before.phase in _BEGAN
    for m in outgoing:
        if carries_unenroll_alert(m):
            alerted = True
        if was_after and m.kind == "pkg1" and m.msgid == 1 and before.phase in _AFTER_ALERT:
            late = True
        if was_after and m.kind == "pkg3" and msg is not None and is_command(msg):
            late = True
    removed = before.artifacts & ~after.artifacts
    if removed and not alerted:
        data_first = True
    if was_after and after.artifacts & ~before.artifacts:
        late = True
    stale = before.stale or (
        msg is not None
        and msg.origin not in (0, before.gen)
        and row.dest is not None
        and row.dest != before.phase
    )
    kept = zip(DEVICE_GHOSTS, (late, stale, alerted, data_first), strict=True)
    changed: dict[str, Any] = {k: value for k, value in kept if getattr(after, k) != value}
    if changed:
        v.device = after._replace(**changed)


def keep_record_history(
    v: ServerView,
    row: Row,
    before: Record | None,
    msg: Msg | None,
    outbox: Iterable[tuple[int, Msg]],
) -> None:
    """Update the acted record's ghost fields after `row` fired (see the module
    docstring). A row that removed its record leaves nothing to keep."""
    if any(r.asked != "-" and r.status in RESOLVED for r in v.server.records):
        # The outcome shows (a tenant-wide change may fail many requests at once).
        v.set_records(
            r._replace(asked="-") if r.status in RESOLVED else r for r in v.server.records
        )
        if v.record is not None and v.record.status in RESOLVED:
            v.record = v.record._replace(asked="-")
    after = v.record
    if after is None or after not in v.server.records:
        return
    stale = after.stale
    if (
        before is not None
        and msg is not None
        and msg.generation < before.gen
        and before.status not in ACCEPTED
        and after.status in ACCEPTED
    ):
        stale = True
    late_cmd = after.late_cmd
    sent = [m.body[0] for _j, m in outbox if is_command(m)]
    # Accepted before this row: any command is late. Accepted by this row: a command
    # other than the unenroll or wipe (which may itself be what retires the record, an
    # Exec marked done when sent) went out with the acceptance.
    was_accepted = before is not None and before.status in ACCEPTED
    with_acceptance = after.status in ACCEPTED and (
        was_accepted or any(c not in RETIRING for c in sent)
    )
    if sent and (not v.server.mdm or with_acceptance):
        late_cmd = True
    # A resolved record's request was cleared above; an admin's row sets a new one.
    asked = after.status if row.actor == "admin" and after.status not in RESOLVED else after.asked
    retired = after.retired
    if after.status not in ACCEPTED:
        retired = "-"
    elif before is None or before.status not in ACCEPTED:
        retired = "alert" if msg is not None and carries_unenroll_alert(msg) else "server"
    # The same enrollment's record before the row (None: the row made a new one).
    same = before is not None and before.device == after.device and before.gen == after.gen
    old = before if same else None
    grew = old is None or len(after.queue) > len(old.queue)
    # Admitted: a record made, a command queued, or an enrollment taken (back) into
    # "enrolled" (a first session confirming it, a presumed device resurrected).
    admitted = grew or (old is not None and old.status != "enrolled" and after.status == "enrolled")
    admitted_off = after.admitted_off or (admitted and not v.server.mdm)
    crossed = after.crossed or (
        old is not None
        and msg is not None
        and msg.kind in ("pkg1", "pkg3")
        and msg.generation != after.gen
        and _real(after) != _real(old)
    )
    missed_alert = after.missed_alert or (
        old is not None
        and msg is not None
        and msg.kind == "pkg1"
        and msg.generation == after.gen
        and USERREQUEST in msg.body
        and v.server.mdm
        and old.status in _OWES_ALERT
        and after.status in _COUNTING
        and all(h[1] != msg for h in after.held)
        and not any(m.kind == "pkg2" and m.body == ("challenge",) for _j, m in outbox)
    )
    kept = zip(
        RECORD_GHOSTS,
        (stale, late_cmd, asked, retired, admitted_off, crossed, missed_alert),
        strict=True,
    )
    changed: dict[str, Any] = {k: value for k, value in kept if getattr(after, k) != value}
    if changed:
        v.update(**changed)
