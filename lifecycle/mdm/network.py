"""The network: client-initiated HTTP request/response exchanges and WNS pushes.

Messages in flight live in `Channel.in_flight`, one channel per device, bounded by
the scope's `max_in_flight`. Sending and receiving are rows of the sender's and the
receiver's tables (they carry `message`, `direction` and `peer`); this table holds
what the network does on its own: lose a message, when the design's channel is
lossy. Loss stands for every way an exchange fails: the device goes offline, the
HTTP connection drops, a push expires (F3, F62, F63, F69).

The machine state is derived: "empty" or "busy".
"""

from __future__ import annotations

from lifecycle.mdm.state import Msg
from lifecycle.mdm.table import Row, Table, View

STATES = ("empty", "busy")


def lossy(v: View) -> bool:
    """Only a lossy channel loses messages."""
    return v.design.channel == "lossy"


def messages_in_flight(v: View) -> tuple[Msg, ...]:
    """Every distinct message in flight (any of them may be lost)."""
    return tuple(dict.fromkeys(v.net.in_flight))


def lose(v: View) -> None:
    """The message is gone; neither side is told (F69)."""
    v.consume(v.arg)


def network_state(v: View) -> str:
    """ "busy" when a message is in flight, else "empty"."""
    return "busy" if v.net.in_flight else "empty"


def set_network_state(v: View, state: str) -> None:
    """The network state is derived from the channel; nothing to set."""


ROWS = (
    Row(
        "LoseMessage",
        "network",
        ("busy",),
        None,
        "network",
        ("F3", "F63", "F69", "A18"),
        "a message is lost (the device went offline, the connection dropped)",
        guard=lossy,
        choices=messages_in_flight,
        effect=lose,
    ),
)

TABLE = Table(
    machine="network",
    description="HTTP exchanges and WNS pushes; lossy when the design says so.",
    states=STATES,
    state_of=network_state,
    set_state=set_network_state,
    rows=ROWS,
)
