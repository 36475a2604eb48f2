"""Design knobs, the TOML design format, presets, and the scope.

A `Design` is an architect's unenrollment design: each knob is one decision a real
server or client makes, and the first allowed value of each is the reference choice
(what the Microsoft documentation says where it speaks, otherwise the safest choice,
as each knob's ``source`` says). A `Scope` is how much of the world to explore
(devices, enrollment kinds, platforms, re-enrollments, offline periods, the MDM
switch, in-flight bound); it is kept apart from the design so that one design can be
checked at several sizes, but a design file may carry the scope its bug needs
(``[scope]``).

TOML format (every key optional; an omitted knob keeps its reference default)::

    name = "server_waits_for_stale_sessions"
    description = "One line saying what is wrong with this design."
    expected_violations = ["no_deadlock"]     # property names; [] for a sound design

    server_stale_sessions = "wait"
    channel = "lossy"

    [scope]                                   # optional: the scope this design needs
    devices = 2
    shared_hardware_id = true

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

from lifecycle.reading import InputError, printable, read_regular

KINDS = ("work_access", "aad_join", "bulk", "aad_registered")
#: The kinds a scope explores unless told otherwise. Bulk enrollment behaves as a Work
#: Access enrollment in every row (both may Disconnect, F44; they differ only in how the
#: enrollment is provisioned, which the model does not distinguish), so it would only
#: double their states; a test checks that it gives the same verdicts.
DEFAULT_KINDS = ("work_access", "aad_join", "aad_registered")
PLATFORMS = ("desktop", "mobile")

#: The properties a design may expect to violate (`expected_violations`). The property
#: module builds exactly these (a test checks it); they live here, at the bottom of the
#: package, because a design file names them.
SAFETY = (
    "no_deadlock",
    "no_orphaned_aad_device",
    "cleanup_complete",
    "no_stale_unenroll",
    "no_commands_after_unenroll",
    "server_agrees_when_quiet",
    "server_notified_before_data_deleted",
    "manual_unenroll_policy_respected",
    "no_commands_pending_after_unenroll",
    "single_management_authority",
    "one_session_at_a_time",
    "unenroll_refused_only_where_documented",
    "mdm_off_admits_nothing",
    "sessions_stay_in_their_enrollment",
    "unenroll_alert_recognised",
    "admin_request_not_lost",
)
WITNESSES = (
    "first_session_completes",
    "policy_acknowledged",
    "user_unenroll_completes",
    "aad_unenroll_completes",
    "admin_unenroll_completes",
    "wipe_completes",
)
#: Liveness properties, checked under the model's fairness (`LifecycleComposition.fairness`).
LIVENESS = (
    "server_eventually_learns",
    "admin_unenroll_takes_effect",
    "cleanup_eventually_completes",
    "due_session_answered",
    "no_ghost_device",
)
PROPERTY_NAMES = (*SAFETY, *LIVENESS, *WITNESSES, "deadlock")


class DesignError(ValueError):
    """A design file or value is invalid. The message is one line: file, key, and the
    allowed values, so the CLI can print it as is and exit with status 2."""


def _knob(
    allowed: tuple[Any, ...], doc: str, source: str, servers: dict[Any, str] | None = None
) -> Any:
    """A knob: its allowed values (the first is the reference), what it decides, why
    the first value is the reference (``source``), and the real servers or clients
    behind each value."""
    return field(
        default=allowed[0],
        metadata={"allowed": allowed, "doc": doc, "source": source, "servers": servers or {}},
    )


@dataclass(frozen=True)
class Design:
    """An unenrollment design. Defaults are the reference design.

    Read the knob documentation with `knobs()`; each field's metadata holds its allowed
    values, a one-line explanation naming the facts, the source of the reference
    choice and the real servers behind each value.
    """

    name: str = "custom"
    description: str = ""
    expected_violations: tuple[str, ...] = ()
    #: Scope fields the design needs (``[scope]`` in its file), as (key, value) pairs.
    scope_overrides: tuple[tuple[str, Any], ...] = ()

    # ---------------------------------------------------------------- sessions
    server_stale_sessions: str = _knob(
        ("abort", "wait"),
        "When a new session arrives for an enrollment whose earlier session is still open "
        "on the server (the device aborted it unsignalled, or a package was lost), the "
        "server aborts the stale session (F14, F69) or holds the new one until the stale "
        "one completes.",
        "doc: F14 (sessions are aborted to avoid deadlocks), OMA DM tolerance of "
        "unsignalled aborts (F69)",
    )
    device_sessions_on_unenroll: str = _knob(
        ("abort", "keep"),
        "On a user disconnect or a DMClient Unenroll Exec the device aborts all its DM "
        "sessions, the current one included, before the alert session (F6, F14, A1, "
        "A11), or keeps them open (the Exec's session waits for the alert session).",
        "doc: F6, F14",
    )
    auth_challenge: str = _knob(
        ("none", "resend", "drops_alert"),
        "The server processes package 1 as it comes, or answers a session's first "
        "package with a 401/407 challenge (Chal) before it processes any alert: the "
        "device then sends package 1 again with credentials (MsgID 2), or, for the "
        "alert session it no longer reads (A2), never does, so the alert is lost "
        "(real-world 3.3).",
        "safest: the doc does not challenge; a challenge only adds a way to lose the alert",
        {
            "resend": "Fleet (challenge, Windows resends)",
            "drops_alert": "Fleet with an unenrolling device (real-world 3.3)",
        },
    )
    # ------------------------------------------------------------ the alert
    alert_retry: str = _knob(
        ("never", "until_acknowledged"),
        "The 1226 unenroll alert is sent once, best effort, and cleanup starts once it is "
        "sent (F3, F7, A6), or it is re-sent in a new session until the server "
        "acknowledges it.",
        "doc: F3 (no retry is built in), F7",
    )
    alert_recognition: str = _knob(
        ("type", "type_or_empty_meta", "data_only"),
        "The server recognises the unenroll alert by its Meta Type "
        "com.microsoft:mdm.unenrollment.userrequest only (F5, F16), also a 1226 with an "
        "empty <Meta/> and Data 1 (MicrosoftDocs #8376, F10, A4), or any 1226 whatever "
        "its Type, so a CSP's asynchronous result (F78) counts as an unenroll "
        "(real-world 3.17).",
        "doc: F5, F16 name the Type",
        {"type": "Fleet, Mattrax 2020 (Meta Type)", "data_only": "WSO2 (alert Data only)"},
    )
    multi_alert: str = _knob(
        ("all", "last_only"),
        "Package 1 can carry 1201, 1224 and 1226 alerts together (F9). The server "
        "processes every one in document order, or only the last (real-world 3.16).",
        "doc: F9 shows several alerts in one package; OMA DM processes every command",
        {"all": "Fleet", "last_only": "WSO2"},
    )
    # --------------------------------------------------------- the record table
    record_key: str = _knob(
        ("enrollment", "device_id", "hardware_id"),
        "The server matches packages, alerts and re-enrollments to records by enrollment "
        "(device and generation: each enrollment a new id), by device id (DevID, any "
        "enrollment: real-world 3.8), or by hardware id (HWDevID: cloned images share one, "
        "Fleet #50612, real-world 3.9).",
        "safest: the enrollment id is the only key that names one enrollment "
        "(real-world 5: make the generation explicit)",
        {
            "device_id": "Fleet (delete by device id), Mattrax 2020",
            "hardware_id": "Fleet (re-enroll by HWDevID)",
        },
    )
    record_uniqueness: str = _knob(
        ("enforced", "none"),
        "The server keeps at most one record per enrollment (a repeated enrollment request "
        "is answered again, idempotently), or does not check, so a request retried during "
        "a race adds a second record for the same device (Fleet #20764, real-world 3.10).",
        "safest: the doc is silent; a unique key is the usual database choice",
        {"none": "Fleet (duplicate host_uuid rows, #20764)"},
    )
    reenroll_policy: str = _knob(
        ("replace", "refuse_unless_unenrolled", "keep_old"),
        "A new enrollment for a device the server still holds a record for (by its record "
        "key) replaces the old record, is refused until the old record is unenrolled "
        "(DeviceCapReached, F87), or is added beside the old record, which is marked "
        "removed (real-world 3.7).",
        "safest: the doc is silent; replacing keeps one record per device",
        {
            "replace": "Fleet (delete the old row by HWDevID)",
            "refuse_unless_unenrolled": "Mattrax 2020 (DeviceCapReached)",
            "keep_old": "WSO2 (old row REMOVED)",
        },
    )
    enrollment_commit: str = _knob(
        ("on_confirm", "on_token"),
        "The record becomes enrolled when the device confirms the enrollment (its first "
        "DM session), or already when the server issues the token, so an enrollment that "
        "fails on the device leaves an enrolled record with no device behind it (Fleet "
        "#29042, real-world 3.20).",
        "safest: the doc is silent; MS-MDE2 ends with the device's first session (F84)",
        {"on_token": "Fleet (row stored with the token response)"},
    )
    # ------------------------------------------------------------ the outcome
    outcome: str = _knob(
        ("verify", "trust_alert", "never"),
        "How the server learns that a device unenrolled: it verifies (the alert, then a "
        "missed scheduled check-in or an unanswered push, F55, A10), trusts the alert "
        "alone, or never learns (unenroll not implemented).",
        "doc: F55 (absence of the scheduled callback, or no session after a push)",
        {"trust_alert": "Fleet, WSO2", "never": "Mattrax 2020"},
    )
    verify_by: str = _knob(
        ("checkin", "push"),
        "With outcome = verify: confirm by the absence of the scheduled check-in, or by "
        "a push followed by a delay with no session (F55, F61). Only with verify.",
        "doc: F55 names both; the check-in needs no push channel",
    )
    presume_unenrolled: str = _knob(
        ("after_silence", "never"),
        "With outcome = verify: the lost-contact timer presumes a record unenrolled when "
        "it has no open session and the device has not checked in for longer than its "
        "poll interval (an offline device included), or the server never presumes, so a "
        "lost alert is never concluded (A10). Only with verify.",
        "doc: F55 (confirm by the absence of the callback), A10",
    )
    # ------------------------------------------------------------- the commands
    server_unenroll: str = _knob(
        ("exec", "none", "agent"),
        "The admin's remote unenroll is a DMClient Unenroll Exec delivered in the next "
        "session (F23, F27), does not exist, or is done by a local agent that makes the "
        "device unenroll itself through the Unregister API, which then sends the 1226 "
        "(F12, real-world 1.6).",
        "doc: F23",
        {"none": "Mattrax 2020", "agent": "Fleet (fleetd calls the Unregister API)"},
    )
    exec_done_at: str = _knob(
        ("outcome", "send"),
        "The server marks the Unenroll Exec done when it learns the outcome (the device "
        "sends no Status for it, F15: the alert, the missed check-in), or as soon as it "
        "sends it. Only with server_unenroll = exec.",
        "doc: F15 (no response for the unenrollment)",
        {"send": "WSO2, latchz (done at send)"},
    )
    delivery: str = _knob(
        ("until_status", "at_most_once"),
        "A command that gets a Status stays queued until its Status arrives, and is sent "
        "again in the next session if it never came (at least once), or it is marked "
        "sent when it is sent (at most once: a lost package loses the command).",
        "safest: OMA DM pairs every command with a Status (F67)",
        {"until_status": "Fleet", "at_most_once": "Mattrax 2020, latchz"},
    )
    queue_on_unenroll: str = _knob(
        ("drop", "deliver", "keep_pending"),
        "Commands still queued when the server accepts the unenroll are dropped, kept "
        "and delivered (e.g. in the reply to the alert session), or kept pending, never "
        "sent and never withdrawn (real-world 3.1, 3.23).",
        "safest: the doc is silent; F33-F36 say nothing is applied after unenroll",
        {
            "drop": "Fleet (FK cascade)",
            "deliver": "Mattrax 2020",
            "keep_pending": "WSO2, latchz",
        },
    )
    queue_on_reenroll: str = _knob(
        ("drop", "deliver"),
        "Commands queued for an earlier enrollment are dropped when the device enrolls "
        "again, or delivered to the new enrollment (real-world 3.11, Fleet #20869).",
        "safest: a command belongs to the enrollment it was queued for",
        {"deliver": "Fleet (macOS #20869)"},
    )
    # -------------------------------------------------------- the MDM switch
    alerts_when_mdm_off: str = _knob(
        ("accept", "reject"),
        "While the tenant has MDM turned off, the server still accepts 1226 unenroll "
        "alerts (real-world 3.4, 3.14), or rejects the sessions that carry them (Fleet "
        "#24209).",
        "safest: real-world 3.14 (the device's unenroll must still be accepted)",
        {"reject": "Fleet (#24209)"},
    )
    queue_on_mdm_off: str = _knob(
        ("withdraw", "keep"),
        "Turning MDM off withdraws the queued commands (the requests they carried are "
        "marked failed), or keeps them, so they are still delivered (PR #43719, "
        "real-world 3.14).",
        "safest: real-world 3.14 (pending commands must be withdrawn)",
        {"keep": "Fleet before PR #43719"},
    )
    # ------------------------------------------------------------- the device
    remote_unenroll_removes_aad: bool = _knob(
        (True, False),
        "A remote unenroll of an Azure AD joined desktop removes the AAD association (F50), "
        "or leaves it.",
        "doc: F50",
    )
    require_local_admin: bool = _knob(
        (True, False),
        "Before a remote unenroll of an Azure AD joined device the server requires a "
        "non-tenant local admin in the device's inventory and offers wipe otherwise (F51), "
        "or does not check.",
        "doc: F51",
    )
    mobile_aadj_remote_unenroll: str = _knob(
        ("fails", "proceeds"),
        "A remote unenroll of a mobile Azure AD joined device fails with an error status "
        "and the server offers wipe (F21, F52), or proceeds (the MDM account is "
        "removed, but on mobile the AAD association can only go with a wipe, A16).",
        "doc: F21, F52",
    )
    channel: str = _knob(
        ("lossy", "reliable"),
        "Any HTTP exchange or push may be lost (the connection drops, F3, F69), or none is. "
        "Offline periods are the scope's (max_offline).",
        "safest: F3 (best effort), F69",
    )
    self_unenroll_after_lost_contact: bool = _knob(
        (False, True),
        "The server provisions NumberOfDaysAfterLostContactToUnenroll (F13, A17): the "
        "device unenrolls itself, sending no alert, once it has lost contact.",
        "safest: the doc describes the node without recommending it (F13)",
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
        for key, needs, value in _CONDITIONAL:
            own = getattr(self, key)
            if own != _DEFAULTS[key] and getattr(self, needs) != value:
                raise _conditional_error(f"design {self.name}", key, needs, value, self)
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

    def scope(self, base: Scope | None = None) -> Scope:
        """`base` (default `Scope()`) with the design's own scope fields applied."""
        start = base if base is not None else Scope()
        if not self.scope_overrides:
            return start
        return dataclasses.replace(start, **dict(self.scope_overrides))


def knob_fields() -> list[dataclasses.Field[Any]]:
    """The knobs of `Design` (fields that carry allowed values)."""
    return [f for f in dataclasses.fields(Design) if "allowed" in f.metadata]


_DEFAULTS = {f.name: f.default for f in knob_fields()}
_ALLOWED = {f.name: f.metadata["allowed"] for f in knob_fields()}
# (knob, the knob it depends on, the value that knob must have): a knob that only means
# something under another knob's value may not leave its default without it.
_CONDITIONAL = (
    ("verify_by", "outcome", "verify"),
    ("presume_unenrolled", "outcome", "verify"),
    ("exec_done_at", "server_unenroll", "exec"),
)


def _conditional_error(where: str, key: str, needs: str, value: str, design: Any) -> DesignError:
    actual = getattr(design, needs) if not isinstance(design, dict) else design.get(needs)
    allowed = _show(_ALLOWED[key])
    return DesignError(
        f"{where}: key '{key}': only applies when {needs} = \"{value}\" ({needs} is "
        f"{_show((actual,))}); leave '{key}' out, or set {needs} = \"{value}\" "
        f"(allowed values there: {allowed})"
    )


def knobs() -> list[dict[str, Any]]:
    """Every knob with its default, allowed values and documentation, for the CLI and
    docs: ``[{name, default, allowed, doc, source, servers}]``."""
    return [
        {
            "name": f.name,
            "default": f.default,
            "allowed": list(f.metadata["allowed"]),
            "doc": f.metadata["doc"],
            "source": f.metadata["source"],
            "servers": dict(f.metadata["servers"]),
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


_META = ("name", "description", "expected_violations", "scope")
# unenroll_key is the old name of record_key (deprecated; its two values map over).
_ALIASES = {"unenroll_key": ("record_key", {"generation": "enrollment", "device_id": "device_id"})}


def design_from_mapping(data: dict[str, Any], source: str, default_name: str = "custom") -> Design:
    """Build a `Design` from parsed TOML. `source` names the file in error messages."""
    values: dict[str, Any] = {}
    fields_by_name = {f.name: f for f in knob_fields()}
    allowed_keys = ", ".join((*_META, *fields_by_name))
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
        elif key == "scope":
            values["scope_overrides"] = scope_overrides_from_mapping(value, source)
        elif key in _ALIASES:
            target, mapping = _ALIASES[key]
            if value not in mapping:
                raise DesignError(
                    f"{source}: key '{key}' (deprecated: use '{target}'): {_toml_repr(value)} "
                    f"is not allowed; allowed values: {_show(tuple(mapping))}"
                )
            if target in data:
                raise DesignError(f"{source}: key '{key}': give '{target}' or '{key}', not both")
            values[target] = mapping[value]
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
                    f"{source}: key '{key}': the only table of the design format is "
                    f"[scope]; allowed keys: {allowed_keys}"
                )
            raise DesignError(f"{source}: key '{key}': unknown knob; allowed keys: {allowed_keys}")
    # A knob that only means something under another knob's value, set explicitly
    # (even to its default) while that knob says otherwise, is an impossible design.
    for key, needs, needed in _CONDITIONAL:
        if key in data and values.get(needs, _DEFAULTS[needs]) != needed:
            merged = {needs: values.get(needs, _DEFAULTS[needs])}
            raise _conditional_error(source, key, needs, needed, merged)
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


#: The largest design file read: a design is a few dozen lines, and a cap keeps a
#: device file such as /dev/zero from filling memory.
MAX_DESIGN_BYTES = 1 << 20


def load_design_file(path: str | Path) -> Design:
    """Load a design TOML file. Raises `DesignError` (one line) on any problem: a path
    that is not a regular file (a FIFO would block the read, a device would never end)
    is refused before it is opened, the size is capped, and undecodable or binary
    text, nesting too deep and numbers too large are named, not raised."""
    p = Path(path)
    where = printable(str(p))
    try:
        raw = read_regular(p, MAX_DESIGN_BYTES, "a design TOML file")
    except InputError as exc:
        raise DesignError(f"{where}: {exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DesignError(
            f"{where}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None
    if "\x00" in text:
        raise DesignError(f"{where}: binary data (a NUL byte at offset {text.index(chr(0))})")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DesignError(f"{where}: not valid TOML: {printable(str(exc))}") from None
    except RecursionError:
        raise DesignError(f"{where}: not a design: values nested too deep") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise DesignError(f"{where}: not a design: {printable(str(exc))}") from None
    return design_from_mapping(data, where, default_name=p.stem)


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
    try:
        exists = p.exists()
    except (OSError, ValueError):  # a name too long, or with a NUL: not a file anyway
        exists = False
    if p.suffix == ".toml" or exists or "/" in text or "\\" in text:
        return load_design_file(p)
    shown = printable(text if len(text) <= 80 else text[:77] + "...")
    raise DesignError(
        f"{shown}: no such preset or design file; allowed presets: {', '.join(table)}"
    )


@dataclass(frozen=True)
class Scope:
    """How much of the world to explore; separate from the design.

    - devices: number of devices, 1-3. Devices share the server's record table, so
      every interleaving of their steps is explored (stored up to the order of
      devices, which are interchangeable: a symmetry reduction).
    - kinds: enrollment kinds a device may use (subset of KINDS; by default all but
      bulk, which behaves as work_access in every row).
    - platforms: platforms a device may be (subset of PLATFORMS).
    - reenrollments: re-enrollments per device after the first enrollment, 0-2.
    - max_in_flight: bound on messages in flight per device channel, 1-4. A send is
      not enabled when the channel is full (the message waits on the device).
    - local_admin: whether devices with / without a non-tenant local admin are
      explored (a device without one is set up through Azure AD OOBE, so it can only
      enroll by Azure AD join).
    - manual_unenroll: AllowManualMDMUnenrollment values explored (True = 1, the
      default; False = 0, user disconnect blocked, F31, F47).
    - max_offline: offline periods per device: 0, 1, 2, or None for any number (the
      environment's GoOffline / ComeOnline). While offline the device reaches nothing,
      and the server's lost-contact timer may fire for a device that is alive. None is
      the default because it is both the stronger check and the smaller search: a bound
      needs a counter per device, which splits every state after an offline period.
    - mdm_toggle: whether the tenant admin may turn MDM off and on again
      (TurnOffMDM / TurnOnMDM, Fleet #24209).
    - shared_hardware_id: every device of the scope has the same hardware id, as
      devices cloned from one image do (Fleet #50612).
    """

    devices: int = 1
    kinds: tuple[str, ...] = DEFAULT_KINDS
    platforms: tuple[str, ...] = PLATFORMS
    reenrollments: int = 1
    max_in_flight: int = 2
    local_admin: tuple[bool, ...] = (True, False)
    manual_unenroll: tuple[bool, ...] = (True, False)
    max_offline: int | None = None
    mdm_toggle: bool = True
    shared_hardware_id: bool = False

    def __post_init__(self) -> None:
        def bad(key: str, value: Any, allowed: str) -> DesignError:
            return DesignError(f"scope: key '{key}': {value!r} is not allowed; allowed: {allowed}")

        for key, low, high in (
            ("devices", 1, 3),
            ("reenrollments", 0, 2),
            ("max_in_flight", 1, 4),
            ("max_offline", 0, 2),
        ):
            value = getattr(self, key)
            if key == "max_offline" and value is None:
                continue
            if type(value) is not int or not low <= value <= high:
                extra = ", unbounded" if key == "max_offline" else ""
                raise bad(key, value, ", ".join(str(n) for n in range(low, high + 1)) + extra)
        for key in ("mdm_toggle", "shared_hardware_id"):
            if type(getattr(self, key)) is not bool:
                raise bad(key, getattr(self, key), "true, false")
        for key in ("kinds", "platforms", "local_admin", "manual_unenroll"):
            value = getattr(self, key)
            if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
                raise bad(key, value, "a list")
            object.__setattr__(self, key, tuple(value))
        if not self.kinds or any(k not in KINDS for k in self.kinds):
            raise bad("kinds", self.kinds, ", ".join(KINDS))
        if not self.platforms or any(p not in PLATFORMS for p in self.platforms):
            raise bad("platforms", self.platforms, ", ".join(PLATFORMS))
        if not self.local_admin or any(type(v) is not bool for v in self.local_admin):
            raise bad("local_admin", self.local_admin, "true, false")
        if not self.manual_unenroll or any(type(v) is not bool for v in self.manual_unenroll):
            raise bad("manual_unenroll", self.manual_unenroll, "true, false")
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


SCOPE_KEYS = tuple(f.name for f in dataclasses.fields(Scope))


def smallest_scope() -> Scope:
    """The smallest scope that still has every enrollment path: one device, no
    re-enrollment, one message in flight, no offline period, no MDM switch (the
    report's, the diagrams' and the SyncML corpus's scope)."""
    return Scope(devices=1, reenrollments=0, max_in_flight=1, max_offline=0, mdm_toggle=False)


def scope_overrides_from_mapping(data: Any, source: str) -> tuple[tuple[str, Any], ...]:
    """The ``[scope]`` table of a design file, checked: known keys, values a `Scope`
    accepts (TOML arrays become tuples)."""
    if not isinstance(data, dict):
        raise DesignError(f"{source}: key 'scope': expected a table ([scope]), got {data!r}")
    pairs: list[tuple[str, Any]] = []
    for key, value in data.items():
        if key not in SCOPE_KEYS:
            raise DesignError(
                f"{source}: key 'scope.{key}': unknown scope field; allowed keys: "
                f"{', '.join(SCOPE_KEYS)}"
            )
        if key == "max_offline" and value == "unbounded":
            value = None
        pairs.append((key, tuple(value) if isinstance(value, list) else value))
    try:
        Scope(**dict(pairs))
    except DesignError as exc:
        text = str(exc).replace("scope: key '", "key 'scope.")
        raise DesignError(f"{source}: {text}") from None
    except TypeError as exc:
        raise DesignError(f"{source}: key 'scope': {exc}") from None
    return tuple(pairs)
