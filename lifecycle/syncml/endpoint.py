"""A SyncML DM management endpoint that runs a design's server table: what
`lifecycle serve` answers over HTTP.

Why it is honest: the server's rows read only what the server knows (its records, the
MDM switch, the package it received and the connection it came on), so the endpoint
builds a world whose server part is the stored one and whose only other content is the
package in flight, fires the server row the live `transitions` machines enable for it
(`lifecycle.runtime.LiveWorld`), stores the new records and answers with what the row
sent, as a package (`to_package`, replying to the request). Nothing of a device is
known but what came over the wire: the other parties of the world are placeholders no
server row reads.

- The enrollment is not on the wire (it is the client certificate, below SyncML): the
  caller gives it (`lifecycle serve` takes it from the ``X-Enrollment-Generation``
  header, the stand-in for the certificate over plain HTTP).
- A package a wait design holds behind an open session (``held``) is answered when the
  session closes: the request waits for it, up to a timeout.
- The environment's steps of the server (the admin's requests, the tenant's MDM switch,
  the timers) are the operator's: `steps` lists those enabled and `step` fires one by
  name. A timer that fires on silence fires when the operator says the device is
  silent, which the server cannot otherwise know.
- The enrollment exchange (MS-MDE2) is not SyncML: `enroll` stands for it.

When the server's row is a choice (a design that lets the server do either), the
endpoint takes the first the table lists: a real server decides one way.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Any

from lifecycle.mdm import Design, LifecycleModel, Scope
from lifecycle.mdm.state import (
    NO_DIRECTORY,
    Channel,
    Msg,
    Record,
    Server,
    World,
    fresh_device,
)
from lifecycle.runtime import LiveWorld
from lifecycle.runtime.live import LiveStep
from lifecycle.syncml.codec import build, parse
from lifecycle.syncml.errors import SyncMLError
from lifecycle.syncml.mapping import (
    from_device,
    from_package,
    session_endpoints,
    session_of,
    to_package,
)
from lifecycle.syncml.multimessage import join, next_message_reply
from lifecycle.syncml.package import Package
from lifecycle.syncml.store import Store

__all__ = ["Answer", "ManagementEndpoint", "ServerStep"]

#: Facts the endpoint follows (collected into docs/facts.md).
FACTS = ("F6", "F58", "F61", "F65", "F84")

#: Sessions whose messages the endpoint keeps (to join multi-message packages), and
#: the most messages and commands one package may take.
MAX_SESSIONS = 256
MAX_MESSAGES = 32
MAX_COMMANDS = 4096
#: The most devices the endpoint keeps records of (each request's world has one
#: placeholder per device).
MAX_DEVICES = 64


@dataclass(frozen=True)
class ServerStep:
    """One environment step of the server: a row's trigger, and the record it acts on
    (device index and generation; None for the tenant's rows)."""

    trigger: str
    device: int | None
    generation: int | None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class _Session:
    """What the endpoint keeps of an open session: how many messages it sent, how
    many of them were Next Message replies (its later MsgIDs count them, F71), and,
    once a package came in several messages, the messages since (to join them)."""

    sent: int = 0
    next_replies: int = 0
    history: list[tuple[str, Package]] | None = None


@dataclass(frozen=True)
class Answer:
    """What the endpoint did with a package: the row that took it (None: no row of
    the server's table takes it) and the reply (None: nothing, or nothing yet)."""

    row: str | None
    reply: bytes | None
    held: bool = False


def _steps_of(step: LiveStep) -> ServerStep:
    record = step.arg if isinstance(step.arg, Record) else None
    return ServerStep(
        step.row.trigger,
        record.device if record is not None else step.party,
        record.gen if record is not None else None,
    )


class ManagementEndpoint:
    """The server of `design`, its records in `store`. Thread-safe: one package or
    operator step at a time."""

    def __init__(self, design: Design, store: Store, *, hold_timeout: float = 10.0) -> None:
        # The operator may do whatever the design lets the server do: the scope only
        # bounds what the model checker explores.
        scope = dataclasses.replace(design.scope(Scope()), mdm_toggle=True)
        self.model = LifecycleModel(design, scope, liveness=False)
        self.live = LiveWorld(self.model)
        self.store = store
        self.hold_timeout = hold_timeout
        self._lock = threading.Condition()
        # Requests a wait design holds: (device, message) -> the package, for its reply.
        self._held: dict[tuple[int, Msg], Package] = {}
        self._replies: dict[tuple[int, Msg], bytes | None] = {}
        # Each open session's wire bookkeeping, by (DevID, SessionID).
        self._sessions: dict[tuple[str, str], _Session] = {}
        #: What the server sent that no HTTP request carries back: pushes, agent
        #: requests, enrollment responses (for the operator to read).
        self.outbox: list[tuple[int, Msg]] = []
        #: The operator's steps taken, in order.
        self.taken: list[ServerStep] = []

    # ------------------------------------------------------------------ the world
    def _world(self, server: Server, device: int = -1, msg: Msg | None = None) -> World:
        known = max([device, *self.store.devices().values(), *(r.device for r in server.records)])
        n = max(1, known + 1)
        nets = [Channel(True, (), 0) for _ in range(n)]
        if msg is not None:
            nets[device] = Channel(True, (msg,), 0)
        placeholder = fresh_device("desktop", False)
        return World((placeholder,) * n, server, (NO_DIRECTORY,) * n, tuple(nets))

    def _fire(self, world: World, step: LiveStep) -> tuple[World, tuple[tuple[int, Msg], ...]]:
        nxt = self.live.fire(step, world)
        self.store.save(nxt.server)
        return nxt, self.live.sent

    def _receivers(self, world: World, device: int, msg: Msg, source: str) -> list[LiveStep]:
        return [
            s
            for s in self.live.enabled(world)
            if s.row.machine == "server"
            and s.row.receives is not None
            and s.party == device
            and s.source == source
            and (s.arg == msg if source == "net" else s.arg == ("held", msg))
        ]

    # --------------------------------------------------------------- the packages
    def receive(self, xml: bytes, generation: int) -> Answer:
        """Answer one package a device sent for enrollment `generation`. A package that
        cannot be read, or that the endpoint will not keep, is a `SyncMLError`."""
        pkg = parse(xml)
        h = pkg.header
        if not from_device(pkg):
            raise SyncMLError(
                f"Target {h.target!r} is not a server URL: a device's package goes to the "
                "server (F65); is this a server's package?"
            )
        with self._lock:
            joined = self._join(pkg)
            if isinstance(joined, bytes):  # more messages of this package follow (F74)
                return Answer("NextMessage", joined)
            known = self.store.find_device(h.source)
            device = known if known is not None else self._new_device()
            alert = known is not None and self.store.is_alert_session(device, h.session_id)
            ends = session_endpoints(joined, alert)
            msg = from_package(joined, ends, generation=generation)
            if msg.kind not in ("pkg1", "pkg3"):
                raise SyncMLError(f"a {msg.kind} is a server's package; a device sent it")
            world = self._world(self.store.server(), device, msg)
            steps = self._receivers(world, device, msg, "net")
            if not steps:
                return Answer(None, None)
            # The reply answers the message on the wire (its MsgID), for the package.
            request = dataclasses.replace(joined, header=h)
            key = (device, msg)
            step = steps[0]
            world, sent = self._fire(world, step)
            # A device is kept once the server holds a record of it: a stranger whose
            # package was refused leaves nothing behind.
            if known is None and any(r.device == device for r in world.server.records):
                self.store.bind_device(h.source, device)
                known = device
            if known is not None and msg.kind == "pkg1" and msg.session == "alert":
                self.store.mark_alert_session(device, h.session_id)
            reply = self._reply(device, sent, request)
            held = any(key in r.held for r in world.server.records)
            if held:
                self._held[key] = request
            self._release_held(world)
            if not held:
                return Answer(step.row.trigger, reply)
            # Wait for the session that holds it to close (another request's work).
            self._lock.wait_for(lambda: key in self._replies, timeout=self.hold_timeout)
            self._held.pop(key, None)
            return Answer(step.row.trigger, self._replies.pop(key, None), held=True)

    def _new_device(self) -> int:
        """The index a DevID not seen before would get; refused past `MAX_DEVICES`
        (a `SyncMLError`, which is a `ValueError`: a 400 either way)."""
        known = self.store.devices()
        if len(known) >= MAX_DEVICES:
            raise SyncMLError(f"this endpoint serves at most {MAX_DEVICES} devices")
        return min(set(range(MAX_DEVICES)) - set(known.values()))

    def _join(self, pkg: Package) -> Package | bytes:
        """The package `pkg` completes, as one message (`multimessage.join` over the
        session's messages since its first multi-message package), or the Next Message
        reply (its bytes) when more messages of it follow. A device message with MsgID
        1 starts the session again (a SessionID may be reused). Only a session that has
        had a multi-message package keeps its messages, and only so many."""
        key = session_of(pkg)
        if pkg.header.msg_id == 1:
            self._sessions.pop(key, None)
        session = self._session(key)
        if pkg.final and session.history is None:
            return pkg
        history = session.history = session.history if session.history is not None else []
        history.append(("device", pkg))
        size = sum(len(p.commands) for _, p in history)
        if len(history) > 2 * MAX_MESSAGES or size > MAX_COMMANDS:
            self._sessions.pop(key, None)
            raise SyncMLError(
                f"a package of more than {MAX_MESSAGES} messages or {MAX_COMMANDS} "
                "commands: refused"
            )
        if pkg.final:
            return join([(str(n), p) for n, (_, p) in enumerate(history)])[-1][1]
        reply = next_message_reply(pkg, session.sent + 1)
        session.sent += 1
        session.next_replies += 1
        history.append(("server", reply))
        return build(reply).encode()

    def _session(self, key: tuple[str, str]) -> _Session:
        session = self._sessions.get(key)
        if session is None:
            while len(self._sessions) >= MAX_SESSIONS:  # the oldest are long over
                self._sessions.pop(next(iter(self._sessions)))
            session = self._sessions[key] = _Session()
        return session

    def _reply(
        self, device: int, sent: tuple[tuple[int, Msg], ...], request: Package
    ) -> bytes | None:
        """The package answering `request` among what a row sent, its MsgID after the
        Next Message replies of the session; the rest goes to the outbox."""
        key = session_of(request)
        session = self._session(key)
        reply = None
        for j, m in sent:
            if j == device and m.kind in ("pkg2", "pkg4") and reply is None:
                package = to_package(m, reply_to=request)
                msg_id = package.header.msg_id + session.next_replies
                package = dataclasses.replace(
                    package, header=dataclasses.replace(package.header, msg_id=msg_id)
                )
                session.sent += 1
                if session.history is not None:
                    session.history.append(("server", package))
                if m.kind == "pkg4":
                    self._sessions.pop(key, None)  # the session is over
                reply = build(package).encode()
            else:
                self.outbox.append((j, m))
        return reply

    def _release_held(self, world: World) -> None:
        """Process every held package whose session has closed, as the model's server
        does, and hand each reply to the request waiting for it; with none waiting
        (its wait ran out, or `serve` restarted), the reply goes to the outbox."""
        while True:
            for record in world.server.records:
                steps = [
                    s
                    for i, msg in record.held
                    if (i, msg) not in self._replies
                    for s in self._receivers(world, i, msg, "held")
                ]
                if steps:
                    break
            else:
                released = self._release_orphans(world)
                if released is None:
                    return
                world = released
                continue
            step = steps[0]
            i, msg = step.party or 0, step.arg[1]
            world, sent = self._fire(world, step)
            request = self._held.get((i, msg))
            if request is None:
                self.outbox.extend(sent)
                continue
            self._replies[(i, msg)] = self._reply(i, sent, request)
            self._lock.notify_all()

    def _release_orphans(self, world: World) -> World | None:
        """A waiting request whose package no record holds any more (the record that
        held it was replaced, say): the package is back in flight, as in the model,
        and the server takes it as it would any other. The world after, or None when
        there was none."""
        held = {entry for record in world.server.records for entry in record.held}
        for (i, msg), request in self._held.items():
            if (i, msg) in self._replies or (i, msg) in held:
                continue
            here = self._world(world.server, i, msg)
            steps = self._receivers(here, i, msg, "net")
            reply = None
            if steps:
                here, sent = self._fire(here, steps[0])
                reply = self._reply(i, sent, request)
            self._replies[(i, msg)] = reply
            self._lock.notify_all()
            return self._world(here.server)
        return None

    # ------------------------------------------------------- the operator's steps
    def steps(self) -> list[ServerStep]:
        """The server's environment steps enabled now (admin, tenant, timers)."""
        with self._lock:
            world = self._world(self.store.server())
            return [_steps_of(s) for s in self._environment(world)]

    def _environment(self, world: World) -> list[LiveStep]:
        return [
            s
            for s in self.live.enabled(world)
            if s.row.machine == "server" and s.row.receives is None
        ]

    def step(self, wanted: ServerStep) -> ServerStep:
        """Fire the enabled environment step `wanted`; `LookupError` (naming what is
        enabled) when it is not."""
        with self._lock:
            world = self._world(self.store.server())
            options = self._environment(world)
            for s in options:
                if _steps_of(s) == wanted:
                    world, sent = self._fire(world, s)
                    self.outbox.extend(sent)
                    self.taken.append(wanted)
                    self._release_held(world)
                    return wanted
            enabled = ", ".join(_label(_steps_of(s)) for s in options) or "none"
            raise LookupError(f"{_label(wanted)} is not enabled; enabled: {enabled}")

    def enroll(
        self,
        devid: str,
        generation: int,
        kind: str,
        platform: str,
        local_admin: bool,
        device: int | None = None,
    ) -> tuple[str, ...]:
        """The enrollment exchange (MS-MDE2, not SyncML) for DevID `devid`: the body of
        the server's response, ``("token",)`` or ``("fault", code)``; ``()`` when the
        server sends none. What the operator gives is checked before anything is
        stored (`ValueError`, one line)."""
        _check_enrollment(devid, generation, kind, platform, local_admin, device)
        with self._lock:
            known = self.store.find_device(devid)
            if device is None:
                device = known if known is not None else self._new_device()
            self.store.bind_device(devid, device)
        index = device
        msg = Msg(
            "enroll_request",
            generation,
            "-",
            (kind, platform, "admin" if local_admin else "no_admin"),
        )
        with self._lock:
            world = self._world(self.store.server(), index, msg)
            steps = self._receivers(world, index, msg, "net")
            if not steps:
                return ()
            world, sent = self._fire(world, steps[0])
            body: tuple[str, ...] = ()
            for j, m in sent:
                if j == index and m.kind == "enroll_response" and not body:
                    body = m.body
                else:
                    self.outbox.append((j, m))
            # A record replaced may have held a package (see `_release_orphans`).
            self._release_held(self._world(world.server))
            return body

    def records(self) -> list[dict[str, Any]]:
        """The record table, for the operator (ghost fields left out)."""
        from lifecycle.mdm.state import RECORD_GHOSTS

        out = []
        for r in self.store.server().records:
            fields = {k: v for k, v in r._asdict().items() if k not in RECORD_GHOSTS}
            fields["queue"] = [list(c) for c in r.queue]
            fields["held"] = [[i, list(m)] for i, m in r.held]
            out.append(fields)
        return out


def _check_enrollment(
    devid: object,
    generation: object,
    kind: object,
    platform: object,
    local_admin: object,
    device: object,
) -> None:
    """One line naming the first field of an enrollment the endpoint cannot take."""
    from lifecycle.mdm.design import KINDS, PLATFORMS

    def integer(value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    if not isinstance(devid, str) or not devid or len(devid) > 1000:
        raise ValueError("devid: give the device's DevID (its LocURI), a non-empty string")
    if not integer(generation) or not 1 <= generation < 1000:  # type: ignore[operator]
        raise ValueError("generation: give the enrollment generation, an integer from 1 to 999")
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r}: one of {', '.join(KINDS)}")
    if platform not in PLATFORMS:
        raise ValueError(f"platform {platform!r}: one of {', '.join(PLATFORMS)}")
    if not isinstance(local_admin, bool):
        raise ValueError("local_admin: true or false")
    if device is not None and (not integer(device) or not 0 <= device < MAX_DEVICES):  # type: ignore[operator]
        raise ValueError(f"device: an index from 0 to {MAX_DEVICES - 1}, or leave it out")


def _label(s: ServerStep) -> str:
    if s.device is None:
        return s.trigger
    return f"{s.trigger}(device {s.device}, generation {s.generation})"
