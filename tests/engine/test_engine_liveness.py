"""Liveness under fairness on models whose verdicts follow by hand: a mutex that starves
without fairness and under weak fairness but not under strong fairness, Peterson's
algorithm (starvation-free under weak fairness of each process, as TLC finds for the
TLA+ example), a counter that loops for ever, and the honest-verdict rules (a bound
leaves liveness unknown, symmetry is refused, a lasso is printed and exported)."""

from __future__ import annotations

import json

import pytest

from lifecycle.engine import STUTTER, Fairness, Model, Property, Status, check
from lifecycle.engine.liveness import Graph, Lasso, LassoRecheckFailed, recheck
from lifecycle.engine.trace import Trace, trace_to_jsonable


class Mutex(Model):
    """Two processes: idle -> waiting -> critical -> idle, one critical at a time. The
    Enter of a waiting process is disabled while the other is critical, so it is
    enabled only intermittently: weak fairness lets it starve, strong fairness not."""

    def __init__(self, fairness: list[Fairness] | None = None) -> None:
        self.fair = fairness

    def init_states(self):
        return [("idle", "idle")]

    def actions(self, state):
        return [(name, i) for name in ("Try", "Enter", "Exit") for i in (0, 1)]

    def next_state(self, state, action):
        name, i = action
        me, other = state[i], state[1 - i]
        if name == "Try" and me == "idle":
            new = "waiting"
        elif name == "Enter" and me == "waiting" and other != "critical":
            new = "critical"
        elif name == "Exit" and me == "critical":
            new = "idle"
        else:
            return None
        return tuple(new if j == i else state[j] for j in range(2))

    def properties(self):
        return [
            Property.leads_to(
                "p0_enters", lambda s: s[0] == "waiting", lambda s: s[0] == "critical"
            ),
            Property.leads_to(
                "each_enters",
                lambda s: [i for i in (0, 1) if s[i] == "waiting"],
                lambda s: [i for i in (0, 1) if s[i] == "critical"],
            ),
        ]

    def fairness(self):
        return self.fair if self.fair is not None else []


def test_without_fairness_a_behaviour_may_stutter_for_ever():
    result = check(Mutex())
    v = result.violation("p0_enters")
    assert v is not None and v.trace.stutters
    assert v.trace.actions[-1] is STUTTER
    assert v.trace.cycle_start == len(v.trace.states) - 1
    assert v.trace.states[-1] == ("waiting", "idle")  # shortest: Try(0), then nothing
    assert result.extra["fairness"] == ["none declared: every behaviour may stutter for ever"]
    assert "stutters for ever" in v.trace.render()


def test_weak_fairness_lets_the_mutex_starve_strong_fairness_does_not():
    weak = check(Mutex([Fairness.weak("Enter"), Fairness.weak("Exit")]))
    v = weak.violation("p0_enters")
    assert v is not None and not v.trace.stutters
    loop = v.trace.states[v.trace.cycle_start :]
    assert all(s[0] == "waiting" for s in loop)
    assert any(s[1] == "critical" for s in loop)  # Enter(0) is disabled there
    assert ("Enter", 0) not in v.trace.actions[v.trace.cycle_start :]
    strong = check(Mutex([Fairness.strong("Enter"), Fairness.weak("Exit")]))
    assert strong.status("p0_enters") is Status.HOLDS
    assert strong.status("each_enters") is Status.HOLDS


def test_fairness_is_per_instance_unless_grouped():
    # Grouped strong fairness on Enter is satisfied by Enter(1) alone: process 0 starves.
    grouped = check(Mutex([Fairness.strong("Enter", grouped=True), Fairness.weak("Exit")]))
    v = grouped.violation("p0_enters")
    assert v is not None
    assert ("Enter", 1) in v.trace.actions[v.trace.cycle_start :]


def test_keyed_leads_to_checks_each_key_on_its_own():
    # Process 1 entering does not satisfy process 0's obligation: under grouped fairness
    # each_enters fails, for key 0 or 1, with a loop where that process keeps waiting.
    result = check(Mutex([Fairness.strong("Enter", grouped=True), Fairness.weak("Exit")]))
    v = result.violation("each_enters")
    assert v is not None
    loop = v.trace.states[v.trace.cycle_start :]
    assert any(all(s[i] == "waiting" for s in loop) for i in (0, 1))


class Peterson(Model):
    """Peterson's algorithm for two processes, as in the TLA+ Examples (Peterson.tla):
    pc in a0 (noncritical) -> a1 (flag) -> a2 (turn) -> a3 (wait) -> cs -> a4 (unflag).
    With weak fairness of each process's steps (WF_vars(proc(self))), TLC finds the
    liveness property `\\A p: pc[p] = "a1" ~> pc[p] = "cs"` true; the noncritical step
    is not fair (a process may stay out)."""

    def __init__(self, fair: bool) -> None:
        self.fair = fair

    def init_states(self):
        return [(("a0", "a0"), (False, False), 0)]

    def actions(self, state):
        return [("Step", 0), ("Step", 1), ("Leave", 0), ("Leave", 1)]

    def next_state(self, state, action):
        pcs, flags, turn = state
        name, i = action
        j = 1 - i
        pc = pcs[i]

        def put(pc2, flag=None, turn2=None):
            new_pcs = tuple(pc2 if k == i else pcs[k] for k in (0, 1))
            new_flags = tuple(
                (flag if flag is not None else flags[k]) if k == i else flags[k] for k in (0, 1)
            )
            return (new_pcs, new_flags, turn if turn2 is None else turn2)

        if name == "Leave":
            return put("a1") if pc == "a0" else None
        if pc == "a1":
            return put("a2", flag=True)
        if pc == "a2":
            return put("a3", turn2=j)
        if pc == "a3":
            return put("cs") if (not flags[j] or turn == i) else None
        if pc == "cs":
            return put("a4")
        if pc == "a4":
            return put("a0", flag=False)
        return None

    def properties(self):
        return [
            Property.always("mutual_exclusion", lambda s: s[0] != ("cs", "cs")),
            Property.leads_to(
                "starvation_free",
                lambda s: [i for i in (0, 1) if s[0][i] == "a1"],
                lambda s: [i for i in (0, 1) if s[0][i] == "cs"],
            ),
        ]

    def fairness(self):
        return (
            [Fairness.weak(lambda a, i=i: a == ("Step", i), grouped=True) for i in (0, 1)]
            if self.fair
            else []
        )


def test_peterson_is_starvation_free_under_weak_fairness_as_tlc_finds():
    fair = check(Peterson(fair=True))
    assert fair.ok, fair.summary()
    assert fair.status("starvation_free") is Status.HOLDS
    unfair = check(Peterson(fair=False))
    assert unfair.status("mutual_exclusion") is Status.HOLDS
    assert unfair.status("starvation_free") is Status.VIOLATED


class Loop(Model):
    """A counter that may wrap around for ever and never reach 3, or reach it."""

    def init_states(self):
        return [0]

    def actions(self, state):
        return ["Inc", "Wrap"]

    def next_state(self, state, action):
        if action == "Inc":
            return state + 1 if state < 3 else None
        return 0 if state == 2 else None

    def is_terminal(self, state):
        return state == 3

    def properties(self):
        return [Property.eventually("reaches_three", lambda s: s == 3)]

    def fairness(self):
        return [Fairness.weak("Inc"), Fairness.weak("Wrap")]


def test_a_counter_that_can_loop_for_ever_violates_eventually_with_a_printed_loop():
    result = check(Loop())
    v = result.violation("reaches_three")
    assert v is not None and v.trace.is_lasso and not v.trace.stutters
    assert v.trace.states == (0, 1, 2)
    assert v.trace.actions == ("Inc", "Inc", "Wrap")
    assert v.trace.cycle_start == 0
    text = v.trace.render()
    assert "Wrap   (back to state 0)" in text
    exported = json.loads(json.dumps(trace_to_jsonable(v.trace)))
    assert [step.get("action") for step in exported] == [None, "Inc", "Inc", "Wrap"]
    assert exported[-1] == {"action": "Wrap", "back_to": 0}


def test_strong_fairness_on_the_intermittent_action_removes_the_loop():
    class Steps(Loop):
        # Each Inc is its own instance (its parameter is the count): Inc(2), the way
        # out, is enabled only at 2, once per round of the loop 0, 1, 2, 0. Weak
        # fairness lets the loop skip it for ever, strong fairness does not.
        def actions(self, state):
            return [("Inc", state), ("Wrap",)]

        def next_state(self, state, action):
            return super().next_state(state, action[0])

        def fairness(self):
            return [self.kind("Inc"), Fairness.weak("Wrap")]

    Steps.kind = staticmethod(Fairness.weak)
    weak = check(Steps())
    v = weak.violation("reaches_three")
    assert v is not None and ("Inc", 2) not in v.trace.actions
    Steps.kind = staticmethod(Fairness.strong)
    assert check(Steps()).status("reaches_three") is Status.HOLDS


class Bounded(Model):
    """A counter the boundary cuts: whether it reaches 5 is beyond what was explored."""

    def init_states(self):
        return [0]

    def actions(self, state):
        return ["Inc"]

    def next_state(self, state, action):
        return state + 1

    def within_boundary(self, state):
        return state < 3

    def properties(self):
        return [Property.eventually("reaches_five", lambda s: s == 5)]

    def fairness(self):
        return [Fairness.weak("Inc")]


def test_a_boundary_leaves_liveness_unknown_and_a_bound_never_says_holds():
    result = check(Bounded())
    assert result.complete
    assert result.status("reaches_five") is Status.UNKNOWN
    assert "reaches_five" in result.extra["liveness_unknown"]
    assert not result.ok
    cut = check(Loop(), max_states=2)
    assert not cut.complete
    assert cut.status("reaches_three") is Status.UNKNOWN


def test_symmetry_is_refused_for_liveness_unless_verified():
    class Symmetric(Mutex):
        def representative(self, state):
            return tuple(sorted(state))

    with pytest.raises(ValueError, match="liveness property 'p0_enters' needs symmetry='verify'"):
        check(Symmetric([Fairness.strong("Enter")]), symmetry="on")
    auto = check(Symmetric([Fairness.strong("Enter"), Fairness.weak("Exit")]))
    assert auto.extra["symmetry"].startswith("off (liveness property")


def test_a_lasso_that_is_not_fair_fails_the_recheck():
    # 0 <-> 1 with A; B leaves 1 for 2. Strong fairness on B: the loop 0,1 starves B.
    graph = Graph([[1], [0, 2], []], [[("A",)], [("A",), ("B",)], []], [0])
    unfair = Lasso((0, 1), (("A",), ("A",)), 0, 0)
    with pytest.raises(LassoRecheckFailed, match="starves the strongly fair"):
        recheck(graph, unfair, goal=lambda u: u == 2, trigger=None, fairness=[Fairness.strong("B")])
    recheck(graph, unfair, goal=lambda u: u == 2, trigger=None, fairness=[Fairness.weak("B")])
    fake = Lasso((0, 2), (("A",), STUTTER), 1, 0)
    with pytest.raises(LassoRecheckFailed, match="arrow the graph lacks"):
        recheck(graph, fake, goal=lambda u: False, trigger=None, fairness=[])


def test_a_lasso_trace_checks_its_shape():
    with pytest.raises(ValueError, match="one action per state"):
        Trace((0, 1), ("a",), cycle_start=0)
    with pytest.raises(ValueError, match="loops on its last state"):
        Trace((0, 1), ("a", STUTTER), cycle_start=0)
    t = Trace((0, 1), ("a", "b"), cycle_start=0)
    assert list(t.steps()) == [(0, "a", 1), (1, "b", 0)]


def test_store_and_workers_give_the_same_liveness_answers():
    models = [Mutex([Fairness.weak("Enter"), Fairness.weak("Exit")]), Peterson(fair=True), Loop()]
    for model in models:
        exact = check(model)
        for other in (check(model, store="fingerprint"), check(model, workers=2)):
            assert {p.name: p.status for p in other.properties} == {
                p.name: p.status for p in exact.properties
            }
            assert {v.property: (len(v.trace), v.trace.cycle_start) for v in other.violations} == {
                v.property: (len(v.trace), v.trace.cycle_start) for v in exact.violations
            }


def test_a_malformed_fairness_declaration_is_named():
    class Bad(Loop):
        def fairness(self):
            return ["Inc"]

    with pytest.raises(TypeError, match=r"fairness\(\) must return Fairness"):
        check(Bad())


def test_an_interrupt_in_the_liveness_check_leaves_every_verdict_unknown(monkeypatch):
    # Ctrl-C after the search, while the graph checks run: the result is incomplete,
    # says so, and no property (liveness or not) is reported as holding.
    import lifecycle.engine.graph_checks as graph_checks

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(graph_checks, "find_lasso", interrupted)
    result = check(Peterson(fair=True))
    assert not result.complete and not result.ok
    assert "graph checks" in (result.stop_reason or "")
    assert {p.status for p in result.properties} == {Status.UNKNOWN}
