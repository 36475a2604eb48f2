"""The soundness gate for the MDM model's device-order symmetry: on every preset, at
2-device scopes, the reduced search must give exactly the verdicts and shortest
counterexample lengths of the unreduced search (the engine's ``symmetry="verify"``
raises otherwise). This is what licenses the CLI's ``--symmetry auto`` to reduce a
check without the liveness properties (which name devices, so never reduce)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lifecycle.engine import check
from lifecycle.mdm import LifecycleModel, Scope, presets

#: Small enough to search every order (at most 140 k worlds unreduced), with the admin
#: unenroll, the wipe and every server timer in play.
WORK = Scope(
    devices=2,
    kinds=("work_access",),
    platforms=("desktop",),
    reenrollments=0,
    max_in_flight=1,
    manual_unenroll=(False,),
    max_offline=0,
    mdm_toggle=False,
)
#: Azure AD joined devices, for the presets whose bugs need the directory.
AAD = replace(WORK, kinds=("aad_join",))
AAD_PRESETS = ("keeps_aad_association", "keyed_by_hardware_id", "data_only_alerts")


@pytest.mark.parametrize("name", sorted(presets()))
def test_symmetry_gives_the_unreduced_answers_on_every_preset(name: str) -> None:
    design = presets()[name]
    result = check(LifecycleModel(design, design.scope(WORK), liveness=False), symmetry="verify")
    assert result.extra["symmetry"] == "on, verified against the unreduced search"
    # Two devices: nearly every class has two orders.
    assert result.extra["unreduced_states"] > 1.9 * result.distinct_states


@pytest.mark.parametrize("name", AAD_PRESETS)
def test_symmetry_gives_the_unreduced_answers_with_azure_ad(name: str) -> None:
    design = presets()[name]
    result = check(LifecycleModel(design, design.scope(AAD), liveness=False), symmetry="verify")
    assert result.complete and result.violations
