"""A SyncML DM 1.2 package as frozen values: the header, the commands, Final.

Only the subset the model needs is represented (docs/syncml.md): the elements a
Windows DM session carries between a device and the server (S3, S5 section 8), named
as the OMA DM DTD names them. Values are kept as the document spells them, so that
``parse(build(p)) == p``; numbers that the protocol defines as numbers (CmdID, MsgID,
MsgRef, CmdRef, alert and status codes) are ints.

Why Final is a flag and not a command: it has no CmdID and may only close the
SyncBody (F74), so `Package.final` makes a Final in the middle unrepresentable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

#: Facts this module's structure follows (collected into docs/facts.md).
FACTS = ("F71", "F72", "F73", "F74")

#: The SyncML 1.2 namespace of the document element, and the MetInf namespace of the
#: Meta children (the doc's sample 2.1 misspells it ``syncml:metinfo``).
SYNCML_NS = "SYNCML:SYNCML1.2"
METINF_NS = "syncml:metinf"
VER_DTD = "1.2"
VER_PROTO = "DM/1.2"

# Alert codes Windows uses (F78; S5 DM RepPro alert codes).
SERVER_INITIATED = 1200  # a session answering a server's notification
CLIENT_INITIATED = 1201  # a session the client opens (F65)
NEXT_MESSAGE = 1222  # "send the next message of the package" (F74)
SESSION_ABORT = 1223  # ends the session; the sender also sends Final (F70)
CLIENT_EVENT = 1224  # LoginStatus, AADUserToken, requestpending
GENERIC_ALERT = 1226  # client to server only (F76): the unenroll alert (F4, F5)
#: Alerts only a client sends.
CLIENT_ALERTS = frozenset((SERVER_INITIATED, CLIENT_INITIATED, CLIENT_EVENT, GENERIC_ALERT))

#: The largest number an int field holds (a SyncML number is at most a 32-bit value).
MAX_NUMBER = 2**31 - 1


@dataclass(frozen=True)
class Meta:
    """MetInf: what an Item's or a Chal's data is. Every field is optional; an empty
    ``<Meta/>`` (all None) is what Windows 1803-2004 sent in the unenroll alert (F10)."""

    format: str | None = None
    type: str | None = None
    mark: str | None = None
    next_nonce: str | None = None
    max_msg_size: str | None = None

    #: Element name of each field, in the MetInf DTD's order.
    ELEMENTS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("format", "Format"),
        ("type", "Type"),
        ("mark", "Mark"),
        ("next_nonce", "NextNonce"),
        ("max_msg_size", "MaxMsgSize"),
    )


@dataclass(frozen=True)
class Item:
    """One Item: a node (Target LocURI for what the server addresses, Source LocURI for
    what the device reports), its Meta and its Data."""

    target: str | None = None
    source: str | None = None
    meta: Meta | None = None
    data: str | None = None


@dataclass(frozen=True)
class Cred:
    """Credentials in the SyncHdr, answering a challenge (F82)."""

    meta: Meta | None
    data: str


@dataclass(frozen=True)
class Chal:
    """A challenge in a Status: the auth type, format and the next nonce (F82)."""

    meta: Meta


@dataclass(frozen=True)
class SyncHdr:
    """The header: version, SessionID (opaque, at most 4 bytes, F72), MsgID (1 for the
    session's first message, F71), Target and Source LocURIs; Cred after a challenge."""

    session_id: str
    msg_id: int
    target: str
    source: str
    cred: Cred | None = None
    meta: Meta | None = None
    ver_dtd: str = VER_DTD
    ver_proto: str = VER_PROTO


@dataclass(frozen=True)
class Alert:
    """Alert: a code (1201, 1226, 1224, 1223, 1200, 1222) and Items."""

    cmd_id: int
    data: int
    items: tuple[Item, ...] = ()
    correlator: str | None = None
    NAME: ClassVar[str] = "Alert"


@dataclass(frozen=True)
class Replace:
    """Replace: the device's DevInfo in package 1, or a value the server sets."""

    cmd_id: int
    items: tuple[Item, ...] = ()
    NAME: ClassVar[str] = "Replace"


@dataclass(frozen=True)
class Add:
    """Add: the server creates a node (a policy, an AppInstallation node)."""

    cmd_id: int
    items: tuple[Item, ...] = ()
    NAME: ClassVar[str] = "Add"


@dataclass(frozen=True)
class Exec:
    """Exec: the server runs a node, e.g. DMClient Unenroll (F23) or RemoteWipe/doWipe
    (F52)."""

    cmd_id: int
    items: tuple[Item, ...] = ()
    correlator: str | None = None
    NAME: ClassVar[str] = "Exec"


@dataclass(frozen=True)
class Get:
    """Get: the server reads nodes; the device answers with Results (F67)."""

    cmd_id: int
    items: tuple[Item, ...] = ()
    NAME: ClassVar[str] = "Get"


@dataclass(frozen=True)
class Status:
    """Status: the answer to one command of the peer's message MsgRef (CmdRef 0 and Cmd
    SyncHdr for its header, F73), with a status code (F81) and, for 401/407, a Chal."""

    cmd_id: int
    msg_ref: int
    cmd_ref: int
    cmd: str
    data: int
    target_refs: tuple[str, ...] = ()
    source_refs: tuple[str, ...] = ()
    chal: Chal | None = None
    items: tuple[Item, ...] = ()
    NAME: ClassVar[str] = "Status"


@dataclass(frozen=True)
class Results:
    """Results: the values a Get asked for (F67)."""

    cmd_id: int
    msg_ref: int
    cmd_ref: int
    items: tuple[Item, ...] = ()
    NAME: ClassVar[str] = "Results"


Command = Alert | Replace | Add | Exec | Get | Status | Results
#: Element name -> command class.
COMMANDS: dict[str, type[Command]] = {
    c.NAME: c for c in (Alert, Replace, Add, Exec, Get, Status, Results)
}


@dataclass(frozen=True)
class Package:
    """One SyncML message: its header, its commands in document order, and whether
    Final closes it (the last message of a package, F74).

    ``warnings`` are the well-formed quirks `parse` accepted (a misspelt namespace, a
    padded Meta Type, a repeated CmdID, an empty Meta): facts about the text read, not
    about the package, so they take no part in equality."""

    header: SyncHdr
    commands: tuple[Command, ...] = ()
    final: bool = True
    warnings: tuple[str, ...] = field(default=(), compare=False)
