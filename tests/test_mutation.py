"""`lifecycle mutate`: the operators, each verdict checked independently, parallel
against serial, the CLI, and docs/mutation.md against a fresh run of a sample."""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from test_cli import assert_one_line, run

from lifecycle import mutation
from lifecycle.engine import check
from lifecycle.mdm import Design, LifecycleModel
from lifecycle.mdm.mutants import ADVERSARY, OPERATORS, Mutant, mutant, mutants
from lifecycle.mdm.table import is_scope_bound
from lifecycle.mdm.tables import REFERENCE

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ref() -> mutation.Reference:
    d = Design()
    return mutation.reference(d, d.scope())


class Graph(LifecycleModel):
    """The graph only: no property is evaluated (the verdicts would change no state or
    edge)."""

    def properties(self) -> list[Any]:
        return []


@pytest.fixture(scope="module")
def plain(ref: mutation.Reference) -> Any:
    """The reference's graph from a search of its own, for the reviewer checks."""
    return check(Graph(ref.design, ref.scope, liveness=False), keep_graph=True).graph


def test_the_operators_make_one_mutant_per_change() -> None:
    ms = list(mutants())
    assert len({m.name for m in ms}) == len(ms)
    assert [m.name for m in mutants()] == [m.name for m in ms]  # deterministic
    counts = Counter(m.operator for m in ms)
    rows = REFERENCE.rows()
    # Every row but the adversary's events (a loss, an outage, the MDM switch, a failed
    # provisioning), each of which is a row of the reference.
    assert {r.trigger for r in rows} >= ADVERSARY
    assert counts["delete_row"] == len(rows) - len(ADVERSARY)
    assert not any(m.name == f"delete_row:{t}" for t in ADVERSARY for m in ms)
    bounds = [g for r in rows for g in r.guard if is_scope_bound(g)]
    assert {g.__name__ for g in bounds} == {
        "room",
        "attempts_left",
        "toggle_in_scope",
        "offline_periods_left",
    }
    assert counts["drop_conjunct"] == sum(len(r.guard) for r in rows) - len(bounds)
    assert counts["remove_send"] == sum(len(r.sends) for r in rows)
    assert counts["swap_cleanup"] == 3
    assert counts["ignore_generation"] == sum(
        1 for r in rows if r.receives and r.receives.generation in ("current", "key")
    )
    assert set(counts) == set(OPERATORS)


def test_each_operator_changes_what_it_says() -> None:
    deleted = mutant("delete_row:UserDisconnect").tables
    assert "UserDisconnect" not in {r.trigger for r in deleted.rows()}
    assert len(deleted.rows()) == len(REFERENCE.rows()) - 1
    dropped = mutant("drop_conjunct:SendUnenrollAlert:online").tables.row("SendUnenrollAlert")
    assert [g.__name__ for g in dropped.guard] == ["room"]
    with pytest.raises(KeyError):  # a scope bound is not mutated
        mutant("drop_conjunct:SendUnenrollAlert:room")
    muted = mutant("remove_send:SendUnenrollAlert:pkg1(alert_package)").tables
    assert muted.row("SendUnenrollAlert").sends == ()
    loose = mutant("ignore_generation:ReceiveUnenrollExec").tables.row("ReceiveUnenrollExec")
    assert loose.receives is not None and loose.receives.generation == "any"
    swapped = mutant("swap_cleanup:RemoveEnterpriseApps:RemoveCertificates").tables.device
    assert swapped.states.index("cleanup_certs") < swapped.states.index("cleanup_apps")
    # The reference is untouched by all of it.
    assert REFERENCE.row("UserDisconnect").guard
    with pytest.raises(KeyError, match="no mutant named"):
        mutant("delete_row:NoSuchRow")


def test_a_killed_mutant_names_its_killers_with_a_shortest_trace(ref: mutation.Reference) -> None:
    m = mutant("remove_send:SendUnenrollAlert:pkg1(alert_package)")
    result = mutation.check_mutant(m, ref)
    assert result.status == "killed"
    assert "server_notified_before_data_deleted" in result.killed_by
    direct = check(LifecycleModel(ref.design, ref.scope, m.tables))
    shortest = min(len(v.trace) for v in direct.violations if v.trace)
    assert result.trace_length == shortest
    assert set(result.killed_by) == {v.property for v in direct.violations}


def test_an_equivalent_dead_row_is_one_the_reference_never_fires(ref: mutation.Reference) -> None:
    """The reviewer check of the dead-row justification: the row has no enabled
    step in an independent reference check, so deleting it removes no edge."""
    result = mutation.check_mutant(mutant("delete_row:HoldSession"), ref)
    assert result.status == "equivalent" and "never fires" in result.reason
    direct = check(LifecycleModel(ref.design, ref.scope))
    assert "HoldSession" in direct.coverage.never_enabled or (
        direct.coverage.actions.get("HoldSession") is None
        or direct.coverage.actions["HoldSession"].enabled == 0
    )
    fired = mutation.check_mutant(mutant("delete_row:UserDisconnect"), ref)
    assert fired.status != "equivalent"


def test_an_equivalent_by_graph_mutant_has_the_references_graph(
    ref: mutation.Reference, plain: Any
) -> None:
    """The reviewer check of both graph justifications (equal steps on every view the
    reference met, and equal digests): an independent search gives the same states and
    the same edges."""
    b = plain
    for name in (
        "remove_send:AcknowledgeStaleAlert:pkg2(final)",
        "ignore_generation:ReceiveChallenge",
    ):
        m = mutant(name)
        result = mutation.check_mutant(m, ref)
        assert result.status == "equivalent", name
        assert "same successor relation" in result.reason or "equals" in result.reason
        a = check(Graph(ref.design, ref.scope, m.tables, liveness=False), keep_graph=True).graph
        assert a is not None and b is not None
        assert set(a.states) == set(b.states) and len(a.states) == len(b.states)
        edges_a = {(a.states[i], act, a.states[t]) for i, t, act in _edges(a)}
        edges_b = {(b.states[i], act, b.states[t]) for i, t, act in _edges(b)}
        assert edges_a == edges_b, name


def test_an_equivalent_by_unlabelled_steps_mutant_takes_the_same_steps(
    ref: mutation.Reference, plain: Any
) -> None:
    """The reviewer check of "only which row takes a step differs": an independent
    search of the mutant gives the reference's states and the same (state, successor)
    pairs, while its labelled edges differ (else the digest check would have said so).
    (That a mutant whose steps lead elsewhere is not taken for one, the justified
    mutant's test shows.)"""
    b = plain
    pairs_b = {(b.states[i], b.states[t]) for i, t, _ in _edges(b) if i != t}
    m = mutant("drop_conjunct:DueSession:due")
    result = mutation.check_mutant(m, ref)
    assert result.status == "equivalent" and "which row takes a step" in result.reason
    a = check(Graph(ref.design, ref.scope, m.tables, liveness=False), keep_graph=True).graph
    assert a is not None and set(a.states) == set(b.states)
    assert {(a.states[i], a.states[t]) for i, t, _ in _edges(a) if i != t} == pairs_b
    labelled = {(a.states[i], act, a.states[t]) for i, t, act in _edges(a)}
    assert labelled != {(b.states[i], act, b.states[t]) for i, t, act in _edges(b)}
    assert mutation.unlabelled_moves(mutation.digest(a)) == ref.steps


def test_each_justified_equivalent_bears_out_its_claim(ref: mutation.Reference) -> None:
    """The reviewer check of every hand justification (`mutation.JUSTIFIED`), on a graph
    searched independently: the mutant reaches only reference states, and every step
    it adds starts where the device is offline and ends where the reference's
    SessionTimeout leads straight back to that start: a detour, not a new behaviour.
    Its steps differ from the reference's, so the unlabelled comparison does not take
    it for an equivalent: the justification is what does."""
    b = ref.graph
    index = {s: i for i, s in enumerate(b.states)}
    pairs_b = {(i, t) for i, t, _ in _edges(b) if i != t}
    back = {(i, t) for i, t, act in _edges(b) if act[0] == "SessionTimeout"}
    assert mutation.JUSTIFIED
    for name in mutation.JUSTIFIED:
        m = mutant(name)
        a = check(Graph(ref.design, ref.scope, m.tables, liveness=False), keep_graph=True).graph
        assert a is not None and set(a.states) <= set(index), name
        pairs_a = {(index[a.states[i]], index[a.states[t]]) for i, t, _ in _edges(a) if i != t}
        extra = pairs_a - pairs_b
        assert extra, f"{name} adds no step: the graph check should have called it equivalent"
        assert pairs_b <= pairs_a, f"{name} loses steps: not a detour"
        assert mutation.unlabelled_moves(mutation.digest(a)) != ref.steps
        for s, t in extra:
            assert not all(n.online for n in b.states[s].net), name
            assert (t, s) in back, f"{name}: no timeout leads back from a step it adds"
        verdict = mutation.check_mutant(m, ref)
        assert verdict.status == "equivalent" and verdict.reason.startswith("justified"), name


def test_a_fact_is_proven_by_a_killed_mutant_of_its_row_or_of_its_property(
    ref: mutation.Reference,
) -> None:
    """`fact_proofs` ties a killed mutant to the behavioural facts its row cites and to
    those its killers cite; a survivor, or a wire fact, is proven by nothing."""

    def result(name: str, status: str, *killers: str) -> mutation.MutantResult:
        return mutation.MutantResult(name, name.split(":")[0], "", status, killed_by=killers)

    rows = {r.trigger: r.facts for r in REFERENCE.rows()}
    assert "F44" in rows["UserDisconnect"] and "F52" not in rows["UserDisconnect"]
    proofs = mutation.fact_proofs(
        ref,
        [
            result("delete_row:UserDisconnect", "killed", "wipe_completes"),  # F52 (property)
            result("drop_conjunct:ReceiveWipe:is_wipe", "survived"),
        ],
    )
    assert proofs["F44"] == ["`delete_row:UserDisconnect` (row)"]
    assert proofs["F52"] == ["`delete_row:UserDisconnect` (property)"]
    assert "F5" not in proofs  # a wire fact: the SyncML issue's
    assert all(not found or "UserDisconnect" in found[0] for found in proofs.values())


def _edges(g: object) -> list[tuple[int, int, object]]:
    return [
        (i, t, act)
        for i, (succ, acts) in enumerate(zip(g.successors, g.actions, strict=True))  # type: ignore[attr-defined]
        for t, act in zip(succ, acts, strict=True)
    ]


def test_same_steps_tells_a_changed_mutant_apart(ref: mutation.Reference) -> None:
    assert LifecycleModel(ref.design, ref.scope).same_steps_as(ref.model)
    killer = mutant("remove_send:SendUnenrollAlert:pkg1(alert_package)")
    assert not LifecycleModel(ref.design, ref.scope, killer.tables).same_steps_as(ref.model)


def test_the_cleanup_projection_tells_other_mutants_apart(ref: mutation.Reference) -> None:
    """Equivalence up to the cleanup order is not a projection that merges everything:
    a mutant that changes a message is not equal to the reference under it."""
    m = mutant("remove_send:ReceivePolicy:pkg3(('ok',))")
    graph = check(
        LifecycleModel(ref.design, ref.scope, m.tables, liveness=False), keep_graph=True
    ).graph
    assert graph is not None
    order = ("apps", "certs", "policies", "config")
    assert mutation.project_cleanup(graph, order) != ref.by_position
    # ... while the reference is equal to itself under it.
    assert mutation.project_cleanup(ref.graph, order) == ref.by_position
    swap = mutation.check_mutant(
        mutant("swap_cleanup:RemoveEnterpriseApps:RemoveCertificates"), ref
    )
    assert swap.status == "equivalent" and "cleanup steps" in swap.reason


def test_over_budget_is_unknown_never_killed_or_survived(ref: mutation.Reference) -> None:
    m = mutant("remove_send:ReceivePolicy:pkg3(('ok',))")
    result = mutation.check_mutant(m, ref, max_states=50)
    assert result.status == "unknown" and "budget" in result.reason
    assert result.killed_by == () and result.trace_length is None


def test_a_mutant_that_makes_a_row_raise_is_an_error(ref: mutation.Reference) -> None:
    def boom(v: object) -> None:
        raise RuntimeError("broken effect")

    table = REFERENCE.device
    rows = tuple(
        dataclasses.replace(r, effect=boom) if r.trigger == "StartEnrollment" else r
        for r in table.rows
    )
    tables = dataclasses.replace(REFERENCE, device=dataclasses.replace(table, rows=rows))
    result = mutation.check_mutant(Mutant("test:boom", "test", "raises", tables), ref)
    assert result.status == "error" and "broken effect" in result.reason


NAMES = [
    "remove_send:SendUnenrollAlert:pkg1(alert_package)",
    "delete_row:HoldSession",
    "drop_conjunct:UserDisconnect:user_may_disconnect",
    "ignore_generation:ReceiveUnenrollExec",
]


def test_parallel_gives_the_serial_verdicts() -> None:
    # One killed mutant and one equivalent: both kinds of verdict, one per worker.
    names = NAMES[:2]
    d = Design()
    _, serial = mutation.run(d, d.scope(), names=names, workers=1)
    _, parallel = mutation.run(d, d.scope(), names=names, workers=2)
    assert serial[0].killed_by and not serial[1].killed_by
    strip = [dataclasses.replace(r, seconds=0.0) for r in serial]
    assert [dataclasses.replace(r, seconds=0.0) for r in parallel] == strip
    assert [r.mutant for r in parallel] == names


def test_cli_json_has_the_five_keys_and_bad_input_is_one_line() -> None:
    out = run("mutate", "--mutant", NAMES[0], "--mutant", NAMES[1], "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    for row in rows:
        assert {"mutant", "operator", "killed_by", "equivalent", "trace_length"} <= set(row)
    assert rows[0]["killed_by"] and isinstance(rows[0]["trace_length"], int)
    assert rows[1]["equivalent"] is True and rows[1]["trace_length"] is None
    assert_one_line(run("mutate", "--mutant", "delete_row:Nope"), 2, "delete_row:Nope")
    assert_one_line(run("mutate", "--time-limit", "nan"), 2, "--time-limit")
    assert_one_line(run("mutate", "--workers", "0"), 2, "--workers")
    assert_one_line(run("mutate", "--design", "/nonexistent.toml"), 2, "nonexistent")


DOC_ROW = re.compile(r"^\| `([^`]+)` \| (\w+) \| (\w+) \| ([^|]*) \| ([^|]*) \|", re.M)


def test_docs_mutation_lists_every_mutant_and_a_sample_still_holds() -> None:
    """docs/mutation.md is generated by `make mutation` (a ten-minute run, so not
    here): its rows are today's mutants, and the first mutant of each operator gives
    the verdict the page prints."""
    page = (ROOT / "docs" / "mutation.md").read_text(encoding="utf-8")
    rows = {name: (op, status, killed) for name, op, status, killed, _ in DOC_ROW.findall(page)}
    assert list(rows) == [m.name for m in mutants()], "docs/mutation.md is stale: make mutation"
    sample = []
    seen: set[str] = set()
    for m in mutants():
        if m.operator not in seen:
            seen.add(m.operator)
            sample.append(m.name)
    d = Design()
    _, fresh = mutation.run(d, d.scope(), names=sample, workers=2)
    for r in fresh:
        op, status, killed = rows[r.mutant]
        assert (op, status) == (r.operator, r.status), r.mutant
        names = re.findall(r"`(\w+)`", killed)
        assert names == list(r.killed_by), r.mutant


def test_the_cli_lists_the_operators_the_module_has() -> None:
    from lifecycle.cli import mutate

    choices = next(p for p in mutate.params if p.name == "operators").type.choices
    assert tuple(choices) == OPERATORS
