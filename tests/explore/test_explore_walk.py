"""The explorer's paths: they name states of the model exactly, both ways.

Differential: a path followed by the explorer gives the states a walk over the
engine's own enabled steps gives, a counterexample the checker found turns into a
path and back into the same states, and a counterexample saved as JSON loads back
into the same states through its step descriptions.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lifecycle.engine import check
from lifecycle.examples import TwoPhase
from lifecycle.explore.serve import LoadError, load_counterexamples
from lifecycle.explore.walk import MAX_PATH, PathError, Walker, encode, parse
from lifecycle.mdm import LifecycleModel, load_design
from lifecycle.render.diagrams import REPORT_PRESET, smallest_scope
from lifecycle.testing.machine import enabled_steps

TWO_PHASE = TwoPhase(2)
WALKER = Walker(TWO_PHASE)


@given(st.lists(st.integers(0, 50), max_size=12))
def test_a_path_follows_the_engine_steps(raw: list[int]) -> None:
    """Each choice, taken modulo the number of enabled steps, is the step of that
    index in `enabled_steps`; the walk's states are those of the engine."""
    state = TWO_PHASE.init_states()[0]
    choices, states = [0], [state]
    for r in raw:
        pairs = enabled_steps(TWO_PHASE, state, WALKER.format_action)
        if not pairs:
            break
        choices.append(r % len(pairs))
        state = pairs[r % len(pairs)][1]
        states.append(state)
    walk = WALKER.follow(parse(encode(choices)))
    assert walk.states == tuple(states)
    assert WALKER.path_of(walk.trace()) == tuple(choices)


def test_checker_counterexamples_become_paths() -> None:
    design = load_design(REPORT_PRESET)
    model = LifecycleModel(design, smallest_scope())
    result = check(model)
    traces = [v.trace for v in result.violations if v.trace.states]
    assert traces
    walker = Walker(model)
    for trace in traces:
        walk = walker.follow(walker.path_of(trace))
        n = len(trace.states)
        assert walk.states == trace.states[:n]
        assert walk.actions == trace.actions[: n - 1]


def test_saved_counterexamples_load_back(tmp_path: Path) -> None:
    from lifecycle.cli import result_to_json

    design = load_design(REPORT_PRESET)
    model = LifecycleModel(design, smallest_scope())
    result = check(model)
    saved = tmp_path / "result.json"
    saved.write_text(json.dumps(result_to_json(design, smallest_scope(), model, result)))
    loaded = load_counterexamples(Walker(model), saved)
    expected = [v for v in result.violations if v.trace.states]
    assert [c.property for c in loaded] == [v.property for v in expected]
    for c, v in zip(loaded, expected, strict=True):
        n = len(v.trace.states)
        assert c.trace.states == v.trace.states[:n]
        assert c.source == "result.json"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe", "not UTF-8"),
        (b"{", "not JSON"),
        (b"[]", "no violations list"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deep"),
        (
            json.dumps(
                {
                    "violations": [
                        {"property": "p\nq", "trace": [{"action": None}, {"action": "fly"}]}
                    ]
                }
            ).encode(),
            r"(p\nq) does not follow this design: step 1 ('fly') is not enabled",
        ),
    ],
)
def test_bad_saved_files_are_one_line_errors(tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    with pytest.raises(LoadError) as info:
        load_counterexamples(WALKER, bad)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_a_fifo_is_refused_before_it_is_read(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(LoadError, match="not a regular file"):
        load_counterexamples(WALKER, fifo)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("0.x", "path part 2 ('x') is not a step number"),
        ("0.-1", "is not a step number"),
        ("0.1234567", "is not a step number"),
        (".".join(["0"] * (MAX_PATH + 2)), f"at most {MAX_PATH}"),
        ("5", "there is no initial state 5"),
        ("0.99", "chooses 99, but state 0 has"),
    ],
)
def test_bad_paths_are_one_line_errors(path: str, message: str) -> None:
    with pytest.raises(PathError) as info:
        WALKER.follow(parse(path))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_properties_are_judged_on_the_state_alone() -> None:
    design = load_design(REPORT_PRESET)
    model = LifecycleModel(design, smallest_scope())
    result = check(model)
    violation = next(v for v in result.violations if v.kind.value == "always")
    walker = Walker(model)
    last = walker.at(violation.trace.states[-1])
    first = walker.at(violation.trace.states[0])
    assert {p.name: p.status for p in last}[violation.property] == "violated"
    assert {p.name: p.status for p in first}[violation.property] == "holds"


def test_non_ascii_digits_are_not_step_numbers() -> None:
    for path in ("\u00b2", "0.\u2075", "0.\u0663"):
        with pytest.raises(PathError, match="is not a step number"):
            parse(path)


def test_a_saved_lasso_loads_with_its_loop(tmp_path: Path) -> None:
    from lifecycle.cli import result_to_json

    design = load_design("never_learns")
    model = LifecycleModel(design, smallest_scope())
    result = check(model)
    lassos = [v for v in result.violations if v.trace.is_lasso]
    assert lassos
    saved = tmp_path / "result.json"
    data = result_to_json(design, smallest_scope(), model, result)
    saved.write_text(json.dumps(data))
    loaded = {c.property: c for c in load_counterexamples(Walker(model), saved)}
    for v in lassos:
        got = loaded[v.property].trace
        assert got.cycle_start == v.trace.cycle_start
        assert got.states == v.trace.states and got.actions == v.trace.actions
    # A closing step that does not lead back, or a loop to no state, is refused.
    entry = next(e for e in data["violations"] if e.get("cycle_start") is not None)
    for key, value, message in (
        ("closing", "a step nobody takes", "leads back to no state"),
        ("cycle_start", 999, "names no state"),
    ):
        saved.write_text(json.dumps({**data, "violations": [{**entry, key: value}]}))
        with pytest.raises(LoadError, match=message):
            load_counterexamples(Walker(model), saved)
