"""The generic adapter's schedules (`ModelStateMachine.schedules`): how a run chooses
among the enabled steps, knowing nothing of the model.

A model whose environment actions are enabled everywhere (toggles, as the MDM
switch and offline periods are) drowns a uniform choice: most steps go to the toggles.
The tests below show that the schedules find such a bug where the uniform choice
alone does not, in the same derandomized budget, and that every schedule offers a
step whenever one is enabled (a run is never cut short, and never reports a false
deadlock).
"""

from __future__ import annotations

from typing import Any

from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st

from lifecycle.engine import Model, Property
from lifecycle.testing import find_failure, state_machine
from lifecycle.testing.machine import SCHEDULES

CHAIN = 12
TOGGLES = 4

BUDGET = settings(
    max_examples=40,
    stateful_step_count=30,
    derandomize=True,
    database=None,
    deadline=None,
    phases=(Phase.generate,),
)


class NoisyChain(Model):
    """A protocol of CHAIN named steps (Step0, Step1, ...: each enabled only where the
    last one left off), TOGGLES bits any step may flip, and Reset, which sends the
    protocol back to its start. The invariant breaks when the protocol completes."""

    def init_states(self) -> list[Any]:
        return [(0, (False,) * TOGGLES)]

    def action_names(self) -> list[str]:
        return [f"Step{i}" for i in range(CHAIN)] + [f"Flip{i}" for i in range(TOGGLES)] + ["Reset"]

    def actions(self, state: Any) -> list[str]:
        at, _bits = state
        steps = [f"Step{at}"] if at < CHAIN else []
        return steps + [f"Flip{i}" for i in range(TOGGLES)] + (["Reset"] if at else [])

    def next_state(self, state: Any, action: str) -> Any:
        at, bits = state
        if action.startswith("Step"):
            return (at + 1, bits)
        if action == "Reset":
            return (0, bits)
        i = int(action[4:])
        return (at, (*bits[:i], not bits[i], *bits[i + 1 :]))

    def properties(self) -> list[Property]:
        return [Property.always("never_complete", lambda s: s[0] < CHAIN)]


def test_the_schedules_find_a_bug_the_uniform_choice_misses() -> None:
    uniform = state_machine(NoisyChain())
    uniform.schedules = ("uniform",)
    assert find_failure(uniform, settings=BUDGET, shorten=False) is None
    every = state_machine(NoisyChain())
    assert set(every.schedules) <= set(SCHEDULES) and "uniform" not in every.schedules
    failure = find_failure(every, settings=BUDGET, shorten=False)
    assert failure is not None and failure.property == "never_complete"


ALL_NAMES = NoisyChain().action_names()


@example(schedule="quiet", quiet=set(ALL_NAMES), path=["Step0", "Flip1", "Step1"])
@example(schedule="recent", quiet=set(), path=["Flip0", "Flip0", "Step0", "Reset"])
@given(
    schedule=st.sampled_from(SCHEDULES),
    quiet=st.sets(st.sampled_from(ALL_NAMES)),
    path=st.lists(st.sampled_from(ALL_NAMES), max_size=20),
)
def test_every_schedule_offers_a_step_whenever_one_is_enabled(
    schedule: str, quiet: set[str], path: list[str]
) -> None:
    machine = state_machine(NoisyChain())()
    machine._schedule = schedule
    machine._quiet_names = frozenset(quiet)
    machine._enter(NoisyChain().init_states()[0])
    for name in path:
        enabled = {s.action for s in machine._steps}
        offered = {s.action for s in machine._offered_steps}
        assert offered and offered <= enabled
        assert set(machine._offered) == {a for a in offered}
        if schedule == "quiet" and enabled - quiet:
            assert not offered & quiet  # quiet names wait while another can move
        if name in enabled:
            machine._take_action(name)  # replays may take any enabled step
            assert machine._actions[-1] == name


LONG = 20


class HandOver(Model):
    """Alice starts a job (unfair), the system works it off in LONG weakly fair steps,
    and Bob's one press (unfair, enabled all along) breaks the invariant only if it
    comes once the job is done; Carol flips a switch at any time. Under a uniform
    choice Bob presses early in almost every run; under the "focus" schedule Bob
    waits while the system can move, and a focus on Alice and then Bob finds it."""

    def init_states(self) -> list[Any]:
        return [(0, False, False, False)]  # (progress, alice started, bob pressed, switch)

    def action_names(self) -> list[str]:
        return ["Start", "Work", "Press", "Flip"]

    def actions(self, state: Any) -> list[str]:
        at, started, pressed, _switch = state
        out = ["Flip"]
        if not started:
            out.append("Start")
        elif at < LONG:
            out.append("Work")
        if not pressed:
            out.append("Press")
        return out

    def next_state(self, state: Any, action: str) -> Any:
        at, started, pressed, switch = state
        if action == "Start":
            return (at, True, pressed, switch)
        if action == "Work":
            return (at + 1, started, pressed, switch)
        if action == "Press":
            return (at, started, (at == LONG) or "early", switch)
        return (at, started, pressed, not switch)

    def actor_of(self, action: str) -> str:
        return {"Start": "alice", "Work": "system", "Press": "bob", "Flip": "carol"}[action]

    def fairness(self) -> list[Any]:
        from lifecycle.engine import Fairness

        return [Fairness.weak("Work")]

    def properties(self) -> list[Property]:
        return [Property.always("no_late_press", lambda s: s[2] is not True)]


def test_the_focus_schedule_hands_over_from_one_actor_to_the_next() -> None:
    # (The other schedules find it too now and then, by luck: Bob's press must wait
    # out the whole job. The focus finds it by design; the test below says how.)
    focus = state_machine(HandOver())
    focus.schedules = ("focus",)
    failure = find_failure(focus, settings=BUDGET, seed=0, shorten=False)
    assert failure is not None and failure.property == "no_late_press"


def test_the_focus_waits_for_the_system_and_then_changes_hands() -> None:
    machine = state_machine(HandOver())()
    machine._schedule = "focus"
    machine._focus_ranks = (0, 0)  # the first enabled actor by name, each time
    machine._enter(HandOver().init_states()[0])
    # Alice, Bob and Carol can act: the focus is Alice; the others wait for her.
    assert {s.action for s in machine._offered_steps} == {"Start"}
    machine._take_action("Start")
    for _ in range(LONG):
        # The system works; Alice has nothing left to do; Bob and Carol still wait.
        assert {s.action for s in machine._offered_steps} == {"Work"}
        machine._take_action("Work")
    # The system is done and Alice has acted: the second focus, by rank among the
    # actors enabled now (Bob, Carol), is Bob, whose press now comes late.
    assert {s.action for s in machine._offered_steps} == {"Press"}
    assert machine._focus_phase == 1
    machine._take_action("Press")
    assert machine.state[2] is True
    # No focus at all (the last rank): the environment moves only at quiescence.
    idle = state_machine(HandOver())()
    idle._schedule, idle._focus_ranks = "focus", (3, 0)
    idle._enter(HandOver().init_states()[0])
    assert {s.action for s in idle._offered_steps} == {"Start", "Press", "Flip"}


class Witnessed(NoisyChain):
    def properties(self) -> list[Property]:
        return [
            Property.sometimes("reaches_three", lambda s: s[0] >= 3),
            Property.sometimes("never_there", lambda s: s[0] > CHAIN),
        ]


def test_runs_record_the_witnesses_they_reach_and_only_those() -> None:
    machine = state_machine(Witnessed())
    assert find_failure(machine, settings=BUDGET, seed=0, shorten=False) is None
    # Evidence, never proof: a witness reached is recorded; one that no state can be,
    # never is.
    assert machine.stats.witnessed == {"reaches_three"}


def test_an_unknown_schedule_is_refused() -> None:
    import pytest

    machine = state_machine(NoisyChain())
    machine.schedules = ("fresh", "sideways")
    with pytest.raises(ValueError, match="sideways"):
        find_failure(machine, settings=BUDGET, seed=0, shorten=False)
