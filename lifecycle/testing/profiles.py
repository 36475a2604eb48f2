"""Hypothesis settings profiles: `ci` (the test-suite default) and `deep` (nightly).

    LIFECYCLE_HYPOTHESIS_PROFILE=deep .venv/bin/pytest tests

`ci` is derandomized (the same examples every run, so CI never flakes) and keeps the
whole suite fast on a 2-core machine. `deep` runs twenty times the examples, four times
the steps per example, and random seeds with the example database, so each nightly run
explores new interleavings and replays the failures it found before.

Tests that scale their scope with the profile (more devices, more re-enrollments)
read `active_profile()`.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

__all__ = [
    "PHASES",
    "PROFILES",
    "PROFILE_ENV",
    "active_profile",
    "load_profile",
    "register_profiles",
]

PROFILE_ENV = "LIFECYCLE_HYPOTHESIS_PROFILE"
PROFILES = ("ci", "deep")
_SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
_active: str | None = None

#: Every phase but `explain`. Explaining a failing state machine traces the coverage of
#: hundreds of variants of the example: 30 s on a 3-step toy failure, for a note
#: ("these lines were always run by failing cases") that our rendered trace supersedes.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)


def register_profiles() -> None:
    """Register `ci` and `deep` with Hypothesis (idempotent)."""
    settings.register_profile(
        "ci",
        max_examples=100,
        stateful_step_count=50,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=False,
        phases=PHASES,
        suppress_health_check=_SLOW,
    )
    settings.register_profile(
        "deep",
        max_examples=2000,
        stateful_step_count=200,
        deadline=None,
        print_blob=True,
        phases=PHASES,
        suppress_health_check=_SLOW,
    )


def load_profile(name: str | None = None) -> str:
    """Register the profiles and load `name`, else `$LIFECYCLE_HYPOTHESIS_PROFILE`,
    else `ci`. Returns the name loaded."""
    global _active
    register_profiles()
    chosen = name or os.environ.get(PROFILE_ENV) or "ci"
    if chosen not in PROFILES:
        raise ValueError(
            f"{PROFILE_ENV}={chosen!r} is not a profile; choose one of {', '.join(PROFILES)}"
        )
    settings.load_profile(chosen)
    _active = chosen
    return chosen


def active_profile() -> str:
    """The profile `load_profile` loaded last (`ci` when none was loaded)."""
    return _active or os.environ.get(PROFILE_ENV) or "ci"
