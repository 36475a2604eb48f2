"""Run a state machine and hand back the failure it found, instead of raising it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
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


@contextlib.contextmanager
def _pinned_constants() -> Iterator[None]:
    """Hypothesis mixes "local constants" into its draws: the literals of every module
    of the project loaded so far. Which modules are loaded depends on what ran before
    in the same process, so a seeded run would find another example after an
    unrelated import. For a seeded run, pin that set to empty. (A private hook of
    Hypothesis: where it is missing there is nothing to pin.)"""
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - another Hypothesis
        yield
        return
    original = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    empty = getattr(providers, "_local_constants", None)
    if original is None or cache is None or empty is None:  # pragma: no cover
        yield
        return
    blank = type(empty)()
    providers._get_local_constants = lambda: blank
    # It caches what the constants allow per kind of draw: a fresh cache for the run.
    providers.CONSTANTS_CACHE = type(cache)(getattr(cache, "max_size", 1024))
    try:
        yield
    finally:
        providers._get_local_constants = original
        providers.CONSTANTS_CACHE = cache


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
    run under a profile that is not derandomized (and pins the constants Hypothesis
    would otherwise take from whatever modules are loaded, see `_pinned_constants`).
    With `shorten` (the default), the
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
    pinned = _pinned_constants() if seed is not None else contextlib.nullcontext()
    if seed is not None:
        machine._hypothesis_internal_use_seed = seed
    try:
        with pinned:
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
