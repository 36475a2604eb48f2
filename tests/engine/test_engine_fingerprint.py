"""Fingerprints follow Python equality, are the same in every process, and the
fingerprint store gives the exact store's answers.

The C implementation is held to the Python one value for value; the Python one is the
definition (lifecycle/engine/fingerprint.py)."""

from __future__ import annotations

import dataclasses
import enum
import math
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lifecycle.engine import Model, ModelError, Property, check
from lifecycle.engine import fingerprint as fp_module
from lifecycle.engine.fingerprint import (
    IMPLEMENTATION,
    CannotFingerprint,
    _Memo,
    fingerprint,
    py_fingerprint,
)


class Colour(enum.Enum):
    RED = 1
    BLUE = 2


class Level(enum.IntEnum):
    LOW = 1


class Point(NamedTuple):
    x: int
    y: int


@dataclasses.dataclass(frozen=True)
class Frozen:
    a: int
    b: str


leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-(2**200), 2**200)
    | st.floats(allow_nan=False)
    | st.fractions()
    | st.text()
    | st.binary()
    | st.sampled_from([Colour.RED, Colour.BLUE, Level.LOW])
    | st.builds(Frozen, st.integers(), st.text())
)
values = st.recursive(
    leaves,
    lambda children: (
        st.tuples(children, children)
        | st.lists(children, max_size=4).map(tuple)
        | st.frozensets(st.integers() | st.text(), max_size=5)
    ),
    max_leaves=20,
)


def test_the_compiled_fingerprint_is_built() -> None:
    # `make test` installs with a C compiler: the fast implementation must be there
    # (without one, the package still works, with the Python implementation).
    assert IMPLEMENTATION == "compiled"


@given(values)
def test_the_compiled_fingerprint_is_the_python_one(value: Any) -> None:
    assert fingerprint(value) == py_fingerprint(value)
    assert _Memo()(value) == py_fingerprint(value)


@given(values, values)
def test_equal_values_have_equal_fingerprints(a: Any, b: Any) -> None:
    if a == b:
        assert fingerprint(a) == fingerprint(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (1, True),
        (1, 1.0),
        (0, -0.0),
        (2, Fraction(4, 2)),
        (2, Decimal(2)),
        (0.5, Fraction(1, 2)),
        (0.5, Decimal("0.5")),
        (3, 3 + 0j),
        (Level.LOW, 1),
        (Point(1, 2), (1, 2)),
        (frozenset({1, 2, 3}), frozenset({3, 2, 1})),
        (2**70, float(2**70)),
        ((1, ("a", frozenset({2}))), (1.0, ("a", frozenset({2.0})))),
    ],
)
def test_values_python_calls_equal_share_a_fingerprint(a: Any, b: Any) -> None:
    assert a == b
    assert fingerprint(a) == fingerprint(b) == py_fingerprint(a) == py_fingerprint(b)


def test_distinct_values_that_hash_alike_are_apart() -> None:
    # hash(-1) == hash(-2) in CPython: the old store lost states by construction.
    assert hash(-1) == hash(-2)
    assert fingerprint(-1) != fingerprint(-2)
    # Every small integer gets its own fingerprint (the mix is a bijection on words).
    small = range(-5000, 5000)
    assert len({fingerprint(n) for n in small}) == len(small)
    # Tuples over [-5, 5]^3: no two of the 1,331 share a fingerprint.
    cube = [(a, b, c) for a in range(-5, 6) for b in range(-5, 6) for c in range(-5, 6)]
    assert len({fingerprint(t) for t in cube}) == len(cube)
    assert fingerprint((1, 2)) != fingerprint((2, 1))
    assert fingerprint(("a", "b")) != fingerprint(("ab",))
    assert fingerprint(1) != fingerprint("1") != fingerprint(b"1")


@pytest.mark.parametrize("bad", [float("nan"), (1, float("nan")), object(), [1, 2], {1: 2}])
def test_a_value_with_no_canonical_encoding_is_refused(bad: Any) -> None:
    with pytest.raises(CannotFingerprint):
        fingerprint(bad)
    with pytest.raises(CannotFingerprint):
        py_fingerprint(bad)


def test_fingerprints_are_the_same_in_every_process_and_hash_seed() -> None:
    probe = (
        "from lifecycle.engine.fingerprint import fingerprint as f; "
        "print(f(('abc', (1, -2), frozenset({'x', 'y'}))))"
    )
    outputs = set()
    for seed in ("0", "1", "12345", "random"):
        proc = subprocess.run(
            [sys.executable, "-c", probe],
            capture_output=True,
            text=True,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
            check=True,
        )
        outputs.add(proc.stdout.strip())
    assert len(outputs) == 1
    assert outputs == {str(fingerprint(("abc", (1, -2), frozenset({"x", "y"}))))}


class Walk(Model):
    """A walk over values the old store confused: negative integers, mixed numeric
    types, floats. It fails at `bad`."""

    def __init__(self, points: list[Any], bad: Any) -> None:
        self.points = points
        self.bad = bad

    def init_states(self) -> list[Any]:
        return [self.points[0]]

    def successors(self, state: Any) -> list[tuple[Any, Any]]:
        i = self.points.index(state)
        out = []
        if i + 1 < len(self.points):
            out.append(("next", self.points[i + 1]))
        if i > 0:
            out.append(("back", self.points[i - 1]))
        return out

    def properties(self) -> list[Property]:
        return [Property.always("not_bad", lambda s: s != self.bad)]


@pytest.mark.parametrize(
    ("points", "bad"),
    [
        (list(range(0, -6, -1)) + list(range(1, 6)), -2),
        ([(a, b) for a in range(-3, 3) for b in (-1, -2)], (-2, -1)),
        ([0, 1.5, -1, Fraction(-3, 2), 2.25, -2, "x", (1, -1)], -2),
        ([(-1, 0.5), (-2, 0.5), (-1, 1.5), (-2, -0.5)], (-2, -0.5)),
    ],
)
def test_the_fingerprint_store_gives_the_exact_stores_verdicts_and_counts(
    points: list[Any], bad: Any
) -> None:
    exact = check(Walk(points, bad), store="exact")
    printed = check(Walk(points, bad), store="fingerprint")
    assert (exact.distinct_states, exact.generated_states) == (
        printed.distinct_states,
        printed.generated_states,
    )
    assert exact.distinct_states == len(points)
    assert [v.property for v in printed.violations] == ["not_bad"]
    assert [len(v.trace) for v in printed.violations] == [len(v.trace) for v in exact.violations]
    assert printed.store == "fingerprint" and printed.collision_probability is not None


def test_a_state_that_cannot_be_fingerprinted_is_a_model_error() -> None:
    class Floats(Model):
        def init_states(self) -> list[Any]:
            return [0.0]

        def successors(self, state: Any) -> list[tuple[Any, Any]]:
            return [("grow", state + 1.0)] if state < 2 else [("break", math.nan)]

        def properties(self) -> list[Property]:
            return []

    assert check(Floats(), store="exact", deadlock=False).complete  # NaN is a state there
    with pytest.raises(ModelError) as info:
        check(Floats(), store="fingerprint", deadlock=False)
    text = str(info.value)
    assert "cannot be fingerprinted" in text and "NaN" in text and "nan" in text


def test_the_python_implementation_is_the_fallback() -> None:
    # Without the compiled module, `fingerprint` is the memoised Python one.
    assert fp_module._MEMO(("a", (1, 2))) == fingerprint(("a", (1, 2)))
