"""A generic explicit-state model checker. It knows nothing about MDM.

    from lifecycle.engine import Model, Property, check

    class Counter(Model):
        def init_states(self):
            return [0]
        def actions(self, state):
            return [("Inc",), ("Reset",)]
        def next_state(self, state, action):
            if action[0] == "Inc":
                return state + 1 if state < 3 else None
            return 0
        def properties(self):
            return [Property.always("bounded", lambda s: s <= 3)]

    result = check(Counter())
    assert result.ok and result.distinct_states == 4

This package imports nothing from the rest of `lifecycle`, so it can be reused (and
tested) on its own.
"""

from lifecycle.engine.checker import SYMMETRY, SymmetryMismatch, SymmetryUnverified, check
from lifecycle.engine.export import to_dot, to_json, to_networkx
from lifecycle.engine.liveness import Fairness
from lifecycle.engine.model import Action, Model, ModelProtocol, State, action_name, format_action
from lifecycle.engine.properties import Kind, Property
from lifecycle.engine.result import (
    ActionCoverage,
    CheckResult,
    Coverage,
    ModelError,
    PropertyResult,
    ReachableGraph,
    Status,
    Violation,
)
from lifecycle.engine.search import STORES, Progress
from lifecycle.engine.simulation import simulate
from lifecycle.engine.trace import (
    STUTTER,
    Trace,
    changed_fields,
    render_trace,
    state_fields,
    to_jsonable,
)

__all__ = [
    "STORES",
    "STUTTER",
    "SYMMETRY",
    "Action",
    "ActionCoverage",
    "CheckResult",
    "Coverage",
    "Fairness",
    "Kind",
    "Model",
    "ModelError",
    "ModelProtocol",
    "Progress",
    "Property",
    "PropertyResult",
    "ReachableGraph",
    "State",
    "Status",
    "SymmetryMismatch",
    "SymmetryUnverified",
    "Trace",
    "Violation",
    "action_name",
    "changed_fields",
    "check",
    "format_action",
    "render_trace",
    "simulate",
    "state_fields",
    "to_dot",
    "to_json",
    "to_jsonable",
    "to_networkx",
]
