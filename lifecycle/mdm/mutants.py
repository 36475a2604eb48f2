"""Mutants of the transition tables: the small, wrong designs the properties must catch.

Each operator makes one change a designer could plausibly make by mistake, and reads
the tables as data, so it needs no knowledge of any row:

- ``delete_row``: a transition is missing, except the adversary's events
  (`ADVERSARY`: a lost message, an offline period, the tenant's MDM switch, a failed
  provisioning), which the scope adds to test the design against: deleting one only
  checks the design in a kinder world, as dropping a scope bound only unbounds it;
- ``drop_conjunct``: a guard loses one of its conjuncts (a check forgotten), except
  the scope's bounds (`lifecycle.mdm.table.scope_bound`: messages in flight,
  re-enrollments, offline periods, the MDM switch), which are not design decisions;
- ``remove_send``: a row no longer sends one of its messages;
- ``swap_cleanup``: two consecutive cleanup steps run in the other order (F33-F36);
- ``ignore_generation``: a receive row takes a message of any enrollment generation
  (the device ignores whose enrollment a package is for; the server finds the record
  by device id alone), the mistake behind real-world 3.8 and 3.11.

A mutant is named ``operator:trigger[:detail]``, so a name reads back to the change.
The list is deterministic: a parallel run rebuilds it in each worker and picks mutants
by position.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lifecycle.mdm import device
from lifecycle.mdm.table import Row, Table, is_scope_bound
from lifecycle.mdm.tables import REFERENCE, Tables

OPERATORS = ("delete_row", "drop_conjunct", "remove_send", "swap_cleanup", "ignore_generation")

#: The rows of the world the design is checked against, not of the design: the lossy
#: network (`max_in_flight`), the offline periods (`max_offline`), the tenant's MDM
#: switch (`mdm_toggle`) and a failed provisioning (F84, F85). `delete_row` leaves
#: them alone; the other operators still mutate their guards and sends.
ADVERSARY = frozenset(("LoseMessage", "GoOffline", "TurnOffMDM", "TurnOnMDM", "ProvisioningFails"))


@dataclass(frozen=True)
class Mutant:
    """One mutant: its name, the operator that made it, what it changes (one line for
    humans) and the mutated tables."""

    name: str
    operator: str
    description: str
    tables: Tables


def _with_rows(tables: Tables, table: Table, rows: tuple[Row, ...]) -> Tables:
    new = dataclasses.replace(table, rows=rows)
    changes: dict[str, Any] = {table.machine: new}
    return dataclasses.replace(tables, **changes)


def _replace_row(tables: Tables, table: Table, index: int, row: Row) -> Tables:
    rows = list(table.rows)
    rows[index] = row
    return _with_rows(tables, table, tuple(rows))


def _changed(base: Tables, table: Table, i: int, row: Row, name: str, description: str) -> Mutant:
    """The mutant whose table has `row` at position `i`; its operator is its name's
    first part."""
    return Mutant(name, name.split(":", 1)[0], description, _replace_row(base, table, i, row))


def _name(fn: object) -> str:
    return str(getattr(fn, "__name__", repr(fn)))


def _send_name(row: Row, j: int) -> str:
    send = row.sends[j]
    body = send.body if not callable(send.body) else _name(send.body)
    return f"{send.kind}({body})" if body else send.kind


def mutants(base: Tables = REFERENCE, operators: tuple[str, ...] = OPERATORS) -> Iterator[Mutant]:
    """Every mutant of `base` the operators make, in a fixed order."""
    for op in operators:
        if op not in OPERATORS:
            raise ValueError(f"unknown mutation operator {op!r}; operators: {', '.join(OPERATORS)}")
    if "swap_cleanup" in operators:
        order = device.CLEANUP_ORDER
        for k in range(len(order) - 1):
            swapped = (*order[:k], order[k + 1], order[k], *order[k + 2 :])
            first, second = device.CLEANUP_STEPS[order[k]], device.CLEANUP_STEPS[order[k + 1]]
            yield Mutant(
                f"swap_cleanup:{first.trigger}:{second.trigger}",
                "swap_cleanup",
                f"cleanup runs {second.name} before {first.name}",
                dataclasses.replace(base, device=device.device_table(swapped)),
            )
    for table in base.all():
        for i, row in enumerate(table.rows):
            if "delete_row" in operators and row.trigger not in ADVERSARY:
                yield Mutant(
                    f"delete_row:{row.trigger}",
                    "delete_row",
                    f"no {row.trigger} ({row.description})",
                    _with_rows(base, table, table.rows[:i] + table.rows[i + 1 :]),
                )
            if "drop_conjunct" in operators:
                for j, conjunct in enumerate(row.guard):
                    if is_scope_bound(conjunct):
                        continue
                    guard = row.guard[:j] + row.guard[j + 1 :]
                    yield _changed(
                        base,
                        table,
                        i,
                        dataclasses.replace(row, guard=guard),
                        f"drop_conjunct:{row.trigger}:{_name(conjunct)}",
                        f"{row.trigger} no longer checks {_name(conjunct)}",
                    )
            if "remove_send" in operators:
                for j in range(len(row.sends)):
                    sends = row.sends[:j] + row.sends[j + 1 :]
                    yield _changed(
                        base,
                        table,
                        i,
                        dataclasses.replace(row, sends=sends),
                        f"remove_send:{row.trigger}:{_send_name(row, j)}",
                        f"{row.trigger} no longer sends {_send_name(row, j)}",
                    )
            rec = row.receives
            if (
                "ignore_generation" in operators
                and rec is not None
                and rec.generation in ("current", "key")
            ):
                loose = dataclasses.replace(rec, generation="any")
                yield _changed(
                    base,
                    table,
                    i,
                    dataclasses.replace(row, receives=loose),
                    f"ignore_generation:{row.trigger}",
                    f"{row.trigger} takes a message of any enrollment generation",
                )


def mutant(name: str, base: Tables = REFERENCE) -> Mutant:
    """The mutant called `name` (KeyError naming the operators if there is none)."""
    op = name.split(":", 1)[0]
    for m in mutants(base, (op,) if op in OPERATORS else OPERATORS):
        if m.name == name:
            return m
    raise KeyError(f"no mutant named {name!r} (operators: {', '.join(OPERATORS)})")
