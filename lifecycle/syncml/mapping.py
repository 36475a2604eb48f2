"""The model's messages as SyncML packages and back: `to_package(msg)`, `from_package(pkg)`.

The model (`lifecycle.mdm.state.Msg`) abstracts a package to a kind and a few body
tokens; this module fixes one concrete package for each, following the facts, and
reads any package (a capture too) back to the kind and tokens the model would use:

- ``pkg1``, the device's package 1 (F58, F65): Alert 1201, then one Alert 1226 per
  token: ``unenroll`` with Meta Type ``com.microsoft:mdm.unenrollment.userrequest``,
  Format int, Data 1 (F5, F16), ``unenroll_empty`` with an empty ``<Meta/>`` (F10),
  ``csp`` with a CSP's result Type (F78); then the DevInfo Replace. Sent again with
  credentials after a challenge it is MsgID 2 and carries a Cred (F82).
- ``pkg2``, the server's package 2: Status for the SyncHdr and every client command
  (F66), then ``final`` nothing, ``abort`` Alert 1223 (F70), ``policy`` an Add,
  ``unenroll`` the DMClient Unenroll Exec (F23-F25, A7), ``wipe`` RemoteWipe/doWipe
  (F52); ``challenge`` is a SyncHdr Status 401 with a Chal and no other command (the
  commands of an unauthenticated message are not processed). Final closes each.
- ``pkg3``, the device's package 3 (F67): Status for the SyncHdr and for each server
  command, 200 for ``ok``, 405 for ``error`` (the refusal's code is undocumented, F21).
- ``pkg4``, the server's closing package: Status for the SyncHdr, Alert 1223 for
  ``abort``, Final (F66, F70).

The enrollment exchange (MS-MDE2, F84), the WNS push (F61) and a management agent's
request are not SyncML: `to_package` refuses them with the reason (`NOT_SYNCML`), and
they never appear in a SyncML capture.

What the wire does not carry is not recovered: the enrollment generation (the client
certificate, below SyncML) is `from_package`'s argument, and the ghost ``origin`` is 0.
The model's two sessions of an enrollment are told apart by SessionID (`Endpoints`);
a package 1 is in the alert session exactly when it carries an unenroll alert (F6).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from lifecycle.mdm.state import Msg
from lifecycle.syncml.errors import SyncMLError
from lifecycle.syncml.package import (
    CLIENT_INITIATED,
    GENERIC_ALERT,
    SERVER_INITIATED,
    SESSION_ABORT,
    Add,
    Alert,
    Chal,
    Command,
    Cred,
    Exec,
    Get,
    Item,
    Meta,
    Package,
    Replace,
    Results,
    Status,
    SyncHdr,
)

#: Facts the mapping follows (collected into docs/facts.md).
FACTS = (
    "F5",
    "F6",
    "F9",
    "F10",
    "F16",
    "F21",
    "F23",
    "F24",
    "F25",
    "F26",
    "F28",
    "F52",
    "F58",
    "F61",
    "F65",
    "F66",
    "F67",
    "F68",
    "F70",
    "F71",
    "F76",
    "F78",
    "F81",
    "F82",
    "F83",
    "F84",
)

#: The model's kinds that are SyncML packages, and the body tokens each can carry.
SYNCML_KINDS: dict[str, tuple[str, ...]] = {
    "pkg1": ("1201", "unenroll", "unenroll_empty", "csp"),
    "pkg2": ("final", "abort", "challenge", "policy", "unenroll", "wipe"),
    "pkg3": ("ok", "error"),
    "pkg4": ("final", "abort"),
}
#: The model's kinds that are not SyncML, and why they never appear in a SyncML capture.
NOT_SYNCML: dict[str, str] = {
    "enroll_request": (
        "the MS-MDE2 enrollment request (discovery, token, RequestSecurityToken over "
        "SOAP, F84) is not SyncML"
    ),
    "enroll_response": (
        "the MS-MDE2 enrollment response (the token with the provisioning XML, or a "
        "SOAP fault, F84) is not SyncML"
    ),
    "push": "a raw WNS push (F61) carries nothing and is not SyncML; the session it starts is",
    "agent": "a management agent's request (Fleet's fleetd) travels outside OMA DM",
}

#: The Meta Type of the unenroll alert, user and server path alike (F5, F16).
UNENROLL_TYPE = "com.microsoft:mdm.unenrollment.userrequest"
#: A CSP's asynchronous result (S12's example of another 1226 Type, F78).
CSP_RESULT_TYPE = "Reversed-Domain-Name:com.microsoft.mdm.EnterpriseHostedAppInstall.result"
#: The policy the model's abstract ``policy`` command is written as (F31, F47).
POLICY_URI = "./Device/Vendor/MSFT/Policy/Config/Experience/AllowManualMDMUnenrollment"
#: The wipe the docs advise where a remote unenroll fails (F52).
WIPE_URI = "./Device/Vendor/MSFT/RemoteWipe/doWipe"
AUTH_MD5 = "syncml:auth-md5"
#: Status codes (F81, F83): OK, authentication accepted, invalid credentials, command
#: not allowed (the mapping's choice for an undocumented refusal, F21).
OK, AUTH_ACCEPTED, UNAUTHORIZED, NOT_ALLOWED = 200, 212, 401, 405

#: Every LocURI the DMClient Unenroll Exec is written with (F25, F26, A7): the current
#: node with or without ./Device, the legacy node (also without its leading "."), and
#: MS-MDE2's extra segment; not LinkedEnrollment/Unenroll, another command (F32).
_UNENROLL = re.compile(
    r"\.?/(?:Device/)?Vendor/MSFT/DMClient/"
    r"(?:Provider/[^/]+/(?:(?!LinkedEnrollment/)[^/]+/)?)?Unenroll"
)
_WIPE = re.compile(
    r"\.?/(?:Device/)?Vendor/MSFT/RemoteWipe/"
    r"doWipe(?:Protected|PersistProvisionedData|PersistUserData)?"
)


@dataclass(frozen=True)
class Endpoints:
    """The names the model leaves abstract: the device's DevID (its LocURI), the
    server's URL, the DM server's ProviderID (the Exec's Data, F24), and a SessionID
    for each of the model's two sessions of an enrollment ("main" and "alert")."""

    device: str = "urn:uuid:5a1c0b3e-77d2-4f08-9d6a-2c41e0f3b7a9"
    server: str = "https://mdm.example.com/ManagementServer/MDM.svc"
    provider_id: str = "ExampleMDM"
    main_session: str = "1"
    alert_session: str = "2"

    def session_id(self, session: str) -> str:
        return self.alert_session if session == "alert" else self.main_session

    def session(self, session_id: str) -> str:
        return "alert" if session_id == self.alert_session else "main"

    def unenroll_uri(self) -> str:
        """The Exec's node, as A7 recommends and the CSP examples write it (F25)."""
        return f"./Vendor/MSFT/DMClient/Provider/{self.provider_id}/Unenroll"


def _numbered(commands: list[Command]) -> tuple[Command, ...]:
    """`commands` with CmdIDs 1, 2, ... in order: unique and never 0 (F73)."""
    return tuple(dataclasses.replace(c, cmd_id=n) for n, c in enumerate(commands, start=1))


def _alert_1226(token: str) -> Alert:
    if token == "unenroll":
        return Alert(
            0, GENERIC_ALERT, (Item(meta=Meta(format="int", type=UNENROLL_TYPE), data="1"),)
        )
    if token == "unenroll_empty":
        return Alert(0, GENERIC_ALERT, (Item(meta=Meta(), data="1"),))
    return Alert(0, GENERIC_ALERT, (Item(meta=Meta(format="chr", type=CSP_RESULT_TYPE), data="0"),))


def _package1(msg: Msg, ends: Endpoints) -> Package:
    commands: list[Command] = []
    for token in msg.body:
        if token == "1201":
            commands.append(Alert(0, CLIENT_INITIATED))
        elif token in ("unenroll", "unenroll_empty", "csp"):
            commands.append(_alert_1226(token))
        else:
            raise SyncMLError(f"package 1 body token {token!r} is not one the model uses")
    devinfo = (
        ("./DevInfo/DevId", ends.device),
        ("./DevInfo/Man", "Microsoft Corporation"),
        ("./DevInfo/Mod", "Virtual Machine"),
        ("./DevInfo/DmV", "1.3"),
        ("./DevInfo/Lang", "en-US"),
    )
    commands.append(Replace(0, tuple(Item(source=uri, data=value) for uri, value in devinfo)))
    cred = None
    if msg.msgid > 1:  # sent again with credentials after a challenge (F82)
        cred = Cred(Meta(format="b64", type=AUTH_MD5), "bWQ1LWRpZ2VzdA==")
    header = SyncHdr(
        session_id=ends.session_id(msg.session),
        msg_id=msg.msgid,
        target=ends.server,
        source=ends.device,
        cred=cred,
    )
    return Package(header, _numbered(commands))


def _answers(received: Package, code: int) -> list[Command]:
    """Status for the SyncHdr and for every command of `received` but its Statuses and
    Results (F66, F67), all with `code` but the SyncHdr's, which is OK."""
    ref = received.header.msg_id
    out: list[Command] = [Status(0, ref, 0, "SyncHdr", OK)]
    for c in received.commands:
        if not isinstance(c, Status | Results):
            out.append(Status(0, ref, c.cmd_id, c.NAME, code))
    return out


def _reply_header(received: Package, msg_id: int) -> SyncHdr:
    """A reply's header: the SessionID it answers in, back to the sender."""
    h = received.header
    return SyncHdr(h.session_id, msg_id, target=h.source, source=h.target)


def _default_package1(msg: Msg, ends: Endpoints) -> Package:
    """The package 1 a package 2 answers when none is given: the session's own."""
    body = ("1201", "unenroll") if msg.session == "alert" else ("1201",)
    return _package1(Msg("pkg1", msg.generation, msg.session, body, msg.msgid), ends)


def _package2(msg: Msg, ends: Endpoints, reply_to: Package | None) -> Package:
    received = reply_to or _default_package1(msg, ends)
    token = msg.body[0] if len(msg.body) == 1 else None
    commands: list[Command]
    if token == "challenge":
        nonce = Meta(format="b64", type=AUTH_MD5, next_nonce="TmV4dE5vbmNl")
        ref = received.header.msg_id
        commands = [Status(0, ref, 0, "SyncHdr", UNAUTHORIZED, chal=Chal(nonce))]
    else:
        commands = _answers(received, OK)
        if received.header.cred is not None:  # credentials accepted (F83)
            commands[0] = Status(0, received.header.msg_id, 0, "SyncHdr", AUTH_ACCEPTED)
        if token == "abort":
            commands.append(Alert(0, SESSION_ABORT))
        elif token == "policy":
            commands.append(Add(0, (Item(target=POLICY_URI, meta=Meta(format="int"), data="1"),)))
        elif token == "unenroll":
            item = Item(target=ends.unenroll_uri(), meta=Meta(format="chr"), data=ends.provider_id)
            commands.append(Exec(0, (item,)))
        elif token == "wipe":
            commands.append(Exec(0, (Item(target=WIPE_URI),)))
        elif token != "final":
            raise SyncMLError(f"package 2 body {msg.body!r} is not one the model uses")
    return Package(_reply_header(received, msg.msgid), _numbered(commands))


def _package3(msg: Msg, ends: Endpoints, reply_to: Package | None) -> Package:
    if msg.body not in (("ok",), ("error",)):
        raise SyncMLError(f"package 3 body {msg.body!r} is not one the model uses")
    ok = msg.body == ("ok",)
    default = Msg("pkg2", msg.generation, msg.session, ("policy",) if ok else ("unenroll",))
    received = reply_to or _package2(default, ends, None)
    commands = _answers(received, OK if ok else NOT_ALLOWED)
    if len(commands) == 1:
        raise SyncMLError(
            "the package answered holds no command: a client sends no package of only the "
            "SyncHdr Status (F68)"
        )
    if ok:  # Results for each Get (F67)
        for c in received.commands:
            if isinstance(c, Get):
                items = tuple(Item(source=i.target) for i in c.items)
                commands.append(Results(0, received.header.msg_id, c.cmd_id, items))
    return Package(_reply_header(received, msg.msgid + 1), _numbered(commands))


def _package4(msg: Msg, ends: Endpoints, reply_to: Package | None) -> Package:
    if msg.body not in (("final",), ("abort",)):
        raise SyncMLError(f"package 4 body {msg.body!r} is not one the model uses")
    received = reply_to or _package3(
        Msg("pkg3", msg.generation, msg.session, ("ok",), msg.msgid), ends, None
    )
    commands: list[Command] = [Status(0, received.header.msg_id, 0, "SyncHdr", OK)]
    if msg.body == ("abort",):
        commands.append(Alert(0, SESSION_ABORT))
    return Package(_reply_header(received, msg.msgid + 1), _numbered(commands))


def to_package(
    msg: Msg, ends: Endpoints | None = None, *, reply_to: Package | None = None
) -> Package:
    """The package `msg` stands for. `reply_to` is the package a package 2, 3 or 4
    answers: the reply keeps its SessionID, goes back to its Source, and its Statuses
    point at its commands; without it the model's own previous package of the session
    is assumed. Wire MsgIDs follow F71: the model's ``msgid`` is the MsgID of
    packages 1 and 2, and packages 3 and 4 are each side's next message. A kind that
    is not SyncML is refused with the reason."""
    ends = ends or Endpoints()
    if msg.kind in NOT_SYNCML:
        raise SyncMLError(f"{msg.kind}: {NOT_SYNCML[msg.kind]}; it has no SyncML package")
    if msg.kind == "pkg1":
        return _package1(msg, ends)
    if msg.kind == "pkg2":
        return _package2(msg, ends, reply_to)
    if msg.kind == "pkg3":
        return _package3(msg, ends, reply_to)
    if msg.kind == "pkg4":
        return _package4(msg, ends, reply_to)
    raise SyncMLError(f"{msg.kind!r} is not a message kind of the model")


# --------------------------------------------------------------------------- reading
#: How a package travels over HTTP (F58), and the header that names the enrollment
#: (the client certificate's stand-in on plain HTTP: `lifecycle serve` and `replay`).
SYNCML_TYPE = "application/vnd.syncml.dm+xml"
GENERATION_HEADER = "X-Enrollment-Generation"


def from_device(pkg: Package) -> bool:
    """Whether `pkg` is a device's: its Target is the server, a URL (F65)."""
    return pkg.header.target.startswith(("http://", "https://"))


def session_of(pkg: Package) -> tuple[str, str]:
    """The session a message belongs to: its device's LocURI and its SessionID."""
    h = pkg.header
    return (h.source if from_device(pkg) else h.target, h.session_id)


def session_endpoints(pkg: Package, alert: bool) -> Endpoints:
    """The names to read `pkg` with when its names are not the defaults: its device
    and server from its header, and its SessionID as the alert session (F6) when
    `alert`, else as the main one."""
    h = pkg.header
    device, server = (h.source, h.target) if from_device(pkg) else (h.target, h.source)
    sid = h.session_id
    return Endpoints(
        device=device,
        server=server,
        main_session="" if alert else sid,
        alert_session=sid if alert else "",
    )


def _to_server(pkg: Package, ends: Endpoints) -> bool:
    """Whether `pkg` goes device to server: its Target is the server (F65), by name or,
    in a capture with other names, by being a URL."""
    h = pkg.header
    if ends.server in (h.target, h.source):
        return h.target == ends.server
    return from_device(pkg)


def _alert_token(alert: Alert) -> str:
    """A 1226's token by its first Item's Meta Type (F5, F10, F78)."""
    if not alert.items:
        raise SyncMLError(
            f"Alert 1226 (CmdID {alert.cmd_id}) has no Item; a Generic Alert needs one (F76)"
        )
    meta = alert.items[0].meta
    kind = meta.type if meta is not None else None
    if kind is None:
        return "unenroll_empty"
    return "unenroll" if kind == UNENROLL_TYPE else "csp"


def _device_package(pkg: Package, ends: Endpoints, generation: int) -> Msg:
    alerts = [c for c in pkg.commands if isinstance(c, Alert)]
    if any(a.data in (SERVER_INITIATED, CLIENT_INITIATED) for a in alerts):
        tokens: list[str] = []
        for a in alerts:  # 1224 client events and other alerts have no token
            if a.data in (SERVER_INITIATED, CLIENT_INITIATED):
                tokens.append("1201")
            elif a.data == GENERIC_ALERT:
                tokens.append(_alert_token(a))
        session = "alert" if {"unenroll", "unenroll_empty"} & set(tokens) else "main"
        return Msg("pkg1", generation, session, tuple(tokens), pkg.header.msg_id)
    answers = [c for c in pkg.commands if isinstance(c, Status) and c.cmd != "SyncHdr"]
    if not answers:
        raise SyncMLError(
            "a device package with neither Alert 1200/1201 (package 1, F65) nor a Status "
            "for a server command (package 3, F67)"
        )
    body = ("ok",) if all(200 <= s.data < 300 for s in answers) else ("error",)
    msgid = max(1, pkg.header.msg_id - 1)
    return Msg("pkg3", generation, ends.session(pkg.header.session_id), body, msgid)


def _command_token(c: Command) -> str:
    if isinstance(c, Alert):
        if c.data == SESSION_ABORT:
            return "abort"
        if c.data == GENERIC_ALERT:
            raise SyncMLError(
                f"Alert 1226 (CmdID {c.cmd_id}) from the server: a Generic Alert goes "
                "device to server only (F76); are Target and Source swapped?"
            )
        raise SyncMLError(
            f"Alert {c.data} (CmdID {c.cmd_id}) from the server is in none of the model's packages"
        )
    uri = c.items[0].target if c.items else None
    if isinstance(c, Exec) and uri is not None:
        if _UNENROLL.fullmatch(uri):
            return "unenroll"
        if _WIPE.fullmatch(uri):
            return "wipe"
    return "policy"  # any other command: one the device answers with a Status (F67)


def _server_package(pkg: Package, ends: Endpoints, generation: int) -> Msg:
    session = ends.session(pkg.header.session_id)
    statuses = [c for c in pkg.commands if isinstance(c, Status)]
    header_status = next((s for s in statuses if s.cmd == "SyncHdr"), None)
    if header_status is not None and (
        header_status.chal is not None or header_status.data in (UNAUTHORIZED, 407)
    ):
        return Msg("pkg2", generation, session, ("challenge",), pkg.header.msg_id)
    tokens = tuple(_command_token(c) for c in pkg.commands if not isinstance(c, Status | Results))
    answers_alerts = any(s.cmd == "Alert" for s in statuses)
    if not tokens:
        if not pkg.final:
            raise SyncMLError("a server package with no command and no Final")
        tokens = ("final",)
    if answers_alerts or set(tokens) - {"final", "abort"}:
        return Msg("pkg2", generation, session, tokens, pkg.header.msg_id)
    return Msg("pkg4", generation, session, tokens, max(1, pkg.header.msg_id - 1))


def from_package(pkg: Package, ends: Endpoints | None = None, *, generation: int = 1) -> Msg:
    """The model message `pkg` is: its kind, session, body tokens and msgid, with
    `generation` (not on the wire) and origin 0. A server package that answers the
    client's alerts is a package 2 (F66), one that answers only the SyncHdr a package
    4; any server command other than the Unenroll and wipe Execs reads as ``policy``.
    A package none of the model's kinds describes is a `SyncMLError`."""
    ends = ends or Endpoints()
    if _to_server(pkg, ends):
        return _device_package(pkg, ends, generation)
    return _server_package(pkg, ends, generation)
