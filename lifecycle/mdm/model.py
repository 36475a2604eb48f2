"""The composition: the device, server, directory and network tables as one engine model.

A world's successors are the steps of each party, each computed by the interpreter
(`lifecycle.mdm.tables`) from that party's own view and memoised on the part of the
world it reads:

- each device on its own (its client state, its Azure AD entry, its connection);
- each connection on its own (loss, offline periods);
- the server on each package in flight to it, and on each package it holds (the whole
  record table, the package and the connection it came on);
- the server's timers, the admin and the tenant (the record table).

What the server sends reaches a connection only while the device waits for it
(`lifecycle.mdm.network.delivers`), and a server timer fires only when the
environment's timing assumption holds (`silent`): those two are the only places where
the composition reads across parties, and they are the network's and time's, not the
server's.

Devices are interchangeable (same scope for each), so the model declares a
`representative` for the engine's symmetry reduction: the world with its devices
sorted, and every device number the server's records and held packages carry
renumbered with them. The successors themselves are raw, so a reduced search's
counterexample is a real trace in which each device keeps its number, and
``check(..., symmetry="off")`` explores every order for comparison.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from lifecycle.engine import Fairness, Model, Property
from lifecycle.mdm import server as server_table
from lifecycle.mdm.design import Design, Scope
from lifecycle.mdm.device import UNMANAGED
from lifecycle.mdm.state import (
    ARTIFACT_NAMES,
    MDM_ON,
    NO_DIRECTORY,
    Channel,
    Device,
    Directory,
    Msg,
    Record,
    Server,
    World,
    fresh_channel,
    fresh_device,
)
from lifecycle.mdm.table import TO_SERVER, Row
from lifecycle.mdm.tables import (
    REFERENCE,
    Tables,
    deliver,
    device_steps,
    held_packages,
    network_steps,
    server_message_steps,
    server_record_steps,
    take,
)

_new = tuple.__new__
#: Device phases in which the device is in contact with the server: it is in its
#: enrollment exchange, it checks in on its schedule, or it is about to (its first
#: session, its alert).
CONTACT_PHASES = ("enrolling", "provisioning", "enrolled", "unenrolling")
#: Messages that are contact when in flight: the device's requests and the server's
#: answers to them, which belong to an exchange the device is in. A push or an agent
#: request is the server's own call and says nothing about whether the device hears it.
CONTACT_KINDS = frozenset(("enroll_request", "enroll_response", "pkg1", "pkg2", "pkg3", "pkg4"))
_PROBE = ("1201",)


#: Rows that are not fair (`LifecycleComposition.fairness`): a message loss (the
#: strong fairness of delivery answers it) and the self-unenroll timer, which runs out
#: only if the device stays offline long enough (F13, A17).
UNFAIR_ROWS = frozenset(("LoseMessage", "SelfUnenroll"))
#: Who acts only finitely often: the user and the admin; and what fails only finitely
#: often: a device's outages and its provisioning.
HUMAN_ACTORS = frozenset(("user", "admin"))
FINITE_ROWS = frozenset(("GoOffline", "ProvisioningFails"))

#: A successor with what the properties need: (action, next world, party, stimulus).
Step = tuple[Any, World, int | None, bool]


class LifecycleComposition(Model):
    """The Windows MDM lifecycle for one design at one scope, without its properties
    (`lifecycle.mdm.properties.LifecycleModel` adds them).

    Actions are ``(trigger, party)`` or ``(trigger, party, arg)``: the trigger is the
    row's name, the party the device whose step it is (for a server row, the device
    whose connection the package came on, or whose record the timer or the admin acts
    on; None for the tenant's switch). Use `describe_action` and `actor_of` to print a
    trace as steps an engineer reads.
    """

    def __init__(
        self,
        design: Design | None = None,
        scope: Scope | None = None,
        tables: Tables | None = None,
    ) -> None:
        self.design = design if design is not None else Design()
        self.scope = scope if scope is not None else self.design.scope()
        self.tables = tables if tables is not None else REFERENCE
        # Memoised steps of each party, keyed on what that party reads. Each entry
        # holds finished actions: (action, stimulus, ...what the step leaves).
        self._local_memo: dict[tuple[Any, ...], tuple[tuple[Any, ...], ...]] = {}
        self._server_memo: dict[Server, _ServerSteps] = {}
        self._contact_memo: dict[tuple[Any, ...], tuple[Record, ...]] = {}
        self._shared_hw = self.scope.shared_hardware_id

    # ------------------------------------------------------------ the parties
    def hardware_of(self, index: int) -> int:
        """The HWDevID device `index` reports: its own, or one shared by every device
        (cloned images, Fleet #50612)."""
        return 0 if self._shared_hw else index

    def _local(self, i: int, dev: Device, dirc: Directory, net: Channel) -> tuple[Any, ...]:
        """Device i's own steps and its connection's: (action, stimulus, device,
        directory, channel)."""
        key = (i, dev, dirc, net)
        found = self._local_memo.get(key)
        if found is None:
            t, design, scope = self.tables, self.design, self.scope
            found = tuple(
                [
                    (_action(r, i, arg), r.stimulus, d2, r2, n2)
                    for r, arg, d2, r2, n2 in device_steps(t, design, scope, i, dev, dirc, net)
                ]
                + [
                    (_action(r, i, arg), r.stimulus, dev, dirc, n2)
                    for r, arg, n2 in network_steps(t, design, scope, i, net)
                ]
            )
            self._local_memo[key] = found
        return found

    def _server(self, srv: Server) -> _ServerSteps:
        found = self._server_memo.get(srv)
        if found is None:
            steps = server_record_steps(self.tables, self.design, self.scope, srv)
            found = self._server_memo[srv] = _ServerSteps(
                tuple(
                    (
                        _action(r, arg.device if isinstance(arg, Record) else None, arg),
                        r.stimulus,
                        s2,
                        outbox,
                        arg if r.timing == "silence" else None,
                    )
                    for r, arg, s2, outbox, _consumed, _rec in steps
                )
            )
        return found

    def _message(
        self, memo: _ServerSteps, srv: Server, i: int, msg: Msg, source: str
    ) -> tuple[Any, ...]:
        """What the server does with a package: (action, stimulus, server, outbox,
        consumed)."""
        key = (i, msg, source)
        found = memo.messages.get(key)
        if found is None:
            found = memo.messages[key] = tuple(
                (_action(r, i, arg), r.stimulus, s2, outbox, consumed)
                for r, arg, s2, outbox, consumed, _rec in server_message_steps(
                    self.tables, self.design, self.scope, srv, i, self.hardware_of(i), msg, source
                )
            )
        return found

    def same_steps_as(self, reference: LifecycleComposition) -> bool:
        """This model's party steps equal `reference`'s on every party view the
        reference has met (its memos). After a complete search of `reference`, the
        memos hold every view of every reachable state, so both models then have one
        successor relation on the reference's reachable states, hence one reachable
        graph: how `lifecycle mutate` tells an equivalent mutant without searching."""
        for (i, dev, dirc, net), steps in reference._local_memo.items():
            if self._local(i, dev, dirc, net) != steps:
                return False
        for srv, theirs in reference._server_memo.items():
            mine = self._server(srv)
            if mine.records != theirs.records:
                return False
            for (i, msg, source), steps in theirs.messages.items():
                if self._message(mine, srv, i, msg, source) != steps:
                    return False
        return True

    # -------------------------------------------------------------- timing
    def contacted(self, world: World) -> tuple[Record, ...]:
        """The records some device is in contact with: the records the server's key
        matches for the exchanges in flight on its connection (requests and their
        answers), and for the check-in of each online device in a contact phase (see
        `silent`). Every match counts, so a check-in the server cannot resolve (two
        records of one enrollment) still keeps both records alive. Memoised on the
        record table and, per device, its enrollments in contact."""
        probes: list[tuple[int, ...]] = []
        for dev, net in zip(world.device, world.net, strict=True):
            if not net.online:
                probes.append(())
                continue
            contact = {m.generation for m in net.in_flight if m.kind in CONTACT_KINDS}
            if dev.phase in CONTACT_PHASES:
                contact.add(dev.gen)
            probes.append(tuple(sorted(contact)))
        key = (world.server, tuple(probes))
        found = self._contact_memo.get(key)
        if found is None:
            srv, design = world.server, self.design
            out: list[Record] = []
            for j, gens in enumerate(probes):
                hw = self.hardware_of(j)
                for g in gens:
                    out.extend(
                        server_table.matching(srv, design, j, hw, Msg("pkg1", g, "main", _PROBE))
                    )
            found = self._contact_memo[key] = tuple(out)
        return found

    def silent(self, world: World, record: Record) -> bool:
        """The environment's timing assumption for the server's lost-contact timer: no
        device has checked in on `record` for longer than its poll interval.

        A device online in a contact phase checks in within its poll interval (the
        server's timeout is longer, F64), and a package in flight is contact too; the
        server finds the record for either by its own key. So the timer is due only for
        a record no such device reaches: its device is offline, unenrolled, wiped or
        re-enrolled under another record. The server's row reads only the server; this
        is the real-time semantics that lets the timeout expire.
        """
        return record not in self.contacted(world)

    # ------------------------------------------------------------- successors
    def raw_steps(self, world: World) -> list[Step]:
        """Every enabled step of `world`, as `Step` (action, next world, party,
        stimulus), with the next worlds in their raw device order."""
        devices, srv, dirs, nets = world
        memo = self._server(srv)
        scope = self.scope
        out: list[Step] = []
        add = out.append
        one = len(devices) == 1
        for i, (dev, dirc, net) in enumerate(zip(devices, dirs, nets, strict=True)):
            for action, stim, d2, r2, n2 in self._local(i, dev, dirc, net):
                if one:
                    nxt = _new(World, ((d2,), srv, (r2,), (n2,)))
                else:
                    nxt = _new(
                        World, (_put(devices, i, d2), srv, _put(dirs, i, r2), _put(nets, i, n2))
                    )
                add((action, nxt, i, stim))
            if not net.in_flight:
                continue
            held = {m for r in srv.records for k, m in r.held if k == i}
            for msg in dict.fromkeys(m for m in net.in_flight if m.kind in TO_SERVER):
                if msg in held:
                    continue
                for action, stim, s2, outbox, consumed in self._message(memo, srv, i, msg, "net"):
                    nets2 = list(nets)
                    if consumed:
                        nets2[i] = take(net, msg)
                    if outbox:
                        deliver(scope, devices, nets2, outbox)
                    add((action, _new(World, (devices, s2, dirs, tuple(nets2))), i, stim))
        for i, msg in dict.fromkeys(held_packages(srv)):
            for action, stim, s2, outbox, _consumed in self._message(memo, srv, i, msg, "held"):
                nets2 = list(nets)
                nets2[i] = take(nets[i], msg)
                deliver(scope, devices, nets2, outbox)
                add((action, _new(World, (devices, s2, dirs, tuple(nets2))), i, stim))
        contacted: tuple[Record, ...] | None = None
        for action, stim, s2, outbox, timed in memo.records:
            if timed is not None:
                if contacted is None:
                    contacted = self.contacted(world)
                if timed in contacted:
                    continue
            if outbox:
                nets2 = list(nets)
                deliver(scope, devices, nets2, outbox)
                nxt = _new(World, (devices, s2, dirs, tuple(nets2)))
            else:
                nxt = _new(World, (devices, s2, dirs, nets))
            add((action, nxt, action[1], stim))
        return out

    def successors(self, state: World) -> list[tuple[Any, World]]:
        """The (action, next world) pairs of a world, in its own device order."""
        return [(s[0], s[1]) for s in self.raw_steps(state)]

    def actions(self, state: World) -> list[Any]:
        return [a for a, _ in self.successors(state)]

    def next_state(self, state: World, action: Any) -> World | None:
        for a, nxt in self.successors(state):
            if a == action:
                return nxt
        return None

    # -------------------------------------------------------------- symmetry
    def representative(self, world: World) -> World:
        """`world` with its devices in canonical order (see `canonical_order`): the
        member of its symmetry class the engine stores (Stateright's
        `Representative`). Every property of `LifecycleModel` quantifies over all
        devices alike, so each gives one answer on the whole class; the engine's
        ``symmetry="verify"`` gate checks that against the unreduced search. One
        device is its own class: returned at once (the engine calls this for every
        successor)."""
        if len(world.device) == 1:
            return world
        order = self.canonical_order(world)
        return world if order is None else self.permute(world, order)

    def canonical_order(self, world: World) -> list[int] | None:
        """The order that sorts the devices, by their own state and then by the records
        that came from them (read without device numbers), or None when they are in
        order already. Any order would be sound, since it only renames
        interchangeable devices; a canonical one stores each class of worlds once."""
        devices, srv, dirs, nets = world
        n = len(devices)
        keys = [(devices[i], dirs[i], nets[i]) for i in range(n)]
        if all(keys[i] < keys[i + 1] for i in range(n - 1)):
            return None
        full = [(keys[i], self._records_key(srv, i)) for i in range(n)]
        order = sorted(range(n), key=full.__getitem__)
        return None if order == list(range(n)) else order

    def _records_key(self, srv: Server, i: int) -> tuple[Any, ...]:
        """The records that came from device i, without device numbers."""
        return tuple(
            sorted(
                (
                    r._replace(
                        device=0,
                        hardware=0 if not self._shared_hw else r.hardware,
                        held=tuple((k == i, m) for k, m in r.held),
                    )
                    for r in srv.records
                    if r.device == i
                ),
            )
        )

    def permute(self, world: World, order: Sequence[int]) -> World:
        """The world with device ``order[k]`` renumbered k, in every part."""
        devices, srv, dirs, nets = world
        new_of = {old: new for new, old in enumerate(order)}
        records = tuple(sorted(self.renumber_record(r, new_of) for r in srv.records))
        return _new(
            World,
            (
                tuple(devices[k] for k in order),
                srv._replace(records=records),
                tuple(dirs[k] for k in order),
                tuple(nets[k] for k in order),
            ),
        )

    def renumber_record(self, r: Record, new_of: dict[int, int]) -> Record:
        """A record with its device numbers renamed."""
        return r._replace(
            device=new_of[r.device],
            hardware=r.hardware if self._shared_hw else new_of[r.hardware],
            held=tuple((new_of[k], m) for k, m in r.held),
        )

    # --------------------------------------------------------- initial states
    def init_states(self) -> list[World]:
        """Every device out of the box, for each platform and local-admin choice, MDM
        on, no records (every order of devices: the engine's symmetry reduction keeps
        one of each class)."""
        starts = [
            (fresh_device(p, a), NO_DIRECTORY, fresh_channel())
            for p in self.scope.platforms
            for a in self.scope.local_admin
            if a or "aad_join" in self.scope.kinds
        ]
        out: list[World] = []
        for combo in itertools.product(starts, repeat=self.scope.devices):
            out.append(
                World(
                    tuple(c[0] for c in combo),
                    MDM_ON,
                    tuple(c[1] for c in combo),
                    tuple(c[2] for c in combo),
                )
            )
        return out

    # ------------------------------------------------------ what properties read
    def quiet_devices(self, world: World) -> tuple[bool, ...]:
        """Per device: is it quiet? Online, with nothing in flight on its connection,
        no package held for it, and only stimuli (user, admin, the poll schedule)
        enabled among its own steps and the server's timers on its records. An
        offline device is not quiet: it comes back."""
        devices, srv, dirs, nets = world
        quiet = [
            net.online and not net.in_flight and all(s[1] for s in self._local(i, dev, dirc, net))
            for i, (dev, dirc, net) in enumerate(zip(devices, dirs, nets, strict=True))
        ]
        for r in srv.records:
            for k, _m in r.held:
                quiet[k] = False
        contacted: tuple[Record, ...] | None = None
        for action, stim, _s2, _outbox, timed in self._server(srv).records:
            party = action[1]
            if stim or party is None or not quiet[party]:
                continue
            if timed is not None:
                if contacted is None:
                    contacted = self.contacted(world)
                if timed in contacted:
                    continue
            quiet[party] = False
        return tuple(quiet)

    def fairness(self) -> list[Fairness]:
        """The fairness the liveness properties assume, read from the rows. Each
        action instance (each device, each message) is fair on its own.

        - The user's and the admin's rows, a device going offline and a failed
          provisioning are taken only finitely often (`HUMAN_ACTORS`, `FINITE_ROWS`):
          a user or an admin may never act, and may act many times, but not for ever;
          every offline period ends and the device is eventually reachable for good
          (eventual connectivity); provisioning fails, but not every time. Without
          this, an admin who toggles MDM for ever, or a connection that drops at every
          check-in, starves every obligation, and the check reports only that.
        - Every row that takes a message in flight is *strongly* fair: a message in
          flight again and again (re-sent after a loss, which may happen for ever) is
          eventually taken.
        - Every other row is *weakly* fair: the device's own steps, its maintenance
          timer and due sessions, its return from offline, the server's timers
          (presumption, confirmation, session timeout) and its push, Azure AD.
        - Not fair at all (`UNFAIR_ROWS`): a message loss, which may happen for ever
          (delivery's strong fairness answers it), and the self-unenroll timer (F13,
          A17).
        """
        rows = self.tables.rows()
        humans = frozenset(
            r.trigger for r in rows if r.actor in HUMAN_ACTORS or r.trigger in FINITE_ROWS
        )
        delivered = frozenset(r.trigger for r in rows if r.receives is not None)
        progressing = frozenset(
            r.trigger
            for r in rows
            if r.receives is None and r.trigger not in humans and r.trigger not in UNFAIR_ROWS
        )

        def human_or_outage(action: Any) -> bool:
            return action[0] in humans

        def message_taken(action: Any) -> bool:
            return action[0] in delivered

        def own_step(action: Any) -> bool:
            return action[0] in progressing

        # Named for the result's fairness line ("... taken only finitely often").
        human_or_outage.__name__ = "the user's and the admin's rows, outages, failed provisioning"
        message_taken.__name__ = "every row that takes a message in flight"
        own_step.__name__ = "every other row but LoseMessage and SelfUnenroll"
        return [
            Fairness.finite(human_or_outage),
            Fairness.strong(message_taken),
            Fairness.weak(own_step),
        ]

    def is_terminal(self, state: World) -> bool:
        """Legitimate end, where the world may rest for ever: every device is out of
        management (dormant, wiped, never enrolled) with nothing in flight, no session
        and nothing held, and the server has concluded every record (none still counts
        its device as enrolled). The deadlock check asks it of states without
        successors; the liveness check lets such a state stutter even where a fair
        action is enabled, so a server still owing a conclusion is not at rest."""
        return (
            all(
                d.phase in UNMANAGED and d.session == "idle" and not n.in_flight
                for d, n in zip(state.device, state.net, strict=True)
            )
            and not any(r.held for r in state.server.records)
            and not any(
                server_table.believes_enrolled(r, self.design) for r in state.server.records
            )
        )

    def action_names(self) -> list[str]:
        return [r.trigger for r in self.tables.rows()]

    def properties(self) -> Sequence[Property]:
        return []

    # ----------------------------------------------------------------- humans
    def row_of(self, action: Any) -> Row:
        return self.tables.row(action[0])

    def actor_of(self, action: Any) -> str:
        """The lifeline of an action: user, device, network, server, aad, admin or
        timer."""
        return self.row_of(action).actor

    def describe_action(self, action: Any) -> str:
        """Who did what, in the doc's words: ``"server: send the DMClient Unenroll Exec
        in package 2; expect no response (device 0: package 1 (gen 1): Alert 1201)"``."""
        trigger, party = action[0], action[1]
        arg = action[2] if len(action) > 2 else None
        r = self.row_of(action)
        where = "tenant" if party is None else f"device {party}"
        detail = describe_arg(trigger, arg)
        if detail:
            where = f"{where}: {detail}"
        return f"{r.actor}: {r.description} ({where})"

    def state_summary(self, state: World) -> list[str]:
        """One line per device and one per record."""
        lines = []
        for i, (d, r, n) in enumerate(zip(state.device, state.directory, state.net, strict=True)):
            arts = ",".join(name for bit, name in ARTIFACT_NAMES.items() if d.artifacts & bit)
            lines.append(
                f"device {i}: {d.phase} gen {d.gen} {d.kind}/{d.platform} "
                f"session {d.session} artifacts [{arts}] | aad: {r.association} | "
                f"{'online' if n.online else 'offline'}, in flight: "
                f"{[describe_message(m) for m in n.in_flight]}"
            )
        lines.append(f"server: MDM {'on' if state.server.mdm else 'off'}")
        for rec in state.server.records:
            lines.append(f"  {describe_record(rec)} queue {[c[0] for c in rec.queue]}")
        return lines


def _put(items: tuple[Any, ...], i: int, value: Any) -> tuple[Any, ...]:
    if items[i] is value:
        return items
    if len(items) == 1:
        return (value,)
    return (*items[:i], value, *items[i + 1 :])


def _action(r: Row, party: int | None, arg: Any) -> tuple[Any, ...]:
    return (r.trigger, party) if arg is None else (r.trigger, party, arg)


class _ServerSteps:
    """The memoised steps of one server state: its timers and admin rows, and what it
    does with each package (filled as packages come)."""

    __slots__ = ("messages", "records")

    def __init__(self, records: tuple[tuple[Any, ...], ...]) -> None:
        self.records = records
        self.messages: dict[tuple[Any, ...], tuple[Any, ...]] = {}


_BODY = {
    "1201": "Alert 1201",
    "unenroll": "1226 unenroll alert with Meta Type userrequest",
    "unenroll_empty": "1226 unenroll alert with an empty <Meta/>",
    "csp": "1226 CSP result (another Type)",
    "final": "Final",
    "abort": "abort",
    "challenge": "401 challenge",
    "policy": "a policy",
    "unenroll_exec": "DMClient Unenroll Exec",
    "wipe": "RemoteWipe/doWipe",
    "ok": "Status 200",
    "error": "error Status",
    "token": "token",
}
_KIND = {
    "enroll_request": "enrollment request",
    "enroll_response": "enrollment response",
    "pkg1": "package 1",
    "pkg2": "package 2",
    "pkg3": "package 3",
    "pkg4": "package 4",
    "push": "WNS push",
    "agent": "agent request",
}


def describe_message(m: Msg) -> str:
    """``package 1 (gen 1, alert session): Alert 1201, 1226 unenroll alert ...``."""
    text = f"{_KIND.get(m.kind, m.kind)} (gen {m.generation}"
    if m.session == "alert":
        text += ", alert session"
    if m.msgid > 1:
        text += f", MsgID {m.msgid}"
    text += ")"
    if m.kind in ("pkg2",) and m.body == ("unenroll",):
        parts = [_BODY["unenroll_exec"]]
    elif m.kind == "enroll_request":
        parts = [", ".join(m.body)]
    elif m.kind == "enroll_response" and m.body and m.body[0] == "fault":
        parts = [f"fault {m.body[1]}"]
    else:
        parts = [_BODY.get(b, b) for b in m.body]
    if parts:
        text += ": " + ", ".join(parts)
    if m.origin and m.origin != m.generation:
        text += f" queued for gen {m.origin}"
    return text


def describe_record(r: Record) -> str:
    """``record device 0 gen 1 (enrolled)``."""
    return f"record device {r.device} gen {r.gen} ({r.status})"


def describe_arg(trigger: str, arg: Any) -> str:
    """A readable rendering of a row argument (a message, a held package, a record, a
    kind)."""
    if arg is None:
        return ""
    if isinstance(arg, Msg):
        return describe_message(arg)
    if isinstance(arg, Record):
        return describe_record(arg)
    if isinstance(arg, tuple) and len(arg) == 2 and arg[0] == "held" and isinstance(arg[1], Msg):
        return "held " + describe_message(arg[1])
    if trigger == "StartEnrollment":
        kind, manual = arg
        return f"{kind}" + ("" if manual else ", AllowManualMDMUnenrollment=0")
    if trigger == "SendUnenrollAlert":
        return _BODY.get(arg, repr(arg))
    return repr(arg)
