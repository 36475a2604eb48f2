"""`lifecycle.testing.state_machine` on small models whose bugs are known.

Each test fails if the feature it names breaks: a correct model passes, a known
invariant violation and a known deadlock are found, shrinking removes the irrelevant
steps, and the failure prints the steps the way `lifecycle check` does.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from lifecycle.engine import Model, ModelError, Property, check
from lifecycle.examples import FastTwoPhase
from lifecycle.testing import (
    PHASES,
    DeadlockFound,
    PropertyViolation,
    enabled_steps,
    find_failure,
    state_machine,
)
from lifecycle.testing.machine import minimize, replay

FAST = settings(
    max_examples=60, stateful_step_count=30, database=None, deadline=None, phases=PHASES
)


class Lock(NamedTuple):
    """A toy lock protocol: two clients, a lock holder, a noise bit."""

    holder: int | None
    inside: tuple[bool, bool]
    noise: bool


class LockModel(Model):
    """Clients acquire, enter, leave and release a lock; `Noise` flips an irrelevant bit.

    `buggy=True` lets a client enter without holding the lock: two clients inside is
    then reachable in exactly 3 steps (Acquire(0), Enter(0), Enter(1)).
    `stuck=True` adds `Jam`, which leads to a state that has no way out and is not
    terminal: a deadlock.
    """

    def __init__(self, *, buggy: bool = False, stuck: bool = False) -> None:
        self.buggy = buggy
        self.stuck = stuck

    def init_states(self) -> list[Lock]:
        return [Lock(None, (False, False), False)]

    def action_names(self) -> list[str]:
        names = ["Acquire", "Enter", "Leave", "Release", "Noise"]
        return [*names, "Jam"] if self.stuck else names

    def actions(self, state: Lock) -> list[Any]:
        acts: list[Any] = [("Noise",)]
        for c in (0, 1):
            acts += [("Acquire", c), ("Enter", c), ("Leave", c), ("Release", c)]
        if self.stuck:
            acts.append(("Jam",))
        return acts

    def next_state(self, s: Lock, action: Any) -> Lock | None:
        if s.holder == -1:  # jammed: nothing is enabled
            return None
        name = action[0]
        if name == "Noise":
            return s._replace(noise=not s.noise)
        if name == "Jam":
            return s._replace(holder=-1)
        c = action[1]
        inside = list(s.inside)
        if name == "Acquire" and s.holder is None:
            return s._replace(holder=c)
        if name == "Enter" and not inside[c] and (s.holder == c or (self.buggy and c == 1)):
            inside[c] = True
            return s._replace(inside=(inside[0], inside[1]))
        if name == "Leave" and inside[c]:
            inside[c] = False
            return s._replace(inside=(inside[0], inside[1]))
        if name == "Release" and s.holder == c and not inside[c]:
            return s._replace(holder=None)
        return None

    def properties(self) -> list[Property]:
        return [
            Property.always("mutual_exclusion", lambda s: not all(s.inside)),
            Property.sometimes("someone_inside", lambda s: any(s.inside)),
        ]

    def describe_action(self, action: Any) -> str:
        if action[0] in ("Noise", "Jam"):
            return f"the environment does {action[0]}"
        return f"client {action[1]} does {action[0]}"


def test_a_correct_model_passes() -> None:
    model = LockModel()
    assert check(model).ok  # the exhaustive checker agrees that it is correct
    machine = state_machine(model)
    assert find_failure(machine, settings=FAST) is None
    assert machine.stats.steps > 500  # it really walked the model


def test_a_correct_model_runs_as_a_pytest_test_case() -> None:
    test_case = state_machine(LockModel()).TestCase
    test_case.settings = FAST
    test_case("runTest").runTest()


def test_finds_the_invariant_violation_and_shrinks_it_to_the_essential_steps() -> None:
    model = LockModel(buggy=True)
    shortest = check(model).violation("mutual_exclusion")
    assert shortest is not None and len(shortest.trace) == 3
    failure = find_failure(state_machine(model), settings=FAST)
    assert isinstance(failure, PropertyViolation)
    assert failure.property == "mutual_exclusion"
    # Shrinking removed every irrelevant step: no Noise, no Leave/Release detour.
    assert len(failure.trace) == 3, failure.text
    assert {a[0] for a in failure.trace.actions} <= {"Acquire", "Enter"}
    assert not model.properties()[0].predicate(failure.trace.states[-1])


def test_the_failure_prints_the_steps_as_lifecycle_check_does() -> None:
    model = LockModel(buggy=True)
    failure = find_failure(state_machine(model), settings=FAST)
    assert failure is not None
    # Same rendering as `lifecycle check`: trace.render(format_action=describe_action).
    assert failure.trace.render(format_action=model.describe_action) in str(failure)
    text = str(failure)
    assert text.startswith("mutual_exclusion (always) violated;")
    assert "0. initial state" in text
    assert "1. client " in text  # the model's describe_action, not a raw tuple
    assert "inside: (" in text  # only the changed fields, difftrace style


def test_the_hypothesis_output_names_the_rule_and_the_chosen_action() -> None:
    model = LockModel(buggy=True)
    with pytest.raises(PropertyViolation) as info:
        run_state_machine_as_test(state_machine(model), settings=FAST)
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "state.Enter(data=data(...))" in notes
    assert "client 1 does Enter" in notes  # the draw prints as the described action


def test_finds_a_deadlock() -> None:
    model = LockModel(stuck=True)
    assert check(model).violation("deadlock") is not None
    failure = find_failure(state_machine(model), settings=FAST)
    assert isinstance(failure, DeadlockFound)
    assert failure.trace.actions == (("Jam",),)
    assert str(failure).startswith("deadlock (deadlock):")


def test_deadlock_check_can_be_switched_off() -> None:
    assert find_failure(state_machine(LockModel(stuck=True), deadlock=False), settings=FAST) is None


class Countdown(Model):
    """Counts down from 3 to 0; 0 is terminal unless `terminal=False`. `Wait` is a
    self-loop that is enabled at 0 when `wait_at_zero`."""

    def __init__(self, *, terminal: bool = True, wait_at_zero: bool = False) -> None:
        self.terminal = terminal
        self.wait_at_zero = wait_at_zero

    def init_states(self) -> list[int]:
        return [3]

    def actions(self, state: int) -> list[str]:
        return ["Dec", "Wait"]

    def next_state(self, state: int, action: str) -> int | None:
        if action == "Dec":
            return state - 1 if state > 0 else None
        return state if (self.wait_at_zero and state == 0) else None

    def properties(self) -> list[Property]:
        return [Property.always("non_negative", lambda s: s >= 0)]

    def is_terminal(self, state: int) -> bool:
        return self.terminal and state == 0


def test_terminal_states_are_not_deadlocks_and_stuck_states_are() -> None:
    assert find_failure(state_machine(Countdown()), settings=FAST) is None
    failure = find_failure(state_machine(Countdown(terminal=False)), settings=FAST)
    assert isinstance(failure, DeadlockFound)
    assert failure.trace.states == (3, 2, 1, 0)


def test_self_loops_are_enabled_for_the_deadlock_check_but_never_taken() -> None:
    model = Countdown(terminal=False, wait_at_zero=True)
    assert enabled_steps(model, 0) == [("Wait", 0)]
    machine = state_machine(model)
    assert find_failure(machine, settings=FAST) is None  # engine agrees: no deadlock
    assert check(model).ok
    assert machine.stats.steps <= 3 * machine.stats.examples  # only the three Decs


class Bounded(Countdown):
    """States below 2 are outside the boundary: not expanded, so never deadlocks."""

    def within_boundary(self, state: int) -> bool:
        return state >= 2


def test_states_outside_the_boundary_are_not_expanded() -> None:
    model = Bounded(terminal=False)
    assert enabled_steps(model, 1) == []
    assert check(model).ok
    assert find_failure(state_machine(model), settings=FAST) is None


class TwoStarts(Model):
    """Two initial states; the violation is reachable only from the second one."""

    def init_states(self) -> list[int]:
        return [0, 10]

    def actions(self, state: int) -> list[str]:
        return ["Inc"]

    def next_state(self, state: int, action: str) -> int | None:
        return state + 1 if state % 10 < 5 else None

    def is_terminal(self, state: int) -> bool:
        return True

    def properties(self) -> list[Property]:
        return [Property.always("below_12", lambda s: s < 12)]


def test_initial_states_are_chosen_among() -> None:
    failure = find_failure(state_machine(TwoStarts()), settings=FAST)
    assert failure is not None
    assert failure.trace.states == (10, 11, 12)


def test_single_rule_mode_and_unlisted_action_names() -> None:
    model = LockModel(buggy=True)
    single = state_machine(model, by_name=False)
    assert hasattr(single, "step") and not hasattr(single, "Acquire")
    failure = find_failure(single, settings=FAST)
    assert failure is not None and len(failure.trace) == 3

    class Partial(LockModel):
        def action_names(self) -> list[str]:
            return ["Noise"]  # Acquire/Enter are not listed: `other_action` takes them

    failure = find_failure(state_machine(Partial(buggy=True)), settings=FAST)
    assert failure is not None and failure.property == "mutual_exclusion"


def test_a_fixed_seed_gives_the_same_failure() -> None:
    model = LockModel(buggy=True)
    loose = settings(FAST, derandomize=False)
    first = find_failure(state_machine(model), settings=loose, seed=1234)
    second = find_failure(state_machine(model), settings=loose, seed=1234)
    assert first is not None and second is not None
    assert first.trace == second.trace


def test_a_predicate_that_raises_is_a_model_error_with_the_trace() -> None:
    class Broken(LockModel):
        def properties(self) -> list[Property]:
            return [Property.always("broken", lambda s: 1 / (2 - sum(s.inside)) > 0)]

    with pytest.raises(ModelError, match="property 'broken' raised") as info:
        find_failure(state_machine(Broken(buggy=True)), settings=FAST)
    assert info.value.trace is not None


def test_works_on_the_engine_example_with_its_fast_path() -> None:
    machine = state_machine(FastTwoPhase(3))
    assert find_failure(machine, settings=FAST) is None
    assert machine.stats.steps > 200


def test_rejects_what_is_not_a_model() -> None:
    with pytest.raises(TypeError, match="not a model"):
        state_machine(object())

    class NoInit(LockModel):
        def init_states(self) -> list[Lock]:
            return []

    with pytest.raises(ValueError, match="no state"):
        state_machine(NoInit())


def test_first_failure_statistics_are_recorded() -> None:
    machine = state_machine(LockModel(buggy=True))
    find_failure(machine, settings=FAST)
    stats = machine.stats
    assert stats.first_failure_examples is not None and stats.first_failure_examples >= 1
    assert stats.first_failure_seconds is not None and stats.first_failure_seconds > 0


# ------------------------------------------------------------ shortening by meaning
def _padded_failure(machine: Any, model: LockModel) -> Any:
    """A failing run with every irrelevant step Hypothesis might leave in it: noise
    flips and a whole acquire/enter/leave/release round of client 0 before the bug."""
    padding = [("Noise",), ("Acquire", 0), ("Noise",), ("Enter", 0), ("Leave", 0)]
    padding += [("Release", 0), ("Noise",)]
    bug = [("Acquire", 0), ("Noise",), ("Enter", 0), ("Noise",), ("Enter", 1)]
    failure = replay(machine, model.init_states()[0], padding + bug)
    assert failure is not None and len(failure.trace) == 12
    return failure


def test_replay_runs_actions_by_meaning_and_reports_the_failure() -> None:
    model = LockModel(buggy=True)
    machine = state_machine(model)
    start = model.init_states()[0]
    failure = replay(machine, start, [("Acquire", 0), ("Enter", 0), ("Enter", 1)])
    assert isinstance(failure, PropertyViolation) and failure.property == "mutual_exclusion"
    assert failure.trace.actions == (("Acquire", 0), ("Enter", 0), ("Enter", 1))
    # Steps after the failure are not run; a step that is not enabled ends the replay.
    longer = replay(machine, start, [("Acquire", 0), ("Enter", 0), ("Enter", 1), ("Noise",)])
    assert longer is not None and len(longer.trace) == 3
    assert replay(machine, start, [("Enter", 0)]) is None  # client 0 holds no lock
    assert replay(machine, start, [("Acquire", 0), ("Enter", 0)]) is None  # no bug yet
    # Replays are not examples: the statistics Hypothesis' runs feed stay as they were.
    assert machine.stats.examples == 0 and machine.stats.steps == 0


def test_minimize_deletes_the_steps_the_failure_does_not_need() -> None:
    model = LockModel(buggy=True)
    machine = state_machine(model)
    short = minimize(machine, _padded_failure(machine, model))
    # The engine's shortest counterexample has 3 steps; deleting steps reaches it.
    shortest = check(model).violation("mutual_exclusion")
    assert shortest is not None
    assert len(short.trace) == len(shortest.trace) == 3
    assert short.property == "mutual_exclusion"
    again = replay(machine, short.trace.states[0], short.trace.actions)
    assert again is not None and again.trace == short.trace
    assert "3 steps" in short.text


class Ladder(Model):
    """Steps up a ladder of five rungs (0-4), in generations: at the top, `Restart`
    begins the next generation at rung 0. `("Fail", gen)` names the generation it is
    taken in and breaks `never_fails` from rung 1. `Jump` goes from rung 0 straight to
    rung 3, which `never_three` (when `three`) forbids."""

    def __init__(self, *, three: bool = False) -> None:
        self.three = three

    def init_states(self) -> list[tuple[int, int]]:
        return [(0, 0)]

    def actions(self, state: tuple[int, int]) -> list[tuple[Any, ...]]:
        return [("Step",), ("Jump",), ("Restart",), ("Fail", state[1])]

    def next_state(self, state: tuple[int, int], action: tuple[Any, ...]) -> Any:
        rung, gen = state
        if action == ("Step",) and 0 <= rung < 4:
            return (rung + 1, gen)
        if action == ("Jump",) and rung == 0:
            return (3, gen)
        if action == ("Restart",) and rung == 4:
            return (0, gen + 1)
        if action[0] == "Fail" and rung == 1:
            return (-1, gen)
        return None

    def action_names(self) -> list[str]:
        return ["Fail", "Jump", "Restart", "Step"]

    def properties(self) -> list[Property]:
        props = [Property.always("never_fails", lambda s: s[0] != -1)]
        if self.three:
            props.append(Property.always("never_three", lambda s: s[0] != 3))
        return props

    def is_terminal(self, state: tuple[int, int]) -> bool:
        return state[0] == -1

    def within_boundary(self, state: tuple[int, int]) -> bool:
        return state[1] <= 1  # two generations: a finite state space for check()


def test_replay_rebinds_a_step_that_names_what_a_deletion_changed() -> None:
    model = Ladder()
    machine = state_machine(model)
    start = model.init_states()[0]
    cycle = [("Step",)] * 4 + [("Restart",)]
    failure = replay(machine, start, [*cycle, ("Step",), ("Fail", 1)])
    assert failure is not None and len(failure.trace) == 7
    # Without the first generation, ("Fail", 1) is not enabled: generation 0 has
    # begun. Rebinding takes the one enabled step of that name, ("Fail", 0).
    second = [("Step",), ("Fail", 1)]
    assert replay(machine, start, second) is None
    assert replay(machine, start, second, skip_disabled=True) is None
    rebound = replay(machine, start, second, rebind=True)
    assert rebound is not None and rebound.trace.actions == (("Step",), ("Fail", 0))
    # So minimize drops the whole first generation.
    short = minimize(machine, failure)
    assert short.trace.actions == (("Step",), ("Fail", 0))


def test_minimize_takes_the_models_shortcut_that_no_deletion_reaches() -> None:
    model = Ladder(three=True)
    machine = state_machine(model)
    failure = replay(machine, model.init_states()[0], [("Step",)] * 3)
    assert failure is not None and failure.property == "never_three"
    assert len(failure.trace) == 3
    # Deleting any step leaves rung 3 unreached; the model's Jump reaches it in one.
    short = minimize(machine, failure)
    assert short.trace.actions == (("Jump",),)
    shortest = check(model).violation("never_three")
    assert shortest is not None and len(shortest.trace) == len(short.trace)
