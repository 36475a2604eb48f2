"""Trace rendering shows each action with its parameters and only the fields that
changed (TLC's -difftrace), for tuple, namedtuple and dataclass states."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import NamedTuple

import pytest

from lifecycle.engine import (
    Trace,
    action_name,
    changed_fields,
    check,
    format_action,
    render_trace,
    state_fields,
    to_jsonable,
)
from lifecycle.examples import TwoPhase


class Point(NamedTuple):
    x: int
    y: int
    label: str


@dataclass(frozen=True)
class Device:
    phase: str
    retries: int
    enrolled: bool


@dataclass(frozen=True)
class Fleet:
    device: Device
    server: Point


@dataclass(frozen=True)
class Push:
    channel: str
    attempt: int


class Phase(enum.Enum):
    IDLE = 1
    BUSY = 2


def step_lines(text: str, step: int) -> list[str]:
    """The indented field lines under step `step` of a rendered trace."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{step}. "))
    out = []
    for line in lines[start + 1 :]:
        if not line.startswith("     "):
            break
        out.append(line.strip())
    return out


def test_tuple_states_show_changed_positions_only() -> None:
    trace = Trace(((0, "idle", 7), (1, "idle", 7), (1, "busy", 8)), (("Inc", 0), ("Go",)))
    text = render_trace(trace)
    assert step_lines(text, 0) == ["[0] = 0", "[1] = 'idle'", "[2] = 7"]
    assert text.splitlines()[4] == "1. Inc(0)"
    assert step_lines(text, 1) == ["[0]: 0 -> 1"]
    assert step_lines(text, 2) == ["[1]: 'idle' -> 'busy'", "[2]: 7 -> 8"]


def test_namedtuple_states_show_changed_fields_by_name() -> None:
    trace = Trace((Point(0, 0, "a"), Point(0, 5, "a")), (("MoveY", 5),))
    text = trace.render()
    assert step_lines(text, 0) == ["x = 0", "y = 0", "label = 'a'"]
    assert "1. MoveY(5)" in text
    assert step_lines(text, 1) == ["y: 0 -> 5"]


def test_dataclass_states_nested_and_unchanged_steps() -> None:
    s0 = Fleet(Device("enrolled", 0, True), Point(1, 1, "srv"))
    s1 = Fleet(Device("unenrolling", 1, True), Point(1, 1, "srv"))
    s2 = Fleet(Device("unenrolling", 1, True), Point(1, 1, "srv"))
    trace = Trace((s0, s1, s2), (Push("wns", 1), "Noop"))
    text = trace.render()
    assert "device.phase = 'enrolled'" in step_lines(text, 0)
    assert "server.label = 'srv'" in step_lines(text, 0)
    assert "1. Push(channel='wns', attempt=1)" in text
    assert step_lines(text, 1) == [
        "device.phase: 'enrolled' -> 'unenrolling'",
        "device.retries: 0 -> 1",
    ]
    assert step_lines(text, 2) == ["(no field changed)"]
    # Full rendering (diff=False) lists every field at every step.
    full = trace.render(diff=False)
    assert len(step_lines(full, 2)) == len(state_fields(s2)) == 6


def test_changed_fields_and_state_fields() -> None:
    assert changed_fields(Point(0, 0, "a"), Point(1, 0, "b")) == {"x": (0, 1), "label": ("a", "b")}
    assert changed_fields((1, 2), (1, 2)) == {}
    assert state_fields(42) == {"state": 42}
    assert state_fields(Device("p", 0, False)) == {"phase": "p", "retries": 0, "enrolled": False}


def test_render_of_a_real_counterexample() -> None:
    result = check(TwoPhase(2))
    witness = result.witnesses["committed"]
    text = witness.render()
    assert text.splitlines()[0] == "0. initial state"
    assert text.count("\n1. ") == 1 and "5. TMCommit" in text
    # TMCommit changes tm_state and msgs, nothing else.
    assert [line.split(":")[0] for line in step_lines(text, 5)] == ["tm_state", "msgs"]
    assert render_trace(Trace((), ())) == "(no trace)"


@pytest.mark.parametrize(
    ("action", "name", "text"),
    [
        (("RMPrepare", 1), "RMPrepare", "RMPrepare(1)"),
        (("TMCommit",), "TMCommit", "TMCommit"),
        ("Tick", "Tick", "Tick"),
        (Push("wns", 2), "Push", "Push(channel='wns', attempt=2)"),
        (Point(1, 2, "p"), "Point", "Point(x=1, y=2, label='p')"),
        (Phase.BUSY, "BUSY", "BUSY"),
        ((1, 2), "tuple", "(1, 2)"),
    ],
)
def test_action_names_and_formatting(action: object, name: str, text: str) -> None:
    assert action_name(action) == name
    assert format_action(action) == text


def test_trace_invariant_and_json() -> None:
    with pytest.raises(ValueError):
        Trace((1, 2), ())
    value = Fleet(Device("p", 1, True), Point(0, 1, "s"))
    data = to_jsonable((value, frozenset({3, 1}), Phase.IDLE, None))
    assert json.loads(json.dumps(data)) == [
        {
            "device": {"phase": "p", "retries": 1, "enrolled": True},
            "server": {"x": 0, "y": 1, "label": "s"},
        },
        [1, 3],
        1,
        None,
    ]
