"""Every real-world interleaving is reachable (a witness in the design that exposes it),
and the ones a design knob opens are out of the reference's reach."""

from __future__ import annotations

import pytest

from lifecycle.engine import check
from lifecycle.mdm import catalog
from lifecycle.mdm.interleavings import INTERLEAVINGS, Interleaving, _Witness, witness

BY_ID = {item.id: item for item in INTERLEAVINGS}
#: Interleavings only a knob's value opens: the reference design never shows them.
KNOB_ONLY = ("real-world 3.10", "real-world 3.20", "real-world 3.22", "real-world 3.23")


def test_every_interleaving_has_a_witness_or_a_reason() -> None:
    assert list(BY_ID) == list(catalog.INTERLEAVINGS)
    out = [i.id for i in INTERLEAVINGS if i.holds is None]
    assert out == ["real-world 3.19"], out
    assert all(i.out_of_scope for i in INTERLEAVINGS if i.holds is None)


@pytest.mark.parametrize("ident", [i.id for i in INTERLEAVINGS if i.holds is not None])
def test_the_interleaving_is_reached_and_the_witness_replays(ident: str) -> None:
    item = BY_ID[ident]
    assert item.holds is not None
    model = _Witness(item)
    result = check(model, stop_on_violation=True)
    trace = result.violation(ident).trace
    assert len(trace) == witness(item)
    design = model.design
    assert item.holds(trace.states[-1], design)
    assert not any(item.holds(s, design) for s in trace.states[:-1]), "not the first one"
    for before, action, after in zip(trace.states, trace.actions, trace.states[1:], strict=False):
        assert model.next_state(before, action) == after


@pytest.mark.parametrize("ident", KNOB_ONLY)
def test_a_knob_only_interleaving_is_out_of_the_references_reach(ident: str) -> None:
    item = BY_ID[ident]
    in_reference = Interleaving(item.id, "reference", item.shows, item.holds, item.scope)
    result = check(_Witness(in_reference))
    assert result.complete
    assert result.violation(ident) is None, f"{ident} is reachable in the reference too"
