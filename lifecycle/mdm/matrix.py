"""The mutation matrix: every preset checked at one scope, with what it was expected to
violate and what it did violate.

The reference design must hold every property after a complete search; every
known-bad preset must be caught by the properties it declares, each with a shortest
counterexample (the search is breadth-first, so every trace is a shortest one).

A preset whose expected violations are all invariants (`always` properties) is
checked once per expected invariant, with only that property and `stop_on_violation`:
breadth-first, the first violation found is at the shallowest depth, so its trace is
still a shortest one, and each search ends early (a two-device preset took 151 s in
one complete search, 29 s this way). If one of them is never violated, the preset is
checked again completely. Presets that expect a `no_deadlock` or witness violation need the
complete reachable graph and are always checked completely.

A preset whose own scope has several devices is checked without the liveness
properties, unless it expects one of them: they name devices by number, so with them
the search keeps every order of the devices, and without them the symmetry reduction
stores one. Its row says so (``liveness`` False).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lifecycle.engine import CheckResult, Kind, check
from lifecycle.mdm.design import LIVENESS, Design, Scope, presets
from lifecycle.mdm.properties import LifecycleModel


@dataclass(frozen=True)
class MatrixRow:
    """One preset's outcome.

    - ``design``: the preset name; ``description``: what is wrong with it.
    - ``expected``: the properties it declares it violates.
    - ``found``: property -> length (steps) of its shortest counterexample; a
      `sometimes` property with no witness has length 0.
    - ``caught``: every expected property was violated (for the reference: nothing
      was violated and the search was complete).
    - ``complete``: the last search was exhaustive.
    - ``states``, ``depth``, ``seconds``: of the search(es) that decided the row.
    """

    design: str
    description: str
    expected: tuple[str, ...]
    found: dict[str, int]
    caught: bool
    complete: bool
    states: int
    depth: int
    seconds: float
    result: CheckResult | None = field(default=None, repr=False, compare=False)
    #: The design's own scope fields (its `[scope]`), applied over the matrix scope.
    scope_overrides: tuple[tuple[str, Any], ...] = ()
    #: Whether the liveness properties were checked (see the module docstring).
    liveness: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "design": self.design,
            "description": self.description,
            "expected": list(self.expected),
            "found": dict(self.found),
            "caught": self.caught,
            "complete": self.complete,
            "states": self.states,
            "depth": self.depth,
            "seconds": round(self.seconds, 3),
            "scope": dict(self.scope_overrides),
            "liveness": self.liveness,
        }


def _only_invariants(model: LifecycleModel, names: tuple[str, ...]) -> bool:
    kinds = {p.name: p.kind for p in model.properties()}
    return bool(names) and all(kinds.get(n) is Kind.ALWAYS for n in names)


def check_preset(design: Design, scope: Scope, *, time_limit: float | None = None) -> MatrixRow:
    """Check one design for the matrix (see the module docstring for the strategy), at
    `scope` with the design's own scope fields (a bug of several devices needs them)."""
    expected = tuple(design.expected_violations)
    at = design.scope(scope)
    liveness = at.devices == 1 or any(name in LIVENESS for name in expected)
    model = LifecycleModel(design, at, liveness=liveness)
    start = time.perf_counter()
    result: CheckResult | None = None
    found: dict[str, int] = {}
    if _only_invariants(model, expected):
        # One search per expected invariant, with only that property, stopped at its
        # first (breadth-first: shortest) violation: far faster than a whole search of
        # a two-device scope, and each length is still the shortest.
        for name in expected:
            alone = LifecycleModel(design, at, liveness=False)
            alone._properties = [p for p in alone.properties() if p.name == name]
            quick = check(alone, deadlock=False, stop_on_violation=True, time_limit=time_limit)
            if not quick.violations:
                found = {}
                break
            found[name] = len(quick.violations[0].trace)
            result = quick
    if not found:
        result = check(model, time_limit=time_limit)
        found = {v.property: len(v.trace) for v in result.violations}
    assert result is not None
    seconds = time.perf_counter() - start
    caught = all(name in found for name in expected) if expected else result.ok
    return MatrixRow(
        design=design.name,
        description=design.description,
        expected=expected,
        found=found,
        caught=caught,
        complete=result.complete,
        states=result.distinct_states,
        depth=result.depth,
        seconds=seconds,
        result=result,
        scope_overrides=design.scope_overrides,
        liveness=liveness,
    )


def run_matrix(
    scope: Scope | None = None,
    *,
    designs: dict[str, Design] | None = None,
    time_limit: float | None = None,
    on_row: Callable[[int, int, MatrixRow], None] | None = None,
) -> list[MatrixRow]:
    """Check every preset (or `designs`) at `scope` (default: `Scope()`); `on_row(i,
    n, row)` is called as each row is done, for a progress display."""
    chosen = list((designs if designs is not None else presets()).values())
    sc = scope if scope is not None else Scope()
    rows = []
    for i, design in enumerate(chosen, 1):
        rows.append(check_preset(design, sc, time_limit=time_limit))
        if on_row is not None:
            on_row(i, len(chosen), rows[-1])
    return rows


def matrix_table(rows: list[MatrixRow]) -> str:
    """The matrix as a Markdown table (used in docs/model.md and by the CLI)."""
    lines = [
        "| design | expected | found (shortest trace, steps) | caught | states | depth | s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        expected = ", ".join(r.expected) or "(none)"
        found = ", ".join(f"{k} ({v})" for k, v in r.found.items()) or "(none)"
        if not r.liveness:
            found += " (liveness not checked: several devices)"
        verdict = "yes" if r.caught else "NO"
        if not r.complete and not r.expected:
            verdict += " (incomplete)"
        lines.append(
            f"| {r.design} | {expected} | {found} | {verdict} | {r.states} | {r.depth} "
            f"| {r.seconds:.1f} |"
        )
    return "\n".join(lines)
