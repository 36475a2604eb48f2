"""The MDM liveness properties under the model's fairness: the reference holds them,
the presets that break them do so with a fair lasso whose loop reads, state by state,
as the bug the preset describes, and the verdicts depend on the fairness the model
declares (without it every obligation fails by stuttering).

At a small scope (no offline periods, no MDM switch, no re-enrollment), where the
lassos already show; the default scope's verdicts are test_mdm_matrix's (the reference
is `ok` there, liveness included, and every preset's expected violations are found)."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from lifecycle.engine import STUTTER, Status, check
from lifecycle.engine.liveness import Graph, Lasso, LassoRecheckFailed, recheck
from lifecycle.mdm import LifecycleModel, Scope, presets
from lifecycle.mdm.design import LIVENESS
from lifecycle.mdm.server import believes_enrolled

SMALL = Scope(max_offline=0, mdm_toggle=False, reenrollments=0)


@functools.cache
def _result(name: str) -> Any:
    """One complete check per preset for this module, its graph kept."""
    design = presets()[name]
    model = LifecycleModel(design, design.scope(SMALL))
    return model, check(model, keep_graph=True)


def test_the_reference_meets_every_liveness_obligation() -> None:
    _model, result = _result("reference")
    assert result.complete
    for name in LIVENESS:
        assert result.status(name) is Status.HOLDS, name
    assert "liveness_unknown" not in result.extra
    # The fairness the verdict rests on is printed with it.
    described = " ".join(result.extra["fairness"])
    assert "taken only finitely often" in described and "strong" in described


def test_without_fairness_every_obligation_fails_by_stuttering() -> None:
    class Unfair(LifecycleModel):
        def fairness(self) -> list[Any]:
            return []

    result = check(Unfair(presets()["reference"], SMALL))
    for name in ("server_eventually_learns", "cleanup_eventually_completes"):
        violation = result.violation(name)
        assert violation is not None and violation.trace.stutters, name
        assert violation.trace.actions[-1] is STUTTER


def _loop(trace: Any) -> tuple[Any, ...]:
    return tuple(trace.states[trace.cycle_start :])


@pytest.mark.parametrize("name", ["never_learns", "trusts_alert_alone"])
def test_a_server_that_never_learns_is_shown_a_fair_lasso(name: str) -> None:
    model, result = _result(name)
    violation = result.violation("server_eventually_learns")
    assert violation is not None and violation.trace.is_lasso
    # In every state of the loop the device has unenrolled and the server's record of
    # that enrollment still counts it as enrolled: the server never learns.
    for world in _loop(violation.trace):
        device = world.device[0]
        assert device.phase in ("dormant", "wiped")
        assert any(
            r.gen == device.gen and believes_enrolled(r, model.design) for r in world.server.records
        )
    # The loop is a real one: each step is an enabled action of the model, the last
    # returning to the state at cycle_start (or the last state stays).
    trace = violation.trace
    for before, action, after in trace.steps():
        assert (action, after) in model.successors(before)


def test_a_device_that_keeps_sessions_never_completes_its_cleanup() -> None:
    _model, result = _result("device_keeps_sessions")
    violation = result.violation("cleanup_eventually_completes")
    assert violation is not None
    loop = _loop(violation.trace)
    assert all(
        not (w.device[0].phase in ("dormant", "wiped") and w.device[0].artifacts == 0) for w in loop
    )


def test_a_lasso_of_the_model_passes_the_independent_recheck() -> None:
    # The lasso, mapped back onto the graph the search kept, passes the re-check by the
    # definitions (liveness.recheck) against the model's fairness, with the trigger and
    # goal recomputed here from the states.
    model, result = _result("never_learns")
    graph = result.graph
    assert graph is not None
    ids = {state: i for i, state in enumerate(graph.states)}
    trace = result.violation("server_eventually_learns").trace
    path = tuple(ids[s] for s in trace.states)
    initial = [i for i in range(len(graph)) if graph.parents[i] < 0]
    shape = Graph(graph.successors, graph.actions, initial)

    def unlearnt(u: int) -> bool:
        w = graph.states[u]
        d = w.device[0]
        return d.phase in ("dormant", "wiped") and any(
            r.gen == d.gen and believes_enrolled(r, model.design) for r in w.server.records
        )

    trigger_at = next(i for i, u in enumerate(path) if unlearnt(u))
    lasso = Lasso(path, trace.actions, trace.cycle_start, trigger_at)
    recheck(
        shape, lasso, goal=lambda u: not unlearnt(u), trigger=unlearnt, fairness=model.fairness()
    )
    # Dropping a state of the loop breaks it: the re-check can fail.
    if len(path) - trace.cycle_start > 1:
        broken = Lasso(path[:-1], trace.actions[:-1], trace.cycle_start, trigger_at)
        with pytest.raises(LassoRecheckFailed):
            recheck(
                shape,
                broken,
                goal=lambda u: not unlearnt(u),
                trigger=unlearnt,
                fairness=model.fairness(),
            )
