"""The mutation matrix at the default scope: the reference design holds every property
after a complete search; every known-bad preset is caught by the property it expects,
with a shortest counterexample."""

from __future__ import annotations

import pytest

from lifecycle.engine import check
from lifecycle.mdm import LifecycleModel, Scope, presets
from lifecycle.mdm.matrix import matrix_table, run_matrix


@pytest.mark.parametrize("name", sorted(presets()))
def test_mutation_matrix_at_the_default_scope(name: str) -> None:
    # One test per preset, so that a parallel test run spreads the matrix over cores.
    (row,) = run_matrix(Scope(), designs={name: presets()[name]})
    if name == "reference":
        assert row.complete and row.caught and not row.found
        assert row.result is not None and row.result.ok
        return
    assert row.caught, (row.design, row.expected, row.found)
    for prop in row.expected:
        assert row.found[prop] >= 1
    assert row.result is not None
    for violation in row.result.violations:
        # A trace starts in an initial state and each step is an enabled action.
        assert len(violation.trace.states) in (0, len(violation.trace) + 1)
    table = matrix_table([row])
    assert table.count("\n") == 2


def test_matrix_traces_are_shortest() -> None:
    """Breadth-first: no shorter trace reaches a violating state. Checked for one
    preset by bounding the depth one below the counterexample's length."""
    design = presets()["keyed_by_device_id"]
    model = LifecycleModel(design, Scope(kinds=("bulk",), platforms=("desktop",)))
    found = check(model).violation("no_stale_unenroll")
    assert found is not None
    shallower = check(model, max_depth=len(found.trace))  # depth counts states
    assert shallower.violation("no_stale_unenroll") is None
