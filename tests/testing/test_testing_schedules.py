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
from lifecycle.testing.machine import ModelStateMachine

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
    assert set(every.schedules) >= {"uniform", "fresh", "recent", "quiet"}
    failure = find_failure(every, settings=BUDGET, shorten=False)
    assert failure is not None and failure.property == "never_complete"


ALL_NAMES = NoisyChain().action_names()


@example(schedule="quiet", quiet=set(ALL_NAMES), path=["Step0", "Flip1", "Step1"])
@example(schedule="recent", quiet=set(), path=["Flip0", "Flip0", "Step0", "Reset"])
@given(
    schedule=st.sampled_from(ModelStateMachine.schedules),
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
