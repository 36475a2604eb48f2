"""`lifecycle_machine(design, scope)`: Hypothesis drives the live `transitions` machines.

Where `state_machine(LifecycleModel(...))` walks the engine's compiled successor
function, this machine walks the *live* device, server, directory and network machines
of `lifecycle.runtime`, with every interleaving of devices (no symmetry or partial-order
reduction), so scopes far beyond what the exhaustive check can enumerate (three
devices, two re-enrollments each, long runs) are explored.

- One rule per actor, each choosing among the live machines' enabled triggers of that
  actor: `enroll`, `re_enroll`, `user`, `admin`, `maintenance_timer`, `lost_contact`
  (the timers that count days without contact), `push`, `network_delivery`,
  `network_loss`, `device`, `server`, `aad`. Hypothesis' swarm testing switches whole
  actors off per run (no loss, no admin), and a shrunk example reads as who did what.
- Per run, Hypothesis also draws a schedule: a slow network (messages wait until the
  device has nothing else to do: late deliveries, stale messages), whether the network
  loses messages at all, whether the lost-contact timers wait until nothing else can
  happen, and two focuses, each in three runs out of four one of the actors that
  start unenrollments (user, admin, Azure AD). The first focus keeps the other two
  initiators quiet (they move only when nobody else can) until a device completes its
  first unenrollment; then the second focus takes over, as stale-command bugs need
  (the user unenrolls, then the admin queues a command that outlives the
  re-enrollment while the user keeps still). A bug that needs one unenroll to run to
  its end while the others keep still (an admin's remote unenroll of an Azure AD
  joined desktop, whose user could remove the association at every step) is then one
  draw away instead of a long streak of luck.
- Every `always` property of the model is an invariant; a non-terminal world with no
  enabled trigger fails as a deadlock; `no_deadlock` (always_recoverable) is checked
  on the last world of each run, per device, by exploring what the device can still
  reach.
- `cross_check=True` (the default) checks every live step against the engine's
  compiled successor function for the device's slice: the two interpreters of the
  tables must agree on each step, and a `Disagreement` names the step and the state.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from lifecycle.engine import Kind, Property, check
from lifecycle.engine.properties import waiting_keys
from lifecycle.mdm import Design, LifecycleModel, Scope, load_design
from lifecycle.mdm.state import World
from lifecycle.runtime import Disagreement, LiveStep, LiveWorld
from lifecycle.testing.machine import (
    DeadlockFound,
    ModelStateMachine,
    PropertyViolation,
    RunStats,
    StuckForever,
    stuck_keys,
)

__all__ = ["ACTORS", "LiveLifecycleMachine", "category", "lifecycle_machine", "run_length"]

#: The rules of the live machine, one per actor (see `category`).
ACTORS = (
    "enroll",
    "re_enroll",
    "user",
    "admin",
    "maintenance_timer",
    "lost_contact",
    "push",
    "network_delivery",
    "network_loss",
    "offline",
    "tenant",
    "faults",
    "device",
    "server",
    "aad",
)
_AGAIN = ("dormant", "wiped")
#: The actors a slow network waits for (see `LiveLifecycleMachine.defer_actors`).
DEVICE_LOCAL = frozenset({"enroll", "re_enroll", "device", "aad"})
#: The actors deferred in a slow-network run.
SLOW_NETWORK = frozenset({"network_delivery", "network_loss"})
#: The timers that count days without contact (F13, F55), not the hours of the
#: maintenance schedule: the server presumes the device unenrolled, the device
#: unenrolls itself.
LOST_CONTACT = frozenset(
    {"PresumeUnenrolled", "ConfirmUnenrolled", "AbandonSession", "SelfUnenroll"}
)
#: The environment's offline periods start (coming back is a delivery: it must not
#: wait once a device is offline).
OFFLINE = frozenset({"GoOffline"})
#: The tenant admin's MDM switch.
TENANT = frozenset({"TurnOffMDM", "TurnOnMDM"})
#: Faults of the device's own: its provisioning fails.
FAULTS = frozenset({"ProvisioningFails"})
#: The environment actors that are quiet unless a run draws them (see `start`).
NOISE = ("offline", "tenant", "faults")
#: The actors that start unenrollments; a run may focus on one (see `start`).
QUIETABLE = ("user", "admin", "aad")


def _others(focus: str | None) -> frozenset[str]:
    """The initiators a focus on `focus` keeps quiet (none without a focus)."""
    return frozenset() if focus is None else frozenset(QUIETABLE) - {focus}


def category(step: LiveStep, phase: str) -> str:
    """The actor rule a live step belongs to, from the row's metadata (`phase` is the
    device's phase, which tells a first enrollment from a re-enrollment)."""
    r = step.row
    if r.trigger == "StartEnrollment":
        return "re_enroll" if phase in _AGAIN else "enroll"
    if r.trigger in OFFLINE:
        return "offline"
    if r.trigger in TENANT:
        return "tenant"
    if r.trigger in FAULTS:
        return "faults"
    if r.trigger == "ComeOnline":
        return "network_delivery"
    if r.machine == "network":
        return "network_loss"
    if r.message == "push":
        return "push"
    if r.actor == "user":
        return "user"
    if r.actor == "admin":
        return "admin"
    if r.actor == "timer":
        return "lost_contact" if r.trigger in LOST_CONTACT else "maintenance_timer"
    if r.direction in ("receive", "exchange"):
        return "network_delivery"
    if r.actor == "aad":
        return "aad"
    return "server" if r.machine == "server" else "device"


class LiveLifecycleMachine(ModelStateMachine):
    """Base class of the machines `lifecycle_machine()` builds."""

    cross_check: bool = True
    defer_actors: bool = True
    _live: LiveWorld | None = None
    _memo_enabled: dict[Any, list[LiveStep]]
    _memo_fire: dict[Any, Any]
    _always: tuple[Property, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self._by_actor: dict[str, list[LiveStep]] = {}
        self._live_steps: list[LiveStep] = []
        self._slow: frozenset[str] = frozenset()
        self._quiet: frozenset[str] = frozenset()
        self._focus_quiet: frozenset[str] = frozenset()
        self._then: frozenset[str] | None = None  # the second focus's quiet actors
        self._loud_steps: list[LiveStep] = []

    # -- bookkeeping
    def _world_live(self) -> LiveWorld:
        cls = type(self)
        if cls._live is None:
            cls._live = LiveWorld(self.model, self._init_states[0])
        return cls._live

    def _enter(self, state: Any) -> None:
        self.state = state
        self._states.append(state)
        self._witness(state)
        live = self._world_live()
        memo = type(self)._memo_enabled
        steps = memo.get(state)
        if steps is None:
            steps = memo[state] = live.enabled(state)
        self._live_steps = steps
        self._enabled = len(steps)
        by_actor: dict[str, list[LiveStep]] = {}
        for step in steps:
            phase = state.device[step.party].phase if step.party is not None else "-"
            by_actor.setdefault(category(step, phase), []).append(step)
        for group in by_actor.values():
            group.sort(key=lambda s: self.format_step(s.action))
        self._by_actor = by_actor
        if self._then is not None and any(d.phase in _AGAIN for d in state.device):
            # The first unenrollment is complete: the first focus has done its work,
            # and the second takes over (stale commands need a second initiator).
            self._quiet = (self._quiet - self._focus_quiet) | self._then
            self._focus_quiet = self._then
            self._then = None
        quiet = self._quiet
        self._loud_steps = (
            [s for a, group in by_actor.items() if a not in quiet for s in group]
            if quiet
            else steps
        )

    def _fire(self, step: LiveStep) -> None:
        """Fire `step` on the live machines. What a step does from a world is memoised
        per machine class: shrinking replays the same prefixes hundreds of times."""
        type(self).stats.steps += 1
        world: World = self.state
        memo = type(self)._memo_fire
        key = (step, world)
        after = memo.get(key)
        if after is None:
            after = memo[key] = self._world_live().fire(step, world)
            if self.cross_check:
                expected = [(s[0], s[1]) for s in self.model.raw_steps(world)]
                if (step.action, after) not in expected:
                    self._actions.append(step.action)
                    self._disagree(step, world, after, expected)
        self._actions.append(step.action)
        self._enter(after)

    @classmethod
    def _moves(cls, state: Any) -> list[tuple[Any, Any]]:
        """Every step of every party, devices in place (the engine's own successors put
        the devices in canonical order), as live actions."""
        return [(s[0], s[1]) for s in cls.model.raw_steps(state)]

    def _disagree(self, step: LiveStep, before: Any, after: Any, expected: Any) -> None:
        match = [nb for a, nb in expected if a == step.action]
        verdict = (
            "the engine does not enable it"
            if not match
            else f"the engine reaches {match[0]!r}, the live machines {after!r}"
        )
        trace = self.trace()
        raise Disagreement(
            f"live machines and engine disagree on step {len(trace)}, "
            f"{self.format_step(step.action)}: {verdict}\n"
            + trace.render(format_action=self.format_step),
            state=trace.states[-2] if len(trace.states) > 1 else trace.states[-1],
            action=step.action,
            engine=None,
            live=None,
            path=trace,
        )

    def _begin(self, state: Any) -> None:
        self._enter(state)

    def _take_action(self, action: Any, rebind: bool = False) -> bool:
        for step in self._live_steps:
            if step.action == action:
                self._fire(step)
                return True
        if rebind:  # the same trigger of the same device, if only one is enabled
            same = [s for s in self._live_steps if s.action[:2] == action[:2]]
            if len(same) == 1:
                self._fire(same[0])
                return True
        return False

    def _pick(self, data: Any, actor: str) -> LiveStep:
        steps = self._by_actor[actor]
        if len(steps) == 1:
            return steps[0]
        index: int = data.draw(st.integers(0, len(steps) - 1), label=actor)
        return steps[index]

    # -- rules
    @initialize(data=st.data())
    def start(self, data: Any) -> None:
        inits = self._init_states
        world = inits[0] if len(inits) == 1 else data.draw(st.sampled_from(inits), label="start")
        if self.defer_actors:
            if data.draw(st.booleans(), label="slow network"):
                self._slow = SLOW_NETWORK
            focuses = (None, *QUIETABLE)
            focus = data.draw(st.sampled_from(focuses), label="focus")
            then = data.draw(st.sampled_from(focuses), label="then focus")
            self._focus_quiet = _others(focus)
            self._then = _others(then)
            quiet = set(self._focus_quiet)
            # A lossless run: loss, which competes with every delivery, keeps still.
            if not data.draw(st.booleans(), label="lossy network"):
                quiet.add("network_loss")
            # Days without contact pass before the lost-contact timers fire: in such
            # a run they wait until nothing else can happen.
            if data.draw(st.booleans(), label="slow lost-contact timers"):
                quiet.add("lost_contact")
            # The environment's rarer events (an offline period, the tenant's MDM
            # switch, a failed provisioning) each happen freely in one run out of
            # four; in the others they wait until nothing else can happen.
            for actor in NOISE:
                if data.draw(st.integers(0, 3), label=actor) != 0:
                    quiet.add(actor)
            self._quiet = frozenset(quiet)
        self._enter(world)

    def _may_take(self, actor: str) -> bool:
        """`actor` has an enabled step, and is not deferred: in a slow-network run the
        network moves only when the device has no work of its own left, and a quiet
        actor moves only when no other actor can."""
        by_actor = self._by_actor
        if actor not in by_actor:
            return False
        if actor in self._quiet:
            return all(a in self._quiet for a in by_actor)
        if actor not in self._slow:
            return True
        return not any(a in by_actor and a not in self._quiet for a in DEVICE_LOCAL)

    @precondition(lambda self: self.state is not None and not self._live_steps)
    @rule()
    def idle(self) -> None:
        """Nothing is enabled (every device done): stutter until the run ends."""

    # `other_action` of the generic machine has no place here: every step has an actor.
    other_action = None  # type: ignore[assignment]
    # Nor `any_step` and the generic schedules: `any_actor` and the focuses do their work.
    any_step = None  # type: ignore[assignment]

    @precondition(lambda self: bool(self._live_steps))
    @rule(data=st.data())
    def any_actor(self, data: Any) -> None:
        """A step of any actor. Hypothesis' swarm testing switches some actor rules off
        for a whole run; when the only enabled steps belong to switched-off actors,
        this rule keeps the run going (without it, Hypothesis aborts the run as
        invalid: 60% of the runs were). So a switched-off actor is not silenced, only
        slowed down: it moves rarely, which is the "message delivered late" schedule
        that stale-message bugs need. Quiet actors stay quiet here too (while another
        actor can move), unlike rules switched off by swarm testing."""
        steps = self._loud_steps or self._live_steps
        index: int = (
            data.draw(st.integers(0, len(steps) - 1), label="any actor") if len(steps) > 1 else 0
        )
        self._fire(steps[index])

    @invariant()
    def always_properties(self) -> None:
        """Every `always` property of the model, on the live machines' world."""
        if self.state is None:
            return
        for prop in self._always:
            if not prop.predicate(self.state):
                self._fail(PropertyViolation, prop.name, Kind.ALWAYS)

    @invariant()
    def no_deadlock(self) -> None:
        if self.state is None or self._live_steps or not self.check_deadlock:
            return
        if self.model.is_terminal(self.state):
            return
        self._fail(DeadlockFound, "deadlock", Kind.DEADLOCK)

    def teardown(self) -> None:
        """`always_recoverable` properties on the last world: what the world can still
        reach (devices share the server, so the whole world is explored, within the
        budget)."""
        if self.state is None or not self._recoverable:
            return
        world: World = self.state
        for prop in self._recoverable:
            if not list(waiting_keys(prop.predicate(world))):
                continue
            memo = type(self)._memo_fire
            if (prop.name, world) not in memo:  # the exploration is the costly part
                memo[prop.name, world] = stuck_keys(
                    self._world_next, prop.predicate, world, self.recoverable_budget
                )
            keys = memo[prop.name, world]
            if keys:
                detail = (
                    f"{', '.join(map(repr, keys))} waits forever: no state the world can "
                    "reach frees it"
                )
                self._fail(StuckForever, prop.name, Kind.RECOVERABLE, detail)

    def _world_next(self, world: World) -> list[World]:
        return [nxt for _action, nxt in self._moves(world)]


def _actor_rule(actor: str) -> Any:
    def take(self: LiveLifecycleMachine, data: Any) -> None:
        self._fire(self._pick(data, actor))

    take.__name__ = actor
    take.__qualname__ = actor
    take.__doc__ = f"A {actor.replace('_', ' ')} step, among those the live machines enable."
    return precondition(lambda self: self._may_take(actor))(rule(data=st.data())(take))


def lifecycle_machine(
    design: Design | str = "reference",
    scope: Scope | None = None,
    *,
    cross_check: bool = True,
    defer_actors: bool = True,
    name: str | None = None,
) -> type[LiveLifecycleMachine]:
    """A Hypothesis `RuleBasedStateMachine` subclass driving the live machines of
    `design` (a `Design`, a preset name or a TOML path) at `scope`.

        TestReference = lifecycle_machine("reference", Scope(devices=3)).TestCase
    """
    d = load_design(design) if isinstance(design, str) else design
    model = LifecycleModel(d, scope if scope is not None else Scope())
    props = list(model.properties())
    namespace: dict[str, Any] = {
        "model": model,
        "format_step": staticmethod(model.describe_action),
        "stats": RunStats(),
        "cross_check": cross_check,
        "defer_actors": defer_actors,
        "_live": None,
        "_memo_enabled": {},
        "_memo_fire": {},
        "_init_states": tuple(model.init_states()),
        "_always": tuple(p for p in props if p.kind is Kind.ALWAYS),
        "_recoverable": tuple(p for p in props if p.kind is Kind.RECOVERABLE),
        "_sometimes": tuple(p for p in props if p.kind is Kind.SOMETIMES),
        "__doc__": f"Live machines of design {d.name!r}.",
    }
    for actor in ACTORS:
        namespace[actor] = _actor_rule(actor)
    cls_name = name or "Live_" + "".join(w.title() for w in d.name.split("_"))
    cls: type[LiveLifecycleMachine] = type(cls_name, (LiveLifecycleMachine,), namespace)
    return cls


def run_length(design: Design | str, scope: Scope | None = None, *, floor: int = 25) -> int:
    """A `stateful_step_count` for hunting a design's bug: twice the steps of the
    shortest counterexample the exhaustive check finds at `scope` (it stops at the
    first violation, so this costs little), and at least `floor`. A random walk needs
    slack around the steps the bug takes (a timer session here, a lost message
    there), but every step beyond it makes each run, and each shrink, dearer."""
    d = load_design(design) if isinstance(design, str) else design
    # The first violation ends the search, before any liveness check could run.
    model = LifecycleModel(d, scope if scope is not None else Scope(), liveness=False)
    result = check(model, stop_on_violation=True)
    shortest = min((len(v.trace) for v in result.violations if v.trace.states), default=0)
    return max(floor, 2 * shortest)
