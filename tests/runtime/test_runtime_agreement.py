"""One source of truth: the live `transitions` machines and the engine's compiled
successor function interpret the same tables, and agree on every step tried."""

from __future__ import annotations

from typing import Any

import pytest
from transitions import Machine

from lifecycle.mdm import LifecycleModel, Scope, load_design, presets
from lifecycle.mdm.state import World
from lifecycle.runtime import Disagreement, LiveWorld, agree, reachable_states, walk_states
from lifecycle.testing import active_profile

DEEP = active_profile() == "deep"


def test_agree_on_every_reachable_state_of_the_reference_design() -> None:
    model = LifecycleModel(load_design("reference"), Scope(reenrollments=0))
    compared = agree(model, reachable_states(model))
    assert compared > 3000  # every reachable state, not a sample


@pytest.mark.parametrize("name", sorted(presets()))
def test_agree_on_long_walks_of_every_preset(name: str) -> None:
    # Two devices, two re-enrollments each: beyond the exhaustive scope, reached by
    # random walks (deterministic seed) through the engine model.
    model = LifecycleModel(presets()[name], Scope(devices=2, reenrollments=2))
    walks, steps = (40, 150) if DEEP else (4, 40)
    assert agree(model, walk_states(model, walks=walks, steps=steps, seed=7)) >= steps


@pytest.mark.parametrize("name", sorted(presets()))
def test_agree_on_the_reachable_states_of_every_preset(name: str) -> None:
    # Deep: every reachable state (one device, no re-enrollment). CI: the first 400
    # states of the same breadth-first search, so each preset is compared on every
    # state within a few steps of the start (a real check, just smaller).
    model = LifecycleModel(presets()[name], Scope(reenrollments=0))
    limit = None if DEEP else 400
    assert agree(model, reachable_states(model, max_states=limit)) > 100


def test_the_inlined_may_trigger_agrees_with_transitions() -> None:
    # `LiveDevice._may` inlines `may_<trigger>`; it must answer as transitions does.
    model = LifecycleModel(load_design("reference"), Scope(reenrollments=0))
    live = LiveWorld(model)
    device = live.devices[0]
    compared = 0
    for state, _ in walk_states(model, walks=3, steps=30, seed=1):
        device.load(state)
        for name, table in device.tables.items():
            part, machine = device.parts[name], device.machines[name]
            for trigger in machine.get_triggers(part.state):
                r = table.row(trigger)
                args = list(r.choices(device.view)) if r.choices is not None else [None]
                for arg in args:
                    expected = getattr(part, f"may_{trigger}")(arg=arg)
                    assert device._may(machine, part, trigger, arg) == expected
                    compared += 1
    assert compared > 100


class DropsAStep(LifecycleModel):
    """An engine whose successor function forgets `LoseMessage`: a planted bug."""

    def successors(self, state: World) -> Any:
        return ((a, n) for a, n in super().successors(state) if a[0] != "LoseMessage")


class ReachesElsewhere(LifecycleModel):
    """An engine whose `MaintenanceSession` forgets to put package 1 in flight."""

    def successors(self, state: World) -> Any:
        for a, n in super().successors(state):
            yield a, (state if a[0] == "MaintenanceSession" else n)


def test_a_disagreement_names_the_step_and_the_state() -> None:
    model = DropsAStep(load_design("reference"), Scope(reenrollments=0))
    with pytest.raises(Disagreement) as info:
        agree(model, reachable_states(model))
    text = str(info.value)
    assert "network: a message is lost" in text  # the step, as the trace prints it
    assert "the live machines enable it; the engine does not" in text
    assert "from state:" in text and "device 0: enrolled" in text
    assert "reached by (" in text and "0. initial state" in text
    assert info.value.action[0] == "LoseMessage"


def test_a_different_result_is_a_disagreement_too() -> None:
    model = ReachesElsewhere(load_design("reference"), Scope(reenrollments=0))
    with pytest.raises(Disagreement, match="reach different states") as info:
        agree(model, reachable_states(model))
    assert "net[0].in_flight" in str(info.value)


def test_the_live_machines_are_transitions_machines_in_the_table_states() -> None:
    model = LifecycleModel(load_design("reference"), Scope(reenrollments=0))
    live = LiveWorld(model)
    device = live.devices[0]
    assert all(isinstance(m, Machine) for m in device.machines.values())
    assert set(device.machines) == {"device", "server", "directory", "network"}
    assert device.states()["device"] == "not_enrolled"
    start = next(s for s in live.enabled() if s.row.trigger == "StartEnrollment")
    live.fire(start)
    assert device.parts["device"].state == "enrolling"  # transitions moved it
    assert live.world().device[0].phase == "enrolling"  # and the data followed
