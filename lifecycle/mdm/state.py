"""The engine state of the lifecycle model: named records of small ints and strings.

A state is a `World`:

- ``device[i]``: the MDM client of device *i* (`Device`);
- ``server``: the one MDM server (`Server`): the tenant's MDM switch and one table of
  enrollment `Record`s for all devices, keyed as the design says (`record_key`);
- ``directory[i]``: Azure AD's entry for device *i* (`Directory`);
- ``net[i]``: the connection between device *i* and the server (`Channel`): whether the
  device is online, and the messages in flight.

Devices share the server: a row of the server reads and writes the record table, which
holds every device's records, so devices interact through it (a cloned hardware id,
a duplicate record, the tenant turning MDM off).

Why these fields and no more: every field is what a real party keeps (a phase, an
enrollment generation, a queue, a session), except the ghost fields marked as such
(the history `lifecycle.mdm.history` keeps, and a command's ``origin``), which only
properties read and no row writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple


class Msg(NamedTuple):
    """A message in flight between one device and the server.

    - ``kind``: ``"enroll_request"`` / ``"enroll_response"`` (the MS-MDE2 enrollment
      exchange, F84), ``"pkg1"`` (client package 1), ``"pkg2"`` (server package 2),
      ``"pkg3"`` (client Status package), ``"pkg4"`` (server closing package),
      ``"push"`` (a WNS push, F61), ``"agent"`` (a management agent's request, outside
      OMA DM: Fleet's fleetd).
    - ``generation``: the enrollment the message belongs to: the device presents its
      enrollment (its certificate), and the server answers for it. Enrollment ids are
      (device, generation) pairs; the device is the channel's.
    - ``session``: ``"main"`` (an ordinary DM session), ``"alert"`` (the new session that
      carries the 1226 unenroll alert, F6, F15) or ``"-"`` (not a DM session).
    - ``body``: what the package carries, as a tuple of tokens:

      - enroll_request: ``(kind, platform, "admin" | "no_admin")`` (what the device tells
        the server about itself: enrollment type, OS, its admin inventory);
      - enroll_response: ``("token",)`` or ``("fault", code)`` (F87);
      - pkg1: the alerts, in document order: ``"1201"`` (client-initiated session),
        ``"unenroll"`` (1226 with Meta Type userrequest, F5), ``"unenroll_empty"``
        (1226 with an empty ``<Meta/>``, F10), ``"csp"`` (a 1226 of another Type: a
        CSP reporting asynchronous work, F78);
      - pkg2: ``("final",)``, ``("abort",)``, ``("challenge",)`` (401/407), or one command
        ``("policy",)``, ``("unenroll",)`` (DMClient Unenroll Exec), ``("wipe",)``;
      - pkg3: ``("ok",)`` or ``("error",)``; pkg4: ``("final",)`` or ``("abort",)``;
      - push: ``()``; agent: ``("unenroll",)``.
    - ``msgid``: 1 for the first package of a session, 2 for package 1 sent again with
      credentials after a challenge.
    - ``origin``: ghost, for `no_stale_unenroll`: for a command, the generation of the
      record it was queued for; 0 otherwise.
    """

    kind: str
    generation: int
    session: str
    body: tuple[str, ...]
    msgid: int = 1
    origin: int = 0


# Enterprise artifacts on the device (F33-F37), as a bitmask.
APPS = 1  # enterprise app token and LOB apps (F33)
CERTS = 2  # MDM-configured certificates, EnhancedAppLayerSecurity chain (F34, F37)
POLICIES = 4  # enforced settings policies (F35)
CONFIG = 8  # DM client configuration and the scheduled maintenance task (F36)
ALL_ARTIFACTS = APPS | CERTS | POLICIES | CONFIG
ARTIFACT_NAMES = {APPS: "apps", CERTS: "certs", POLICIES: "policies", CONFIG: "config"}


class Device(NamedTuple):
    """The MDM client of one device.

    - phase: the device machine's state (see `lifecycle.mdm.device.PHASES`).
    - gen: generation of the current or last enrollment attempt (0: never).
    - kind: enrollment kind: "-", "work_access", "aad_join", "bulk", "aad_registered".
    - platform: "desktop" or "mobile" (fixed for the device).
    - local_admin: a non-tenant local admin exists (fixed, F51).
    - manual: AllowManualMDMUnenrollment allows the user to disconnect (F31, F47).
    - session: the main exchange: "idle", "enroll" (enrollment request sent, awaiting
      the response), "wait2" (package 1 sent, awaiting package 2), "wait4" (Status
      package 3 sent, awaiting package 4), "exec" (keep-sessions designs only: an
      Unenroll Exec in progress, awaiting the alert session).
    - alert: "none", or "sent"/"resent"/"acked" when the device reads the reply of its
      alert session (alert retry, keep-sessions, or an auth challenge to answer). The
      reference device never does (A2).
    - artifacts: bitmask of enterprise artifacts present (APPS, CERTS, ...).
    - cause: how the last unenrollment started: "-", "user", "aad", "admin", "agent",
      "self", "wipe".
    - result: a CSP finished asynchronous work and its 1226 result alert (F78) is due
      in the next package 1.
    - due: a DM session is due now, not at the next poll: the first session after
      enrollment (F84), or the scheduled session missed while the device was offline (a
      missed task runs as soon as the device is back, F64). It stays due until the
      server answers with Final (the first retries come within minutes, F64).
    Ghost fields, kept by the interpreter after every row (`lifecycle.mdm.history`),
    never written by a row, read only by the properties:

    - late: a DM session started, a command was executed or a policy applied after
      unenrollment began (F33-F36 say none may happen).
    - stale: the device left its phase on a command queued for another enrollment.
    - alerted: an unenroll alert was sent (or tried offline) in this unenrollment.
    - data_first: an artifact was removed in this unenrollment before any alert.
    """

    phase: str
    gen: int
    kind: str
    platform: str
    local_admin: bool
    manual: bool
    session: str
    alert: str
    artifacts: int
    cause: str
    result: bool
    due: bool
    late: bool
    stale: bool
    alerted: bool = False
    data_first: bool = False


# A queued command: (command, generation it was queued for, sent and awaiting Status).
Command = tuple[str, int, bool]


class Record(NamedTuple):
    """One enrollment record in the server's table.

    - device, hardware: the DevID and HWDevID the enrollment request came with.
    - gen: the enrollment generation (the enrollment id is (device, gen)).
    - status: the server machine's state (see `lifecycle.mdm.server.STATUSES`).
    - kind, platform, local_admin: what the device said about itself when it enrolled
      (the console's inventory); the admin's guards read these, never the device.
    - queue: pending commands, head first.
    - session: "none" or "open" (a command was sent, Status package 3 awaited).
    - held: () or ((device, package 1),): a package held behind an open session (wait
      designs only), with the connection it came on.
    - pushed: a verification push was sent (F55).
    Ghost fields, kept by the interpreter (`lifecycle.mdm.history`), never written by
    a row:

    - stale: a message of an earlier enrollment retired this one.
    - late_cmd: a command was sent after the unenroll was accepted, or while MDM was
      turned off.
    - asked: what the admin last asked of this record (the status the admin's row left
      it in; ``"-"``: nothing).
    - retired: while the record is accepted as unenrolled, what retired it: ``"alert"``
      (the device's unenroll alert) or ``"server"`` (the server's own conclusion: a
      timer, or an Exec marked done when sent); ``"-"`` otherwise.
    - admitted_off: the record was created, a command queued on it, or it was taken
      (back) into "enrolled", while MDM was turned off.
    - crossed: a package 1 or 3 of another enrollment generation changed this record.
    - missed_alert: the server read this enrollment's userrequest unenroll alert while
      MDM was on, and the row left the record counting the device as enrolled.
    """

    device: int
    hardware: int
    gen: int
    status: str
    kind: str
    platform: str
    local_admin: bool
    queue: tuple[Command, ...]
    session: str
    held: tuple[tuple[int, Msg], ...]
    pushed: bool
    stale: bool
    late_cmd: bool
    asked: str = "-"
    retired: str = "-"
    admitted_off: bool = False
    crossed: bool = False
    missed_alert: bool = False


class Server(NamedTuple):
    """The MDM server: the tenant's MDM switch and the record table (sorted, so a table
    is stored once whatever order its records were written in)."""

    mdm: bool
    records: tuple[Record, ...]


class Directory(NamedTuple):
    """Azure AD's view of one device.

    - association: "none", "joined" (Azure AD join: the tenant's admin users administer
      the device; once removed, only a non-tenant local admin is left, F51) or
      "registered" (Azure AD registered through "add a work account", F20, F43).
    """

    association: str


class Channel(NamedTuple):
    """The connection between one device and the server.

    - online: the device is connected (offline periods are the environment's, bounded
      by the scope's ``max_offline``).
    - in_flight: the messages in flight, a sorted tuple (a multiset: HTTP exchanges and
      pushes may overtake each other).
    - offline_periods: how many offline periods have begun (bounded by the scope).
    - back: the device came back from an offline period (which is longer than its poll
      interval, so it missed a scheduled check-in) and has not started a session since.
    """

    online: bool
    in_flight: tuple[Msg, ...]
    offline_periods: int
    back: bool = False


class World(NamedTuple):
    """The whole engine state."""

    device: tuple[Device, ...]
    server: Server
    directory: tuple[Directory, ...]
    net: tuple[Channel, ...]


def _fast_replace(cls: type[tuple[Any, ...]]) -> Callable[..., Any]:
    """A `_replace` for NamedTuple `cls` with the standard one's meaning (a copy with
    the named fields replaced), compiled per class: keyword-only parameters, one per
    field, and `tuple.__new__`. The standard `_replace` builds a dict of the keywords
    and pops every field name from it through `_make`; the effects of the transition
    tables call `_replace` about once per row fired."""
    fields: tuple[str, ...] = cls._fields  # type: ignore[attr-defined]
    params = ", ".join(f"{name}=_KEEP" for name in fields)
    values = " ".join(f"self[{i}] if {name} is _KEEP else {name}," for i, name in enumerate(fields))
    source = f"def _replace(self, /, *, {params}):\n    return _new(_cls, ({values}))\n"
    namespace: dict[str, Any] = {"_KEEP": object(), "_new": tuple.__new__, "_cls": cls}
    exec(source, namespace)
    replace: Callable[..., Any] = namespace["_replace"]
    replace.__qualname__ = f"{cls.__name__}._replace"
    replace.__doc__ = f"Return a new {cls.__name__} with the named fields replaced."
    return replace


#: The ghost fields (`lifecycle.mdm.history` keeps them; no real party does).
DEVICE_GHOSTS = ("late", "stale", "alerted", "data_first")
RECORD_GHOSTS = (
    "stale",
    "late_cmd",
    "asked",
    "retired",
    "admitted_off",
    "crossed",
    "missed_alert",
)

# `typing.NamedTuple` forbids defining `_replace` in the class body, so it is set here.
for _cls in (Msg, Device, Record, Server, Directory, Channel, World):
    setattr(_cls, "_replace", _fast_replace(_cls))  # noqa: B010

NO_DIRECTORY = Directory("none")
MDM_ON = Server(True, ())


def fresh_device(platform: str, local_admin: bool) -> Device:
    """A device out of the box: never enrolled, no enterprise artifacts."""
    return Device(
        phase="not_enrolled",
        gen=0,
        kind="-",
        platform=platform,
        local_admin=local_admin,
        manual=True,
        session="idle",
        alert="none",
        artifacts=0,
        cause="-",
        result=False,
        due=False,
        late=False,
        stale=False,
    )


def fresh_channel() -> Channel:
    """An online connection with nothing in flight."""
    return Channel(True, (), 0, False)


def records_of(server: Server, device: int) -> Iterator[Record]:
    """The records the server holds that came from `device`'s enrollments."""
    return (r for r in server.records if r.device == device)


def sorted_records(records: Any) -> tuple[Record, ...]:
    """A record table in its stored (sorted) order."""
    return tuple(sorted(records))
