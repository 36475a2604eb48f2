"""The engine state of the lifecycle model, as NamedTuples of small ints and strings.

A state is a `World`: four tuples indexed by device number, so a trace reads
``device[0].phase``, ``server[0].record``, ``directory[0].association``,
``net[0].in_flight``. Devices share nothing but the server process and the tenant:
the server keeps one enrollment record per device and the directory one entry per
device, so the slice of the state that belongs to device *i* (its `Device`, its
`ServerRecord`, its `Directory` entry and its `Channel`) evolves on its own. The
model exploits that: successors are computed, and cached, per device slice.

Why these fields and no more: every field is either what a real party would keep
(phase, generation, queue, session) or a sticky flag a property needs ("did X ever
happen", only set by buggy designs, so it costs no states in the reference design).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

# A message in flight: (kind, gen, slot, body, origin).
# - kind: "pkg1" (client package 1), "pkg2" (server package 2), "pkg3" (client
#   status package), "pkg4" (server closing package), "push" (WNS push).
# - gen: the enrollment generation of the session the message belongs to.
# - slot: "main" (ordinary DM session) or "alert" (the session that carries the
#   1226 unenroll alert).
# - body: pkg1: "none" | "type" (1226 with Meta Type userrequest) | "empty_meta"
#   (1226 with an empty <Meta/>, F10); pkg2: "final" | "abort" | "policy" |
#   "unenroll" | "wipe"; pkg3: "ok" | "error"; pkg4: "final" | "abort"; push: "-".
# - origin: for a command, the generation whose queue it was issued from (ghost
#   data for `no_stale_unenroll`); 0 otherwise.
Msg = tuple[str, int, str, str, int]

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
    - gen: enrollment generation of the current or last enrollment (0: never).
    - kind: enrollment kind: "-", "work_access", "aad_join", "bulk".
    - platform: "desktop" or "mobile" (fixed for the device).
    - local_admin: a non-tenant local admin exists (fixed, F51).
    - manual: AllowManualMDMUnenrollment allows the user to disconnect (F31, F47).
    - session: the main DM session: "idle", "wait2" (package 1 sent, awaiting the
      server's package), "wait4" (status package 3 sent, awaiting package 4), "exec"
      (keep-sessions designs only: an Unenroll Exec in progress, awaiting the alert
      session).
    - alert: "none", or "sent"/"resent"/"acked" when the design tracks the alert
      session (alert retry, or keep-sessions). The reference design never does (A2).
    - artifacts: bitmask of enterprise artifacts present (APPS, CERTS, ...).
    - cause: how the last unenrollment started: "-", "user", "aad", "admin", "self",
      "wipe".
    - late: sticky: a DM session started or a policy was applied after unenrollment
      began (F33-F36 say neither may happen).
    - stale: sticky: the device executed an unenroll or wipe issued for an earlier
      enrollment.
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
    late: bool
    stale: bool


class ServerRecord(NamedTuple):
    """The MDM server's enrollment record for one device.

    - gen: the generation the record belongs to (0: no record).
    - record: the server machine's state (see `lifecycle.mdm.server.RECORDS`).
    - queue: pending commands, each (command, origin generation), head first.
    - session: "none" or "open" (a command was sent, status package 3 awaited).
    - held: () or the package 1 held behind an open session (wait designs only).
    - pushed: a verification push was sent (F55).
    - stale: sticky: an alert or command of an earlier enrollment retired this one.
    - late_cmd: sticky: a command was issued to an enrollment accepted as unenrolled.
    """

    gen: int
    record: str
    queue: tuple[tuple[str, int], ...]
    session: str
    held: tuple[Msg, ...]
    pushed: bool
    stale: bool
    late_cmd: bool


class Directory(NamedTuple):
    """Azure AD's view of one device.

    - association: "none" or "joined". While joined, the device's admins include the
      tenant's admin users; once removed, only a non-tenant local admin is left (F51).
    """

    association: str


class Channel(NamedTuple):
    """The messages in flight between one device and the server, as a sorted tuple
    (a multiset: HTTP exchanges and pushes may overtake each other)."""

    in_flight: tuple[Msg, ...]


class World(NamedTuple):
    """The whole engine state: one entry per device in each tuple."""

    device: tuple[Device, ...]
    server: tuple[ServerRecord, ...]
    directory: tuple[Directory, ...]
    net: tuple[Channel, ...]


Bundle = tuple[Device, ServerRecord, Directory, Channel]


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


# `typing.NamedTuple` forbids defining `_replace` in the class body, so it is set here.
for _cls in (Device, ServerRecord, Directory, Channel, World):
    setattr(_cls, "_replace", _fast_replace(_cls))  # noqa: B010

NO_RECORD = ServerRecord(0, "none", (), "none", (), False, False, False)
NO_DIRECTORY = Directory("none")
EMPTY_CHANNEL = Channel(())


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
        late=False,
        stale=False,
    )


def bundles(world: World) -> Iterator[Bundle]:
    """The per-device slices of a world."""
    return zip(world.device, world.server, world.directory, world.net, strict=True)
