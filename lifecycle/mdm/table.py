"""The transition-table format: one row per transition, as plain data.

Every machine of the lifecycle (device, server, directory, network) is a `Table` of
`Row`s, in the style of `transitions` dict definitions (`{"trigger", "source", "dest",
"conditions", "after"}`). A row tells its whole story, so three interpreters can read
it without a router of their own: the checker's compiled successor function
(`lifecycle.mdm.tables`), the live `transitions` machines (`lifecycle.runtime`), and the
renderers (diagrams, sequence charts, docs).

A row
-----
- ``trigger``: the event name, unique across all tables; also the engine action name.
- ``machine``: the table it belongs to; ``source``: the states it fires from (``("*",)``
  any); ``dest``: the state after it (None: an internal transition).
- ``actor``: who acts, the lifeline of a sequence chart (one of ``ACTORS``).
- ``receives``: the message it takes (`Receives`: kinds, bodies, session, whether it
  matches the enrollment generation, whether it is the fallback for what no other row
  takes). A row with ``receives`` is enabled once per matching message in flight.
- ``guard``: a tuple of named conjuncts, ``conjunct(view) -> bool``, all of which must
  hold (a mutant drops one).
- ``choices``: ``choices(view) -> iterable of args`` for a row without ``receives``:
  the row is enabled once per argument (the enrollment kind to pick, the message to
  lose).
- ``effect``: ``effect(view) -> None``, the change to the row's own party (its fields,
  its connection, its queue). It never writes the row's machine state: ``dest`` does.
- ``sends``: the messages it sends (`Send`), as data: the interpreter builds and
  delivers them after the effect (a mutant removes one).
- ``also``: the changes it makes to another machine's state (`Also`), e.g. the device's
  cleanup removes the Azure AD association (F50).
- ``timing``: for a timer of the server, the environment's timing assumption that
  makes it due (``"silence"``: no device has checked in on the record for longer than
  its poll interval). The row's guard reads only the server; the interpreter checks
  the assumption on the world, the way a real-time semantics lets time pass.
- ``on``: for a server row without ``receives``: once per record (``"record"``) or once
  for the tenant (``"tenant"``: the MDM switch).
- ``stimulus``: an environment stimulus that may come at any time (a user click, an
  admin request, the periodic maintenance timer). A device is *quiet* when only
  stimuli are enabled for it.
- ``facts``: the fact and ambiguity ids it models (``"F14"``, ``"A1"``, see docs/facts.md);
  ``description``: one line for humans.

Views: what a party can know
----------------------------
Guards, choices and effects take a view of the world as the row's party sees it:

- a device row gets a `DeviceView`: its `Device`, its `Directory` entry (the device's own
  join state) and its `Channel` (its connection);
- a server row gets a `ServerView`: the `Server` (the MDM switch and every record), the
  record the row acts on (found by the server's own key), the message it received and
  the connection it came on;
- a network row gets a `NetworkView` of one channel.

A view has no attribute for anything else: a server guard that reads ``view.device``
raises `HonestyError`, so an omniscient server cannot be written by accident.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from lifecycle.mdm.state import Channel, Device, Directory, Msg, Record, Server

if TYPE_CHECKING:
    from lifecycle.mdm.design import Design, Scope

ACTORS = ("user", "device", "network", "server", "aad", "admin", "timer")
ANY = "*"
#: Device-bound and server-bound message kinds.
TO_DEVICE = ("enroll_response", "pkg2", "pkg4", "push", "agent")
TO_SERVER = ("enroll_request", "pkg1", "pkg3")
MESSAGE_KINDS = (*TO_SERVER, *TO_DEVICE)

_new = tuple.__new__


class HonestyError(AttributeError):
    """A row read something its party cannot know (a server guard read the device)."""


class _View:
    """What the views share: the design, the scope, the row argument and the message
    received; any other attribute is refused with `HonestyError`."""

    __slots__ = ("arg", "design", "msg", "scope")
    party = "?"

    def __init__(self, design: Design, scope: Scope) -> None:
        self.design = design
        self.scope = scope
        self.arg: Any = None
        self.msg: Any = None

    def __getattr__(self, name: str) -> NoReturn:
        raise HonestyError(
            f"a {self.party} row read {name!r}, which the {self.party} cannot know; "
            f"a {self.party} view has: {', '.join(self._visible())}"
        )

    def _visible(self) -> list[str]:
        names: list[str] = []
        for cls in type(self).__mro__:
            names.extend(n for n in getattr(cls, "__slots__", ()) if not n.startswith("_"))
        return sorted(set(names))


class DeviceView(_View):
    """One device as it knows itself: its client state, its Azure AD join and its
    connection (``index`` is its position in the world, for messages only)."""

    __slots__ = ("device", "directory", "index", "net")
    party = "device"

    def __init__(
        self,
        device: Device,
        directory: Directory,
        net: Channel,
        design: Design,
        scope: Scope,
        index: int = 0,
    ) -> None:
        super().__init__(design, scope)
        self.device = device
        self.directory = directory
        self.net = net
        self.index = index

    def room(self) -> bool:
        """One more message fits in the connection (the scope's `max_in_flight` bound
        keeps the state space finite)."""
        return len(self.net.in_flight) < self.scope.max_in_flight

    def send(self, msg: Msg) -> None:
        """Put a message in flight. The channel is a multiset (kept sorted), so
        messages may be delivered in any order, like separate HTTP exchanges."""
        self.net = put_message(self.net, msg)

    def consume(self, msg: Msg) -> None:
        """Take one copy of a message out of the connection (delivered)."""
        self.net = take_message(self.net, msg)


class ServerView(_View):
    """The server as it knows itself: the MDM switch and the record table, the record
    the row acts on (None: the message matched no record), the message received and
    the connection it came on (``sender``: the device index of the connection;
    ``hardware``: the HWDevID the package declared). ``outbox`` collects what it sends,
    as ``(device index, message)``."""

    __slots__ = ("hardware", "outbox", "record", "resolved", "sender", "server", "source")
    party = "server"

    def __init__(
        self,
        server: Server,
        design: Design,
        scope: Scope,
        record: Record | None = None,
        resolved: str = "none",
        sender: int = -1,
        hardware: int = -1,
        source: str = "net",
    ) -> None:
        super().__init__(design, scope)
        self.server = server
        self.record = record
        self.resolved = resolved
        self.sender = sender
        self.hardware = hardware
        self.source = source
        self.outbox: list[tuple[int, Msg]] = []

    def update(self, **changes: Any) -> None:
        """Replace fields of the record the row acts on (in the table too)."""
        old = self.record
        assert old is not None, "update() needs a record"
        new = old._replace(**changes)
        self.record = new
        records = list(self.server.records)
        records[records.index(old)] = new
        self.server = self.server._replace(records=tuple(sorted(records)))

    def add_record(self, record: Record) -> None:
        """Insert a new record; it becomes the record the row acts on."""
        self.server = self.server._replace(records=tuple(sorted((*self.server.records, record))))
        self.record = record

    def remove_record(self, record: Record) -> None:
        """Delete one record from the table."""
        records = list(self.server.records)
        records.remove(record)
        self.server = self.server._replace(records=tuple(records))
        if self.record == record:
            self.record = None

    def set_records(self, records: Iterable[Record]) -> None:
        """Rewrite the whole table (a tenant-wide change)."""
        self.server = self.server._replace(records=tuple(sorted(records)))


class NetworkView(_View):
    """One connection: whether the device is online and what is in flight."""

    __slots__ = ("index", "net")
    party = "network"

    def __init__(self, net: Channel, design: Design, scope: Scope, index: int = 0) -> None:
        super().__init__(design, scope)
        self.net = net
        self.index = index


View = DeviceView | ServerView | NetworkView
Guard = Callable[[Any], bool]
Effect = Callable[[Any], None]
Choices = Callable[[Any], Iterable[Hashable]]
Body = tuple[str, ...] | Callable[[Any], tuple[str, ...]]


def scope_bound(conjunct: Guard) -> Guard:
    """Mark a guard conjunct as the scope's bound on the state space (messages in flight,
    re-enrollments, offline periods, the MDM switch), not a design decision: the
    mutation operators leave it alone, since dropping it only makes the search
    unbounded."""
    conjunct.scope_bound = True  # type: ignore[attr-defined]
    return conjunct


def is_scope_bound(conjunct: Guard) -> bool:
    """The conjunct is one of the scope's bounds (`scope_bound`)."""
    return bool(getattr(conjunct, "scope_bound", False))


def put_message(net: Channel, msg: Msg) -> Channel:
    """The channel with one more copy of `msg` in flight."""
    return net._replace(in_flight=tuple(sorted((*net.in_flight, msg))))


def device_sends(net: Channel, outgoing: Iterable[Msg]) -> Channel:
    """Put what a device row sent on its connection. On an offline connection the
    HTTP request fails ("Error sending unenroll alert", F11): nothing goes in flight,
    but the row still tried, which the interpreter's history records."""
    if not net.online:
        return net
    for m in outgoing:
        net = put_message(net, m)
    return net


def take_message(net: Channel, msg: Msg) -> Channel:
    """The channel with one copy of `msg` taken out (the first, as list.remove)."""
    items = net.in_flight
    i = items.index(msg)  # ValueError if none
    return net._replace(in_flight=items[:i] + items[i + 1 :])


@dataclass(frozen=True)
class Receives:
    """The message a row takes.

    - ``kinds``: the message kinds (`MESSAGE_KINDS`).
    - ``bodies``: the first body tokens matched (None: any). For package 1 (whose body
      is a list of alerts) the row's guard reads the alerts instead.
    - ``session``: the DM session slot matched, ``"main"`` or ``"alert"`` (None: any).
    - ``generation``: a device row: ``"current"``, the message must be for the device's
      current enrollment, or ``"any"``. A server row: ``"key"``, the server finds the
      record by the design's record key, or ``"any"``, by device id whatever the
      generation.
    - ``otherwise``: the fallback: the row takes a message of its kinds that no other
      row of the machine takes (the discard rows).
    - ``held``: a server row may also take a package the record holds (wait designs).
    - ``keep``: the message stays in flight (the server holds the request: its HTTP
      connection stays open, so the device still waits for the answer).
    """

    kinds: tuple[str, ...]
    bodies: tuple[str, ...] | None = None
    session: str | None = None
    generation: str = "current"
    otherwise: bool = False
    held: bool = False
    keep: bool = False

    def __post_init__(self) -> None:
        for kind in self.kinds:
            if kind not in MESSAGE_KINDS:
                raise ValueError(f"unknown message kind {kind!r}")
        if self.generation not in ("current", "any", "key"):
            raise ValueError(f"generation {self.generation!r}")

    def takes(self, msg: Msg) -> bool:
        """Kind, body and session match (the generation is matched by the interpreter,
        which knows whose enrollment the row is about)."""
        if msg.kind not in self.kinds:
            return False
        if self.bodies is not None and (not msg.body or msg.body[0] not in self.bodies):
            return False
        return self.session is None or msg.session == self.session


@dataclass(frozen=True)
class Send:
    """A message a row sends.

    - ``kind``: the message kind; ``body``: its body, or ``body(view)``.
    - ``session``: the session slot (None: a reply goes in the session of the message
      received).
    - ``to``: ``"server"`` (a device row), ``"sender"`` (a server row's reply on the
      connection the message came on) or ``"record"`` (a server row's push or agent
      request to the device of the record it acts on).
    - ``msgid``: 1, or ``msgid(view)`` (None: a reply keeps the MsgID received).
    - ``origin``: ghost: ``origin(view)`` for a command, the generation it was queued
      for (None: 0).
    """

    kind: str
    body: Body = ()
    session: str | None = None
    to: str = "server"
    msgid: int | Callable[[Any], int] | None = 1
    origin: Callable[[Any], int] | None = None

    def __post_init__(self) -> None:
        if self.kind not in MESSAGE_KINDS:
            raise ValueError(f"unknown message kind {self.kind!r}")
        if self.to not in ("server", "sender", "record"):
            raise ValueError(f"send to {self.to!r}")

    def body_of(self, view: Any) -> tuple[str, ...]:
        return self.body(view) if callable(self.body) else self.body


@dataclass(frozen=True)
class Also:
    """A change a row makes to another machine's state: ``machine`` enters ``state``
    (or ``state(view)``, which gives one of ``targets``) from one of ``source``. The
    diagrams draw it as that machine's transition."""

    machine: str
    state: str | Callable[[Any], str]
    source: tuple[str, ...] = ("*",)
    targets: tuple[str, ...] = ()

    def state_of(self, view: Any) -> str:
        return self.state(view) if callable(self.state) else self.state

    def possible_states(self) -> tuple[str, ...]:
        """The states the change can lead to."""
        if callable(self.state):
            if not self.targets:
                raise ValueError(f"also {self.machine}: a computed state lists its targets")
            return self.targets
        return (self.state,)


@dataclass(frozen=True)
class Row:
    """One transition of one machine. See the module docstring for every field."""

    trigger: str
    machine: str
    source: tuple[str, ...]
    dest: str | None
    actor: str
    facts: tuple[str, ...]
    description: str
    guard: tuple[Guard, ...] = ()
    effect: Effect | None = None
    choices: Choices | None = None
    receives: Receives | None = None
    sends: tuple[Send, ...] = ()
    also: tuple[Also, ...] = ()
    timing: str | None = None
    on: str = "record"
    stimulus: bool = False

    def __post_init__(self) -> None:
        if self.actor not in ACTORS:
            raise ValueError(f"row {self.trigger}: actor {self.actor!r} not in {ACTORS}")
        if not isinstance(self.guard, tuple):
            raise ValueError(f"row {self.trigger}: guard must be a tuple of conjuncts")
        if self.receives is not None and self.choices is not None:
            raise ValueError(f"row {self.trigger}: a receive row's argument is its message")
        if self.on not in ("record", "tenant"):
            raise ValueError(f"row {self.trigger}: on {self.on!r}")
        if self.timing not in (None, "silence"):
            raise ValueError(f"row {self.trigger}: timing {self.timing!r}")

    def fires_from(self, state: str) -> bool:
        """True when `state` is one of the row's source states."""
        return ANY in self.source or state in self.source

    def holds(self, view: Any) -> bool:
        """Every conjunct of the guard holds in `view`."""
        return all(conjunct(view) for conjunct in self.guard)

    # -- what the renderers read: the message a row sends or receives, and its peer
    @property
    def message(self) -> str | None:
        if self.receives is not None:
            return self.receives.kinds[0]
        return self.sends[0].kind if self.sends else None

    @property
    def direction(self) -> str | None:
        if self.receives is not None:
            return "receive"
        return "send" if self.sends else None

    @property
    def peer(self) -> str | None:
        if self.message is None:
            return None
        if self.message in ("push",):
            return "wns" if self.machine == "device" else "device"
        return "server" if self.machine == "device" else "device"

    @property
    def touches(self) -> tuple[str, ...]:
        """The other machines whose state the row may change (``also``), plus the
        network when it sends or receives."""
        names = [a.machine for a in self.also]
        if (self.receives is not None or self.sends) and self.machine != "network":
            names.append("network")
        return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class Table:
    """The transition table of one machine.

    - ``machine``: its name; ``states``: every state, the initial one first;
    - ``state_of(view)``: the machine's current state; ``set_state(view, s)``;
    - ``rows``: the transitions, in the order they are documented;
    - ``ends``: the documented end states (a state with no way out is drawn as one).
    """

    machine: str
    description: str
    states: tuple[str, ...]
    state_of: Callable[[Any], str]
    set_state: Callable[[Any, str], None]
    rows: tuple[Row, ...]
    ends: tuple[str, ...] = ()
    # Not an init field: `dataclasses.replace` (a mutant table) builds its own index.
    _from: dict[str, tuple[Row, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        index = {state: tuple(r for r in self.rows if r.fires_from(state)) for state in self.states}
        self._from.update(index)
        for row in self.rows:
            if row.machine != self.machine:
                raise ValueError(f"row {row.trigger} belongs to {row.machine}, not {self.machine}")
            for s in (*row.source, row.dest):
                if s is not None and s != ANY and s not in self.states:
                    raise ValueError(f"row {row.trigger}: unknown {self.machine} state {s!r}")

    def rows_from(self, state: str) -> tuple[Row, ...]:
        """The rows that may fire from `state` (an index built once)."""
        return self._from[state]

    @property
    def initial(self) -> str:
        return self.states[0]

    def row(self, trigger: str) -> Row:
        for r in self.rows:
            if r.trigger == trigger:
                return r
        raise KeyError(trigger)
