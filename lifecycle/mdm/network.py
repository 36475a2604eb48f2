"""The network: the connection between each device and the server.

Messages in flight live in `Channel.in_flight`, one channel per device, bounded by the
scope's `max_in_flight`. Sending and receiving are rows of the sender's and the
receiver's tables (their ``sends`` and ``receives``); this table holds what the network
does on its own: lose a message, when the design's channel is lossy (the HTTP
connection drops, a push expires: F3, F62, F63, F69), and the device's offline
periods (the environment's, bounded by the scope's `max_offline`).

The machine state is the connection's: "online" or "offline".

`delivers` is the network's delivery rule for what the server sends: an HTTP response
reaches the device only while the connection it answers is open, that is, while the
device still waits for it (a device that aborted the exchange has closed the
connection, F6, F14, A11, or never reads the reply of its alert session, A2). The
server cannot tell: it answers every package (F66, F68) and learns nothing of the
delivery, so the rule reads the device, as TCP does, and never the server's rows.
"""

from __future__ import annotations

from collections.abc import Iterator

from lifecycle.mdm.state import Channel, Device, Msg
from lifecycle.mdm.table import NetworkView, Row, Table, scope_bound

STATES = ("online", "offline")


def delivers(device: Device, net: Channel, msg: Msg, room: bool) -> bool:
    """Does a message the server sends reach the device's connection? Responses only
    while the device waits on their exchange; pushes and agent requests (separate
    services) while the device is online and the channel has room."""
    if not net.online:
        return False
    kind = msg.kind
    if kind in ("push", "agent"):
        return room
    if device.gen != msg.generation or device.phase == "wiped":
        return False
    if kind == "enroll_response":
        return device.session == "enroll"
    if msg.session == "alert":
        return kind == "pkg2" and device.alert in ("sent", "resent")
    return device.session == ("wait4" if kind == "pkg4" else "wait2")


def lossy(v: NetworkView) -> bool:
    """Only a lossy channel loses messages."""
    return v.design.channel == "lossy"


@scope_bound
def offline_periods_left(v: NetworkView) -> bool:
    """The scope allows another offline period for this device (any number, unless
    the scope bounds them)."""
    bound = v.scope.max_offline
    return bound is None or v.net.offline_periods < bound


def messages_in_flight(v: NetworkView) -> Iterator[Msg]:
    """Every distinct message in flight (any of them may be lost)."""
    return iter(dict.fromkeys(v.net.in_flight))


def lose(v: NetworkView) -> None:
    """The message is gone; neither side is told (F69)."""
    items = v.net.in_flight
    i = items.index(v.arg)
    v.net = v.net._replace(in_flight=items[:i] + items[i + 1 :])


def disconnect(v: NetworkView) -> None:
    """The device goes offline: whatever was in flight on its connection is lost. The
    periods are counted only when the scope bounds them (a count splits states)."""
    counted = v.net.offline_periods + (v.scope.max_offline is not None)
    v.net = v.net._replace(online=False, in_flight=(), offline_periods=counted)


def network_state(v: NetworkView) -> str:
    """The connection: "online" or "offline"."""
    return "online" if v.net.online else "offline"


def reconnect(v: NetworkView) -> None:
    """The device is back. An offline period is longer than the device's poll interval
    (shorter outages are lost messages), so it missed a scheduled check-in."""
    v.net = v.net._replace(back=True)


def set_network_state(v: NetworkView, state: str) -> None:
    """Set the connection state (used to apply a row's `dest`)."""
    v.net = v.net._replace(online=state == "online")


ROWS = (
    Row(
        "LoseMessage",
        "network",
        ("online",),
        None,
        "network",
        ("F3", "F69", "A18"),
        "a message is lost (the HTTP connection dropped, a push expired)",
        guard=(lossy,),
        choices=messages_in_flight,
        effect=lose,
    ),
    Row(
        "GoOffline",
        "network",
        ("online",),
        "offline",
        "network",
        ("F3", "F64", "F69", "A10"),
        "the device goes offline: what is in flight on its connection is lost",
        guard=(offline_periods_left,),
        effect=disconnect,
        stimulus=True,
    ),
    Row(
        "ComeOnline",
        "network",
        ("offline",),
        "online",
        "network",
        ("F64", "A10"),
        "the device is back online, having missed a scheduled check-in",
        effect=reconnect,
    ),
)

TABLE = Table(
    machine="network",
    description="Each device's connection: online or offline, and what is in flight.",
    states=STATES,
    state_of=network_state,
    set_state=set_network_state,
    rows=ROWS,
)
