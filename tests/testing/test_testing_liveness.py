"""The bounded liveness check of `lifecycle.testing.state_machine`.

At the end of each run, `eventually` and `leads_to` must meet their goal in the run or
in a round-robin fair continuation of at most `liveness_budget` steps from its last
state. Each test fails if the feature it names breaks: fairness drives the
continuation (and only fairness), round-robin is fair per instance, the budget is a
bound that says so, and the failure prints as the other failures do. Where it can,
each test also asks the exhaustive `check` for its verdict.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest
from hypothesis import Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from lifecycle.engine import STUTTER, Fairness, Model, Property, Status, check
from lifecycle.testing import PHASES, enabled_steps, find_failure, state_machine
from lifecycle.testing.machine import LivenessNotMet, minimize, replay

FAST = settings(
    max_examples=60,
    stateful_step_count=30,
    database=None,
    deadline=None,
    derandomize=True,
    phases=PHASES,
)

# Hypothesis' shrinker replays hundreds of examples; `find_failure` shortens by meaning.
GENERATE_ONLY = settings(FAST, phases=[Phase.generate])

INC, RESET, JUMP = ("Inc",), ("Reset",), ("Jump",)


class Counter(Model):
    """Counts from 0 up to `top` by `Inc` (weakly fair when `fair`); `Reset` goes back
    to 0 and is taken only finitely often; `Jump` (when `jump`, not fair) goes straight
    to `goal`. `eventually(reaches_goal)`: the counter reaches `goal`."""

    def __init__(
        self,
        *,
        top: int = 5,
        goal: int = 5,
        fair: bool = True,
        jump: bool = False,
        terminal: bool = False,
        bound: int | None = None,
    ) -> None:
        self.top, self.goal, self.fair, self.jump = top, goal, fair, jump
        self.terminal, self.bound = terminal, bound

    def init_states(self) -> list[int]:
        return [0]

    def action_names(self) -> list[str]:
        return ["Inc", "Reset", "Jump"] if self.jump else ["Inc", "Reset"]

    def actions(self, state: int) -> list[Any]:
        return [INC, RESET, JUMP] if self.jump else [INC, RESET]

    def next_state(self, state: int, action: Any) -> int | None:
        if action == INC:
            return state + 1 if state < self.top else None
        if action == RESET:
            return 0 if state > 0 else None
        return self.goal if state != self.goal else None

    def properties(self) -> list[Property]:
        return [Property.eventually("reaches_goal", lambda s: s >= self.goal)]

    def fairness(self) -> list[Fairness]:
        return [Fairness.weak("Inc"), Fairness.finite("Reset")] if self.fair else []

    def is_terminal(self, state: int) -> bool:
        return self.terminal and state == self.top

    def within_boundary(self, state: int) -> bool:
        return self.bound is None or state <= self.bound

    def describe_action(self, action: Any) -> str:
        return f"the counter does {action[0]}"


def _engine_status(model: Model, name: str) -> Status:
    result = check(model)
    return next(p.status for p in result.properties if p.name == name)


def _is_a_run_of(model: Model, failure: LivenessNotMet) -> None:
    """Every step of the failure's trace is an enabled step of the model, and every
    step of the continuation takes a fair action."""
    trace = failure.trace
    assert not trace.is_lasso
    for before, action, after in trace.steps():
        assert (action, after) in enabled_steps(model, before)
    assert all(a == INC for a in trace.actions[failure.run_steps :])


# ------------------------------------------------------------- fairness drives it
def test_a_weakly_fair_action_drives_the_continuation_to_the_goal() -> None:
    model = Counter()
    assert _engine_status(model, "reaches_goal") is Status.HOLDS
    machine = state_machine(model)
    assert find_failure(machine, settings=FAST) is None
    # Runs did end short of the goal: the continuation, not the run, reached it.
    assert any(s < 5 for s in machine._memo_live)
    trace, end = machine.fair_continuation(2)
    assert trace.actions == (INC, INC, INC) and trace.states[-1] == 5
    assert end == "stutter"  # at 5 only Reset is enabled, and it is switched off


def test_without_fairness_there_is_no_continuation_and_eventually_fails() -> None:
    model = Counter(fair=False)
    assert _engine_status(model, "reaches_goal") is Status.VIOLATED
    machine = state_machine(model)
    trace, end = machine.fair_continuation(0)
    assert trace.actions == () and end == "stutter"
    failure = find_failure(machine, settings=FAST)
    assert isinstance(failure, LivenessNotMet) and failure.property == "reaches_goal"
    assert not failure.bounded
    assert len(failure.trace) == 0  # shortened to the initial state: it stutters
    assert "the run has no step and no fair continuation" in failure.text


def test_a_goal_only_an_unfair_action_reaches_is_not_met() -> None:
    model = Counter(top=3, goal=9, jump=True)
    result = check(model)
    lasso = result.violation("reaches_goal")
    assert lasso is not None  # the engine agrees: Inc stops at 3, Jump is not fair
    assert lasso.trace.states == (0, 1, 2, 3) and lasso.trace.actions[-1] is STUTTER
    failure = find_failure(state_machine(model), settings=FAST)
    assert isinstance(failure, LivenessNotMet)
    assert failure.kind == "eventually" and not failure.bounded
    _is_a_run_of(model, failure)
    # Shortened to the engine's counterexample: no step of the run, three fair Incs.
    assert failure.run_steps == 0
    assert failure.trace.states == lasso.trace.states[: len(failure.trace.states)]
    assert "ends where no fair action is enabled" in failure.text


def test_a_terminal_state_ends_the_behaviour_without_the_goal() -> None:
    model = Counter(top=3, goal=9, jump=True, terminal=True)
    assert _engine_status(model, "reaches_goal") is Status.VIOLATED
    failure = find_failure(state_machine(model), settings=FAST)
    assert isinstance(failure, LivenessNotMet) and not failure.bounded
    assert failure.trace.states[-1] == 3
    assert "ends in a terminal state" in failure.text


def test_a_continuation_that_leaves_the_boundary_reports_nothing() -> None:
    model = Counter(bound=2)
    assert _engine_status(model, "reaches_goal") is Status.UNKNOWN
    assert find_failure(state_machine(model), settings=FAST) is None


def test_minimize_shortens_the_run_and_recomputes_the_continuation() -> None:
    model = Counter(top=3, goal=9, jump=True)
    machine = state_machine(model)
    padded = replay(machine, 0, [INC, INC, RESET, INC, RESET, INC])
    assert isinstance(padded, LivenessNotMet) and padded.run_steps == 6
    assert padded.trace.actions[6:] == (INC, INC)
    short = minimize(machine, padded)
    assert isinstance(short, LivenessNotMet)
    assert short.run_steps == 0 and short.trace.actions == (INC, INC, INC)


# ----------------------------------------------------- round-robin, per instance
class Procs(NamedTuple):
    pc: tuple[int, int]  # per process: 0 idle, 1 waiting, 2 served, 3 leaving


class TwoProcesses(Model):
    """Two processes, each cycling idle -> waiting -> served -> leaving -> idle by its
    own `Tick`, always enabled. `leads_to(served)`: a waiting process is served.
    Weak fairness on `Tick` is per process; `grouped` lumps both, so ticking process 0
    for ever is fair and starves process 1."""

    def __init__(self, *, grouped: bool = False) -> None:
        self.grouped = grouped

    def init_states(self) -> list[Procs]:
        return [Procs((0, 0))]

    def action_names(self) -> list[str]:
        return ["Tick"]

    def actions(self, state: Procs) -> list[Any]:
        return [("Tick", 0), ("Tick", 1)]

    def next_state(self, state: Procs, action: Any) -> Procs:
        pc = list(state.pc)
        pc[action[1]] = (pc[action[1]] + 1) % 4
        return Procs((pc[0], pc[1]))

    def properties(self) -> list[Property]:
        return [
            Property.leads_to(
                "served",
                lambda s: [i for i in (0, 1) if s.pc[i] == 1],
                lambda s: [i for i in (0, 1) if s.pc[i] == 2],
            )
        ]

    def fairness(self) -> list[Fairness]:
        return [Fairness.weak("Tick", grouped=self.grouped)]

    def describe_action(self, action: Any) -> str:
        return f"process {action[1]} ticks"


def test_round_robin_takes_every_fair_instance_in_turn() -> None:
    machine = state_machine(TwoProcesses())
    both_waiting = Procs((1, 1))
    trace, end = machine.fair_continuation(both_waiting, 8)
    assert end is None
    # Strict alternation: each process is served within two steps, and neither
    # instance of Tick ever waits more than one step.
    assert trace.actions == (("Tick", 0), ("Tick", 1)) * 4
    assert trace.states[2] == Procs((2, 2))


def test_keyed_leads_to_holds_when_the_scheduler_is_fair_per_instance() -> None:
    model = TwoProcesses()
    assert _engine_status(model, "served") is Status.HOLDS
    machine = state_machine(model)
    assert find_failure(machine, settings=FAST) is None
    # Runs ended with process 1 waiting; the continuation served it.
    assert any(s.pc[1] == 1 for s in machine._memo_live)


def test_grouped_fairness_lets_one_process_starve_and_it_is_reported() -> None:
    model = TwoProcesses(grouped=True)
    assert _engine_status(model, "served") is Status.VIOLATED  # the engine agrees
    failure = find_failure(state_machine(model), settings=GENERATE_ONLY)
    assert isinstance(failure, LivenessNotMet) and failure.kind == "leads_to"
    assert failure.bounded  # a fair loop, not a stutter: the budget runs out
    assert failure.trace.actions[: failure.run_steps] == (("Tick", 1),)
    assert set(failure.trace.actions[failure.run_steps :]) == {("Tick", 0)}
    assert "the goal of 1 (triggered in state 1) is not met in the run" in failure.text


# ------------------------------------------------------------------- the budget
def test_a_goal_beyond_the_budget_fails_as_bounded_and_a_larger_budget_passes() -> None:
    model = Counter(top=300, goal=300)
    assert _engine_status(model, "reaches_goal") is Status.HOLDS
    machine = state_machine(model)
    assert machine.liveness_budget == 200
    failure = find_failure(machine, settings=FAST)  # runs of 30 steps at most
    assert isinstance(failure, LivenessNotMet) and failure.bounded
    assert "not met in the run nor within 200 fair steps after it (bounded:" in failure.text
    assert len(failure.trace) == failure.run_steps + 200
    _is_a_run_of(model, failure)
    roomy = state_machine(model)
    roomy.liveness_budget = 400
    assert find_failure(roomy, settings=FAST) is None


# ---------------------------------------------------------------- the failure text
def test_the_failure_prints_the_steps_as_the_other_failures_do() -> None:
    model = Counter(top=3, goal=9, jump=True)
    with pytest.raises(LivenessNotMet) as info:
        run_state_machine_as_test(state_machine(model), settings=FAST)
    failure = info.value
    text = str(failure)
    head, steps = text.split("\n", 1)
    assert head.startswith("reaches_goal (eventually) violated: the goal is not met in the run")
    assert "bounded liveness check, not a proof" in head
    assert head.endswith(f"; counterexample found by Hypothesis, {len(failure.trace)} steps:")
    # The same rendering as `lifecycle check`: the model's describe_action, diffs.
    assert steps == failure.trace.render(format_action=model.describe_action)
    assert "0. initial state" in steps and "1. the counter does " in steps
    assert "state: " in steps


def test_no_end_of_run_check_after_a_failed_invariant() -> None:
    class AlsoBounded(Counter):
        def properties(self) -> list[Property]:
            return [*super().properties(), Property.always("below_2", lambda s: s < 2)]

    machine = state_machine(AlsoBounded(fair=False))
    run = machine()
    run._begin(0)
    run._take_action(INC)
    run._take_action(INC)
    with pytest.raises(AssertionError, match="below_2"):
        run._check_all()
    run.teardown()  # the liveness check would fail here; the run has failed already
