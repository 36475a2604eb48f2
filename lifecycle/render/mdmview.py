"""The adapter between `lifecycle.mdm` and the generic renderers.

Everything here reads the MDM tables (`lifecycle.mdm.tables.all_tables()`), the same
data the checker interprets, and turns it into what the drawing code needs:

- `machine_views()`: one `MachineView` per machine (device, server, directory,
  network);
- `MdmSteps`: a wrapper around a `LifecycleModel` that gives each engine action its
  lifelines, so traces become sequence charts with arrows between user, device,
  network, server, Azure AD and admin;
- `device_key(state)`: the device state(s) of a `World`, the cluster / quotient key of
  the reachable graph.

Engine actions are `(trigger, device)` or `(trigger, device, arg)`; the trigger names
one row of one table.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from lifecycle.render.machines import MachineRow, MachineView

MACHINE_TITLES = {
    "device": "Device (MDM client)",
    "server": "MDM server: one enrollment record of its table",
    "directory": "Azure AD (directory): device association",
    "network": "Network: each device's connection",
}

# the lifeline of a machine (where its rows happen) and of a message peer
MACHINE_LIFELINE = {
    "device": "device",
    "server": "server",
    "directory": "aad",
    "network": "network",
}
PEER_LIFELINE = {
    "server": "server",
    "device": "device",
    "aad": "aad",
    "directory": "aad",
    "wns": "network",
    "network": "network",
    "user": "user",
    "admin": "admin",
}
MESSAGE_NAMES = {
    "enroll_request": "enroll request",
    "enroll_response": "enroll response",
    "agent": "agent",
    "pkg1": "pkg 1",
    "pkg2": "pkg 2",
    "pkg3": "pkg 3",
    "pkg4": "pkg 4",
    "push": "push",
    "enroll": "enroll",
}
ACTOR_LIFELINE = {
    "user": "user",
    "device": "device",
    "network": "network",
    "server": "server",
    "aad": "aad",
    "admin": "admin",
}


@cache
def _tables() -> dict[str, Any]:
    from lifecycle.mdm.tables import all_tables

    tables = all_tables()
    if isinstance(tables, dict):
        return dict(tables)
    return {t.machine: t for t in tables}


@cache
def rows_by_trigger() -> dict[str, Any]:
    return {row.trigger: row for table in _tables().values() for row in table.rows}


def _callable_name(fn: Callable[..., Any] | None) -> str:
    if fn is None:
        return ""
    name = getattr(fn, "__name__", repr(fn))
    return name.lstrip("_")


def _doc_line(fn: Callable[..., Any] | None) -> str:
    doc = (getattr(fn, "__doc__", None) or "").strip()
    return doc.splitlines()[0] if doc else ""


UNENROLL_WORDS = (
    "unenroll",
    "cleanup",
    "wipe",
    "disconnect",
    "remove",
    "leaves",
    "stopenforcing",
    "dormant",
    "awaiting_confirmation",
    "verifywithpush",
    "presume",
    "alert",
)


def is_unenroll(row: Any) -> bool:
    """A row on an unenroll path: its trigger or its destination says so."""
    text = f"{row.trigger} {row.dest or ''}".lower()
    return any(w in text for w in UNENROLL_WORDS)


def _effect_text(row: Any) -> str:
    parts = []
    if row.effect is not None:
        parts.append(f"{_callable_name(row.effect)}: {_doc_line(row.effect)}".rstrip(": "))
    if row.sends:
        parts.append("sends: " + ", ".join(MESSAGE_NAMES.get(s.kind, s.kind) for s in row.sends))
    for also in row.also:
        parts.append(f"also: {also.machine} -> {'/'.join(also.possible_states())}")
    if row.timing:
        parts.append(f"timing: {row.timing} (the environment's timing assumption)")
    if row.stimulus:
        parts.append("environment stimulus (may come at any time)")
    return "; ".join(parts)


def guard_text(row: Any) -> str:
    """A row's guard as its conjuncts' names, joined by "and"."""
    return " and ".join(_callable_name(g) for g in row.guard)


def _message_text(row: Any) -> str:
    if row.receives is not None:
        kinds = "/".join(MESSAGE_NAMES.get(k, k) for k in row.receives.kinds)
        return f"receive {kinds}"
    if row.sends:
        return "send " + ", ".join(MESSAGE_NAMES.get(s.kind, s.kind) for s in row.sends)
    return ""


def machine_view(machine: str, table: Any, others: tuple[Any, ...] = ()) -> MachineView:
    """One table as a `MachineView`, with the transitions other tables' rows make on
    this machine (their ``also``) drawn as its own, marked with the machine they belong
    to: without them a state entered or left only that way looks like a dead end."""

    def drawn(row: Any, sources: tuple[str, ...], dest: str | None, via: str = "") -> MachineRow:
        return MachineRow(
            trigger=row.trigger,
            sources=sources,
            dest=dest,
            guard=guard_text(row),
            effect=_effect_text(row),
            facts=tuple(row.facts),
            actor=row.actor,
            message=_message_text(row),
            unenroll=is_unenroll(row),
            description=f"{row.description} ({via} row)" if via else row.description,
            via=via,
        )

    rows = [drawn(row, tuple(row.source), row.dest) for row in table.rows]
    for other in others:
        for row in other.rows:
            for also in row.also:
                if also.machine != machine:
                    continue
                sources = tuple(
                    s for s in table.states if also.source == ("*",) or s in also.source
                )
                for dest in also.possible_states():
                    rows.append(
                        drawn(row, tuple(s for s in sources if s != dest), dest, other.machine)
                    )
    return MachineView(
        name=machine,
        title=MACHINE_TITLES.get(machine, machine),
        states=tuple(table.states),
        rows=tuple(rows),
        description=table.description,
        final=tuple(getattr(table, "ends", ())),
    )


def machine_views() -> list[MachineView]:
    """One view per table, in the order the tables are enumerated."""
    tables = _tables()
    return [
        machine_view(machine, table, tuple(t for m, t in tables.items() if m != machine))
        for machine, table in tables.items()
    ]


def device_key(state: Any) -> str:
    """The device state(s) of a `World`: `enrolled`, or `enrolled | not_enrolled` for
    two devices."""
    devices = getattr(state, "device", None)
    if devices is None:
        return "?"
    return " | ".join(d.phase for d in devices)


def _lost_message(row: Any, action: Any) -> Any:
    """The message a network row drops (its argument), or None for other rows."""
    if row.machine != "network" or not isinstance(action, tuple) or len(action) < 3:
        return None
    arg = action[2]
    return arg if hasattr(arg, "kind") else None


class MdmSteps:
    """Wraps a `LifecycleModel` with the `actor_of`/`message_of`/`facts_of` hooks that
    `lifecycle.render.traces` reads, using the rows' message metadata.

    - a row that sends a message: an arrow from the actor to the network;
    - a row that receives one: an arrow from the network to the actor;
    - an atomic exchange: an arrow from the actor to the peer;
    - a network row that drops a message: a lost (crossed) arrow;
    - a row done by someone else on a machine (the admin on the server, the user on
      the device): an arrow from the actor to the machine;
    - anything else: a local step on the actor's lifeline.
    """

    def __init__(self, model: Any) -> None:
        self.model = model

    def _row(self, action: Any) -> Any:
        trigger = action[0] if isinstance(action, tuple) and action else action
        return rows_by_trigger().get(str(trigger))

    def describe_action(self, action: Any) -> str:
        fn = getattr(self.model, "describe_action", None)
        if callable(fn):
            return str(fn(action))
        from lifecycle.engine import format_action

        return format_action(action)

    def short_label(self, action: Any) -> str:
        """The arrow text: the trigger, and the package it carries."""
        row = self._row(action)
        if row is None:
            return self.describe_action(action)
        label = str(row.trigger)
        lost = _lost_message(row, action)
        message = lost.kind if lost is not None else row.message
        if message:
            label += f" ({MESSAGE_NAMES.get(message, message)})"
        return label

    def _actor_lifeline(self, row: Any) -> str:
        if row.actor == "timer":
            return MACHINE_LIFELINE.get(row.machine, "device")
        return ACTOR_LIFELINE.get(row.actor, MACHINE_LIFELINE.get(row.machine, "device"))

    def actor_of(self, action: Any) -> str:
        row = self._row(action)
        if row is None:
            fn = getattr(self.model, "actor_of", None)
            return str(fn(action)) if callable(fn) else "device"
        return self._actor_lifeline(row)

    def message_of(self, action: Any) -> tuple[str | None, str | None]:
        row = self._row(action)
        if row is None:
            return (None, None)
        actor = self._actor_lifeline(row)
        machine = MACHINE_LIFELINE.get(row.machine, actor)
        lost_msg = _lost_message(row, action)
        if lost_msg is not None:
            # a lost message: a crossed arrow from the network towards its addressee
            to_server = lost_msg.kind in ("pkg1", "pkg3", "enroll_request")
            return ("lost", "server" if to_server else "device")
        if row.message is None:
            if actor != machine:
                return ("call", machine)
            return (None, None)
        peer = PEER_LIFELINE.get(row.peer or "")
        if actor == "network":
            target = peer if peer and peer != "network" else machine
            return (row.message, target)
        if row.direction == "send":
            return (row.message, "network")
        if row.direction == "receive":
            return (row.message, "network")  # drawn reversed by `step_direction`
        return (row.message, peer or machine)

    def reversed(self, action: Any) -> bool:
        """A receive row is drawn from the network to the receiver."""
        row = self._row(action)
        return row is not None and row.direction == "receive" and row.actor != "network"

    def facts_of(self, action: Any) -> tuple[str, ...]:
        row = self._row(action)
        return tuple(row.facts) if row is not None else ()
