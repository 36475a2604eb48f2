"""Live `transitions` machines built from the mdm tables: the second interpreter.

- `LiveWorld(model[, world])`: per device, live device, server, directory and network
  `transitions.Machine` objects sharing the device's slice of the world;
  `enabled()`, `fire(step)`, `successors(world)`, `world()`.
- `agree(model, states)`: prove the live machines and the engine's compiled successor
  function enable the same steps and reach the same states; `Disagreement` names the
  step and the state. `reachable_states` / `walk_states` supply the states.

The Hypothesis state machine that drives these live machines through long
interleavings is `lifecycle.testing.lifecycle_machine`.
"""

from lifecycle.runtime.agreement import (
    Disagreement,
    agree,
    compare_at,
    reachable_states,
    walk_states,
)
from lifecycle.runtime.live import DERIVED, LiveDevice, LiveStep, LiveWorld, TableInconsistency

__all__ = [
    "DERIVED",
    "Disagreement",
    "LiveDevice",
    "LiveStep",
    "LiveWorld",
    "TableInconsistency",
    "agree",
    "compare_at",
    "reachable_states",
    "walk_states",
]
