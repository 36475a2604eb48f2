"""Live `transitions` machines built from the mdm tables: the second interpreter.

- `LiveWorld(model[, world])`: live device, directory and network machines per device
  and one live server machine, built from the same rows the checker runs;
  `enabled(world)`, `fire(step, world)`, `successors(world)`.
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
from lifecycle.runtime.live import LiveStep, LiveWorld, TableInconsistency

__all__ = [
    "Disagreement",
    "LiveStep",
    "LiveWorld",
    "TableInconsistency",
    "agree",
    "compare_at",
    "reachable_states",
    "walk_states",
]
