"""Each preset's first counterexample with a trace, found once per test process and
shared by the conform and replay tests."""

from __future__ import annotations

import functools

from lifecycle.engine import Trace, check
from lifecycle.mdm import LifecycleModel, Scope, presets
from lifecycle.render.diagrams import smallest_scope

BAD = sorted(n for n, d in presets().items() if d.expected_violations)


@functools.cache
def counterexample(name: str) -> tuple[Trace, Scope] | None:
    """The first counterexample of `name` with a trace: at the smallest scope when it
    shows one, else at the preset's own (None: only a `sometimes` property breaks)."""
    design = presets()[name]
    for scope in (design.scope(smallest_scope()), design.scope(Scope())):
        result = check(LifecycleModel(design, scope, liveness=False), stop_on_violation=True)
        traced = [v for v in result.violations if v.trace.states]
        if traced:
            return traced[0].trace, scope
    return None
