"""Live `transitions` machines built from the mdm tables.

The second interpreter of the tables (the first is `lifecycle.mdm.tables`, which the
engine's compiled successor function memoises). Every row becomes a `transitions`
transition, and `transitions` decides what is enabled and fires it:

- each device has three live machines (device, directory, network) whose states are
  its phase, its Azure AD association and its connection;
- the server has one live machine, put into the state of the record a row acts on
  before it is asked (the record the server finds for a package by its own key, or
  each record for its timers and the admin);
- a row is a transition with ``trigger``, ``source`` (``"*"`` for any) and ``dest``
  (None: internal); its conditions are "the event carries a message the row
  receives", "the generation matches", "no other row takes it" (for a fallback row)
  and each conjunct of its guard; its ``before`` callback takes the message, runs the
  effect and sends; its ``after`` callback applies ``also`` and ``dest`` to the data.

What is enabled is what `transitions` says: `get_triggers(state)` for the machine's
state, then the conditions of each transition for each message or choice. Nothing here
calls `lifecycle.mdm.tables`' step functions, so the agreement test between the two
interpreters compares two independent readings of the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from transitions import EventData, Machine

from lifecycle.mdm import LifecycleModel
from lifecycle.mdm import server as server_rows
from lifecycle.mdm.history import keep_device_history, keep_record_history
from lifecycle.mdm.network import delivers
from lifecycle.mdm.state import Msg, Record, World
from lifecycle.mdm.table import (
    ANY,
    TO_DEVICE,
    TO_SERVER,
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
from lifecycle.mdm.tables import device_message, server_message

__all__ = ["LiveStep", "LiveWorld", "TableInconsistency"]


class TableInconsistency(AssertionError):
    """A row changed a machine's state that it neither targets nor declares in
    ``also`` (or changed its own state in an internal transition): the table and its
    effects disagree, and a live machine would be out of sync with the data."""


@dataclass(frozen=True)
class LiveStep:
    """One enabled transition: the party whose step it is, the row, its argument, and
    for a server row the record it acts on and where the package came from."""

    party: int | None
    row: Row
    arg: Any
    record: Record | None = None
    resolved: str = "none"
    source: str = "net"

    @property
    def action(self) -> tuple[Any, ...]:
        """The engine action for this step: ``(trigger, party[, arg])``."""
        if self.arg is None:
            return (self.row.trigger, self.party)
        return (self.row.trigger, self.party, self.arg)

    @property
    def device(self) -> int | None:
        return self.party


class _Part:
    """The model object a `transitions.Machine` drives."""

    state: str

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name} machine in {getattr(self, 'state', '?')}>"


class LiveWorld:
    """Every party's live machines, for one design and scope."""

    def __init__(self, model: LifecycleModel, world: World | None = None) -> None:
        self.model = model
        self.tables: dict[str, Table] = model.tables.by_machine()
        self.parts: dict[str, _Part] = {}
        self.machines: dict[str, Machine] = {}
        for name, table in self.tables.items():
            part = _Part(name)
            self.machines[name] = Machine(
                model=part,
                states=list(table.states),
                initial=table.initial,
                transitions=[self._transition(table, r) for r in table.rows],
                auto_transitions=False,
                send_event=True,
                ignore_invalid_triggers=False,
            )
            self.parts[name] = part
        self._triggers: dict[tuple[str, str], tuple[str, ...]] = {}
        self.state = world if world is not None else next(iter(model.init_states()))

    # ------------------------------------------------------------- building
    def _transition(self, table: Table, r: Row) -> dict[str, Any]:
        """A row as a `transitions` dict: conditions read the event's view, the
        callbacks write it."""

        def receives_it(event: EventData) -> bool:
            view = event.kwargs["view"]
            if r.receives is None:
                return event.kwargs.get("msg") is None
            msg = event.kwargs.get("msg")
            if msg is None or not r.receives.takes(msg):
                return False
            if r.machine == "device" and r.receives.generation == "current":
                return bool(msg.generation == view.device.gen)
            return True

        def guard(event: EventData) -> bool:
            view = event.kwargs["view"]
            view.msg = msg = event.kwargs.get("msg")
            if r.receives is None or r.machine != "device":
                return all(conjunct(view) for conjunct in r.guard)
            # A device row that takes a message sees its connection without it.
            net = view.net
            if msg is not None and msg in net.in_flight:
                view.net = take_message(net, msg)
            try:
                return all(conjunct(view) for conjunct in r.guard)
            finally:
                view.net = net

        def before(event: EventData) -> None:
            view = event.kwargs["view"]
            view.arg = event.kwargs.get("arg")
            view.msg = event.kwargs.get("msg")
            event.kwargs["outgoing"].extend(_build(view, s) for s in r.sends)
            if r.receives is not None and r.machine == "device":
                view.net = take_message(view.net, view.msg)
            if r.effect is not None:
                r.effect(view)

        def after(event: EventData) -> None:
            view = event.kwargs["view"]
            for also in r.also:
                self.tables[also.machine].set_state(view, also.state_of(view))
            if r.dest is not None:
                table.set_state(view, r.dest)

        return {
            "trigger": r.trigger,
            "source": "*" if ANY in r.source else list(r.source),
            "dest": r.dest,
            "conditions": [receives_it, guard],
            "before": [before],
            "after": [after],
        }

    def _may(self, machine_name: str, state: str, trigger: str, **kwargs: Any) -> bool:
        """`may_<trigger>(**kwargs)` from `state`, as `transitions` evaluates it: some
        transition of the event from the state has all its conditions true (inlined,
        because `Machine._can_trigger` rescans every event first)."""
        machine = self.machines[machine_name]
        part = self.parts[machine_name]
        st = machine.get_state(state)
        event = machine.events[trigger]
        data = EventData(st, event, machine, part, (), kwargs)
        for transition in event.transitions.get(state, ()):
            data.transition = transition
            if all(c.check(data) for c in transition.conditions):
                return True
        return False

    def _triggers_from(self, machine_name: str, state: str) -> tuple[str, ...]:
        key = (machine_name, state)
        found = self._triggers.get(key)
        if found is None:  # static per state; `get_triggers` scans every event
            found = self._triggers[key] = tuple(self.machines[machine_name].get_triggers(state))
        return found

    # ----------------------------------------------------------------- views
    def _device_view(self, world: World, i: int) -> DeviceView:
        m = self.model
        return DeviceView(world.device[i], world.directory[i], world.net[i], m.design, m.scope, i)

    def _server_view(
        self,
        world: World,
        record: Record | None = None,
        resolved: str = "none",
        sender: int = -1,
        source: str = "net",
    ) -> ServerView:
        m = self.model
        hw = m.hardware_of(sender) if sender >= 0 else -1
        return ServerView(world.server, m.design, m.scope, record, resolved, sender, hw, source)

    # ----------------------------------------------------------- transitions
    def enabled(self, world: World | None = None) -> list[LiveStep]:
        """The enabled steps of `world` (default: the current one), as the live
        machines see them."""
        w = world if world is not None else self.state
        out: list[LiveStep] = []
        for i in range(len(w.device)):
            out.extend(self._device_enabled(w, i))
            out.extend(self._network_enabled(w, i))
            held = {m for r in w.server.records for k, m in r.held if k == i}
            for msg in dict.fromkeys(m for m in w.net[i].in_flight if m.kind in TO_SERVER):
                if msg not in held:
                    out.extend(self._server_receives(w, i, msg, "net"))
        for r in w.server.records:
            if r.held and r.session != "open":
                for i, msg in r.held:
                    out.extend(self._server_receives(w, i, msg, "held"))
        out.extend(self._server_timers(w))
        return out

    def _device_enabled(self, w: World, i: int) -> Iterator[LiveStep]:
        phase = w.device[i].phase
        probe = self._device_view(w, i)
        triggers = self._triggers_from("device", phase)
        receiving: dict[str, list[Row]] = {}
        for trigger in triggers:
            r = self.tables["device"].row(trigger)
            if r.receives is not None:
                for kind in r.receives.kinds:
                    receiving.setdefault(kind, []).append(r)
                continue
            if not self._may("device", phase, trigger, view=probe):
                continue
            args = list(r.choices(probe)) if r.choices is not None else [None]
            for arg in args:
                yield LiveStep(i, r, arg)
        for msg in dict.fromkeys(m for m in w.net[i].in_flight if m.kind in TO_DEVICE):
            rows = receiving.get(msg.kind, [])
            takers = [
                r
                for r in rows
                if not r.receives.otherwise  # type: ignore[union-attr]
                and self._may("device", phase, r.trigger, view=probe, msg=msg)
            ]
            if not takers:
                takers = [
                    r
                    for r in rows
                    if r.receives.otherwise  # type: ignore[union-attr]
                    and self._may("device", phase, r.trigger, view=probe, msg=msg)
                ]
            for r in takers:
                yield LiveStep(i, r, msg)

    def _network_enabled(self, w: World, i: int) -> Iterator[LiveStep]:
        m = self.model
        state = "online" if w.net[i].online else "offline"
        probe = NetworkView(w.net[i], m.design, m.scope, i)
        for trigger in self._triggers_from("network", state):
            r = self.tables["network"].row(trigger)
            if not self._may("network", state, trigger, view=probe):
                continue
            for arg in list(r.choices(probe)) if r.choices is not None else [None]:
                yield LiveStep(i, r, arg)

    def _server_receives(self, w: World, i: int, msg: Msg, source: str) -> Iterator[LiveStep]:
        m = self.model
        lookups: dict[str, tuple[str, Record | None]]
        if source == "held":
            holder = next(r for r in w.server.records if (i, msg) in r.held)
            lookups = {mode: (holder.status, holder) for mode in ("key", "any", "current")}
        else:
            lookups = {
                mode: server_rows.resolve(
                    w.server, m.design, i, m.hardware_of(i), msg, "any" if mode == "any" else "key"
                )
                for mode in ("key", "any", "current")
            }
        found: list[LiveStep] = []
        fallback: list[LiveStep] = []
        for r in self.tables["server"].rows:
            rec = r.receives
            if rec is None or msg.kind not in rec.kinds or (source == "held" and not rec.held):
                continue
            state, record = lookups[rec.generation]
            if r.trigger not in self._triggers_from("server", state):
                continue
            view = self._server_view(w, record, state, i, source)
            if self._may("server", state, r.trigger, view=view, msg=msg):
                arg = msg if source == "net" else ("held", msg)
                step = LiveStep(i, r, arg, record, state, source)
                (fallback if rec.otherwise else found).append(step)
        yield from found or fallback

    def _server_timers(self, w: World) -> Iterator[LiveStep]:
        contacted: tuple[Record, ...] | None = None
        for record in dict.fromkeys(w.server.records):
            for trigger in self._triggers_from("server", record.status):
                r = self.tables["server"].row(trigger)
                if r.receives is not None or r.on != "record":
                    continue
                view = self._server_view(w, record, record.status)
                if not self._may("server", record.status, trigger, view=view):
                    continue
                if r.timing == "silence":
                    if contacted is None:
                        contacted = self.model.contacted(w)
                    if record in contacted:
                        continue
                yield LiveStep(record.device, r, record, record, record.status)
        for r in self.tables["server"].rows:
            if r.receives is None and r.on == "tenant":
                view = self._server_view(w)
                if self._may("server", "none", r.trigger, view=view):
                    yield LiveStep(None, r, None)

    def fire(self, step: LiveStep, world: World | None = None) -> World:
        """Fire a step through `transitions` and return the next world (raw device
        order); the live machines then hold that world's states."""
        w = world if world is not None else self.state
        r = step.row
        name = r.machine
        if name == "server":
            view: Any = self._server_view(
                w, step.record, step.resolved, step.party or 0, step.source
            )
            if step.party is None or r.receives is None:
                view.sender = -1
            state = step.resolved if step.record is None else step.record.status
        elif name == "network":
            assert step.party is not None
            view = NetworkView(w.net[step.party], self.model.design, self.model.scope, step.party)
            state = "online" if view.net.online else "offline"
        else:
            assert step.party is not None
            view = self._device_view(w, step.party)
            state = view.device.phase
        self.machines[name].set_state(state)
        msg = step.arg[1] if isinstance(step.arg, tuple) and step.arg[:1] == ("held",) else None
        if r.receives is not None and msg is None:
            msg = step.arg
        outgoing: list[Any] = []
        kwargs: dict[str, Any] = {"view": view, "arg": step.arg, "msg": msg, "outgoing": outgoing}
        part = self.parts[name]
        if not part.trigger(r.trigger, **kwargs):  # type: ignore[attr-defined]
            raise TableInconsistency(f"{r.trigger}({step.arg!r}) was not enabled")
        # The history is the interpreter's, not the rows' (`lifecycle.mdm.history`).
        if name == "device":
            assert step.party is not None
            keep_device_history(view, r, w.device[step.party], msg, outgoing)
        elif name == "server":
            keep_record_history(view, r, step.record, msg, outgoing)
        nxt = self._commit(w, step, view, outgoing, msg)
        self._check_states(w, nxt, step)
        self.state = nxt
        # What the step sent, before the network decides what arrives: a real
        # endpoint (`lifecycle serve`) answers with it over HTTP.
        self.sent: tuple[tuple[int, Msg], ...] = tuple(outgoing)
        return nxt

    def _commit(
        self, w: World, step: LiveStep, view: Any, outgoing: list[Any], msg: Msg | None
    ) -> World:
        r = step.row
        devices, srv, dirs, nets = list(w.device), w.server, list(w.directory), list(w.net)
        if r.machine == "device":
            i = step.party
            assert i is not None
            devices[i], dirs[i] = view.device, view.directory
            nets[i] = device_sends(view.net, outgoing)
        elif r.machine == "network":
            assert step.party is not None
            nets[step.party] = view.net
        else:
            srv = view.server
            if step.source == "held" and msg is not None:
                entry = (step.party, msg)
                srv = srv._replace(
                    records=tuple(
                        sorted(
                            rec._replace(held=()) if entry in rec.held else rec
                            for rec in srv.records
                        )
                    )
                )
            if r.receives is not None and msg is not None and not r.receives.keep:
                i = step.party
                assert i is not None
                if msg in nets[i].in_flight:
                    nets[i] = take_message(nets[i], msg)
            for j, m in outgoing:
                room = len(nets[j].in_flight) < self.model.scope.max_in_flight
                if delivers(devices[j], nets[j], m, room):
                    nets[j] = put_message(nets[j], m)
        return World(tuple(devices), srv, tuple(dirs), tuple(nets))

    def _check_states(self, before: World, after: World, step: LiveStep) -> None:
        """Every machine of the party is where the data says, or the row declared the
        change (its dest, its ``also``)."""
        r = step.row
        if step.party is None or r.machine == "server":
            return
        i = step.party
        declared = {a.machine for a in r.also}
        pairs = {
            "device": (before.device[i].phase, after.device[i].phase),
            "directory": (before.directory[i].association, after.directory[i].association),
            "network": (
                "online" if before.net[i].online else "offline",
                "online" if after.net[i].online else "offline",
            ),
        }
        for name, (old, new) in pairs.items():
            if old == new:
                continue
            if name == r.machine:
                if r.dest is None:
                    raise TableInconsistency(
                        f"row {r.trigger} changed its own {name} state from {old!r} to "
                        f"{new!r} in an internal transition; give it a dest"
                    )
                if self.parts[name].state != new:
                    raise TableInconsistency(
                        f"row {r.trigger}: the live {name} machine is in "
                        f"{self.parts[name].state!r}, the data in {new!r}"
                    )
            elif name not in declared:
                raise TableInconsistency(
                    f"row {r.trigger} (device {i}) changed {name} from {old!r} to {new!r}; "
                    f"declare it in the row's also"
                )

    def successors(self, world: World) -> Iterator[tuple[tuple[Any, ...], World]]:
        """`(action, next world)` for every step the live machines enable in `world`,
        like `LifecycleModel.raw_steps` (raw device order)."""
        for step in self.enabled(world):
            yield step.action, self.fire(step, world)


def _build(view: Any, send: Send) -> Any:
    """The message a row sends, as its ``sends`` says (kind, body, session, MsgID,
    where it goes), built by the same reading of `Send` as the engine's."""
    if isinstance(view, DeviceView):
        return device_message(view, send)
    return server_message(view, send)
