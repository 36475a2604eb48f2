"""Run a state machine and hand back the failure it found, instead of raising it."""

from __future__ import annotations

from typing import Any

from hypothesis import settings as Settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from lifecycle.testing.machine import LifecycleFailure, ModelStateMachine, minimize

__all__ = ["find_failure"]


def _first_failure(exc: BaseException) -> LifecycleFailure | None:
    if isinstance(exc, LifecycleFailure):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _first_failure(inner)
            if found is not None:
                return found
    return None


def find_failure(
    machine: type[RuleBasedStateMachine],
    *,
    settings: Settings | None = None,
    seed: int | None = None,
    shorten: bool = True,
    **overrides: Any,
) -> LifecycleFailure | None:
    """Run `machine` with Hypothesis; return the failure, or None if it passed.

    `settings` defaults to the active profile; `overrides` replace single settings
    (`max_examples=500`). `seed` fixes Hypothesis' random seed, for a deterministic
    run under a profile that is not derandomized. With `shorten` (the default), the
    failure of a `state_machine`/`lifecycle_machine` is shortened by meaning
    (`lifecycle.testing.machine.minimize`: deletions, rebinding, shortcuts along the
    model's shortest paths) after Hypothesis' shrink phase, which it finishes; with
    the shrink phase left out of `settings.phases` (it is slow on long stateful
    examples), it does all the shortening. Errors that are not a property failure (a
    model that raises, a broken machine) propagate.
    """
    base = settings if settings is not None else Settings()
    if overrides:
        base = Settings(base, **overrides)
    if seed is not None:
        machine._hypothesis_internal_use_seed = seed
    try:
        run_state_machine_as_test(machine, settings=base)
    except BaseException as exc:
        failure = _first_failure(exc)
        if failure is None:
            raise
        if shorten and issubclass(machine, ModelStateMachine):
            failure = minimize(machine, failure)
        return failure
    finally:
        if seed is not None:
            del machine._hypothesis_internal_use_seed  # type: ignore[attr-defined]
    return None
