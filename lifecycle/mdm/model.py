"""`LifecycleModel`: the device, server, directory and network tables composed into one
engine model.

Composition. A state is a `World`: per device, its `Device`, its `ServerRecord`, its
`Directory` entry and its `Channel`. Devices interact with nothing but their own
slice (the server keeps one record per device, Azure AD one entry per device, and each
device has its own channel), so every row reads and writes one slice only. The
successor function is compiled from the tables once per distinct slice: the enabled
rows of a slice and the slices they lead to are computed by interpreting the rows and
memoised, and a world's successors are the memoised successors of each of its slices
with that slice replaced. The state space of N devices is the product of the slice
spaces (minus what the shared bounds cut), and the cost of a successor is a dictionary
lookup plus one tuple rebuild.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from lifecycle.engine import Model, Property, Trace
from lifecycle.mdm import tables
from lifecycle.mdm.design import Design, Scope
from lifecycle.mdm.device import UNMANAGED
from lifecycle.mdm.properties import build_properties
from lifecycle.mdm.state import (
    ARTIFACT_NAMES,
    EMPTY_CHANNEL,
    NO_DIRECTORY,
    NO_RECORD,
    Bundle,
    Msg,
    World,
    bundles,
    fresh_device,
)

# A memoised slice successor: (trigger, arg, next slice).
_Step = tuple[str, Any, Bundle]
# Build a NamedTuple without its Python-level __new__ (the successor function's hot path).
_new = tuple.__new__


class LifecycleModel(Model):
    """The Windows MDM lifecycle for one design at one scope: an engine model.

    Actions are ``(trigger, device)`` or ``(trigger, device, arg)``; the trigger is the
    row's name in `lifecycle.mdm.tables`. Use `describe_action` and `actor_of` to
    print a trace as steps an engineer reads.
    """

    def __init__(self, design: Design | None = None, scope: Scope | None = None) -> None:
        self.design = design if design is not None else Design()
        self.scope = scope if scope is not None else Scope()
        self._steps: dict[Bundle, tuple[tuple[_Step, ...], bool]] = {}
        # Several devices: per slice, its steps with the next slice's order key.
        self._move_memo: dict[Bundle, tuple[tuple[str, Any, tuple[bool, Bundle]], ...]] = {}
        self._properties: list[Property] | None = None
        self._initial_set = frozenset(self._initial_bundles)
        self._initial_phases = frozenset(b[0].phase for b in self._initial_set)

    # -------------------------------------------------------------- compiled
    def _local(self, bundle: Bundle) -> tuple[tuple[_Step, ...], bool]:
        """The slice's enabled steps and whether it is quiet (memoised)."""
        found = self._steps.get(bundle)
        if found is None:
            found = self._steps[bundle] = tables.slice_steps(self, bundle)
        return found

    def quiet(self, bundle: Bundle) -> bool:
        """A device slice is quiet when only stimuli (user, admin, periodic timers) are
        enabled for it: nothing in flight, no session, no cleanup step, no server timer
        pending."""
        return self._local(bundle)[1]

    def slice_successors(self, bundle: Bundle) -> tuple[_Step, ...]:
        """The enabled (trigger, arg, next slice) of one device slice."""
        return self._local(bundle)[0]

    @property
    def compiled_slices(self) -> int:
        """How many distinct device slices the successor function has compiled."""
        return len(self._steps)

    # ------------------------------------------------------------ engine API
    def init_states(self) -> list[World]:
        """Every device out of the box, for each platform and local-admin choice (up to
        the order of devices, which is canonical)."""
        starts = self._initial_bundles
        out: list[World] = []
        seen: set[World] = set()
        for combo in itertools.product(starts, repeat=self.scope.devices):
            world = self._world(sorted(combo, key=self._order))
            if world not in seen:
                seen.add(world)
                out.append(world)
        return out

    @property
    def _initial_bundles(self) -> list[Bundle]:
        return [
            (fresh_device(p, a), NO_RECORD, NO_DIRECTORY, EMPTY_CHANNEL)
            for p in self.scope.platforms
            for a in self.scope.local_admin
            if a or "aad_join" in self.scope.kinds
        ]

    def _order(self, bundle: Bundle) -> tuple[bool, Bundle]:
        """Canonical device order: devices that have moved first, then by value. Devices
        are interchangeable (same scope for each), so a world is stored up to their
        order (symmetry reduction)."""
        return (self._is_initial(bundle), bundle)

    def _is_initial(self, bundle: Bundle) -> bool:
        """``bundle in self._initial_set``, answered without hashing the slice for the
        slices whose device phase no initial slice has (nearly all of them)."""
        return bundle[0].phase in self._initial_phases and bundle in self._initial_set

    @staticmethod
    def _world(slices: Sequence[Bundle]) -> World:
        return World(
            tuple(b[0] for b in slices),
            tuple(b[1] for b in slices),
            tuple(b[2] for b in slices),
            tuple(b[3] for b in slices),
        )

    def movers(self, slices: Sequence[Bundle]) -> Sequence[int]:
        """The devices allowed to move.

        With interleaving "full": every device. With "independent" (a partial-order
        reduction): once a device has left its initial state, only that device moves
        and the others rest in theirs. Rows read and write one device's slice, so
        devices never enable, disable or affect each other, and every property is a
        per-device property: every device slice reachable in the product is reachable
        here with the other devices at rest, by a path of the same length, so the
        verdicts and the shortest counterexamples are those of the product. (The one
        difference: a global `deadlock` of the product, every device stuck, shows here
        as one device stuck while the others rest; the verdict is the same because the
        devices are interchangeable.)
        """
        return self._movers([self._is_initial(b) for b in slices])

    def _movers(self, initial: Sequence[bool]) -> Sequence[int]:
        """`movers`, given which slices are initial."""
        if self.scope.interleaving == "full":
            return range(len(initial))
        for i, at_rest in enumerate(initial):
            if not at_rest:
                return (i,)
        return range(len(initial))

    def successors(self, state: World) -> list[tuple[tuple[Any, ...], World]]:
        """The (action, next world) pairs of a world, as a list."""
        devices, servers, dirs, nets = state
        new = _new
        if len(devices) == 1:
            bundle = (devices[0], servers[0], dirs[0], nets[0])
            steps = self._steps.get(bundle)
            if steps is None:
                steps = self._local(bundle)
            return [
                (
                    (trigger, 0) if arg is None else (trigger, 0, arg),
                    new(World, ((d,), (s,), (r,), (n,))),
                )
                for trigger, arg, (d, s, r, n) in steps[0]
            ]
        # Several devices: replace the moving device's slice and put the devices back in
        # canonical order (`_order`), with each slice's order key computed once.
        order = self._order
        keys = [order(b) for b in zip(devices, servers, dirs, nets, strict=True)]
        out: list[tuple[tuple[Any, ...], World]] = []
        for i in self._movers([k[0] for k in keys]):
            for trigger, arg, key in self._moves(keys[i][1]):
                action = (trigger, i) if arg is None else (trigger, i, arg)
                ordered = keys.copy()
                ordered[i] = key
                ordered.sort()
                out.append((action, new(World, zip(*[k[1] for k in ordered], strict=True))))
        return out

    def _moves(self, bundle: Bundle) -> tuple[tuple[str, Any, tuple[bool, Bundle]], ...]:
        """The slice's steps with the next slice's order key (memoised per slice)."""
        found = self._move_memo.get(bundle)
        if found is None:
            found = self._move_memo[bundle] = tuple(
                (trigger, arg, self._order(nb)) for trigger, arg, nb in self._local(bundle)[0]
            )
        return found

    def stable_trace(self, trace: Trace) -> Trace:
        """The same trace with each device keeping its number throughout.

        States are stored with devices in canonical order, so in a trace of several
        devices a device's number can change from one step to the next. This replays
        the actions on unsorted worlds and renumbers the actions, for reports.
        """
        if not trace.states or len(trace.states[0].device) == 1:
            return trace
        current = list(bundles(trace.states[0]))
        perm = list(range(len(current)))  # canonical index -> stable index
        states = [self._world(current)]
        actions: list[tuple[Any, ...]] = []
        for action, target in zip(trace.actions, trace.states[1:], strict=True):
            trigger, i = action[0], action[1]
            arg = action[2] if len(action) > 2 else None
            j = perm[i]
            for t, a, nb in self._local(current[j])[0]:
                if t == trigger and a == arg:
                    current[j] = nb
                    break
            else:
                raise ValueError(f"cannot replay {action!r}")
            order = sorted(range(len(current)), key=lambda k: self._order(current[k]))
            perm = order
            if self._world([current[k] for k in order]) != target:
                raise ValueError("stable_trace: the replay does not match the trace")
            states.append(self._world(current))
            actions.append((trigger, j, *action[2:]))
        return Trace(tuple(states), tuple(actions))

    def actions(self, state: World) -> list[tuple[Any, ...]]:
        return [a for a, _ in self.successors(state)]

    def next_state(self, state: World, action: Any) -> World | None:
        for a, nxt in self.successors(state):
            if a == action:
                return nxt
        return None

    def properties(self) -> Sequence[Property]:
        if self._properties is None:
            self._properties = build_properties(self)
        return self._properties

    def is_terminal(self, state: World) -> bool:
        """Legitimate end: every device is out of management (dormant, wiped, never
        enrolled) with nothing in flight, no session and nothing held. (Only states
        without successors are asked.)"""
        return all(
            d.phase in UNMANAGED and d.session == "idle" and not n.in_flight and not s.held
            for d, s, n in zip(state.device, state.server, state.net, strict=True)
        )

    def action_names(self) -> list[str]:
        return [r.trigger for r in tables.all_rows()]

    # ----------------------------------------------------------------- humans
    def actor_of(self, action: Any) -> str:
        """The lifeline of an action: user, device, network, server, aad, admin or
        timer (the device number is ``action[1]``)."""
        return tables.row(action[0]).actor

    def describe_action(self, action: Any) -> str:
        """Who did what, in the doc's words: ``"server: send the DMClient Unenroll Exec
        in package 2; expect no response (device 0, gen 1)"``."""
        trigger, index = action[0], action[1]
        arg = action[2] if len(action) > 2 else None
        r = tables.row(trigger)
        where = f"device {index}"
        detail = describe_arg(trigger, arg)
        if detail:
            where = f"{where}, {detail}"
        return f"{r.actor}: {r.description} ({where})"

    def state_summary(self, state: World) -> list[str]:
        """One line per device: phase, record, association, channel."""
        lines = []
        for i, (d, s, r, n) in enumerate(
            zip(state.device, state.server, state.directory, state.net, strict=True)
        ):
            arts = ",".join(name for bit, name in ARTIFACT_NAMES.items() if d.artifacts & bit)
            lines.append(
                f"device {i}: {d.phase} gen {d.gen} {d.kind}/{d.platform} "
                f"session {d.session} artifacts [{arts}] | server: {s.record} gen {s.gen} "
                f"queue {list(s.queue)} | aad: {r.association} | in flight: "
                f"{[describe_message(m) for m in n.in_flight]}"
            )
        return lines


_BODY = {
    "none": "Alert 1201",
    "type": "1226 unenroll alert with Meta Type userrequest",
    "empty_meta": "1226 unenroll alert with an empty <Meta/>",
    "final": "Final",
    "abort": "abort",
    "policy": "a policy",
    "unenroll": "DMClient Unenroll Exec",
    "wipe": "RemoteWipe/doWipe",
    "ok": "Status 200",
    "error": "error Status",
    "-": "",
}
_KIND = {
    "pkg1": "package 1",
    "pkg2": "package 2",
    "pkg3": "package 3",
    "pkg4": "package 4",
    "push": "WNS push",
}


def describe_message(m: Msg) -> str:
    """``package 1 (gen 1, alert session): 1226 unenroll alert with Meta Type``."""
    kind, gen, slot, body, origin = m
    text = f"{_KIND.get(kind, kind)} (gen {gen}"
    if kind != "push":
        text += ", alert session" if slot == "alert" else ""
    text += ")"
    if _BODY.get(body, body):
        text += f": {_BODY.get(body, body)}"
    if origin and origin != gen:
        text += f" queued for gen {origin}"
    return text


def describe_arg(trigger: str, arg: Any) -> str:
    """A readable rendering of a row argument (a message, a held package, a kind)."""
    if arg is None:
        return ""
    if isinstance(arg, tuple) and len(arg) == 2 and arg[0] in ("net", "held"):
        prefix = "held " if arg[0] == "held" else ""
        return prefix + describe_message(arg[1])
    if isinstance(arg, tuple) and len(arg) == 5:
        return describe_message(arg)
    if trigger == "StartEnrollment":
        kind, manual = arg
        return f"{kind}" + ("" if manual else ", AllowManualMDMUnenrollment=0")
    if trigger == "SendUnenrollAlert":
        return _BODY["type"] if arg == "type" else _BODY["empty_meta"]
    return repr(arg)
