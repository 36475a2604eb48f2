"""Each preset's first counterexample with a trace (`first_counterexample`), found
once per test process and shared by the conform and replay tests."""

from __future__ import annotations

import functools

from lifecycle.engine import Trace
from lifecycle.mdm import Scope, presets
from lifecycle.syncml.export import first_counterexample

BAD = sorted(n for n, d in presets().items() if d.expected_violations)


@functools.cache
def counterexample(name: str) -> tuple[Trace, Scope] | None:
    return first_counterexample(presets()[name])
