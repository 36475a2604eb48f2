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

ANY_STATE = "any state"

MACHINE_TITLES = {
    "device": "Device (MDM client)",
    "server": "MDM server: per-enrollment record",
    "directory": "Azure AD (directory): device association",
    "network": "Network: HTTP exchanges and WNS push",
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


def _is_unenroll(row: Any) -> bool:
    text = " ".join(
        [row.trigger, *row.source, row.dest or "", row.description, row.message or ""]
    ).lower()
    words = ("unenroll", "cleanup", "clean up", "retire", "wipe", "disconnect", "1226")
    return any(w in text for w in words)


def machine_views() -> list[MachineView]:
    """One view per table, in the order the tables are enumerated."""
    views = []
    for machine, table in _tables().items():
        rows = []
        uses_any = False
        for row in table.rows:
            guard = _callable_name(row.guard)
            effect_parts = [row.description]
            if row.effect is not None:
                effect_parts.append(f"{_callable_name(row.effect)}: {_doc_line(row.effect)}")
            if row.touches:
                effect_parts.append("also changes: " + ", ".join(row.touches))
            if row.stimulus:
                effect_parts.append("environment stimulus (may come at any time)")
            for source in row.source:
                if source == "*":
                    uses_any = True
                    source = ANY_STATE
                dest = row.dest if row.dest is not None else source
                rows.append(
                    MachineRow(
                        trigger=row.trigger,
                        source=source,
                        dest=dest,
                        guard=guard,
                        effect=" | ".join(p for p in effect_parts if p),
                        facts=tuple(row.facts),
                        actor=row.actor,
                        message=(f"{row.direction} {row.message}" if row.message else ""),
                        peer=row.peer or "",
                        unenroll=_is_unenroll(row),
                    )
                )
        states = tuple(table.states) + ((ANY_STATE,) if uses_any else ())
        views.append(
            MachineView(
                name=machine,
                title=MACHINE_TITLES.get(machine, machine),
                states=states,
                rows=tuple(rows),
                initial=(table.states[0],),
                description=table.description,
                state_notes=((ANY_STATE, "a row that may fire from any state"),)
                if uses_any
                else (),
            )
        )
    return views


def device_key(state: Any) -> str:
    """The device state(s) of a `World`: `enrolled`, or `enrolled | not_enrolled` for
    two devices."""
    devices = getattr(state, "device", None)
    if devices is None:
        return "?"
    return " | ".join(d.phase for d in devices)


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
        if row.message is None:
            if actor != machine:
                return ("call", machine)
            return (None, None)
        peer = PEER_LIFELINE.get(row.peer or "", None)
        lost = "lose" in row.trigger or "lost" in row.trigger or "drop" in row.trigger
        if actor == "network":
            target = peer if peer and peer != "network" else machine
            return ("lost" if lost else row.message, target)
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
