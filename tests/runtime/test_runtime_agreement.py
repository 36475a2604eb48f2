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


SMALL = Scope(reenrollments=0, max_offline=0, mdm_toggle=False)


def test_agree_on_every_reachable_state_of_the_reference_design() -> None:
    model = LifecycleModel(load_design("reference"), SMALL)
    compared = agree(model, reachable_states(model))
    assert compared > 3000  # every reachable state, not a sample


def test_agree_on_every_reachable_state_with_offline_periods_and_the_mdm_switch() -> None:
    model = LifecycleModel(load_design("reference"), Scope(reenrollments=0, max_in_flight=1))
    limit = None if DEEP else 20_000
    assert agree(model, reachable_states(model, max_states=limit)) >= min(limit or 0, 20_000)


@pytest.mark.parametrize("name", sorted(presets()))
def test_agree_on_long_walks_of_every_preset(name: str) -> None:
    # Two devices sharing the server, two re-enrollments each: beyond the exhaustive
    # scope, reached by random walks (deterministic seed) through the engine model.
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
    # `LiveWorld._may` inlines `may_<trigger>`; it must answer as transitions does.
    model = LifecycleModel(load_design("reference"), SMALL)
    live = LiveWorld(model)
    compared = 0
    for state, _ in walk_states(model, walks=3, steps=30, seed=1):
        for i in range(len(state.device)):
            view = live._device_view(state, i)
            machine, part = live.machines["device"], live.parts["device"]
            machine.set_state(state.device[i].phase)
            for trigger in machine.get_triggers(part.state):
                r = machine.events[trigger]
                row = live.tables["device"].row(trigger)
                if row.receives is not None:
                    continue
                expected = getattr(part, f"may_{trigger}")(view=view)
                assert live._may("device", part.state, trigger, view=view) == expected, r
                compared += 1
    assert compared > 100


class DropsAStep(LifecycleModel):
    """An engine whose successor function forgets `LoseMessage`: a planted bug."""

    def raw_steps(self, world: World) -> Any:
        return [s for s in super().raw_steps(world) if s[0][0] != "LoseMessage"]


class ReachesElsewhere(LifecycleModel):
    """An engine whose `MaintenanceSession` forgets to put package 1 in flight."""

    def raw_steps(self, world: World) -> Any:
        out = []
        for s in super().raw_steps(world):
            if s[0][0] == "MaintenanceSession":
                s = (s[0], s[1]._replace(net=world.net), s[2], s[3])
            out.append(s)
        return out


def test_a_disagreement_names_the_step_and_the_state() -> None:
    model = DropsAStep(load_design("reference"), SMALL)
    with pytest.raises(Disagreement) as info:
        agree(model, reachable_states(model))
    text = str(info.value)
    assert "network: a message is lost" in text  # the step, as the trace prints it
    assert "the live machines enable it; the engine does not" in text
    assert "from state:" in text and "device 0: enrolling" in text
    assert "reached by (" in text and "0. initial state" in text
    assert info.value.action[0] == "LoseMessage"


def test_a_different_result_is_a_disagreement_too() -> None:
    model = ReachesElsewhere(load_design("reference"), SMALL)
    with pytest.raises(Disagreement, match="reach different states") as info:
        agree(model, reachable_states(model))
    assert "net[0].in_flight" in str(info.value)


def test_the_live_machines_are_transitions_machines_in_the_table_states() -> None:
    model = LifecycleModel(load_design("reference"), SMALL)
    live = LiveWorld(model)
    assert all(isinstance(m, Machine) for m in live.machines.values())
    assert set(live.machines) == {"device", "server", "directory", "network"}
    world = next(w for w in model.init_states() if w.device[0].local_admin)
    start = next(s for s in live.enabled(world) if s.arg == ("work_access", True))
    world = live.fire(start, world)
    assert live.parts["device"].state == "enrolling"  # transitions moved it
    assert world.device[0].phase == "enrolling"  # and the data followed
    request = next(s for s in live.enabled(world) if s.row.trigger == "RequestEnrollment")
    world = live.fire(request, world)
    accept = next(s for s in live.enabled(world) if s.row.trigger == "AcceptEnrollment")
    world = live.fire(accept, world)
    assert live.parts["server"].state == "pending"  # the server machine, on its record
    assert world.server.records[0].status == "pending"


def test_a_row_that_changes_an_undeclared_machine_is_caught() -> None:
    # Planted break: the wipe forgets to declare that it removes the AAD association.
    import dataclasses

    from lifecycle.mdm.tables import REFERENCE, Tables
    from lifecycle.runtime import TableInconsistency

    def wipe_and_unjoin(v: Any) -> None:
        """The wipe's effect, plus an undeclared change of the directory."""
        from lifecycle.mdm.device import execute_wipe
        from lifecycle.mdm.state import Directory

        execute_wipe(v)
        v.directory = Directory("none")

    rows = tuple(
        dataclasses.replace(r, also=(), effect=wipe_and_unjoin) if r.trigger == "ReceiveWipe" else r
        for r in REFERENCE.device.rows
    )
    device = dataclasses.replace(REFERENCE.device, rows=rows)
    tables = Tables(device, REFERENCE.server, REFERENCE.directory, REFERENCE.network)
    model = LifecycleModel(load_design("reference"), Scope(reenrollments=0), tables)
    with pytest.raises(TableInconsistency, match="declare it in the row's also"):
        agree(model, reachable_states(model))
