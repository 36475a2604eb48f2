"""The mapping: every message kind the model sends is a SyncML package and back, or is
refused as not SyncML; the packages follow the facts (F5, F10, F16, F23-F25, F52,
F65, F66, F70, F71, F83)."""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

import pytest

from lifecycle.mdm import LifecycleModel, Scope, presets
from lifecycle.mdm.state import Msg
from lifecycle.mdm.table import MESSAGE_KINDS
from lifecycle.syncml import (
    NOT_SYNCML,
    SYNCML_KINDS,
    Alert,
    Endpoints,
    Exec,
    Package,
    Status,
    SyncHdr,
    SyncMLError,
    build,
    from_package,
    parse,
    to_package,
)
from lifecycle.syncml.mapping import UNENROLL_TYPE

DATA = Path(__file__).resolve().parent / "data"


def _model_messages() -> list[Msg]:
    """Every SyncML message shape the model can send: package 1 of each session with
    every alert combination the device rows build, and one message per reply token."""
    out: list[Msg] = []
    for msgid in (1, 2):
        for body in (("1201",), ("1201", "csp")):
            out.append(Msg("pkg1", 1, "main", body, msgid))
        for alert in ("unenroll", "unenroll_empty"):
            for tail in ((), ("csp",)):
                out.append(Msg("pkg1", 1, "alert", ("1201", alert, *tail), msgid))
        for session in ("main", "alert"):
            for token in SYNCML_KINDS["pkg2"]:
                out.append(Msg("pkg2", 1, session, (token,), msgid))
    for kind in ("pkg3", "pkg4"):
        for token in SYNCML_KINDS[kind]:
            out.append(Msg(kind, 1, "main", (token,), 1))
    return out


@cache
def _reached() -> frozenset[Msg]:
    """The messages the model puts in flight at a small scope under designs that use
    every body token: the reference, a challenge, empty-Meta alerts, piggybacked
    commands (about a second)."""
    found: set[Msg] = set()
    scope = Scope(devices=1, reenrollments=0, mdm_toggle=False, max_offline=0)
    for name in (
        "reference",
        "challenge_drops_alert",
        "empty_meta_not_recognised",
        "queued_commands_delivered",
    ):
        model = LifecycleModel(presets()[name], scope)
        frontier = list(model.init_states())
        seen = set(frontier)
        while frontier:
            following = []
            for state in frontier:
                for net in state.net:
                    found.update(net.in_flight)
                for action in model.actions(state):
                    after = model.next_state(state, action)
                    if after is not None and after not in seen:
                        seen.add(after)
                        following.append(after)
            frontier = following
    return frozenset(found)


def test_every_kind_of_the_model_is_syncml_or_said_not_to_be() -> None:
    assert set(SYNCML_KINDS) | set(NOT_SYNCML) == set(MESSAGE_KINDS)
    assert not set(SYNCML_KINDS) & set(NOT_SYNCML)


@pytest.mark.parametrize(
    "msg", _model_messages(), ids=lambda m: f"{m.kind}-{m.session}-{'-'.join(m.body)}-{m.msgid}"
)
def test_every_syncml_message_maps_to_a_package_and_back(msg: Msg) -> None:
    pkg = to_package(msg)
    assert parse(build(pkg)) == pkg
    # The only quirk the model's own packages carry is the empty Meta it models (F10).
    warnings = parse(build(pkg)).warnings
    assert len(warnings) == ("unenroll_empty" in msg.body)
    assert all("empty <Meta/>" in w for w in warnings)
    assert from_package(parse(build(pkg)), generation=msg.generation) == msg


def test_every_message_the_model_sends_maps_and_back() -> None:
    reached = _reached()
    kinds = {m.kind for m in reached}
    assert {"pkg1", "pkg2", "pkg3", "pkg4", "enroll_request", "enroll_response"} <= kinds
    for msg in reached:
        if msg.kind in NOT_SYNCML:
            with pytest.raises(SyncMLError, match=r"not SyncML|outside OMA DM"):
                to_package(msg)
            continue
        back = from_package(parse(build(to_package(msg))), generation=msg.generation)
        assert back == msg._replace(origin=0), msg


@pytest.mark.parametrize("kind", sorted(NOT_SYNCML))
def test_the_kinds_that_are_not_syncml_are_refused_with_the_reason(kind: str) -> None:
    with pytest.raises(SyncMLError) as caught:
        to_package(Msg(kind, 1, "-", ()))
    assert NOT_SYNCML[kind] in str(caught.value) and "\n" not in str(caught.value)


def test_the_unenroll_alerts_are_as_the_facts_give_them() -> None:
    pkg = to_package(Msg("pkg1", 1, "alert", ("1201", "unenroll"), 1))
    first, alert = pkg.commands[0], pkg.commands[1]
    assert isinstance(first, Alert) and first.data == 1201  # F65
    assert isinstance(alert, Alert) and alert.data == 1226
    meta = alert.items[0].meta
    assert meta is not None and (meta.type, meta.format) == (UNENROLL_TYPE, "int")  # F5, F16
    assert alert.items[0].data == "1"
    assert pkg.header.target == Endpoints().server and pkg.header.msg_id == 1
    empty = to_package(Msg("pkg1", 1, "alert", ("1201", "unenroll_empty"), 1)).commands[1]
    assert isinstance(empty, Alert) and empty.items[0].meta is not None
    assert build(Package(SyncHdr("1", 1, "t", "s"), (empty,))).count("<Meta />") == 1  # F10


def test_the_exec_and_the_challenge_are_as_the_facts_give_them() -> None:
    ends = Endpoints(provider_id="Contoso")
    pkg = to_package(Msg("pkg2", 1, "main", ("unenroll",), 1), ends)
    statuses = [c for c in pkg.commands if isinstance(c, Status)]
    assert [(s.cmd, s.cmd_ref) for s in statuses] == [("SyncHdr", 0), ("Alert", 1), ("Replace", 2)]
    exec_ = pkg.commands[-1]
    assert isinstance(exec_, Exec)
    assert exec_.items[0].target == "./Vendor/MSFT/DMClient/Provider/Contoso/Unenroll"
    assert exec_.items[0].data == "Contoso" and pkg.final
    challenge = to_package(Msg("pkg2", 1, "main", ("challenge",), 1)).commands
    assert len(challenge) == 1 and isinstance(challenge[0], Status)
    assert challenge[0].data == 401 and challenge[0].chal is not None
    accepted = to_package(Msg("pkg2", 1, "main", ("final",), 2)).commands[0]
    assert isinstance(accepted, Status) and accepted.data == 212  # F83
    abort = to_package(Msg("pkg4", 1, "main", ("abort",), 1))
    assert [type(c).__name__ for c in abort.commands] == ["Status", "Alert"] and abort.final


@pytest.mark.parametrize(
    ("uri", "token"),
    [
        ("./Vendor/MSFT/DMClient/Provider/X/Unenroll", "unenroll"),
        ("./Device/Vendor/MSFT/DMClient/Provider/X/Unenroll", "unenroll"),
        ("./Vendor/MSFT/DMClient/Unenroll", "unenroll"),
        ("/Vendor/MSFT/DMClient/Unenroll", "unenroll"),
        ("./Vendor/MSFT/DMClient/Provider/X/TestMDMServer/Unenroll", "unenroll"),
        ("./Vendor/MSFT/DMClient/Provider/X/LinkedEnrollment/Unenroll", "policy"),
        ("./Device/Vendor/MSFT/RemoteWipe/doWipe", "wipe"),
        ("./Vendor/MSFT/RemoteWipe/doWipeProtected", "wipe"),
        ("./Device/Vendor/MSFT/RemoteWipe/AutomaticRedeployment/doAutomaticRedeployment", "policy"),
    ],
)
def test_every_documented_unenroll_locuri_reads_as_the_unenroll(uri: str, token: str) -> None:
    pkg = to_package(Msg("pkg2", 1, "main", ("wipe",), 1))
    exec_ = pkg.commands[-1]
    assert isinstance(exec_, Exec)
    item = dataclasses.replace(exec_.items[0], target=uri)
    pkg = dataclasses.replace(
        pkg, commands=(*pkg.commands[:-1], dataclasses.replace(exec_, items=(item,)))
    )
    assert from_package(pkg).body == (token,)


def test_a_reply_answers_the_package_it_is_given() -> None:
    received = parse((DATA / "field-8376-package1.xml").read_bytes())
    reply = to_package(Msg("pkg2", 1, "alert", ("final",), 1), reply_to=received)
    assert reply.header.session_id == "3" and reply.header.target == received.header.source
    assert [(c.cmd, c.cmd_ref) for c in reply.commands if isinstance(c, Status)] == [
        ("SyncHdr", 0),
        ("Alert", 2),
        ("Alert", 3),
        ("Alert", 4),
        ("Replace", 5),
    ]
    assert from_package(reply).kind == "pkg2"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("doc-2.1-fixed.xml", ("pkg1", "alert", ("1201", "unenroll"))),
        ("doc-2.2-package1.xml", ("pkg1", "alert", ("1201", "unenroll"))),
        ("field-8376-package1.xml", ("pkg1", "alert", ("1201", "unenroll_empty"))),
        ("doc-2.3-package2.xml", ("pkg2", "main", ("unenroll",))),
        ("doc-2.4-package1.xml", ("pkg1", "main", ("1201", "csp"))),
    ],
)
def test_the_samples_read_as_the_model_messages_they_are(
    name: str, expected: tuple[str, str, tuple[str, ...]]
) -> None:
    msg = from_package(parse((DATA / name).read_bytes()))
    assert (msg.kind, msg.session, msg.body) == expected


def test_packages_no_model_kind_describes_are_refused() -> None:
    swapped = parse((DATA / "doc-2.1-well-formed.xml").read_bytes())
    with pytest.raises(SyncMLError, match="Target and Source swapped"):
        from_package(swapped)
    only_header = to_package(Msg("pkg4", 1, "main", ("final",), 1))
    device = dataclasses.replace(
        only_header,
        header=dataclasses.replace(
            only_header.header, target=Endpoints().server, source=Endpoints().device
        ),
    )
    with pytest.raises(SyncMLError, match="neither Alert 1200/1201"):
        from_package(device)
    with pytest.raises(SyncMLError, match="only the SyncHdr Status"):
        to_package(Msg("pkg3", 1, "main", ("ok",), 1), reply_to=only_header)


def test_the_docs_mapping_table_lists_every_kind_and_token() -> None:
    text = (DATA.parents[2] / "docs" / "syncml.md").read_text(encoding="utf-8")
    table = text.split("## The mapping")[1].split("\n## ")[0]
    for kind, tokens in SYNCML_KINDS.items():
        for token in tokens:
            assert f"| `{kind}` | `{token}` |" in table, (kind, token)
    for kind in NOT_SYNCML:
        assert f"`{kind}`" in table, kind
