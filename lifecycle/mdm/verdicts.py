"""What one device, its Azure AD entry and its records say for each property: the
verdict bits, and the clauses behind them.

The properties (`lifecycle.mdm.properties`) are stated over these bits, and the
explanations of their counterexamples (`lifecycle.mdm.explain`) read the same clauses,
so both say the same thing of a state.
"""

from __future__ import annotations

from collections.abc import Sequence

from lifecycle.mdm.design import Design
from lifecycle.mdm.device import AAD_KINDS, AFTER_UNENROLL_BEGAN, UNMANAGED
from lifecycle.mdm.server import ACCEPTED, believes_enrolled
from lifecycle.mdm.state import Channel, Device, Directory, Msg, Record, World

# Per-device verdict bits: what one device says for each property. A world's verdicts
# are the OR of its devices' bits (every property is stated per device).
ORPHANED = 1
CLEANUP_BROKEN = 2
STALE_RETIRED = 4
LATE_COMMAND = 8
DISAGREES = 16
SESSION_WAITS = 32
SERVER_HOLDS = 64
USER_DONE = 128
AAD_DONE = 256
ADMIN_DONE = 512
WIPE_DONE = 1024
DATA_FIRST = 2048
MANUAL_IGNORED = 4096
PENDING_AFTER = 8192
REQUEST_LOST = 16384
MID_UNENROLL = 32768
SERVER_AWAITS = 65536
FIRST_SESSION_DONE = 131072
POLICY_ACKED = 262144
TWO_AUTHORITIES = 524288
TWO_SESSIONS = 1048576
UNDOCUMENTED_ERROR = 2097152
ADMITTED_OFF = 4194304
CROSSED = 8388608
UNLEARNT = 1 << 24
GHOSTED = 1 << 25
CLEANED = 1 << 26
MISSED_ALERT = 1 << 27
SESSION_DUE = 1 << 28

#: A device in these phases is mid-unenroll: it must still reach dormant (F7, F36).
MID_UNENROLL_PHASES = frozenset(p for p in AFTER_UNENROLL_BEGAN if p != "dormant")


#: The network losing a message: not a way out of a wait (a recovery that needs one is
#: luck, not design).
LOSS_ACTIONS = frozenset(("LoseMessage",))


#: Unenroll paths on which the device notifies the server (F2, F4, F15, F12).
NOTIFYING_CAUSES = ("user", "aad", "agent", "admin")
#: Record statuses in which an admin's request is visibly under way.
REQUEST_UNDER_WAY = ("unenroll_sent", "wipe_sent")
#: The command each admin request queues.
REQUEST_COMMAND = {"unenroll_queued": "unenroll", "wipe_queued": "wipe"}
_BEGAN = frozenset(AFTER_UNENROLL_BEGAN)


def orphaned(d: Device, dirc: Directory) -> bool:
    """Azure AD joined but not managed (and not on its way), or left with no admin."""
    if dirc.association == "joined" and d.phase in UNMANAGED:
        return True
    return (
        d.kind == "aad_join"
        and dirc.association == "none"
        and not d.local_admin
        and d.phase not in ("not_enrolled", "enrolling", "provisioning", "wiped")
    )


def cleanup_broken(d: Device) -> bool:
    """An artifact survived unenrollment, or something ran after it began."""
    return d.late or (d.phase in ("dormant", "wiped") and d.artifacts != 0)


def agrees(d: Device, records: Sequence[Record], design: Design) -> bool:
    """The server's records for the device agree with it: an enrolled device has a
    record of its current enrollment that the server counts as enrolled, and no record
    of another enrollment is counted so; a device out of management has none."""
    if d.phase == "enrolled":
        believed = [r for r in records if believes_enrolled(r, design)]
        return bool(believed) and all(r.gen == d.gen for r in believed)
    if d.phase in UNMANAGED:
        return not any(believes_enrolled(r, design) for r in records)
    return True


def unlearnt(d: Device, records: Sequence[Record], design: Design) -> bool:
    """The device has unenrolled (dormant, wiped) and a record of that enrollment still
    counts it as enrolled: the server has not learnt the outcome yet (F55)."""
    return d.phase in ("dormant", "wiped") and any(
        r.gen == d.gen and believes_enrolled(r, design) for r in records
    )


def ghosted(d: Device, records: Sequence[Record], design: Design) -> bool:
    """A record counts the device as enrolled in an enrollment it no longer holds: it
    is out of management, or it has enrolled again since (real-world 3.2, 3.7)."""
    return any(
        believes_enrolled(r, design) and (d.phase in UNMANAGED or r.gen != d.gen) for r in records
    )


def unenroll_asked(r: Record) -> bool:
    """The admin (or the agent) asked the server to unenroll this enrollment, and the
    record does not show the outcome yet (the history clears `asked` once it does).
    An Azure AD registered enrollment is left out: the doc gives it no remote unenroll
    that works, the Exec silently fails there (F20), so no design can make it take
    effect."""
    return r.asked not in ("-", "wipe_queued") and r.kind != "aad_registered"


def manual_ignored(d: Device) -> bool:
    """The user disconnected an enrollment Work Access may not disconnect: an Azure AD
    one (F43), or one whose AllowManualMDMUnenrollment is 0 (F31, F47)."""
    return (
        d.cause == "user"
        and d.phase in _BEGAN
        and (not d.manual or d.kind in AAD_KINDS or d.kind not in ("work_access", "bulk"))
    )


def pending_after_unenroll(r: Record) -> bool:
    """A command stays queued on a record the server accepted as unenrolled."""
    return r.status in ACCEPTED and bool(r.queue)


def request_lost(r: Record) -> bool:
    """An admin's request vanished: the record shows neither its outcome (the history
    clears the request once it does) nor the request under way, and its command is not
    queued."""
    if r.asked == "-" or r.status in REQUEST_UNDER_WAY:
        return False
    command = REQUEST_COMMAND.get(r.asked)
    if command is None:  # an agent's request: under way until the outcome shows
        return r.status not in ("unenroll_sent", "presumed")
    return all(c[0] != command for c in r.queue)


def two_authorities(d: Device, dirc: Directory) -> bool:
    """Managed through Work Access while Azure AD also holds the device (F43)."""
    return d.kind in ("work_access", "bulk") and d.phase != "dormant" and dirc.association != "none"


def main_sessions(in_flight: Sequence[Msg]) -> dict[int, int]:
    """Per enrollment generation, the first packages of main DM sessions in flight."""
    mains: dict[int, int] = {}
    for m in in_flight:
        if m.kind == "pkg1" and m.session == "main" and m.msgid == 1:
            mains[m.generation] = mains.get(m.generation, 0) + 1
    return mains


def undocumented_refusal(m: Msg, d: Device) -> bool:
    """An error Status for the Unenroll Exec from a device the facts do not let refuse
    it: only a mobile Azure AD joined device may (F21, F52)."""
    return (
        m.kind == "pkg3"
        and m.body == ("error",)
        and not (d.platform == "mobile" and d.kind == "aad_join")
    )


def requests_settled(world: World) -> list[tuple[int, int]]:
    """The (device, enrollment) of every record whose requested unenroll is over: the
    device is out of management (unenrolled, wiped, or its enrollment never
    completed), or holds a newer enrollment, or the record shows the failure (F21,
    F52)."""
    devices = world.device
    out = []
    for r in world.server.records:
        d = devices[r.device]
        if r.status == "failed" or d.gen != r.gen or d.phase in UNMANAGED:
            out.append((r.device, r.gen))
    return out


def network_bits(net: Channel, d: Device, records: Sequence[Record]) -> int:
    """What a connection says: two package 1s of the main session in flight at once
    (a second session opened before the first ended), an error Status for the Unenroll
    Exec from a device the facts do not let refuse it, or an enrolled device's Status
    on its way to a server session that awaits it."""
    bits = 0
    if (
        d.phase == "enrolled"
        and any(
            m.kind == "pkg3" and m.body == ("ok",) and m.generation == d.gen for m in net.in_flight
        )
        and any(r.gen == d.gen and r.session == "open" for r in records)
    ):
        bits |= POLICY_ACKED
    if any(undocumented_refusal(m, d) for m in net.in_flight):
        bits |= UNDOCUMENTED_ERROR
    if any(n > 1 for n in main_sessions(net.in_flight).values()):
        bits |= TWO_SESSIONS
    return bits


def _completed(
    d: Device, records: Sequence[Record], causes: tuple[str, ...], by_alert: bool
) -> bool:
    return (
        d.phase == "dormant"
        and d.cause in causes
        and any(
            r.gen == d.gen and r.status == "unenrolled" and (not by_alert or r.retired == "alert")
            for r in records
        )
    )


def device_verdicts(d: Device, dirc: Directory, records: Sequence[Record], design: Design) -> int:
    """The verdict bits of one device, from its state and its records."""
    bits = 0
    if orphaned(d, dirc):
        bits |= ORPHANED
    if cleanup_broken(d):
        bits |= CLEANUP_BROKEN
    if d.stale:
        bits |= STALE_RETIRED
    if not agrees(d, records, design):
        bits |= DISAGREES
    if d.session != "idle":
        bits |= SESSION_WAITS
    if d.phase in MID_UNENROLL_PHASES:
        bits |= MID_UNENROLL
    if d.phase == "enrolled" and not d.due:
        bits |= FIRST_SESSION_DONE
    if d.phase == "enrolled" and d.due:
        bits |= SESSION_DUE
    if two_authorities(d, dirc):
        bits |= TWO_AUTHORITIES
    if d.data_first and d.cause in NOTIFYING_CAUSES:
        bits |= DATA_FIRST
    if manual_ignored(d):
        bits |= MANUAL_IGNORED
    if _completed(d, records, ("user",), True):
        bits |= USER_DONE
    if _completed(d, records, ("aad",), True) and dirc.association == "none":
        bits |= AAD_DONE
    if _completed(d, records, ("admin", "agent"), False):
        bits |= ADMIN_DONE
    if d.phase == "wiped" and any(r.gen == d.gen and r.status == "unenrolled" for r in records):
        bits |= WIPE_DONE
    if unlearnt(d, records, design):
        bits |= UNLEARNT
    if ghosted(d, records, design):
        bits |= GHOSTED
    if d.phase in ("dormant", "wiped") and d.artifacts == 0:
        bits |= CLEANED
    return bits
