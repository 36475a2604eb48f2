"""Fingerprints: a 64-bit digest of a state that follows Python equality and is the same
in every process, on every machine and under every ``PYTHONHASHSEED``.

Why not ``hash()``: it is not a fingerprint. ``hash(-1) == hash(-2)`` in CPython, so a
model over small negative integers loses states by construction, and a string's hash
changes from process to process, so fingerprints could not be shared between workers.

The fingerprint is defined on the *value*, so that states that compare equal get the
same fingerprint (``1 == 1.0 == True``, a NamedTuple and the plain tuple with the same
fields, ``frozenset`` in any order):

- integers (``bool``, ``int``, ``IntEnum`` and integral floats, ``Fraction`` and
  ``Decimal`` values included) are encoded by their value, so that every 64-bit
  integer gets a distinct fingerprint; other rational numbers by their exact ratio;
  infinities by their sign; complex numbers by their parts; NaN cannot be encoded (it
  is not equal to itself, so no store can find it again);
- strings by their UTF-8 bytes, bytes by their bytes;
- tuples (NamedTuples included) by their elements in order, frozensets by their
  elements in any order;
- enum members by their class and name, frozen dataclasses by their class and fields.

Anything else raises `CannotFingerprint`, which the checker turns into a `ModelError`
that names the state.

The digest mixes 64-bit words with the MurmurHash3 finalizer, a bijection on 64-bit
words; `_fingerprint.c` computes the same function in C, built at install time when a
C compiler is there. `fingerprint` is the fastest available; `py_fingerprint` is this
module's reference implementation, which the tests hold the C one to.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any

__all__ = ["IMPLEMENTATION", "CannotFingerprint", "fingerprint", "py_fingerprint"]

MASK = (1 << 64) - 1
# Type tags: odd 64-bit constants, one per kind of value.
T_NONE = 0x6A09E667F3BCC909
T_INT = 0xBB67AE8584CAA73B
T_BIG = 0x3C6EF372FE94F82B
T_RATIO = 0xA54FF53A5F1D36F1
T_INF = 0x510E527FADE682D1
T_COMPLEX = 0x9B05688C2B3E6C1F
T_STR = 0x1F83D9ABFB41BD6B
T_BYTES = 0x5BE0CD19137E2179
T_TUPLE = 0xCBBB9D5DC1059ED9
T_SET = 0x629A292A367CD507
T_ELEMENT = 0x9159015A3070DD17
T_ENUM = 0x152FECD8F70E5939
T_DATACLASS = 0x67332667FFC00B31
GOLDEN = 0x9E3779B97F4A7C15


class CannotFingerprint(TypeError):
    """A value with no canonical encoding: its type is unknown, or it is a NaN."""

    def __init__(self, value: Any, why: str) -> None:
        self.value = value
        super().__init__(why)


def mix(x: int) -> int:
    """The MurmurHash3 64-bit finalizer: a bijection that spreads every input bit."""
    x ^= x >> 33
    x = (x * 0xFF51AFD7ED558CCD) & MASK
    x ^= x >> 33
    x = (x * 0xC4CEB9FE1A85EC53) & MASK
    x ^= x >> 33
    return x


def absorb(h: int, word: int) -> int:
    """Absorb one 64-bit word into the running digest (order matters)."""
    return mix(h ^ ((word + GOLDEN + ((h << 6) & MASK) + (h >> 2)) & MASK))


def _int(n: int) -> int:
    if -(1 << 63) <= n < (1 << 63):
        return mix(T_INT ^ (n & MASK))
    # A big integer: its sign, then its magnitude's 64-bit limbs, lowest first.
    h = absorb(T_BIG, 1 if n < 0 else 0)
    m = -n if n < 0 else n
    limbs = 0
    while m:
        h = absorb(h, m & MASK)
        m >>= 64
        limbs += 1
    return absorb(h, limbs)


def _bytes(tag: int, data: bytes) -> int:
    h = tag
    n = len(data)
    for i in range(0, n - n % 8, 8):
        h = absorb(h, int.from_bytes(data[i : i + 8], "little"))
    tail = data[n - n % 8 :]
    if tail:
        h = absorb(h, int.from_bytes(tail, "little"))
    return absorb(h, n)


def _ratio(num: int, den: int) -> int:
    """A number by its exact value: an integer, or a reduced ratio."""
    if den == 1:
        return _int(num)
    return absorb(absorb(T_RATIO, _int(num)), _int(den))


def _real(x: Any) -> int:
    """A real number by its value, whatever its type (float, Fraction, Decimal)."""
    if isinstance(x, float | Decimal):
        if x != x:  # NaN
            raise CannotFingerprint(x, "NaN is not equal to itself, so no store can find it")
        if math.isinf(x):
            return absorb(T_INF, 1 if x > 0 else 0)
    num, den = x.as_integer_ratio() if not isinstance(x, Fraction) else (x.numerator, x.denominator)
    return _ratio(num, den)


def _fallback(value: Any, walk: Callable[[Any], int]) -> int:
    """The kinds of value that are rare in states: enum members, dataclasses, non-integral
    numbers, complex numbers. `walk` fingerprints the parts."""
    if isinstance(value, enum.Enum):
        cls = type(value)
        h = absorb(T_ENUM, walk(f"{cls.__module__}.{cls.__qualname__}"))
        return absorb(h, walk(value.name))
    if isinstance(value, float | Fraction | Decimal):
        return _real(value)
    if isinstance(value, complex):
        if value.imag == 0:
            return _real(value.real)
        return absorb(absorb(T_COMPLEX, _real(value.real)), _real(value.imag))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data_cls = type(value)
        params = getattr(data_cls, "__dataclass_params__", None)
        if params is None or not params.eq:
            raise CannotFingerprint(
                value, f"dataclass {data_cls.__qualname__} compares by identity"
            )
        h = absorb(T_DATACLASS, walk(f"{data_cls.__module__}.{data_cls.__qualname__}"))
        for f in dataclasses.fields(value):
            if f.compare:
                h = absorb(h, walk(getattr(value, f.name)))
        return h
    kind = type(value).__qualname__
    raise CannotFingerprint(value, f"a value of type {kind} has no canonical encoding")


def py_fingerprint(value: Any) -> int:
    """The fingerprint of `value` (the reference implementation, in Python)."""
    if value is None:
        return mix(T_NONE)
    if isinstance(value, int):
        return _int(int(value))
    if isinstance(value, str):
        return _bytes(T_STR, value.encode("utf-8", "surrogatepass"))
    if isinstance(value, bytes):
        return _bytes(T_BYTES, value)
    if isinstance(value, tuple):
        h = T_TUPLE
        for item in value:
            h = absorb(h, py_fingerprint(item))
        return absorb(h, len(value))
    if isinstance(value, frozenset):
        acc = 0
        for item in value:
            acc = (acc + mix(py_fingerprint(item) ^ T_ELEMENT)) & MASK
        return absorb(absorb(T_SET, acc), len(value))
    if isinstance(value, float) and value.is_integer():
        return _int(int(value))
    return _fallback(value, py_fingerprint)


class _Memo:
    """`py_fingerprint` with the fingerprints of sub-tuples kept: a state shares most of
    its parts with the states before it, and a dictionary lookup of a part (by Python's
    hash and equality) is much cheaper than walking it. The memo maps a value to its
    fingerprint, so equal parts share one entry; it is emptied when it grows large."""

    LIMIT = 1 << 20

    def __init__(self) -> None:
        self.table: dict[Any, int] = {}

    def __call__(self, value: Any) -> int:
        if type(value) is not tuple and not isinstance(value, tuple):
            return py_fingerprint(value)
        h = T_TUPLE
        table = self.table
        for item in value:
            if isinstance(item, tuple):
                found = table.get(item)
                if found is None:
                    found = self(item)
                    if len(table) >= self.LIMIT:
                        table.clear()
                    table[item] = found
                h = absorb(h, found)
            else:
                h = absorb(h, py_fingerprint(item))
        return absorb(h, len(value))


def _compiled() -> Callable[[Any], int] | None:
    """The C implementation, or None when it was not built (no compiler at install)."""
    try:
        from lifecycle.engine import _fingerprint  # type: ignore[attr-defined]
    except ImportError:
        return None
    function: Callable[[Any], int] = _fingerprint.fingerprint
    _fingerprint.configure(lambda value: _fallback(value, function))
    return function


_COMPILED = _compiled()
#: Which implementation `fingerprint` is: "compiled" (the C extension) or "python".
IMPLEMENTATION = "compiled" if _COMPILED is not None else "python"


_MEMO = _Memo()
#: The 64-bit fingerprint of a value (raises `CannotFingerprint`): the C implementation
#: when it was built, else `py_fingerprint` with the fingerprints of parts memoised.
fingerprint: Callable[[Any], int] = _COMPILED if _COMPILED is not None else _MEMO
