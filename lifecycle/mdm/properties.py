"""The properties an unenrollment design must satisfy, as engine `Property` objects.

Each is stated per device and quantified over all devices. Why each is what it is:

- `no_deadlock` (always_recoverable): the engine's global deadlock check cannot see a
  device and a server stuck on each other while a user click, a timer or a push is
  still enabled. So: from every reachable state, each waiting party (a device session
  awaiting the server, a session the server holds behind a stale one) can still reach
  a state where it no longer waits (AG EF, on the reachable graph). F14, F69.
- `no_orphaned_aad_device` holds in *every* state, not just quiescent ones: it excuses
  the cleanup window explicitly (an Azure AD joined device mid-unenroll is still on
  its way to removing the association) but not its end (dormant, wiped, never
  enrolled). So a design that keeps the association is caught the moment cleanup
  ends, and a device with no admin left is caught the moment the association goes.
  F50, F51.
- `cleanup_complete`: a dormant or wiped device holds no enterprise artifact, and no
  session was started nor policy applied after unenrollment began (sticky flag set by
  the rows that would do so). F3, F7, F33-F36.
- `no_stale_unenroll`: no alert or command of an earlier enrollment retires a newer
  one (sticky flags on both sides). Real-world 3.8, 3.11.
- `no_commands_after_unenroll`: the server issued no command to an enrollment it had
  accepted as unenrolled (sticky flag). Real-world 3.1, 3.14, 3.23.
- `server_agrees_when_quiet`: when a device is quiet (only stimuli are enabled for it:
  nothing in flight, no session, no cleanup step, no pending server timer), the
  server's record agrees with it. F55, A10. The liveness form comes later.
- `*_unenroll_completes` (sometimes): each unenroll path reaches a dormant device and
  an unenrolled record, so a model that cannot unenroll fails loudly. Only the paths
  the scope allows are listed (an Azure AD path needs aad_join in scope, and so on).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

from lifecycle.engine import Property
from lifecycle.mdm.device import UNMANAGED
from lifecycle.mdm.server import BELIEVES_ENROLLED
from lifecycle.mdm.state import Bundle, World, bundles

if TYPE_CHECKING:
    from lifecycle.mdm.model import LifecycleModel

SAFETY = (
    "no_deadlock",
    "no_orphaned_aad_device",
    "cleanup_complete",
    "no_stale_unenroll",
    "no_commands_after_unenroll",
    "server_agrees_when_quiet",
)
WITNESSES = (
    "user_unenroll_completes",
    "aad_unenroll_completes",
    "admin_unenroll_completes",
    "wipe_completes",
)
PROPERTY_NAMES = (*SAFETY, *WITNESSES, "deadlock")


# ------------------------------------------------------------- per-device checks
def orphaned(b: Bundle) -> bool:
    """Azure AD joined but not managed (and not on its way), or left with no admin."""
    d, _s, dr, _n = b
    if dr.association == "joined" and d.phase in UNMANAGED:
        return True
    return (
        d.kind == "aad_join"
        and dr.association == "none"
        and not d.local_admin
        and d.phase not in ("not_enrolled", "enrolling", "wiped")
    )


def cleanup_broken(b: Bundle) -> bool:
    """An artifact survived unenrollment, or something ran after it began."""
    d = b[0]
    return d.late or (d.phase in ("dormant", "wiped") and d.artifacts != 0)


def stale_retired(b: Bundle) -> bool:
    """An alert or command of an earlier enrollment retired a newer one."""
    return b[0].stale or b[1].stale


def agrees(b: Bundle) -> bool:
    """The server's record agrees with the device: enrolled (or not yet concluded
    otherwise) under the same generation, or unenrolled / no record for a device that
    is not enrolled."""
    d, s, _dr, _n = b
    if d.phase == "enrolled":
        return s.gen == d.gen and s.record in BELIEVES_ENROLLED
    if d.phase in UNMANAGED:
        return s.record in ("none", "unenrolled")
    return True


def _completed(b: Bundle, cause: str) -> bool:
    d, s, _dr, _n = b
    return d.phase == "dormant" and d.cause == cause and s.gen == d.gen and s.record == "unenrolled"


# Per-slice verdict bits: what one device slice says for each property. A state's
# verdicts are the OR of its slices' bits (every property is stated per device).
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


def slice_verdicts(b: Bundle) -> int:
    """The verdict bits of one device slice (the checks above, in one pass)."""
    d, s, _dr, _n = b
    bits = 0
    if orphaned(b):
        bits |= ORPHANED
    if cleanup_broken(b):
        bits |= CLEANUP_BROKEN
    if stale_retired(b):
        bits |= STALE_RETIRED
    if s.late_cmd:
        bits |= LATE_COMMAND
    if not agrees(b):
        bits |= DISAGREES
    if d.session != "idle":
        bits |= SESSION_WAITS
    if s.held:
        bits |= SERVER_HOLDS
    if _completed(b, "user"):
        bits |= USER_DONE
    if _completed(b, "aad") and b[2].association == "none":
        bits |= AAD_DONE
    if _completed(b, "admin"):
        bits |= ADMIN_DONE
    if d.phase == "wiped" and s.record == "unenrolled":
        bits |= WIPE_DONE
    return bits


def build_properties(model: LifecycleModel) -> list[Property]:
    """The properties for a model (the witnesses depend on its scope).

    The predicates share one evaluation per state: the engine asks every predicate of a
    new state in turn, so the state's verdict bits are computed by the first and kept
    (with the state) for the others; with several devices, each slice's bits are
    memoised per slice.
    """
    quiet = model.quiet
    memo: dict[Bundle, int] = {}
    last_state: World | None = None
    last_bits = 0

    def verdicts(state: World) -> int:
        nonlocal last_state, last_bits
        if state is last_state:
            return last_bits
        devices, servers, dirs, nets = state
        if len(devices) == 1:
            bits = slice_verdicts((devices[0], servers[0], dirs[0], nets[0]))
        else:
            bits = 0
            for b in zip(devices, servers, dirs, nets, strict=True):
                found = memo.get(b)
                if found is None:
                    found = memo[b] = slice_verdicts(b)
                bits |= found
        last_state, last_bits = state, bits
        return bits

    def no_orphan(state: World) -> bool:
        return not verdicts(state) & ORPHANED

    def cleanup(state: World) -> bool:
        return not verdicts(state) & CLEANUP_BROKEN

    def no_stale(state: World) -> bool:
        return not verdicts(state) & STALE_RETIRED

    def no_late_commands(state: World) -> bool:
        return not verdicts(state) & LATE_COMMAND

    def agree(state: World) -> bool:
        if not verdicts(state) & DISAGREES:
            return True
        # Some slice disagrees: it is a violation if that slice is quiet.
        return all(agrees(b) or not quiet(b) for b in bundles(state))

    def waiting(state: World) -> list[Hashable]:
        # Keys name the kind of wait, not the device number: devices are stored in
        # canonical order, so a number does not follow a device from state to state.
        # Devices are independent, so "some device waits on its session -> EF no
        # device does" is equivalent to the per-device form (each device can clear
        # its own wait while the others stand still).
        bits = verdicts(state)
        keys: list[Hashable] = []
        if bits & SESSION_WAITS:
            keys.append(("device", "session"))
        if bits & SERVER_HOLDS:
            keys.append(("server", "held session"))
        return keys

    props = [
        Property.always_recoverable(
            "no_deadlock",
            waiting,
            "From every reachable state, a device waiting on its session and a session "
            "the server holds can still stop waiting: no party is stuck while others move "
            "(F14, F69; AG EF on the reachable graph).",
        ),
        Property.always(
            "no_orphaned_aad_device",
            no_orphan,
            "Never an Azure AD joined device that is no longer MDM-managed nor being "
            "unenrolled, never a device left with no admin user (F50, F51); every state.",
        ),
        Property.always(
            "cleanup_complete",
            cleanup,
            "Once unenrolled, no enterprise artifact remains, and no DM session starts and "
            "no policy is applied after unenrollment began (F3, F7, F33-F36).",
        ),
        Property.always(
            "no_stale_unenroll",
            no_stale,
            "An alert or command from an earlier enrollment never retires a newer "
            "enrollment (real-world 3.8, 3.11).",
        ),
        Property.always(
            "no_commands_after_unenroll",
            no_late_commands,
            "The server issues no command to an enrollment it has accepted as unenrolled "
            "(real-world 3.1, 3.14, 3.23).",
        ),
        Property.always(
            "server_agrees_when_quiet",
            agree,
            "When a device is quiet (only user, admin and periodic timers can act), the "
            "server's record agrees with it (F55, A10).",
        ),
    ]
    scope = model.scope
    can_user = any(k in scope.kinds for k in ("work_access", "bulk")) and True in (
        scope.manual_unenroll
    )
    can_aad = (
        "aad_join" in scope.kinds and "desktop" in scope.platforms and True in scope.local_admin
    )
    can_admin = "desktop" in scope.platforms and (
        any(k in scope.kinds for k in ("work_access", "bulk")) or True in scope.local_admin
    )
    can_wipe = "aad_join" in scope.kinds and (
        "mobile" in scope.platforms or False in scope.local_admin
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
                "A remote unenroll by DMClient Unenroll Exec ends with a dormant device "
                "and an unenrolled record (F14-F17, F23-F30).",
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
    return props
