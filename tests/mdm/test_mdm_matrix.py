"""The mutation matrix at the default scope: the reference design holds every property
after a complete search; every known-bad preset is caught by the property it expects,
with a shortest counterexample."""

from __future__ import annotations

from lifecycle.engine import check
from lifecycle.mdm import LifecycleModel, Scope, presets
from lifecycle.mdm.matrix import matrix_table, run_matrix


def test_mutation_matrix_at_the_default_scope() -> None:
    rows = run_matrix(Scope())
    by_name = {r.design: r for r in rows}
    assert set(by_name) == set(presets())
    ref = by_name["reference"]
    assert ref.complete and ref.caught and not ref.found
    for row in rows:
        if row.design == "reference":
            continue
        assert row.caught, (row.design, row.expected, row.found)
        for name in row.expected:
            assert row.found[name] >= 1
        assert row.result is not None
        for violation in row.result.violations:
            # A trace starts in an initial state and each step is an enabled action.
            assert len(violation.trace.states) in (0, len(violation.trace) + 1)
    table = matrix_table(rows)
    assert table.count("\n") == len(rows) + 1


def test_matrix_traces_are_shortest() -> None:
    """Breadth-first: no shorter trace reaches a violating state. Checked for one
    preset by bounding the depth one below the counterexample's length."""
    design = presets()["keyed_by_device_id"]
    model = LifecycleModel(design, Scope(kinds=("bulk",), platforms=("desktop",)))
    found = check(model).violation("no_stale_unenroll")
    assert found is not None
    shallower = check(model, max_depth=len(found.trace))  # depth counts states
    assert shallower.violation("no_stale_unenroll") is None
