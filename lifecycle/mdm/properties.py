"""The properties an unenrollment design must satisfy, and `LifecycleModel`: the
composition with its properties, the engine model the checker explores.

Each property is stated per device and quantified over all devices; a device's
verdict reads the device, its Azure AD entry and the records the server holds for it.
Why each is what it is:

- `no_deadlock` (always_recoverable): the engine's global deadlock check cannot see a
  device and a server stuck on each other while a user click, a timer or a push is
  still enabled. So: from every reachable state, each waiting party (a device exchange
  awaiting the server, a session the server holds behind a stale one) can still reach
  a state where it no longer waits (AG EF, on the reachable graph). F14, F69.
- `no_orphaned_aad_device` holds in *every* state, not just quiescent ones: it excuses
  the cleanup window explicitly (an Azure AD joined device mid-unenroll is still on
  its way to removing the association) but not its end (dormant, wiped, never
  enrolled). So a design that keeps the association is caught the moment cleanup
  ends, and a device with no admin left is caught the moment the association goes.
  F50, F51.
- `cleanup_complete`: a dormant or wiped device holds no enterprise artifact, and no
  session was started nor policy applied after unenrollment began (ghost flag set by
  the rows that would do so). F3, F7, F33-F36.
- `no_stale_unenroll`: no alert or command of an earlier enrollment retires a newer
  one (ghost flags on both sides). Real-world 3.8, 3.11.
- `no_commands_after_unenroll`: the server issued no command to an enrollment it had
  accepted as unenrolled, nor while MDM was turned off (ghost flag). Real-world 3.1,
  3.14, 3.23.
- `server_agrees_when_quiet`: when a device is quiet (online, nothing in flight, no
  package held for it, and only stimuli enabled for it and for the server's timers on
  its records), the server's records agree with it: an enrolled device has a record
  of its enrollment that the server counts as enrolled, and no other such record; a
  device out of management has none. F55, A10.
- `*_unenroll_completes` (sometimes): each unenroll path reaches a dormant device and
  an unenrolled record, so a model that cannot unenroll fails loudly. Only the paths
  the scope allows are listed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Sequence
from typing import Any

from lifecycle.engine import Property
from lifecycle.mdm.design import PROPERTY_NAMES, Design
from lifecycle.mdm.device import UNMANAGED
from lifecycle.mdm.model import LifecycleComposition
from lifecycle.mdm.server import believes_enrolled
from lifecycle.mdm.state import Device, Directory, Record, World

__all__ = ["PROPERTY_NAMES", "LifecycleModel", "build_properties", "device_verdicts"]

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


def _completed(d: Device, records: Sequence[Record], causes: tuple[str, ...]) -> bool:
    return (
        d.phase == "dormant"
        and d.cause in causes
        and any(r.gen == d.gen and r.status == "unenrolled" for r in records)
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
    if _completed(d, records, ("user",)):
        bits |= USER_DONE
    if _completed(d, records, ("aad",)) and dirc.association == "none":
        bits |= AAD_DONE
    if _completed(d, records, ("admin", "agent")):
        bits |= ADMIN_DONE
    if d.phase == "wiped" and any(r.gen == d.gen and r.status == "unenrolled" for r in records):
        bits |= WIPE_DONE
    return bits


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
        devices, srv, dirs, _nets = state
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
        for rec in srv.records:
            if rec.stale:
                bits_all |= STALE_RETIRED
            if rec.late_cmd:
                bits_all |= LATE_COMMAND
            if rec.held:
                bits_all |= SERVER_HOLDS
        last[:] = [state, bits_all, tuple(out)]
        return bits_all

    def per_device(state: World) -> tuple[int, ...]:
        verdicts(state)
        result: tuple[int, ...] = last[2]
        return result

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
        if bits & SERVER_HOLDS:
            keys.append(("server", "held session"))
        return keys

    props = [
        Property.always_recoverable(
            "no_deadlock",
            waiting,
            "From every reachable state, a device waiting on its exchange and a session "
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
            "The server issues no command to an enrollment it has accepted as unenrolled, "
            "nor while MDM is turned off (real-world 3.1, 3.14, 3.23).",
        ),
        Property.always(
            "server_agrees_when_quiet",
            agree,
            "When a device is quiet (online, nothing in flight, only user, admin and "
            "periodic timers can act), the server's records agree with it (F55, A10).",
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
                "(F14-F17, F23-F30).",
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
    return [dataclasses.replace(p, symmetric=True) for p in props]


class LifecycleModel(LifecycleComposition):
    """The Windows MDM lifecycle for one design at one scope, with the properties a
    design must satisfy: the engine model `lifecycle check` explores.

    Actions are ``(trigger, party)`` or ``(trigger, party, arg)``; see
    `LifecycleComposition`.
    """

    _properties: list[Property] | None = None

    def properties(self) -> Sequence[Property]:
        if self._properties is None:
            self._properties = build_properties(self)
        return self._properties
