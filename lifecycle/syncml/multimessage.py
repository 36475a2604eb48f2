"""Packages sent in several messages (F74): `join` reads them back as the one package
the model's message is, and `split` writes one that way.

A sender whose package does not fit one message sends it in several: every message
but the last goes without Final, and the receiver answers each with a "Next Message"
reply: a SyncHdr Status (and Statuses for the message's commands), Alert 1222, and no
Final. The sender's next message carries the Statuses for that reply and the rest of
its commands. The model knows packages, not messages, so a capture is joined before
it is mapped: the messages of one package become one package, the replies in between
are bookkeeping and go, and the MsgIDs the extra messages used are given back, so that
each side's later messages in the session are numbered as one-message packages would
be (F71).

A message without Final that the receiver does not answer with Alert 1222 is left as
it is: the mapping reads it as a whole package.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lifecycle.syncml.mapping import from_device, session_of
from lifecycle.syncml.package import (
    NEXT_MESSAGE,
    Alert,
    Command,
    Package,
    Results,
    Status,
    SyncHdr,
)

__all__ = ["FACTS", "is_next_message", "join", "next_message_reply", "split", "split_capture"]

FACTS = ("F71", "F74")

#: (name, package) as a capture lists them.
Named = tuple[str, Package]


def is_next_message(pkg: Package) -> bool:
    """Whether `pkg` is a Next Message reply: Alert 1222, no Final, and no command but
    Statuses beside it."""
    others = [c for c in pkg.commands if not isinstance(c, Status)]
    return (
        not pkg.final
        and len(others) == 1
        and isinstance(others[0], Alert)
        and others[0].data == NEXT_MESSAGE
    )


def next_message_reply(received: Package, msg_id: int) -> Package:
    """The receiver's Next Message reply to `received`, a message without Final: its
    own MsgID `msg_id`, a Status for the SyncHdr and for each command, and Alert 1222."""
    h = received.header
    ref = h.msg_id
    commands: list[Command] = [Status(0, ref, 0, "SyncHdr", 200)]
    commands += [
        Status(0, ref, c.cmd_id, c.NAME, 200)
        for c in received.commands
        if not isinstance(c, Status)
    ]
    commands.append(Alert(0, NEXT_MESSAGE))
    numbered = tuple(dataclasses.replace(c, cmd_id=n) for n, c in enumerate(commands, start=1))
    return Package(SyncHdr(h.session_id, msg_id, target=h.source, source=h.target), numbered, False)


def _renumbered(pkg: Package, shift: int, ref_shift: int = 0) -> Package:
    """`pkg` with its MsgID `shift` lower and its Statuses' and Results' MsgRefs
    `ref_shift` lower (the messages of the other side that were absorbed)."""
    if not shift and not ref_shift:
        return pkg
    header = dataclasses.replace(pkg.header, msg_id=pkg.header.msg_id - shift)
    commands = tuple(
        dataclasses.replace(c, msg_ref=c.msg_ref - ref_shift)
        if isinstance(c, Status | Results) and c.msg_ref > ref_shift
        else c
        for c in pkg.commands
    )
    return dataclasses.replace(pkg, header=header, commands=commands)


def _answers_reply(command: object, reply: int) -> bool:
    """A Status for the Next Message reply `reply` (its SyncHdr or its Alert 1222)."""
    return (
        isinstance(command, Status)
        and command.msg_ref == reply
        and command.cmd in ("SyncHdr", "Alert")
    )


@dataclass
class _Open:
    """A package whose messages are still coming: its first message's name, the
    commands so far, and the MsgID of the receiver's last Next Message reply."""

    name: str
    first: Package
    commands: list[Command]
    device_side: bool
    shift: int
    ref_shift: int
    reply_id: int | None = None


def join(packages: Sequence[Named]) -> list[Named]:
    """`packages` with each multi-message package joined into one, named by its first
    message and placed where its last message was; the Next Message replies dropped;
    the MsgIDs renumbered as if every package had been one message."""
    out: list[Named] = []
    pending: dict[tuple[str, str], _Open] = {}
    absorbed: Counter[tuple[str, str, bool]] = Counter()  # extra messages per side

    def flush(key: tuple[str, str]) -> None:
        part = pending.pop(key)
        merged = dataclasses.replace(part.first, commands=tuple(part.commands), final=False)
        out.append((part.name, _renumbered(merged, part.shift, part.ref_shift)))

    for name, pkg in packages:
        key = session_of(pkg)
        side = from_device(pkg)
        if side and pkg.header.msg_id == 1:  # a new session (a SessionID may be reused)
            if key in pending:
                flush(key)
            absorbed[(*key, True)] = absorbed[(*key, False)] = 0
        part = pending.get(key)
        if part is not None and is_next_message(pkg) and part.device_side != side:
            part.reply_id = pkg.header.msg_id
            absorbed[(*key, side)] += 1
            continue
        if part is not None and part.device_side == side and part.reply_id is not None:
            # The sender's next message: the rest of its package.
            reply = part.reply_id
            part.commands += [c for c in pkg.commands if not _answers_reply(c, reply)]
            part.reply_id = None
            absorbed[(*key, side)] += 1
            if pkg.final:
                pending.pop(key)
                merged = dataclasses.replace(part.first, commands=tuple(part.commands), final=True)
                out.append((part.name, _renumbered(merged, part.shift, part.ref_shift)))
            continue
        if part is not None:
            flush(key)  # a message without Final that no Next Message reply followed
        shift, ref_shift = absorbed[(*key, side)], absorbed[(*key, not side)]
        if not pkg.final and not is_next_message(pkg):
            pending[key] = _Open(name, pkg, list(pkg.commands), side, shift, ref_shift)
            continue
        out.append((name, _renumbered(pkg, shift, ref_shift)))
    for key in list(pending):
        flush(key)
    return out


def split(packages: Sequence[Named], index: int, parts: int) -> list[Named]:
    """The capture `packages` with package `index` sent in `parts` messages (its
    commands in consecutive runs, at least one each), the receiver's Next Message
    replies between them, and the later MsgIDs of that session shifted to make room:
    what `join` reads back as `packages`. Names are ``NNNN-<sender>.xml`` again."""
    pkg = packages[index][1]
    commands = list(pkg.commands)
    if not 2 <= parts <= len(commands):
        raise ValueError(f"a package of {len(commands)} commands cannot go in {parts} messages")
    key, side = session_of(pkg), from_device(pkg)
    cuts = [round(k * len(commands) / parts) for k in range(parts + 1)]
    runs = [commands[cuts[k] : cuts[k + 1]] for k in range(parts)]
    sent: list[Package] = []
    receiver_id = _next_receiver_id(packages, index, key, side)
    spare = max((c.cmd_id for c in commands), default=0) + 1  # CmdIDs stay unique (F73)
    for k, run in enumerate(runs):
        header = dataclasses.replace(pkg.header, msg_id=pkg.header.msg_id + k)
        body = list(run)
        if k:
            reply = sent[-1]
            body = [
                Status(spare + 2 * k, reply.header.msg_id, 0, "SyncHdr", 200),
                Status(
                    spare + 2 * k + 1, reply.header.msg_id, reply.commands[-1].cmd_id, "Alert", 200
                ),
                *body,
            ]
        message = Package(header, tuple(body), final=k == parts - 1)
        sent.append(message)
        if k < parts - 1:
            sent.append(next_message_reply(message, receiver_id + k))
    out: list[Package] = [p for _, p in packages[:index]] + sent
    # Each side sent parts - 1 extra messages in this session: its later MsgIDs move
    # up, and so do the MsgRefs that point at the other side's later messages.
    extra = parts - 1
    before = {
        s: max(
            [
                0,
                *(
                    p.header.msg_id
                    for _, p in packages[:index]
                    if session_of(p) == key and from_device(p) == s
                ),
            ]
        )
        for s in (True, False)
    }
    for _, later in packages[index + 1 :]:
        if session_of(later) == key:
            boundary = before[not from_device(later)]
            moved = tuple(
                dataclasses.replace(c, msg_ref=c.msg_ref + extra)
                if isinstance(c, Status | Results) and c.msg_ref > boundary
                else c
                for c in later.commands
            )
            header = dataclasses.replace(later.header, msg_id=later.header.msg_id + extra)
            later = dataclasses.replace(later, header=header, commands=moved)
        out.append(later)
    return [
        (f"{n:04d}-{'device' if from_device(p) else 'server'}.xml", p)
        for n, p in enumerate(out, start=1)
    ]


def _next_receiver_id(
    packages: Sequence[Named], index: int, key: tuple[str, str], side: bool
) -> int:
    """The MsgID the receiver's first Next Message reply takes: one past the last
    message it sent in the session before package `index` (1 if none)."""
    last = 0
    for _, p in packages[:index]:
        if session_of(p) == key and from_device(p) != side:
            last = max(last, p.header.msg_id)
    return last + 1


def split_capture(capture: Any, parts: int = 2) -> Any:
    """`capture` (an `export.Capture`) with every package the device sent that has
    `parts` commands or more sent in `parts` messages, the server's Next Message
    replies between them, and the manifest listing each message (a reply is sent at the
    step that took the message it answers; a later message of a package is marked
    ``continues``). What a device with a small MaxMsgSize sends; `join` reads it back
    as `capture`."""
    from lifecycle.syncml.codec import build, parse
    from lifecycle.syncml.export import Capture

    filed = [m for m in capture.manifest["messages"] if m.get("file")]
    packages: list[Named] = [(m["file"], parse(capture.files[m["file"]])) for m in filed]
    origin = list(range(len(packages)))  # the filed entry each message comes from
    kinds = ["first"] * len(packages)
    index = 0  # forward: a split sees the MsgIDs the earlier ones moved
    while index < len(packages):
        pkg, entry = packages[index][1], filed[origin[index]]
        whole = kinds[index] == "first" and from_device(pkg) and len(pkg.commands) >= parts
        # A package the server never read whole was never answered message by message.
        if whole and not (entry.get("lost") or entry.get("taken") is None or entry.get("held")):
            packages = split(packages, index, parts)
            origin[index + 1 : index + 1] = [origin[index]] * (2 * (parts - 1))
            kinds[index + 1 : index + 1] = ["reply", "continues"] * (parts - 1)
        index += 1
    groups: dict[int, list[tuple[Named, str]]] = {}
    for named, source, kind in zip(packages, origin, kinds, strict=True):
        groups.setdefault(source, []).append((named, kind))
    files: dict[str, str] = {k: v for k, v in capture.files.items() if not k.endswith(".xml")}
    entries: list[dict[str, Any]] = []
    filed_index = 0
    for m in capture.manifest["messages"]:
        if not m.get("file"):
            entries.append(dict(m))
            continue
        for (name, pkg), kind in groups[filed_index]:
            entry = dict(m, file=name, msg_id=pkg.header.msg_id)
            if kind == "reply":
                entry.update(
                    {"from": "server", "to": "device", "kind": "next_message", "body": ["1222"]}
                )
                entry.update(step=m["taken"], lost=False)
            elif kind == "continues":
                entry["continues"] = True
            files[name] = build(pkg)
            entries.append(entry)
        filed_index += 1
    messages = [dict(e, n=n) for n, e in enumerate(entries, start=1)]
    return Capture(files, dict(capture.manifest, messages=messages))
