"""Design knobs, the TOML design format, presets, and the scope.

A `Design` is an architect's unenrollment design: each knob is one decision the
Microsoft documentation makes (the default, which is the `reference` design) and that
a real server or client can get wrong. A `Scope` is how much of the world to explore
(devices, enrollment kinds, platforms, re-enrollments, in-flight bound); it is kept
apart from the design so that one design can be checked at several sizes.

TOML format (every key optional; an omitted knob keeps its reference default)::

    name = "server_waits_for_stale_sessions"
    description = "One line saying what is wrong with this design."
    expected_violations = ["no_deadlock"]     # property names; [] for a sound design

    server_stale_sessions = "wait"
    channel = "lossy"

An unknown key, a value of the wrong type or outside the allowed values, or an
impossible combination raises `DesignError`, whose message is one line naming the
file, the key and the allowed values.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

KINDS = ("work_access", "aad_join", "bulk")
PLATFORMS = ("desktop", "mobile")


class DesignError(ValueError):
    """A design file or value is invalid. The message is one line: file, key, and the
    allowed values, so the CLI can print it as is and exit with status 2."""


def _knob(default: Any, allowed: tuple[Any, ...], doc: str) -> Any:
    return field(default=default, metadata={"allowed": allowed, "doc": doc})


@dataclass(frozen=True)
class Design:
    """An unenrollment design. Defaults are the reference design (what the doc says).

    Read the knob documentation with `knobs()`; each field's metadata holds its allowed
    values and a one-line explanation naming the facts.
    """

    name: str = "custom"
    description: str = ""
    expected_violations: tuple[str, ...] = ()

    server_stale_sessions: str = _knob(
        "abort",
        ("abort", "wait"),
        "When a new session arrives for an enrollment whose earlier session is still open "
        "on the server (the device aborted it unsignalled, or a package was lost), the "
        "server aborts the stale session (doc, F14, F69) or holds the new one until the "
        "stale one completes.",
    )
    device_sessions_on_unenroll: str = _knob(
        "abort",
        ("abort", "keep"),
        "On a user disconnect or a DMClient Unenroll Exec the device aborts all its DM "
        "sessions, the current one included, before the alert session (doc, F6, F14, A1, "
        "A11), or keeps them open (the Exec's session waits for the alert session).",
    )
    alert_retry: str = _knob(
        "never",
        ("never", "until_acknowledged"),
        "The 1226 unenroll alert is sent once, best effort, and cleanup starts once it is "
        "sent (doc, F3, F7, A6), or it is re-sent in a new session until the server "
        "acknowledges it.",
    )
    alert_recognition: str = _knob(
        "type",
        ("type", "type_or_empty_meta"),
        "The server recognises the unenroll alert by its Meta Type "
        "com.microsoft:mdm.unenrollment.userrequest only (doc, F5, F16), or also a 1226 "
        "with an empty <Meta/> and Data 1 (MicrosoftDocs #8376, F10, A4).",
    )
    unenroll_key: str = _knob(
        "generation",
        ("generation", "device_id"),
        "The server keys enrollment records, alerts and queued commands by enrollment "
        "generation (each enrollment a new id), or by device id (Fleet's choice; "
        "real-world 3.8).",
    )
    outcome: str = _knob(
        "verify",
        ("verify", "trust_alert", "never"),
        "How the server learns that a device unenrolled: it verifies (the alert, then a "
        "missed scheduled check-in or an unanswered push, F55, A10), trusts the alert "
        "alone, or never learns (unenroll not implemented).",
    )
    verify_by: str = _knob(
        "checkin",
        ("checkin", "push"),
        "With outcome = verify: confirm by the absence of the scheduled check-in, or by "
        "a push followed by a delay with no session (F55, F61). Only with verify.",
    )
    remote_unenroll_removes_aad: bool = _knob(
        True,
        (True, False),
        "A remote unenroll of an Azure AD joined desktop removes the AAD association (doc, "
        "F50), or leaves it.",
    )
    require_local_admin: bool = _knob(
        True,
        (True, False),
        "Before a remote unenroll of an Azure AD joined device the server requires a "
        "non-tenant local admin on the device and offers wipe otherwise (doc, F51), or "
        "does not check.",
    )
    mobile_aadj_remote_unenroll: str = _knob(
        "fails",
        ("fails", "proceeds"),
        "A remote unenroll of a mobile Azure AD joined device fails with an error status "
        "and the server offers wipe (doc, F21, F52), or proceeds (the MDM account is "
        "removed, but on mobile the AAD association can only go with a wipe, A16).",
    )
    queue_on_unenroll: str = _knob(
        "drop",
        ("drop", "deliver"),
        "Commands still queued when the server accepts the unenroll are dropped, or kept "
        "and delivered (e.g. in the reply to the alert session, real-world 3.1, 3.23).",
    )
    queue_on_reenroll: str = _knob(
        "drop",
        ("drop", "deliver"),
        "Commands queued for an earlier enrollment are dropped when the device enrolls "
        "again, or delivered to the new enrollment (real-world 3.11, Fleet #20869).",
    )
    channel: str = _knob(
        "lossy",
        ("lossy", "reliable"),
        "Any HTTP exchange or push may be lost (the device goes offline, F3, F69), or none is.",
    )
    self_unenroll_after_lost_contact: bool = _knob(
        False,
        (False, True),
        "The server provisions NumberOfDaysAfterLostContactToUnenroll (F13, A17): the "
        "device may unenroll itself, sending no alert, after losing contact.",
    )

    def __post_init__(self) -> None:
        for f in knob_fields():
            value = getattr(self, f.name)
            allowed = f.metadata["allowed"]
            if type(value) is not type(allowed[0]) or value not in allowed:
                raise DesignError(
                    f"design {self.name}: key '{f.name}': {value!r} is not allowed; "
                    f"allowed values: {_show(allowed)}"
                )
        if self.outcome != "verify" and self.verify_by != "checkin":
            raise DesignError(
                f"design {self.name}: key 'verify_by': only applies when outcome = "
                f'"verify" (outcome is {self.outcome!r}); allowed values with outcome '
                f'{self.outcome!r}: "checkin" (the default)'
            )
        from lifecycle.mdm.properties import PROPERTY_NAMES

        unknown = [p for p in self.expected_violations if p not in PROPERTY_NAMES]
        if unknown:
            raise DesignError(
                f"design {self.name}: key 'expected_violations': unknown property "
                f"{unknown[0]!r}; allowed values: {', '.join(PROPERTY_NAMES)}"
            )

    def knob_values(self) -> dict[str, Any]:
        """Knob name -> value, in declaration order (no name/description)."""
        return {f.name: getattr(self, f.name) for f in knob_fields()}

    def differences(self) -> dict[str, Any]:
        """The knobs whose value differs from the reference design."""
        ref = Design()
        return {k: v for k, v in self.knob_values().items() if getattr(ref, k) != v}


def knob_fields() -> list[dataclasses.Field[Any]]:
    """The knobs of `Design` (fields that carry allowed values)."""
    return [f for f in dataclasses.fields(Design) if "allowed" in f.metadata]


def knobs() -> list[dict[str, Any]]:
    """Every knob with its default, allowed values and documentation, for the CLI and
    docs: ``[{name, default, allowed, doc}]``."""
    return [
        {
            "name": f.name,
            "default": f.default,
            "allowed": list(f.metadata["allowed"]),
            "doc": f.metadata["doc"],
        }
        for f in knob_fields()
    ]


def _show(values: tuple[Any, ...] | list[Any]) -> str:
    def one(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return f'"{v}"'
        return str(v)

    return ", ".join(one(v) for v in values)


_META = ("name", "description", "expected_violations")


def design_from_mapping(data: dict[str, Any], source: str, default_name: str = "custom") -> Design:
    """Build a `Design` from parsed TOML. `source` names the file in error messages."""
    values: dict[str, Any] = {}
    fields_by_name = {f.name: f for f in knob_fields()}
    for key, value in data.items():
        if key in ("name", "description"):
            if not isinstance(value, str):
                raise DesignError(f"{source}: key '{key}': expected a string, got {value!r}")
            values[key] = value
        elif key == "expected_violations":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise DesignError(
                    f"{source}: key 'expected_violations': expected a list of property "
                    f"names, got {value!r}"
                )
            values[key] = tuple(value)
        elif key in fields_by_name:
            allowed = fields_by_name[key].metadata["allowed"]
            if type(value) is not type(allowed[0]) or value not in allowed:
                kind = "boolean" if isinstance(allowed[0], bool) else "string"
                raise DesignError(
                    f"{source}: key '{key}': {_toml_repr(value)} is not allowed "
                    f"(a {kind}); allowed values: {_show(allowed)}"
                )
            values[key] = value
        else:
            if isinstance(value, dict):
                raise DesignError(
                    f"{source}: key '{key}': tables are not part of the design format; "
                    f"allowed keys: {', '.join((*_META, *fields_by_name))}"
                )
            raise DesignError(
                f"{source}: key '{key}': unknown knob; allowed keys: "
                f"{', '.join((*_META, *fields_by_name))}"
            )
    values.setdefault("name", default_name)
    try:
        return Design(**values)
    except DesignError as exc:
        # Re-anchor the message on the file rather than the design name.
        text = str(exc)
        prefix = f"design {values['name']}: "
        if text.startswith(prefix):
            text = text[len(prefix) :]
        raise DesignError(f"{source}: {text}") from None


def _toml_repr(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def load_design_file(path: str | Path) -> Design:
    """Load a design TOML file. Raises `DesignError` (one line) on any problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise DesignError(f"{p}: cannot read the design file: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DesignError(f"{p}: not valid TOML: {exc}".replace("\n", " ")) from None
    return design_from_mapping(data, str(p), default_name=p.stem)


def _preset_files() -> dict[str, Any]:
    base = resources.files("lifecycle.mdm").joinpath("designs")
    return {
        entry.name[: -len(".toml")]: entry
        for entry in base.iterdir()
        if entry.name.endswith(".toml")
    }


_PRESETS: dict[str, Design] | None = None


def presets() -> dict[str, Design]:
    """Preset name -> Design, `reference` first, then alphabetical. Each has a
    `.description` and `.expected_violations` (empty for `reference`)."""
    global _PRESETS
    if _PRESETS is None:
        loaded: dict[str, Design] = {}
        files = _preset_files()
        for name in ["reference", *sorted(n for n in files if n != "reference")]:
            entry = files[name]
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
            loaded[name] = design_from_mapping(data, f"designs/{name}.toml", default_name=name)
        _PRESETS = loaded
    return dict(_PRESETS)


def load_design(name_or_path: str | Path) -> Design:
    """A preset by name (`reference`, ...) or a design TOML file by path.

    Raises `DesignError` with a one-line message for an unknown preset, an unreadable
    file or an invalid design.
    """
    text = str(name_or_path)
    table = presets()
    if text in table:
        return table[text]
    p = Path(text)
    if p.suffix == ".toml" or p.exists() or "/" in text or "\\" in text:
        return load_design_file(p)
    raise DesignError(f"{text}: no such preset or design file; allowed presets: {', '.join(table)}")


@dataclass(frozen=True)
class Scope:
    """How much of the world to explore; separate from the design.

    - devices: number of devices, 1-3.
    - kinds: enrollment kinds a device may use (subset of KINDS).
    - platforms: platforms a device may be (subset of PLATFORMS).
    - reenrollments: re-enrollments per device after the first enrollment, 0-2.
    - max_in_flight: bound on messages in flight per device channel, 1-4. A send is
      not enabled when the channel is full (the message waits on the device).
    - local_admin: whether devices with / without a non-tenant local admin are
      explored (a device without one is set up through Azure AD OOBE, so it can only
      enroll by Azure AD join).
    - manual_unenroll: AllowManualMDMUnenrollment values explored (True = 1, the
      default; False = 0, user disconnect blocked, F31, F47).
    - interleaving: how several devices are interleaved (irrelevant for one device).
      Devices are independent by construction: every row reads and writes one
      device's slice (its device, its enrollment record, its directory entry, its
      channel), and every property is a per-device property. So:
      "independent" (default) is a partial-order reduction: one device moves at a time
      while the others rest in their initial state, and another starts only when the
      moving one has no step left; verdicts and shortest counterexamples equal those
      of the full product (tested against "full" on a small scope).
      "full" explores every interleaving of every device (the product, up to device
      symmetry); it is exact but grows as the per-device space to the power N.
    """

    devices: int = 1
    kinds: tuple[str, ...] = KINDS
    platforms: tuple[str, ...] = PLATFORMS
    reenrollments: int = 1
    max_in_flight: int = 2
    local_admin: tuple[bool, ...] = (True, False)
    manual_unenroll: tuple[bool, ...] = (True, False)
    interleaving: str = "independent"

    def __post_init__(self) -> None:
        def bad(key: str, value: Any, allowed: str) -> DesignError:
            return DesignError(f"scope: key '{key}': {value!r} is not allowed; allowed: {allowed}")

        if not isinstance(self.devices, int) or not 1 <= self.devices <= 3:
            raise bad("devices", self.devices, "1, 2, 3")
        if not isinstance(self.reenrollments, int) or not 0 <= self.reenrollments <= 2:
            raise bad("reenrollments", self.reenrollments, "0, 1, 2")
        if not isinstance(self.max_in_flight, int) or not 1 <= self.max_in_flight <= 4:
            raise bad("max_in_flight", self.max_in_flight, "1, 2, 3, 4")
        if self.interleaving not in ("independent", "full"):
            raise bad("interleaving", self.interleaving, "independent, full")
        object.__setattr__(self, "kinds", tuple(self.kinds))
        object.__setattr__(self, "platforms", tuple(self.platforms))
        object.__setattr__(self, "local_admin", tuple(self.local_admin))
        object.__setattr__(self, "manual_unenroll", tuple(self.manual_unenroll))
        if not self.kinds or any(k not in KINDS for k in self.kinds):
            raise bad("kinds", self.kinds, ", ".join(KINDS))
        if not self.platforms or any(p not in PLATFORMS for p in self.platforms):
            raise bad("platforms", self.platforms, ", ".join(PLATFORMS))
        if not self.local_admin or any(type(v) is not bool for v in self.local_admin):
            raise bad("local_admin", self.local_admin, "True, False")
        if not self.manual_unenroll or any(type(v) is not bool for v in self.manual_unenroll):
            raise bad("manual_unenroll", self.manual_unenroll, "True, False")
        if (
            False in self.local_admin
            and "aad_join" not in self.kinds
            and True not in (self.local_admin)
        ):
            raise bad(
                "local_admin",
                self.local_admin,
                "a device without a local admin can only enroll by aad_join; add "
                "aad_join to kinds or True to local_admin",
            )

    def describe(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
