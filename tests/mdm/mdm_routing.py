"""A test model that checks the routing the rows declare: in every state the search
expands, every message in flight is taken by exactly one enabled receive row, unless
it waits (the server holds it, or another package of the connection is held before
it). The check rides on the successors the search computes anyway."""

from __future__ import annotations

from typing import Any

from lifecycle.mdm import LifecycleModel
from lifecycle.mdm.state import Msg, World


class OneTaker(LifecycleModel):
    """`LifecycleModel` that records the first state where a message in flight has no
    taker or more than one (`broken`), and where (`broken_message`)."""

    broken: World | None = None
    broken_message: tuple[int, Msg, int] | None = None

    def waiting(self, world: World, i: int, msg: Msg) -> bool:
        held = [(k, m) for r in world.server.records for k, m in r.held]
        if (i, msg) in held:
            return True
        # A second package behind one the server holds waits in flight (wait designs).
        return msg.kind == "pkg1" and any(k == i for k, _m in held)

    def successors(self, state: World) -> list[tuple[Any, World]]:
        steps = self.raw_steps(state)
        if self.broken is None:
            self.check_takers(state, steps)
        return [(s[0], s[1]) for s in steps]

    def check_takers(self, world: World, steps: list[Any]) -> None:
        counts: dict[tuple[int, Msg], int] = {}
        for action, _nxt, party, _stim in steps:
            arg = action[2] if len(action) > 2 else None
            if isinstance(arg, Msg) and self.row_of(action).receives is not None:
                counts[party, arg] = counts.get((party, arg), 0) + 1
        for i, net in enumerate(world.net):
            for msg in set(net.in_flight):
                taken = counts.get((i, msg), 0)
                if taken > 1 or (taken == 0 and not self.waiting(world, i, msg)):
                    self.broken, self.broken_message = world, (i, msg, taken)
                    return
