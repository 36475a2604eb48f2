"""The Windows MDM lifecycle: device, server, directory (Azure AD) and network state
machines as transition tables, design knobs and presets, the properties a design must
satisfy, and their composition into an engine model.

    from lifecycle.engine import check
    from lifecycle.mdm import LifecycleModel, Scope, load_design

    result = check(LifecycleModel(load_design("reference"), Scope(devices=1)))
    assert result.ok

Public API: `load_design`, `presets`, `Design`, `DesignError`, `Scope`, `knobs`,
`LifecycleModel`, `all_tables`; the mutation matrix is `lifecycle.mdm.matrix`, the
generated reference text `lifecycle.mdm.reference`.
"""

from lifecycle.mdm.design import (
    KINDS,
    PLATFORMS,
    PROPERTY_NAMES,
    Design,
    DesignError,
    Scope,
    knobs,
    load_design,
    load_design_file,
    presets,
    smallest_scope,
)
from lifecycle.mdm.model import describe_message
from lifecycle.mdm.properties import LifecycleModel
from lifecycle.mdm.tables import all_tables

__all__ = [
    "KINDS",
    "PLATFORMS",
    "PROPERTY_NAMES",
    "Design",
    "DesignError",
    "LifecycleModel",
    "Scope",
    "all_tables",
    "describe_message",
    "knobs",
    "load_design",
    "load_design_file",
    "presets",
    "smallest_scope",
]
