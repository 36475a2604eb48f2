"""The transition tables: their shape (what the runtime and diagram engineers rely on)
and the agreement between the table interpreter and the compiled successor function."""

from __future__ import annotations

import re
from typing import Any

from lifecycle.engine import check
from lifecycle.mdm import LifecycleModel, Scope, all_tables, apply_row, enabled_rows, machine_states
from lifecycle.mdm.device import ROUTED_TRIGGERS
from lifecycle.mdm.table import ACTORS, ANY, DIRECTIONS
from lifecycle.mdm.tables import action_of, all_rows, row

FACT = re.compile(r"^(F([1-9]|[1-8][0-9]|9[01])|A([1-9]|1[0-9]))$")
SMALL = Scope(kinds=("bulk", "aad_join"), reenrollments=1, max_in_flight=1)


def test_tables_are_the_four_machines_with_unique_triggers() -> None:
    tables = all_tables()
    assert list(tables) == ["device", "server", "directory", "network"]
    triggers = [r.trigger for r in all_rows()]
    assert len(triggers) == len(set(triggers))


def test_every_row_is_documented_data() -> None:
    for table in all_tables().values():
        assert table.states and table.description
        for r in table.rows:
            assert r.actor in ACTORS
            assert r.facts and all(FACT.match(f) for f in r.facts), (r.trigger, r.facts)
            assert r.description
            for s in r.source:
                assert s == ANY or s in table.states
            assert r.dest is None or r.dest in table.states
            if r.message is not None:
                assert r.direction in DIRECTIONS and r.peer
            for fn in (r.guard, r.effect, r.choices):
                if fn is not None:
                    assert fn.__doc__, (r.trigger, fn.__name__)
                    assert fn.__name__ != "<lambda>"
            for other in r.touches:
                assert other in all_tables() and other != table.machine


def test_routed_triggers_are_receive_rows() -> None:
    for trigger in ROUTED_TRIGGERS:
        r = row(trigger)
        assert r.choices is not None
        assert r.direction == "receive"


def _reachable(model: LifecycleModel, limit: int = 3000) -> list[Any]:
    """States in BFS order, via the compiled successor function."""
    seen = dict.fromkeys(model.init_states())
    frontier = list(seen)
    while frontier and len(seen) < limit:
        nxt = []
        for s in frontier:
            for _, t in model.successors(s):
                if t not in seen:
                    seen[t] = None
                    nxt.append(t)
        frontier = nxt
    return list(seen)


def test_table_interpreter_agrees_with_compiled_successors() -> None:
    """One source of truth: enabled rows and their results, computed by interpreting the
    rows one by one, are exactly the compiled successor function's transitions."""
    model = LifecycleModel(scope=SMALL)
    for state in _reachable(model):
        compiled = dict(model.successors(state))
        interpreted = {}
        for r, arg in enabled_rows(model, state, 0):
            interpreted[action_of(r, 0, arg)] = apply_row(model, state, 0, r, arg)
        assert compiled == interpreted
        states = machine_states(model, state, 0)
        for name, table in all_tables().items():
            assert states[name] in table.states


def test_every_message_is_received_by_exactly_one_row() -> None:
    """Receive rows never overlap and never leave a message with no taker (unless the
    design makes the server hold it)."""
    model = LifecycleModel(scope=SMALL)
    for state in _reachable(model):
        in_flight = state.net[0].in_flight
        takers: dict[object, int] = {}
        for r, arg in enabled_rows(model, state, 0):
            if r.trigger in ROUTED_TRIGGERS:
                m = arg[1] if arg[0] in ("net", "held") else arg
                takers[m] = takers.get(m, 0) + 1
        for m in set(in_flight):
            assert takers.get(m) == 1, (m, state)


def test_apply_row_refuses_a_disabled_row() -> None:
    model = LifecycleModel(scope=SMALL)
    state = model.init_states()[0]
    try:
        apply_row(model, state, 0, "UserDisconnect")
    except ValueError as exc:
        assert "not enabled" in str(exc)
    else:
        raise AssertionError("a disabled row was applied")


def test_every_row_fires_somewhere_across_the_designs() -> None:
    """No dead rows: each row is enabled in some design (the union of coverage over
    designs leaves nothing never enabled)."""
    from lifecycle.mdm import Design, load_design

    designs = [
        load_design(name)
        for name in ("reference", "keeps_sessions_and_waits", "alert_retried", "trusts_alert_alone")
    ]
    designs.append(Design(name="push", verify_by="push", self_unenroll_after_lost_contact=True))
    never: set[str] | None = None
    for design in designs:
        model = LifecycleModel(design, SMALL)
        missing = set(check(model).coverage.never_enabled)
        never = missing if never is None else never & missing
    assert never == set(), never
