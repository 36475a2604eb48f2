"""One line per header and per command, in the doc's vocabulary, for `lifecycle syncml
check`: what a reader comparing a capture with the docs wants to see first (the alert
codes and Meta Types, the LocURIs, what each Status answers), not the XML."""

from __future__ import annotations

from lifecycle.syncml.package import Alert, Command, Item, Meta, Results, Status, SyncHdr

#: Alert code names (F78; S5's DM RepPro alert codes).
ALERT_NAMES = {
    1200: "server-initiated session",
    1201: "client-initiated session",
    1222: "next message",
    1223: "session abort",
    1224: "client event",
    1226: "generic alert",
}
_LONGEST = 60


def _short(text: str) -> str:
    return text if len(text) <= _LONGEST else text[: _LONGEST - 3] + "..."


def describe_header(h: SyncHdr) -> str:
    """``SessionID 1, MsgID 1, Source ..., Target ...``."""
    text = f"SessionID {h.session_id}, MsgID {h.msg_id}, Source {h.source}, Target {h.target}"
    if h.cred is not None:
        text += ", with Cred"
    return text


def _meta(meta: Meta) -> list[str]:
    if meta == Meta():
        return ["empty <Meta/>"]
    parts = []
    if meta.type is not None:
        parts.append(f"Type {meta.type}")
    if meta.format is not None:
        parts.append(f"Format {meta.format}")
    if meta.mark is not None:
        parts.append(f"Mark {meta.mark}")
    if meta.next_nonce is not None:
        parts.append("NextNonce")
    return parts


def _item(item: Item) -> str:
    parts = [uri for uri in (item.target, item.source) if uri is not None]
    if item.meta is not None:
        parts.extend(_meta(item.meta))
    if item.data is not None:
        parts.append(f"Data {_short(item.data)}")
    return ", ".join(parts) or "empty Item"


def describe_command(c: Command) -> str:
    """``Alert 1226 generic alert (CmdID 4): Type ..., Format int, Data 1``."""
    if isinstance(c, Alert):
        name = ALERT_NAMES.get(c.data)
        head = f"Alert {c.data}{' ' + name if name else ''} (CmdID {c.cmd_id})"
    elif isinstance(c, Status):
        what = "SyncHdr" if c.cmd == "SyncHdr" else f"{c.cmd} CmdID {c.cmd_ref}"
        head = f"Status {c.data} (CmdID {c.cmd_id}) for {what} of message {c.msg_ref}"
        if c.chal is not None:
            head += ", Chal " + ", ".join(_meta(c.chal.meta))
    elif isinstance(c, Results):
        head = f"Results (CmdID {c.cmd_id}) for CmdID {c.cmd_ref} of message {c.msg_ref}"
    else:
        head = f"{c.NAME} (CmdID {c.cmd_id})"
    if not c.items:
        return head
    return f"{head}: " + "; ".join(_item(i) for i in c.items)
