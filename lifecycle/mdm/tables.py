"""The four tables, and the interpreter that fires their rows.

`Tables` holds one table per machine (the reference tables, or a mutant of them) and
indexes their rows once: the device's receive rows by message kind, its other rows by
phase, the server's receive rows by message kind, its timers and admin rows, the
network's rows. The interpreter has one function per party, and each builds only that
party's view (`lifecycle.mdm.table`), so a row cannot read what its party does not know:

- `device_steps`: what one device does on its own, from its client state, its Azure AD
  join and its connection: the rows it fires, the messages it takes from the
  connection (routing follows from the rows' ``receives``: a message goes to every
  non-fallback row that takes it, else to the fallback row), what it sends and what
  its ``also`` changes;
- `server_message_steps`: what the server does with one package from one connection:
  it finds the record by its own key (`lifecycle.mdm.server.resolve`) and fires the
  rows that take the package in that record's state; replies go to an outbox;
- `server_record_steps`: the server's timers and the admin's actions, once per record,
  and the tenant's switch, once; a timer's ``timing`` is returned for the composition
  to check against the world;
- `network_steps`: what one connection does: lose a message, go offline, come back.

Each function returns plain tuples, so the composition (`lifecycle.mdm.model`) can
memoise them on the part of the world they read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lifecycle.mdm import device, directory, network, server
from lifecycle.mdm.history import keep_device_history, keep_record_history
from lifecycle.mdm.state import Channel, Device, Directory, Msg, Record, Server
from lifecycle.mdm.table import (
    TO_DEVICE,
    DeviceView,
    NetworkView,
    Row,
    Send,
    ServerView,
    Table,
    device_sends,
    put_message,
    take_message,
)

if TYPE_CHECKING:
    from lifecycle.mdm.design import Design, Scope

#: What a device step leaves: (row, argument, device, directory, channel).
DeviceStep = tuple[Row, Any, Device, Directory, Channel]
#: What a server step leaves: (row, argument, server, outbox, message consumed, record
#: the row acted on or None). The outbox holds (device index, message) pairs.
ServerStep = tuple[Row, Any, Server, tuple[tuple[int, Msg], ...], bool, Record | None]
NetworkStep = tuple[Row, Any, Channel]


@dataclass(frozen=True)
class Tables:
    """The four machine tables, with their rows indexed for the interpreter."""

    device: Table
    server: Table
    directory: Table
    network: Table
    # Not an init field: `dataclasses.replace` builds its own index.
    _index: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        seen: dict[str, tuple[Table, Row]] = {}
        for table in self.all():
            for r in table.rows:
                if r.trigger in seen:
                    raise ValueError(f"trigger {r.trigger} appears in two tables")
                seen[r.trigger] = (table, r)
        idx = self._index
        idx["rows"] = seen
        idx["device_receive"] = {
            kind: tuple(r for r in self.device.rows if r.receives and kind in r.receives.kinds)
            for kind in TO_DEVICE
        }
        idx["device_own"] = {
            phase: tuple(r for r in self.device.rows_from(phase) if r.receives is None)
            for phase in self.device.states
        }
        idx["server_receive"] = {
            kind: tuple(r for r in self.server.rows if r.receives and kind in r.receives.kinds)
            for kind in ("enroll_request", "pkg1", "pkg3")
        }
        idx["server_record"] = {
            status: tuple(
                r for r in self.server.rows_from(status) if r.receives is None and r.on == "record"
            )
            for status in self.server.states
        }
        idx["tenant"] = tuple(
            r for r in self.server.rows if r.receives is None and r.on == "tenant"
        )
        idx["network"] = {s: self.network.rows_from(s) for s in self.network.states}

    def all(self) -> tuple[Table, Table, Table, Table]:
        return (self.device, self.server, self.directory, self.network)

    def by_machine(self) -> dict[str, Table]:
        """Machine name -> table, in a stable order (device, server, directory, network)."""
        return {t.machine: t for t in self.all()}

    def row(self, trigger: str) -> Row:
        """The row of a trigger (triggers are unique across the tables)."""
        row: Row = self._index["rows"][trigger][1]
        return row

    def table_of(self, trigger: str) -> Table:
        table: Table = self._index["rows"][trigger][0]
        return table

    def rows(self) -> list[Row]:
        """Every row of every table, in table order."""
        return [r for t in self.all() for r in t.rows]

    def index(self, name: str) -> Any:
        return self._index[name]


REFERENCE = Tables(device.TABLE, server.TABLE, directory.TABLE, network.TABLE)


def all_tables() -> dict[str, Table]:
    """Machine name -> the reference table (device, server, directory, network)."""
    return REFERENCE.by_machine()


def all_rows() -> list[Row]:
    """Every row of every reference table, in table order."""
    return REFERENCE.rows()


def row(trigger: str) -> Row:
    """The reference row of a trigger (also the engine action name)."""
    return REFERENCE.row(trigger)


# ----------------------------------------------------------------- the device
def device_message(v: DeviceView, send: Send) -> Msg:
    """The message a device row's `Send` builds, from the state the row fires in."""
    d = v.device
    msgid = send.msgid(v) if callable(send.msgid) else (send.msgid or 1)
    session = send.session or "main"
    return Msg(send.kind, d.gen, session, send.body_of(v), msgid, 0)


def _fire_device(t: Tables, v: DeviceView, r: Row, arg: Any, msg: Msg | None) -> DeviceStep:
    """Fire a device row on its view: take the message, build what it sends from the
    state it fires in, run the effect, send, apply ``also`` and ``dest``."""
    v.arg = arg
    v.msg = msg
    before = v.device
    outgoing = [device_message(v, s) for s in r.sends]
    if msg is not None:
        v.consume(msg)
    if r.effect is not None:
        r.effect(v)
    v.net = device_sends(v.net, outgoing)
    for also in r.also:
        t.by_machine()[also.machine].set_state(v, also.state_of(v))
    if r.dest is not None:
        t.device.set_state(v, r.dest)
    keep_device_history(v, r, before, msg, outgoing)
    return (r, arg, v.device, v.directory, v.net)


def _takes(v: DeviceView, r: Row, msg: Msg) -> bool:
    rec = r.receives
    assert rec is not None
    if not rec.takes(msg) or not r.fires_from(v.device.phase):
        return False
    if rec.generation == "current" and msg.generation != v.device.gen:
        return False
    # The guard sees the connection with the message taken: the row holds it now.
    net = v.net
    v.msg, v.net = msg, take_message(net, msg)
    try:
        return r.holds(v)
    finally:
        v.msg, v.net = None, net


def device_steps(
    t: Tables,
    design: Design,
    scope: Scope,
    index: int,
    dev: Device,
    dirc: Directory,
    net: Channel,
) -> tuple[DeviceStep, ...]:
    """The device's enabled steps: its own rows (guard, then each choice), and for each
    distinct message in flight to it, the rows that take it (the fallback row if no
    other does)."""
    steps: list[DeviceStep] = []

    def view() -> DeviceView:
        return DeviceView(dev, dirc, net, design, scope, index)

    probe = view()
    for r in t.index("device_own")[dev.phase]:
        if not r.holds(probe):
            continue
        args: Iterable[Any] = (None,) if r.choices is None else tuple(r.choices(probe))
        for arg in args:
            steps.append(_fire_device(t, view(), r, arg, None))
    receive = t.index("device_receive")
    for msg in dict.fromkeys(m for m in net.in_flight if m.kind in TO_DEVICE):
        candidates = receive[msg.kind]
        takers = [r for r in candidates if not r.receives.otherwise and _takes(probe, r, msg)]
        if not takers:
            takers = [r for r in candidates if r.receives.otherwise and _takes(probe, r, msg)]
        for r in takers:
            steps.append(_fire_device(t, view(), r, msg, msg))
    return tuple(steps)


# ----------------------------------------------------------------- the server
def server_message(v: ServerView, send: Send) -> tuple[int, Msg]:
    """Build a message the server sends, from the state the row fires in: a reply goes
    on the connection the package came on, for its enrollment and session; a push or an
    agent request goes to the device of the record the row acts on."""
    origin = send.origin(v) if send.origin is not None else 0
    body = send.body_of(v)
    if send.to == "sender":
        m = v.msg
        msgid = (
            send.msgid(v)
            if callable(send.msgid)
            else (m.msgid if send.msgid is None else send.msgid)
        )
        return v.sender, Msg(
            send.kind, m.generation, send.session or m.session, body, msgid, origin
        )
    r = v.record
    assert r is not None, f"{send.kind}: a send to the record needs a record"
    msgid = send.msgid(v) if callable(send.msgid) else (send.msgid or 1)
    return r.device, Msg(send.kind, r.gen, send.session or "-", body, msgid, origin)


def _fire_server(t: Tables, v: ServerView, r: Row, arg: Any) -> ServerStep:
    v.arg = arg
    before = v.record
    outbox = tuple(server_message(v, s) for s in r.sends)
    if r.effect is not None:
        r.effect(v)
    if r.dest is not None:
        t.server.set_state(v, r.dest)
    keep_record_history(v, r, before, v.msg, outbox)
    if v.source == "held":
        # The held package is processed: the record no longer holds it.
        entry = (v.sender, v.msg)
        records = [rec._replace(held=()) if entry in rec.held else rec for rec in v.server.records]
        v.set_records(records)
    keep = r.receives is not None and r.receives.keep
    return (r, arg, v.server, outbox, not keep, v.record)


def _server_takers(
    t: Tables, v: ServerView, rows: tuple[Row, ...], resolved: dict[str, tuple[str, Record | None]]
) -> list[tuple[Row, str, Record | None]]:
    out: list[tuple[Row, str, Record | None]] = []
    fallbacks: list[tuple[Row, str, Record | None]] = []
    msg = v.msg
    for r in rows:
        rec = r.receives
        assert rec is not None
        if not rec.takes(msg) or (v.source == "held" and not rec.held):
            continue
        state, record = resolved[rec.generation]
        if not r.fires_from(state):
            continue
        v.record, v.resolved = record, state
        if r.holds(v):
            (fallbacks if rec.otherwise else out).append((r, state, record))
    return out or fallbacks


def server_message_steps(
    t: Tables,
    design: Design,
    scope: Scope,
    srv: Server,
    sender: int,
    hardware: int,
    msg: Msg,
    source: str,
) -> tuple[ServerStep, ...]:
    """What the server does with package `msg` from connection `sender` (``source``:
    ``"net"``, in flight; ``"held"``, a package the server held)."""
    resolved: dict[str, tuple[str, Record | None]] = {}
    for mode in ("key", "any", "current"):
        resolved[mode] = server.resolve(
            srv, design, sender, hardware, msg, "any" if mode == "any" else "key"
        )
    if source == "held":
        holder = next(r for r in srv.records if (sender, msg) in r.held)
        for mode in resolved:
            resolved[mode] = (holder.status, holder)
    probe = ServerView(srv, design, scope, sender=sender, hardware=hardware, source=source)
    probe.msg = msg
    takers = _server_takers(t, probe, t.index("server_receive")[msg.kind], resolved)
    arg: Any = msg if source == "net" else ("held", msg)
    steps = []
    for r, state, record in takers:
        v = ServerView(srv, design, scope, record, state, sender, hardware, source)
        v.msg = msg
        steps.append(_fire_server(t, v, r, arg))
    return tuple(steps)


def server_record_steps(
    t: Tables, design: Design, scope: Scope, srv: Server
) -> tuple[ServerStep, ...]:
    """The server's timers and the admin's actions on each record, and the tenant's
    rows once. The timing assumption of a timer is the row's to declare (``timing``)
    and the composition's to check."""
    steps: list[ServerStep] = []
    by_status = t.index("server_record")
    for record in dict.fromkeys(srv.records):
        for r in by_status[record.status]:
            probe = ServerView(srv, design, scope, record, record.status)
            if r.holds(probe):
                steps.append(
                    _fire_server(
                        t, ServerView(srv, design, scope, record, record.status), r, record
                    )
                )
    for r in t.index("tenant"):
        if r.holds(ServerView(srv, design, scope)):
            steps.append(_fire_server(t, ServerView(srv, design, scope), r, None))
    return tuple(steps)


# ---------------------------------------------------------------- the network
def network_steps(
    t: Tables, design: Design, scope: Scope, index: int, net: Channel
) -> tuple[NetworkStep, ...]:
    """What one connection does on its own."""
    steps: list[NetworkStep] = []
    state = "online" if net.online else "offline"
    for r in t.index("network")[state]:
        probe = NetworkView(net, design, scope, index)
        if not r.holds(probe):
            continue
        args: Iterable[Any] = (None,) if r.choices is None else tuple(r.choices(probe))
        for arg in args:
            v = NetworkView(net, design, scope, index)
            v.arg = arg
            if r.effect is not None:
                r.effect(v)
            if r.dest is not None:
                t.network.set_state(v, r.dest)
            steps.append((r, arg, v.net))
    return tuple(steps)


def deliver(
    scope: Scope,
    devices: tuple[Device, ...],
    nets: list[Channel],
    outbox: Iterable[tuple[int, Msg]],
) -> None:
    """Put what the server sent on the connections it reaches (`network.delivers`)."""
    for j, m in outbox:
        net = nets[j]
        room = len(net.in_flight) < scope.max_in_flight
        if network.delivers(devices[j], net, m, room):
            nets[j] = put_message(net, m)


def take(net: Channel, msg: Msg) -> Channel:
    """The connection without one copy of `msg` (a no-op when it is not in flight)."""
    return take_message(net, msg) if msg in net.in_flight else net


def held_packages(srv: Server) -> Iterator[tuple[int, Msg]]:
    """The packages records hold whose stale session has ended, so that the server can
    process them now."""
    for r in srv.records:
        if r.held and r.session != "open":
            yield from r.held
