"""Counterexamples as SyncML captures (`lifecycle check --syncml DIR`).

Exported against re-parsed: every file parses back (defusedxml) into the model
message that the trace sent, with the wire's bookkeeping consistent (a reply's
Statuses point at the MsgID and CmdIDs of the package it answers, a session keeps
its SessionID), and the manifest's receipts and losses are the trace's own steps.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lifecycle.engine import Trace, action_name, check
from lifecycle.mdm import LifecycleModel, Scope, load_design
from lifecycle.render.diagrams import smallest_scope
from lifecycle.syncml.codec import parse
from lifecycle.syncml.export import LOSS, capture_of, messages, write_capture
from lifecycle.syncml.mapping import Endpoints, from_package
from lifecycle.syncml.package import Status


def _trace(name: str, scope: Scope, prop: str | None = None) -> Trace:
    model = LifecycleModel(load_design(name), scope, liveness=False)
    result = check(model, stop_on_violation=True)
    found = [
        v for v in result.violations if v.trace.states and (prop is None or v.property == prop)
    ]
    assert found, name
    return found[0].trace


CASES = [
    ("keeps_aad_association", smallest_scope(), None),
    ("commands_kept_pending", smallest_scope(), None),
    ("challenge_drops_alert", Scope(), "server_agrees_when_quiet"),  # a lost alert
    ("trusts_alert_alone", Scope(), None),
]


@pytest.mark.parametrize(("name", "scope", "prop"), CASES, ids=[c[0] for c in CASES])
def test_an_exported_counterexample_parses_back_into_its_messages(
    name: str, scope: Scope, prop: str | None, tmp_path: Path
) -> None:
    trace = _trace(name, scope, prop)
    capture = capture_of(trace, title=name)
    where = write_capture(tmp_path, f"counterexample-{name}", capture)
    manifest = json.loads((where / "manifest.json").read_text())
    sent = messages(trace)
    assert len(manifest["messages"]) == len(sent) > 0
    packages = {}
    for entry, s in zip(manifest["messages"], sent, strict=True):
        assert (entry["step"], entry["taken"], entry["lost"]) == (s.step, s.taken, s.lost)
        # The step that sent it changed the channel, and a loss is a LoseMessage step.
        if s.lost:
            assert action_name(trace.actions[s.taken - 1]) == LOSS
        elif s.taken is not None:
            assert action_name(trace.actions[s.taken - 1]) != LOSS
        if not entry["syncml"]:
            assert entry["file"] is None and entry["why"]
            continue
        package = parse((where / entry["file"]).read_bytes())
        ends = Endpoints(
            device=entry["device_uri"],
            main_session=entry["session_id"] if entry["session"] != "alert" else "0",
            alert_session=entry["session_id"] if entry["session"] == "alert" else "0",
        )
        back = from_package(package, ends, generation=s.msg.generation)
        assert back == s.msg._replace(origin=0), (entry["file"], back, s.msg)
        assert package.header.session_id == entry["session_id"]
        assert package.header.msg_id == entry["msg_id"]
        packages[entry["n"]] = (entry, package)
    # A reply's Statuses answer the package before it in its session.
    previous: dict[tuple[int, int, str], object] = {}
    for _n, (entry, package) in sorted(packages.items()):
        key = (entry["device"], entry["generation"], entry["session"])
        answered = previous.get(key)
        statuses = [c for c in package.commands if isinstance(c, Status)]
        if answered is not None and entry["kind"] != "pkg1":
            assert statuses, entry["file"]
            ids = {c.cmd_id for c in answered.commands} | {0}  # type: ignore[attr-defined]
            for status in statuses:
                assert status.msg_ref == answered.header.msg_id  # type: ignore[attr-defined]
                assert status.cmd_ref in ids
                assert package.header.session_id == answered.header.session_id  # type: ignore[attr-defined]
        previous[key] = package
    if name == "challenge_drops_alert":
        assert any(e["lost"] for e in manifest["messages"])


def test_a_capture_replaces_the_previous_one_whole(tmp_path: Path) -> None:
    trace = _trace("keeps_aad_association", smallest_scope())
    first = write_capture(tmp_path, "x", capture_of(trace))
    (first / "stale.xml").write_text("left over")
    again = write_capture(tmp_path, "x", capture_of(trace))
    assert again == first and not (again / "stale.xml").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x"]  # no staging left


def test_a_failed_replacement_puts_the_previous_capture_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    trace = _trace("keeps_aad_association", smallest_scope())
    first = write_capture(tmp_path, "x", capture_of(trace))
    before = sorted(p.name for p in first.iterdir())
    real = os.replace
    calls = []

    def failing(src: object, dst: object) -> None:
        calls.append(dst)
        if len(calls) == 2:  # the staging directory into place
            raise OSError(28, "No space left on device")
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr("lifecycle.syncml.export.os.replace", failing)
    with pytest.raises(OSError):
        write_capture(tmp_path, "x", capture_of(trace))
    monkeypatch.undo()
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x"]
