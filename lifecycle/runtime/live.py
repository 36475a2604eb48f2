"""Live `transitions.Machine` objects built from the mdm tables.

The second interpreter of the tables (the first is the engine's compiled successor
function in `lifecycle.mdm.model`). Each device gets four machines, one per table
(device, server, directory, network), sharing one `View` of the device's slice of the
world, as the table format prescribes (`lifecycle.mdm.table`):

- a row is a `transitions` transition: `trigger`, `source` (``"*"`` for any), `dest`
  (None: an internal transition);
- its conditions are "the argument is one of the row's `choices`" and its `guard`;
- its `effect` runs as the `before` callback, then `transitions` moves the machine to
  `dest`, and the `after` callback writes that state into the view;
- the event data is the row argument: ``machine.trigger(name, arg=...)``.

What is enabled is what `transitions` says: `get_triggers(state)` for the machine's
current state, then `may_trigger(name, arg=a)` for each choice. Nothing here calls the
engine's `Row.args`, `tables.enabled_rows` or `tables.fire`, so the agreement test
between the two interpreters compares two independent readings of the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from transitions import EventData, Machine

from lifecycle.mdm import LifecycleModel, all_tables
from lifecycle.mdm.state import World
from lifecycle.mdm.table import ANY, Row, Table, View

__all__ = [
    "DERIVED",
    "LiveDevice",
    "LiveStep",
    "LiveWorld",
    "TableInconsistency",
]

#: Machines whose state is derived from data (the network is "busy" while a message is
#: in flight), so any row that changes the data may change their state.
DERIVED = frozenset({"network"})


class TableInconsistency(AssertionError):
    """A row changed a machine's state that it neither targets nor lists in `touches`
    (or changed its own state in an internal transition): the table and its effects
    disagree, and a live machine would be out of sync with the data."""


@dataclass(frozen=True)
class LiveStep:
    """One enabled transition of a live device: its engine action and its row."""

    device: int
    row: Row
    arg: Any

    @property
    def action(self) -> tuple[Any, ...]:
        """The engine action for this step: ``(trigger, device[, arg])``."""
        if self.arg is None:
            return (self.row.trigger, self.device)
        return (self.row.trigger, self.device, self.arg)


class _Part:
    """The model object a `transitions.Machine` drives (one per table per device)."""

    state: str

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name} machine in {getattr(self, 'state', '?')}>"


class LiveDevice:
    """The live device, server, directory and network machines of one device."""

    def __init__(self, model: LifecycleModel, index: int, world: World) -> None:
        self.model = model
        self.index = index
        self.tables: dict[str, Table] = all_tables()
        self.view = self._refresh(
            world.device[index], world.server[index], world.directory[index], world.net[index]
        )
        self._triggers: dict[tuple[str, str], tuple[str, ...]] = {}
        self.parts: dict[str, _Part] = {}
        self.machines: dict[str, Machine] = {}
        for name, table in self.tables.items():
            part = _Part(name)
            machine = Machine(
                model=part,
                states=list(table.states),
                initial=table.state_of(self.view),
                transitions=[self._transition(table, r) for r in table.rows],
                auto_transitions=False,
                send_event=True,
                ignore_invalid_triggers=False,
            )
            self.parts[name] = part
            self.machines[name] = machine

    # ------------------------------------------------------------- building
    def _transition(self, table: Table, r: Row) -> dict[str, Any]:
        # The callbacks read `self.view` when they run: the view is replaced by a
        # fresh one whenever the data changes (see `_refresh`).

        def in_choices(event: EventData) -> bool:
            if r.choices is None:
                return event.kwargs.get("arg") is None
            return event.kwargs.get("arg") in list(r.choices(self.view))

        def guard(event: EventData) -> bool:
            if r.guard is None:
                return True
            view = self.view
            view.arg = event.kwargs.get("arg")
            try:
                return bool(r.guard(view))
            finally:
                view.arg = None

        def effect(event: EventData) -> None:
            if r.effect is None:
                return
            view = self.view
            view.arg = event.kwargs.get("arg")
            try:
                r.effect(view)
            finally:
                view.arg = None

        def enter_dest(event: EventData) -> None:
            if r.dest is not None:
                table.set_state(self.view, r.dest)

        return {
            "trigger": r.trigger,
            "source": "*" if ANY in r.source else list(r.source),
            "dest": r.dest,
            "conditions": [in_choices, guard],
            "before": [effect],
            "after": [enter_dest],
        }

    # ------------------------------------------------------------ the slice
    def _refresh(self, device: Any, server: Any, directory: Any, net: Any) -> View:
        """A fresh view of the slice. Views memoise what they derive from the data
        (`View.routes`), so a view is never reused once its data has changed."""
        self.view = View(
            device, server, directory, net, self.model.design, self.model.scope, self.index
        )
        return self.view

    def load(self, world: World) -> None:
        """Put this device's machines into the device's slice of `world`."""
        i = self.index
        view = self._refresh(world.device[i], world.server[i], world.directory[i], world.net[i])
        for name, table in self.tables.items():
            state = table.state_of(view)
            if self.parts[name].state != state:
                self.machines[name].set_state(state)

    def states(self) -> dict[str, str]:
        """Machine name -> the live machine's current state."""
        return {name: part.state for name, part in self.parts.items()}

    # ----------------------------------------------------------- transitions
    def enabled(self) -> list[LiveStep]:
        """The enabled steps, as the live machines see them: the triggers `transitions`
        offers from each machine's current state whose conditions hold, per choice."""
        out: list[LiveStep] = []
        view = self.view
        for name, table in self.tables.items():
            part = self.parts[name]
            machine = self.machines[name]
            key = (name, part.state)
            triggers = self._triggers.get(key)
            if triggers is None:  # static per state; `get_triggers` scans every event
                triggers = self._triggers[key] = tuple(machine.get_triggers(part.state))
            for trigger in triggers:
                r = table.row(trigger)
                args = list(dict.fromkeys(r.choices(view))) if r.choices is not None else [None]
                for arg in args:
                    if self._may(machine, part, trigger, arg):
                        out.append(LiveStep(self.index, r, arg))
        return out

    @staticmethod
    def _may(machine: Machine, part: _Part, trigger: str, arg: Any) -> bool:
        """`part.may_<trigger>(arg=arg)`, as `transitions` evaluates it: some transition
        of the event from the current state has all its conditions true. Inlined
        because `Machine._can_trigger` first rescans every event of the machine to
        find the trigger (`get_triggers`), which was 40% of a Hypothesis step; the
        machines have no `prepare` callbacks, which it would also run."""
        state = machine.get_state(part.state)
        event = machine.events[trigger]
        data = EventData(state, event, machine, part, (), {"arg": arg})
        for transition in event.transitions.get(state.name, ()):
            data.transition = transition
            if all(c.check(data) for c in transition.conditions):
                return True
        return False

    def fire(self, step: LiveStep) -> None:
        """Fire a step on the live machines; then check that every machine still
        agrees with the data, and re-sync the derived ones."""
        r = step.row
        before = self.states()
        part = self.parts[r.machine]
        if not part.trigger(r.trigger, arg=step.arg):  # type: ignore[attr-defined]
            raise TableInconsistency(
                f"{r.trigger}({step.arg!r}) was not enabled for device {self.index}"
            )
        v = self.view
        self._refresh(v.device, v.server, v.directory, v.net)
        for name, table in self.tables.items():
            now = table.state_of(self.view)
            live = self.parts[name].state
            if now == live:
                continue
            own = name == r.machine
            allowed = name in DERIVED or (not own and name in r.touches)
            if not allowed:
                what = "its own machine in an internal transition" if own else name
                raise TableInconsistency(
                    f"row {r.trigger} (device {self.index}) changed {what} from "
                    f"{before[name]!r} to {now!r} but the live {name} machine is in "
                    f"{live!r}; list {name!r} in the row's touches or give it a dest"
                )
            self.machines[name].set_state(now)


class LiveWorld:
    """Every device's live machines, for one design and scope."""

    def __init__(self, model: LifecycleModel, world: World | None = None) -> None:
        self.model = model
        start = world if world is not None else next(iter(model.init_states()))
        self.devices = [LiveDevice(model, i, start) for i in range(len(start.device))]

    def load(self, world: World) -> None:
        for d in self.devices:
            d.load(world)

    def world(self) -> World:
        """The engine state the live machines are in."""
        views = [d.view for d in self.devices]
        return World(
            tuple(v.device for v in views),
            tuple(v.server for v in views),
            tuple(v.directory for v in views),
            tuple(v.net for v in views),
        )

    def enabled(self) -> list[LiveStep]:
        return [s for d in self.devices for s in d.enabled()]

    def fire(self, step: LiveStep) -> World:
        self.devices[step.device].fire(step)
        return self.world()

    def successors(self, world: World) -> Iterator[tuple[tuple[Any, ...], World]]:
        """`(action, next world)` for every step the live machines enable in `world`,
        like `LifecycleModel.successors`. Leaves the machines in `world`."""
        self.load(world)
        for step in self.enabled():
            nxt = self.fire(step)
            self.devices[step.device].load(world)
            yield step.action, nxt
