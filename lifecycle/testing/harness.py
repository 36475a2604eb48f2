"""`check_design`: one call that turns a design into a pytest test.

    from lifecycle.testing import check_design

    def test_my_design():
        check_design("designs/my_design.toml")

It runs the exhaustive check at a small scope, then Hypothesis over the live machines
at a larger one, and fails with the counterexample steps in the format of
`lifecycle check`.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import settings as Settings

from lifecycle.engine import check
from lifecycle.mdm import Design, LifecycleModel, Scope, load_design
from lifecycle.testing.lifecycle import lifecycle_machine
from lifecycle.testing.run import find_failure

__all__ = ["DesignFailure", "check_design"]

#: The exhaustive part's default scope: one device, no re-enrollment (seconds).
SMALL = Scope(devices=1, reenrollments=0)
#: The Hypothesis part's default scope: beyond what the exhaustive check enumerates.
WIDE = Scope(devices=2, reenrollments=2)


class DesignFailure(AssertionError):
    """A design violates a property; the message holds the counterexample steps."""


def check_design(
    design: Design | str | Path,
    *,
    scope: Scope | None = None,
    hypothesis_scope: Scope | None = None,
    settings: Settings | None = None,
    exhaustive: bool = True,
    hypothesis: bool = True,
) -> None:
    """Fail (with `DesignFailure`) when `design` violates a property.

    - `design`: a `Design`, a preset name or a TOML path.
    - `scope`: the exhaustive check's scope (default `SMALL`); the search must be
      complete, so keep it small.
    - `hypothesis_scope`: the live machines' scope (default `WIDE`); `settings`
      defaults to the active profile (`ci`, or `deep` with
      LIFECYCLE_HYPOTHESIS_PROFILE=deep).
    """
    d = design if isinstance(design, Design) else load_design(str(design))
    if exhaustive:
        model = LifecycleModel(d, scope if scope is not None else SMALL)
        result = check(model)
        for v in result.violations:
            if not v.trace.states:
                raise DesignFailure(
                    f"design {d.name}: {v.property} ({v.kind.value}): no reachable state is "
                    "a witness, so this path can never complete"
                )
            raise DesignFailure(
                f"design {d.name}: {v.property} ({v.kind.value}) violated; shortest "
                f"counterexample, {len(v.trace)} steps:\n"
                + v.trace.render(format_action=model.describe_action)
            )
        if not result.complete:
            raise DesignFailure(
                f"design {d.name}: the exhaustive check was incomplete "
                f"({result.stop_reason}); use a smaller scope"
            )
    if hypothesis:
        machine = lifecycle_machine(d, hypothesis_scope if hypothesis_scope is not None else WIDE)
        failure = find_failure(machine, settings=settings)
        if failure is not None:
            raise DesignFailure(f"design {d.name}: {failure.text}")
