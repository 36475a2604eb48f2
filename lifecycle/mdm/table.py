"""The transition-table format: one row per transition, as plain data.

Every machine of the lifecycle (device, server, directory, network) is written as a
`Table` of `Row`s, in the style of `transitions` dict definitions
(`{"trigger", "source", "dest", "conditions", "after"}`). The same rows are read by
three interpreters, which is why they are data and not code paths:

1. the compiled successor function of `lifecycle.mdm.model.LifecycleModel` (the
   checker's fast path, memoised per device);
2. live `transitions.Machine` objects (`lifecycle.runtime`): `source`/`dest` are the
   machine states, `guard` is a condition, `effect` an `after` callback and `choices`
   the event data the trigger is fired with;
3. the diagram and sequence-chart renderers, which read `actor`, `message`,
   `direction`, `peer` and `facts`.

Format of a row
---------------
- ``trigger`` (str): the event name. Unique across *all* tables, so it is also the
  action name in the engine: an engine action is ``(trigger, device)`` or
  ``(trigger, device, arg)``.
- ``machine`` (str): the machine whose table holds the row (``"device"``, ``"server"``,
  ``"directory"``, ``"network"``).
- ``source`` (tuple of str): the machine states the row may fire from; ``("*",)``
  means any state.
- ``dest`` (str or None): the machine state after the row; None means an internal
  transition (the machine state does not change).
- ``guard`` (function or None): ``guard(view) -> bool``; a named module-level function
  with a docstring, evaluated with ``view.arg`` None. None means always true.
- ``choices`` (function or None): ``choices(view) -> iterable of hashable args``,
  evaluated when the guard holds. A row with choices is enabled once per argument (a
  message to receive, the enrollment kind to pick) and none when there is none; the
  argument reaches the effect as ``view.arg``. None means the row takes no argument
  (``view.arg`` is None). The receive rows (`lifecycle.mdm.device.ROUTED_TRIGGERS`)
  get their arguments from one routing function per side, so that exactly one row
  takes each message; their ``choices`` read that routing.
- ``effect`` (function or None): ``effect(view) -> None``; mutates the view. It must not
  write the row's own machine state: that is set from ``dest`` after the effect runs.
  It may write fields of other machines; those are listed in ``touches``.
- ``facts`` (tuple of str): the fact ids of ``spec/facts.md`` (``"F14"``) and ambiguity
  decisions (``"A1"``) the row models.
- ``actor`` (str): who acts, i.e. the lifeline in a sequence chart: one of ``ACTORS``
  (user, device, network, server, aad, admin, timer).
- ``message`` (str or None): the message kind sent or received (``"pkg1"``, ``"pkg2"``,
  ``"pkg3"``, ``"pkg4"``, ``"push"``, ``"enroll"``), with ``direction`` (``"send"``,
  ``"receive"`` or ``"exchange"`` for an atomic request/response) and ``peer`` (the
  other party: ``"server"``, ``"device"``, ``"aad"``, ``"wns"``).
- ``stimulus`` (bool): an environment stimulus that may come at any time (a user
  click, an admin request, the periodic maintenance timer). Quiescence ignores
  stimuli: a device is *quiet* when only stimulus rows are enabled for it.
- ``touches`` (tuple of str): other machines whose state the effect may change. A
  live interpreter re-reads those machines' states after the row fires.
- ``description`` (str): one line, for humans and diagrams.

The state view
--------------
Guards and effects take a `View`: the part of the engine state that belongs to one
device (devices interact with nothing but their own enrollment record, directory
entry and channel, see `lifecycle.mdm.state`), with mutable attributes:

- ``view.device`` (`Device`), ``view.server`` (`ServerRecord`), ``view.directory``
  (`Directory`), ``view.net`` (`Channel`): NamedTuples; effects replace them with
  ``view.device = view.device._replace(...)``;
- ``view.design`` (`Design`) and ``view.scope`` (`Scope`): read-only;
- ``view.index`` (the device number) and ``view.arg`` (the row argument);
- helpers ``send``, ``consume``, ``room`` for the channel.

`lifecycle.mdm.tables` enumerates the tables and gives the functions a live
interpreter needs: `machine_states`, `enabled_rows` and `apply_row`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lifecycle.mdm.state import Channel, Device, Directory, Msg, ServerRecord

if TYPE_CHECKING:
    from lifecycle.mdm.design import Design, Scope

ACTORS = ("user", "device", "network", "server", "aad", "admin", "timer")
DIRECTIONS = ("send", "receive", "exchange")
ANY = "*"

# `tuple.__new__(NamedTupleClass, fields)`: the NamedTuple without its Python-level
# `__new__` (the hot paths build many).
_new = tuple.__new__

Guard = Callable[["View"], bool]
Effect = Callable[["View"], None]
Choices = Callable[["View"], Iterable[Hashable]]


class View:
    """A mutable view of one device's slice of the engine state.

    Built by `lifecycle.mdm.tables.make_view`; turned back into an engine state by
    `lifecycle.mdm.tables.commit`. Guards only read it; effects assign new
    NamedTuples to its attributes.
    """

    __slots__ = (
        "_routes",
        "arg",
        "design",
        "device",
        "directory",
        "index",
        "net",
        "scope",
        "server",
    )

    def __init__(
        self,
        device: Device,
        server: ServerRecord,
        directory: Directory,
        net: Channel,
        design: Design,
        scope: Scope,
        index: int = 0,
        arg: Any = None,
    ) -> None:
        self.device = device
        self.server = server
        self.directory = directory
        self.net = net
        self.design = design
        self.scope = scope
        self.index = index
        self.arg = arg
        self._routes: dict[str, list[Any]] | None = None

    def routes(self, build: Callable[[View], dict[str, list[Any]]]) -> dict[str, list[Any]]:
        """Trigger -> messages it would receive, computed once per view by `build` (the
        receive rows' choices all read the same routing, so it is done once)."""
        if self._routes is None:
            self._routes = build(self)
        return self._routes

    # -- channel helpers -------------------------------------------------------
    def room(self) -> bool:
        """True when one more message fits in this device's channel (the scope's
        `max_in_flight` bound keeps the state space finite)."""
        return len(self.net.in_flight) < self.scope.max_in_flight

    def send(self, msg: Msg) -> None:
        """Put a message in flight. The channel is a multiset (kept sorted), so
        messages may be delivered in any order, like separate HTTP exchanges."""
        self.net = _new(Channel, (tuple(sorted((*self.net.in_flight, msg))),))

    def consume(self, msg: Msg) -> None:
        """Take one copy of a message out of the channel (delivered or lost)."""
        items = self.net.in_flight
        i = items.index(msg)  # the first copy, as list.remove takes it; ValueError if none
        self.net = _new(Channel, (items[:i] + items[i + 1 :],))

    def bundle(self) -> tuple[Device, ServerRecord, Directory, Channel]:
        return (self.device, self.server, self.directory, self.net)


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
    guard: Guard | None = None
    effect: Effect | None = None
    choices: Choices | None = None
    message: str | None = None
    direction: str | None = None
    peer: str | None = None
    stimulus: bool = False
    touches: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.actor not in ACTORS:
            raise ValueError(f"row {self.trigger}: actor {self.actor!r} not in {ACTORS}")
        if self.direction is not None and self.direction not in DIRECTIONS:
            raise ValueError(f"row {self.trigger}: direction {self.direction!r}")
        if (self.message is None) != (self.direction is None):
            raise ValueError(f"row {self.trigger}: message and direction go together")

    def fires_from(self, state: str) -> bool:
        """True when `state` is one of the row's source states."""
        return ANY in self.source or state in self.source

    def args(self, view: View) -> Iterator[Any]:
        """The arguments the row is enabled with in `view` (empty when disabled): the
        guard is evaluated once, with ``view.arg`` None; then each choice is one
        argument (or the single argument None when the row has no choices)."""
        view.arg = None
        if self.guard is not None and not self.guard(view):
            return
        if self.choices is None:
            yield None
            return
        yield from self.choices(view)


@dataclass(frozen=True)
class Table:
    """The transition table of one machine.

    - ``machine``: its name, also the key in `lifecycle.mdm.tables.all_tables()`;
    - ``states``: every state of the machine, the initial one first;
    - ``state_of``: ``state_of(view) -> str``, the machine's current state;
    - ``rows``: the transitions, in the order they are documented.
    """

    machine: str
    description: str
    states: tuple[str, ...]
    state_of: Callable[[View], str]
    set_state: Callable[[View, str], None]
    rows: tuple[Row, ...]

    def __post_init__(self) -> None:
        index = {state: tuple(r for r in self.rows if r.fires_from(state)) for state in self.states}
        object.__setattr__(self, "_from", index)
        for row in self.rows:
            if row.machine != self.machine:
                raise ValueError(f"row {row.trigger} belongs to {row.machine}, not {self.machine}")
            for s in (*row.source, row.dest):
                if s is not None and s != ANY and s not in self.states:
                    raise ValueError(f"row {row.trigger}: unknown {self.machine} state {s!r}")

    def rows_from(self, state: str) -> tuple[Row, ...]:
        """The rows that may fire from `state` (an index built once)."""
        index: dict[str, tuple[Row, ...]] = self.__dict__["_from"]
        return index[state]

    @property
    def initial(self) -> str:
        return self.states[0]

    def row(self, trigger: str) -> Row:
        for r in self.rows:
            if r.trigger == trigger:
                return r
        raise KeyError(trigger)
