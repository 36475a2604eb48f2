"""The transition tables: self-contained rows (what the renderers and the live machines
rely on), routing derived from the rows, honest views, and the import order of the
package."""

from __future__ import annotations

import ast
import dataclasses
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from mdm_routing import OneTaker

from lifecycle.engine import check
from lifecycle.mdm import LifecycleModel, Scope, all_tables, load_design
from lifecycle.mdm import device as device_rows
from lifecycle.mdm.state import Msg
from lifecycle.mdm.table import (
    ACTORS,
    ANY,
    MESSAGE_KINDS,
    TO_DEVICE,
    TO_SERVER,
    DeviceView,
    HonestyError,
    ServerView,
)
from lifecycle.mdm.tables import REFERENCE, Tables, all_rows, row, server_message_steps

FACT = re.compile(
    r"^(F([1-9]|[1-8][0-9]|9[01])|A([1-9]|1[0-9])|real-world 3\.([1-9]|1[0-9]|2[0-3]))$"
)
SMALL = Scope(reenrollments=1, max_in_flight=1, max_offline=0, mdm_toggle=False)
ROOT = Path(__file__).resolve().parents[2]


def test_tables_are_the_four_machines_with_unique_triggers() -> None:
    tables = all_tables()
    assert list(tables) == ["device", "server", "directory", "network"]
    triggers = [r.trigger for r in all_rows()]
    assert len(triggers) == len(set(triggers))


def _named(fn: Any) -> bool:
    return bool(fn.__doc__) and fn.__name__ != "<lambda>"


def test_every_row_is_documented_data() -> None:
    for table in all_tables().values():
        assert table.states and table.description
        for r in table.rows:
            assert r.actor in ACTORS
            assert r.facts and all(FACT.match(f) for f in r.facts), (r.trigger, r.facts)
            assert r.description
            for s in r.source:
                assert s == ANY or s in table.states
            assert r.dest is None or r.dest in table.states
            # A guard is a tuple of named, documented conjuncts (a mutant drops one).
            assert isinstance(r.guard, tuple)
            for fn in (*r.guard, r.effect, r.choices):
                if fn is not None:
                    assert _named(fn), (r.trigger, fn)
            if r.receives is not None:
                assert set(r.receives.kinds) <= set(MESSAGE_KINDS)
                assert r.choices is None  # a receive row's argument is its message
            for send in r.sends:
                assert send.kind in MESSAGE_KINDS
                if callable(send.body):
                    assert _named(send.body), (r.trigger, send.body)
            for also in r.also:
                assert also.machine in all_tables() and also.machine != table.machine
                assert set(also.possible_states()) <= set(all_tables()[also.machine].states)


def test_routing_is_derived_from_the_rows() -> None:
    # No hand-written router or trigger list: the device and server modules do not
    # import each other, and nothing names the receive rows but the rows themselves.
    for name in ("device", "server", "directory", "network"):
        text = (ROOT / "lifecycle" / "mdm" / f"{name}.py").read_text()
        for other in ("device", "server", "directory", "network"):
            if other != name:
                assert f"lifecycle.mdm.{other}" not in text, (name, other)
        assert "ROUTED_TRIGGERS" not in text and "_route" not in text
    receive = {r.trigger for r in all_rows() if r.receives is not None}
    to_device = {r.trigger for r in all_tables()["device"].rows if r.receives}
    assert to_device and receive > to_device


# Modules of lifecycle.mdm in their order: each imports only those to its left.
ORDER = (
    "state",
    "design",
    "table",
    "directory",
    "network",
    "device",
    "server",
    "history",
    "tables",
    "mutants",
    "model",
    "verdicts",
    "explain",
    "properties",
    "interleavings",
    "reference",
    "matrix",
    "catalog",
)
SAME_LEVEL = {"directory", "network", "device", "server"}


def _mdm_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("lifecycle.mdm."):
                out.add(node.module.split(".")[2])
            elif node.module == "lifecycle.mdm":
                out.update(a.name for a in node.names if a.name in ORDER)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("lifecycle.mdm."):
                    out.add(alias.name.split(".")[2])
    return out


def test_mdm_modules_import_only_those_to_their_left() -> None:
    files = {p.stem: p for p in (ROOT / "lifecycle" / "mdm").glob("*.py") if p.stem != "__init__"}
    assert set(files) == set(ORDER)
    for name, path in files.items():
        for imported in _mdm_imports(path):
            assert ORDER.index(imported) < ORDER.index(name), f"{name} imports {imported}"
            # The four machine tables never import one another.
            assert not (name in SAME_LEVEL and imported in SAME_LEVEL), (name, imported)


def test_the_exclusivity_check_can_fail() -> None:
    # Planted break: a second, overlapping device row for Final packages. The same
    # check then finds a message with two takers.
    extra = dataclasses.replace(row("ReceiveFinal"), trigger="ReceiveFinalAgain")
    device = dataclasses.replace(REFERENCE.device, rows=(*REFERENCE.device.rows, extra))
    tables = Tables(device, REFERENCE.server, REFERENCE.directory, REFERENCE.network)
    model = OneTaker(load_design("reference"), SMALL, tables)
    check(model, deadlock=False)
    assert model.broken is not None


def test_a_server_row_cannot_read_the_device() -> None:
    world = LifecycleModel(load_design("reference"), SMALL).init_states()[0]
    design = load_design("reference")
    view = ServerView(world.server, design, SMALL)
    for name in ("device", "directory", "net"):
        with pytest.raises(HonestyError, match=f"'{name}'"):
            getattr(view, name)
    device_view = DeviceView(world.device[0], world.directory[0], world.net[0], design, SMALL)
    with pytest.raises(HonestyError, match="'server'"):
        device_view.server  # noqa: B018


def test_an_omniscient_server_row_is_refused_by_the_interpreter() -> None:
    # A server guard that peeks at the device raises as soon as the row is asked.
    def device_gone(v: Any) -> bool:
        """Omniscient: reads the device."""
        return bool(v.device.phase == "dormant")

    sneaky = dataclasses.replace(row("ServeSession"), guard=(device_gone,))
    rows = tuple(sneaky if r.trigger == "ServeSession" else r for r in REFERENCE.server.rows)
    server = dataclasses.replace(REFERENCE.server, rows=rows)
    tables = Tables(REFERENCE.device, server, REFERENCE.directory, REFERENCE.network)
    model = LifecycleModel(load_design("reference"), SMALL, tables)
    world = model.init_states()[0]
    srv = world.server
    enroll = Msg("enroll_request", 1, "-", ("work_access", "desktop", "admin"))
    (step,) = server_message_steps(tables, model.design, model.scope, srv, 0, 0, enroll, "net")
    srv = step[2]
    package = Msg("pkg1", 1, "main", ("1201",))
    confirmed = server_message_steps(tables, model.design, model.scope, srv, 0, 0, package, "net")
    srv = confirmed[0][2]
    srv = srv._replace(records=(srv.records[0]._replace(queue=()),))
    with pytest.raises(HonestyError):
        server_message_steps(tables, model.design, model.scope, srv, 0, 0, package, "net")


def test_cleanup_order_and_receive_generation_are_data() -> None:
    # The mutation work mutates them one at a time: a swapped cleanup order and a
    # receive row that ignores the generation are still tables the interpreter runs.
    swapped = device_rows.device_table(("certs", "apps", "policies", "config"))
    assert swapped.row("SendUnenrollAlert").dest == "cleanup_certs"
    assert swapped.row("RemoveCertificates").dest == "cleanup_apps"
    tables = Tables(swapped, REFERENCE.server, REFERENCE.directory, REFERENCE.network)
    result = check(LifecycleModel(load_design("reference"), SMALL, tables))
    # Certificates before apps: cleanup still completes, in the other order.
    assert result.complete and not result.violation("cleanup_complete")
    reach = result.coverage.actions
    assert reach["RemoveCertificates"].enabled and reach["RemoveEnterpriseApps"].enabled


def test_every_row_fires_somewhere_across_the_designs() -> None:
    """No dead rows: each row is enabled in some design (the union of coverage over
    designs leaves nothing never enabled). The designs are a cover of the rows, at a
    small scope with offline periods and the MDM switch; the reference at the default
    scope adds the stale-package rows, which need two messages in flight."""
    from lifecycle.mdm import Design

    designs = [
        load_design(name)
        for name in (
            "device_keeps_sessions",
            "agent_unenroll",
            "data_only_alerts",
            "exec_done_at_send",
            "server_waits_for_stale_sessions",
            "alert_retried",
        )
    ]
    designs += [
        Design(name="push", verify_by="push", self_unenroll_after_lost_contact=True),
        Design(name="challenged", auth_challenge="resend"),
        Design(name="dupes", record_uniqueness="none"),
        Design(name="refusing", reenroll_policy="refuse_unless_unenrolled"),
        Design(name="keeping", reenroll_policy="keep_old"),
        Design(name="rejecting", alerts_when_mdm_off="reject"),
    ]
    small = Scope(reenrollments=1, max_in_flight=1)

    class Rows(LifecycleModel):
        """Coverage only: no property is evaluated (nor the reachable graph kept for
        `no_deadlock`), which changes no count and halves the time."""

        def properties(self) -> list[Any]:
            return []

    # keep_old is the one design whose row (KeepOldEnrollment) no other reaches; it
    # does without offline periods, at a third of the states.
    runs = [
        Rows(d, replace(small, max_offline=0) if d.name == "keeping" else small, liveness=False)
        for d in designs
    ]
    runs.append(Rows(Design(), Scope(), liveness=False))
    never: set[str] | None = None
    for model in runs:
        missing = set(check(model).coverage.never_enabled)
        never = missing if never is None else never & missing
    assert never == set(), never


def test_messages_go_one_way() -> None:
    for r in all_rows():
        if r.receives is not None:
            kinds = set(r.receives.kinds)
            assert kinds <= set(TO_DEVICE if r.machine == "device" else TO_SERVER), r.trigger


def test_a_mutant_table_leaves_the_reference_tables_alone() -> None:
    # A mutant is built with dataclasses.replace; its index must be its own.
    before = REFERENCE.device.rows_from("enrolled")
    extra = dataclasses.replace(row("MaintenanceSession"), trigger="MaintenanceAgain")
    mutant = dataclasses.replace(REFERENCE.device, rows=(*REFERENCE.device.rows, extra))
    assert extra in mutant.rows_from("enrolled")
    assert REFERENCE.device.rows_from("enrolled") == before
    tables = Tables(mutant, REFERENCE.server, REFERENCE.directory, REFERENCE.network)
    assert tables.row("MaintenanceAgain") is extra
    with pytest.raises(KeyError):
        REFERENCE.row("MaintenanceAgain")
