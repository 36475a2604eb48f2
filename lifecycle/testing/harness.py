"""`check_design`: one call that turns a design into a pytest test.

    from lifecycle.testing import check_design

    def test_my_design():
        check_design("designs/my_design.toml")

It runs the exhaustive check at a small scope, then Hypothesis over the live machines
at a larger one, and fails with the counterexample steps in the format of
`lifecycle check`.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from hypothesis import settings as Settings

from lifecycle.engine import check
from lifecycle.mdm import Design, LifecycleModel, Scope, load_design, presets
from lifecycle.testing.lifecycle import lifecycle_machine
from lifecycle.testing.run import find_failure

__all__ = ["DesignFailure", "check_design"]

#: The exhaustive part's default scope: one device, no re-enrollment (seconds).
SMALL = Scope(devices=1, reenrollments=0)
#: The Hypothesis part's default scope: beyond what the exhaustive check enumerates.
WIDE = Scope(devices=2, reenrollments=2)


class DesignFailure(AssertionError):
    """A design violates a property; the message holds the counterexample steps."""


def _resolve(design: Design | str | Path, caller: str) -> Design:
    """A `Design`, a preset name, or a TOML path; a relative path that does not exist
    from the working directory is taken from the calling test file's directory, so
    the recipe works whichever directory pytest runs from."""
    if isinstance(design, Design):
        return design
    text = str(design)
    if text in presets():
        return presets()[text]
    path = Path(text)
    if not path.is_absolute() and not path.exists():
        beside = Path(caller).resolve().parent / path
        if beside.exists():
            path = beside
    return load_design(str(path))


def check_design(
    design: Design | str | Path,
    *,
    scope: Scope | None = None,
    hypothesis_scope: Scope | None = None,
    settings: Settings | None = None,
    exhaustive: bool = True,
    hypothesis: bool = True,
    expected: bool = True,
    seed: int | None = None,
) -> None:
    """Fail (with `DesignFailure`) when `design` violates a property it is not
    expected to.

    - `design`: a `Design`, a preset name or a TOML path (a relative path is found
      from the working directory or beside the calling test file).
    - `scope`: the exhaustive check's scope (default `SMALL`); the search must be
      complete, so keep it small.
    - `hypothesis_scope`: the live machines' scope (default `WIDE`); `settings`
      defaults to the active profile (`ci`, or `deep` with
      LIFECYCLE_HYPOTHESIS_PROFILE=deep).
    - `expected`: the design's `expected_violations` may break (a known-bad design
      held to its known bugs); any other broken property fails. `expected=False`
      fails on every violation.
    - `seed`: Hypothesis' seed, for a profile that is not derandomized. When none is
      given there, one is drawn and printed with the failure, so it can be replayed.

    Every broken property of the exhaustive check is reported, not only the first,
    with the Hypothesis failure after them. The Hypothesis part stops at its first
    failure: when that one is expected, a later unexpected one is not looked for.
    """
    __tracebackhide__ = True  # pytest shows the test's line, not this function's
    d = _resolve(design, sys._getframe(1).f_code.co_filename)
    allowed = set(d.expected_violations) if expected else set()
    problems: list[str] = []
    if exhaustive:
        model = LifecycleModel(d, scope if scope is not None else SMALL)
        result = check(model)
        for v in result.violations:
            if v.property in allowed:
                continue
            if not v.trace.states:
                problems.append(
                    f"{v.property} ({v.kind.value}): no reachable state is a witness, so "
                    "this path can never complete"
                )
                continue
            problems.append(
                f"{v.property} ({v.kind.value}) violated; shortest counterexample, "
                f"{len(v.trace)} steps:\n" + v.trace.render(format_action=model.describe_action)
            )
        if not result.complete:
            problems.append(
                f"the exhaustive check was incomplete ({result.stop_reason}); use a smaller scope"
            )
    if hypothesis:
        machine = lifecycle_machine(d, hypothesis_scope if hypothesis_scope is not None else WIDE)
        run = settings if settings is not None else Settings()
        if seed is None and not run.derandomize:
            seed = random.randrange(2**32)
        failure = find_failure(machine, settings=run, seed=seed)
        if failure is not None and failure.property not in allowed:
            replay = (
                "derandomized: every run repeats these examples"
                if seed is None
                else f"reproduce with check_design(..., seed={seed})"
            )
            problems.append(f"Hypothesis: {failure.text}\n({replay})")
    if problems:
        raise DesignFailure(
            f"design {d.name}: {len(problems)} problem(s)\n\n" + "\n\n".join(problems)
        )
