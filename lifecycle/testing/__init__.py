"""Hypothesis adapters and pytest helpers: the public API for architects.

- `state_machine(model)`: a Hypothesis `RuleBasedStateMachine` for any engine model.
  Rules take enabled actions; every `always` property is an invariant; a stuck,
  non-terminal state fails as a deadlock; failures print the steps as `lifecycle
  check` does.
- `find_failure(machine, ...)`: run one and return the shrunk failure (or None).
- `load_profile()`: the `ci` / `deep` settings profiles
  (`LIFECYCLE_HYPOTHESIS_PROFILE=deep`).

See docs/testing.md for the five-line recipe that turns a design into a pytest test.
"""

from lifecycle.testing.harness import DesignFailure, check_design
from lifecycle.testing.lifecycle import ACTORS, LiveLifecycleMachine, lifecycle_machine, run_length
from lifecycle.testing.machine import (
    DeadlockFound,
    LifecycleFailure,
    LivenessNotMet,
    ModelStateMachine,
    PropertyViolation,
    RunStats,
    StuckForever,
    enabled_steps,
    state_machine,
    stuck_keys,
)
from lifecycle.testing.profiles import (
    PHASES,
    PROFILE_ENV,
    PROFILES,
    active_profile,
    load_profile,
    register_profiles,
)
from lifecycle.testing.run import find_failure

__all__ = [
    "ACTORS",
    "PHASES",
    "PROFILES",
    "PROFILE_ENV",
    "DeadlockFound",
    "DesignFailure",
    "LifecycleFailure",
    "LiveLifecycleMachine",
    "LivenessNotMet",
    "ModelStateMachine",
    "PropertyViolation",
    "RunStats",
    "StuckForever",
    "active_profile",
    "check_design",
    "enabled_steps",
    "find_failure",
    "lifecycle_machine",
    "load_profile",
    "register_profiles",
    "run_length",
    "state_machine",
    "stuck_keys",
]
