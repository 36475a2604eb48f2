"""`lifecycle conform`: a capture against a design.

Round trip: every preset's counterexample, exported as a capture, conforms to the
preset it came from, at the scope the manifest records. A capture with a package
taken out does not, and the verdict names the first package no behaviour explains.
A search cut short is unknown, never "conforms".
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from lifecycle.cli import cli
from lifecycle.mdm import LifecycleModel, Scope, presets
from lifecycle.syncml.conform import LOGGED, CaptureError, conform, read_capture_dir, recorded_scope
from lifecycle.syncml.export import capture_of, messages, write_capture
from tests.syncml.counterexamples import BAD, counterexample


def _export(name: str, out: Path) -> tuple[Path, Scope] | None:
    """The first counterexample of `name` with a trace, as a capture."""
    found = counterexample(name)
    if found is None:
        return None
    trace, scope = found
    capture = capture_of(trace, title=name, scope=scope)
    return write_capture(out, f"counterexample-{name}", capture), scope


@pytest.mark.parametrize("name", BAD)
def test_every_exported_counterexample_conforms_to_its_design(name: str, tmp_path: Path) -> None:
    exported = _export(name, tmp_path)
    if exported is None:  # only a `sometimes` property breaks: there is no trace to export
        assert all(p.endswith("_completes") for p in presets()[name].expected_violations)
        return
    where, scope = exported
    events, recorded = read_capture_dir(where)
    # The manifest's scope, narrowed by capture.toml to the device's kind and platform.
    assert recorded is not None
    narrowed = recorded_scope(Scope(), recorded)
    assert set(narrowed.kinds) <= set(scope.kinds)
    assert set(narrowed.platforms) <= set(scope.platforms)
    assert dataclasses.replace(narrowed, kinds=scope.kinds, platforms=scope.platforms) == scope
    scope = narrowed
    verdict = conform(LifecycleModel(presets()[name], scope, liveness=False), events)
    assert verdict.conforms is True, (name, verdict.matched, len(events))
    assert verdict.trace is not None and verdict.trace.states


def test_a_package_taken_out_is_named_as_the_first_unexplained(tmp_path: Path) -> None:
    where, scope = _export("keeps_aad_association", tmp_path) or (None, None)
    assert where is not None
    events, _ = read_capture_dir(where)
    kinds = [e.kind for e in events]
    gap = kinds.index("pkg2")  # the server's answer to the first package 1
    assert kinds[gap + 1] == "pkg3"
    tampered = events[:gap] + events[gap + 1 :]
    model = LifecycleModel(presets()["keeps_aad_association"], scope, liveness=False)
    verdict = conform(model, tampered)
    assert verdict.conforms is False
    assert verdict.first_unexplained == gap  # the device's package 3, with no package 2
    assert any(text.startswith("pkg2") for text in verdict.instead)
    # The files alone, without the manifest, in the order of their names: the same.
    loose = tmp_path / "loose"
    loose.mkdir()
    for e in tampered:
        shutil.copy(where / e.file, loose / e.file)
    again, recorded = read_capture_dir(loose)
    assert recorded is None and again == tampered
    assert conform(model, again).first_unexplained == gap
    # A search cut short explains nothing: unknown, never "conforms".
    cut = conform(model, events, max_states=5)
    assert cut.conforms is None and cut.stop_reason


def test_cli_exit_codes_and_one_line_errors(tmp_path: Path) -> None:
    where, _scope = _export("keeps_aad_association", tmp_path) or (None, None)
    assert where is not None
    runner = CliRunner()
    ok = runner.invoke(cli, ["conform", str(where), "--design", "keeps_aad_association"])
    assert ok.exit_code == 0, ok.output
    assert "conforms to keeps_aad_association" in ok.output
    cut = runner.invoke(cli, ["conform", str(where), "--max-states", "3"])
    assert cut.exit_code == 3 and "unknown" in cut.output
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "01.xml").write_text("<SyncML")
    bad = runner.invoke(cli, ["conform", str(broken)])
    assert bad.exit_code == 2 and len(bad.output.splitlines()) == 1
    assert "01.xml: line 1" in bad.output
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CaptureError, match="no SyncML package"):
        read_capture_dir(empty)


def _loose(src: Path, names: list[str], out: Path, edit: dict[str, str] | None = None) -> Path:
    """A capture without a manifest: `names` of `src` in that order, renumbered, each
    edited by `edit` (file name -> new text); capture.toml kept."""
    out.mkdir()
    shutil.copy(src / "capture.toml", out / "capture.toml")
    for i, name in enumerate(names, start=1):
        text = (edit or {}).get(name) or (src / name).read_text()
        sender = name.split("-", 1)[1]
        (out / f"{i:04d}-{sender}").write_text(text)
    return out


def _logged_tail(trace: Any, count: int) -> list[tuple[int, str, str, tuple[str, ...], int]]:
    """The last `count` SyncML packages a behaviour sends, as conform compares them."""
    sent = [s for s in messages(trace) if s.msg.kind in LOGGED]
    return [(s.device, s.msg.kind, s.msg.session, s.msg.body, s.msg.msgid) for s in sent][-count:]


def test_a_capture_edited_by_one_package_fails_there_or_the_model_allows_the_edit(
    tmp_path: Path,
) -> None:
    """Every single-package edit of a capture (a package dropped, two swapped, a
    Status code changed) either makes the first unexplained package the edited one,
    or the model allows the edit there: the capture up to the edit conforms, and its
    explaining behaviour, exported again, sends exactly those packages."""
    exported = _export("keeps_aad_association", tmp_path)
    assert exported is not None
    where, _scope = exported
    events, recorded = read_capture_dir(where)
    assert recorded is not None
    scope = recorded_scope(Scope(), recorded)
    model = LifecycleModel(presets()["keeps_aad_association"], scope, liveness=False)
    names = [e.file for e in events]
    edits: list[tuple[str, int, list[str], dict[str, str]]] = []
    for i in range(len(names)):
        edits.append(("drop", i, names[:i] + names[i + 1 :], {}))
    for i in range(len(names) - 1):
        edits.append(("swap", i, [*names[:i], names[i + 1], names[i], *names[i + 2 :]], {}))
    for i, e in enumerate(events):
        text = (where / e.file).read_text()
        if e.kind == "pkg3" and "<Data>200</Data>" in text:  # the device refuses instead
            edits.append(
                ("status", i, names, {e.file: text.replace("<Data>200</Data>", "<Data>405</Data>")})
            )
    assert {kind for kind, *_ in edits} == {"drop", "swap", "status"}
    outcomes = set()
    for n, (kind, at, order, edit) in enumerate(edits):
        edited, _ = read_capture_dir(_loose(where, order, tmp_path / f"e{n}", edit))
        verdict = conform(model, edited)
        if verdict.conforms is False and verdict.first_unexplained == at:
            outcomes.add("fails at the edit")
            continue
        assert verdict.conforms is not None
        upto = edited[: at + 1] if at < len(edited) else edited
        allowed = conform(model, upto)
        assert allowed.conforms is True and allowed.trace is not None, (kind, at)
        again = [(e.device, e.kind, e.session, e.body, e.msgid) for e in upto]
        assert _logged_tail(allowed.trace, len(upto)) == again, (kind, at)
        outcomes.add("the model allows it")
    assert outcomes == {"fails at the edit", "the model allows it"}


@pytest.mark.parametrize("name", ["mobile_aadj_proceeds", "alert_retried"])
def test_a_capture_of_a_one_knob_design_names_that_knob(name: str, tmp_path: Path) -> None:
    """A counterexample of a preset one knob away from the reference, as a capture:
    the reference does not explain it, the preset's own knob value does, and
    `--infer` finds the preset among every preset and deviation."""
    from lifecycle.mdm import Design
    from lifecycle.syncml.conform import explain_by_knobs, infer

    design = presets()[name]
    (knob, value), *_ = design.differences().items()
    exported = _export(name, tmp_path)
    assert exported is not None
    where, _scope = exported
    events, recorded = read_capture_dir(where)
    assert recorded is not None
    scope = recorded_scope(Scope(), recorded)
    assert conform(LifecycleModel(Design(), scope, liveness=False), events).conforms is False
    verdicts = dict(explain_by_knobs(Design(), scope, events))
    shown = f'"{value}"' if isinstance(value, str) else str(value).lower()
    assert verdicts[f"{knob} = {shown}"].conforms is True
    assert all(v.conforms is not None for v in verdicts.values())  # none left to the bound
    if name == "mobile_aadj_proceeds":  # (once: --infer tries every candidate)
        inferred = dict(infer(Design(), scope, events))
        assert inferred[f"preset {name}"].conforms is True
        assert inferred["preset reference"].conforms is False
    text = CliRunner().invoke(cli, ["conform", str(where)]).output
    assert "it conforms to these one-knob deviations of the design" in text and knob in text


CORPUS = Path(__file__).parent / "data" / "captures"


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ('{"messages": {"a": 1}}', "no list of message objects"),
        ('{"messages": [1, 2]}', "no list of message objects"),
        ('{"messages": [], "scope": 5}', "'scope' is not a scope"),
        ('{"messages": [], "scope": {"planets": 9}}', "'scope' is not a scope"),
        ('{"messages": [], "n": ' + "9" * 5000 + "}", "not JSON"),
        ('{"messages": [{"file": "a\\u0000b"}]}', "'file' is not a file name"),
        ('{"messages": [{"file": 7}]}', "'file' is not a file name"),
    ],
)
def test_a_hostile_manifest_is_one_line(tmp_path: Path, manifest: str, message: str) -> None:
    (tmp_path / "manifest.json").write_text(manifest)
    with pytest.raises(CaptureError, match=message) as info:
        read_capture_dir(tmp_path)
    assert "\n" not in str(info.value)
    result = CliRunner().invoke(cli, ["conform", str(tmp_path)])
    assert result.exit_code == 2 and len(result.output.splitlines()) == 1, result.output


def test_a_manifest_that_is_a_dangling_symlink_is_refused_not_ignored(tmp_path: Path) -> None:
    for f in (CORPUS / "wipe").glob("*.xml"):
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "manifest.json").symlink_to(tmp_path / "nowhere.json")
    with pytest.raises(CaptureError, match=r"manifest\.json: cannot read the file"):
        read_capture_dir(tmp_path)


def test_scope_flags_go_on_top_of_what_the_capture_records() -> None:
    import json

    runner = CliRunner()
    plain = json.loads(
        runner.invoke(cli, ["conform", str(CORPUS / "wipe"), "--format", "json"]).output
    )
    flagged = runner.invoke(
        cli, ["conform", str(CORPUS / "wipe"), "--max-offline", "1", "--format", "json"]
    )
    narrowed = json.loads(flagged.output)
    assert plain["scope"]["kinds"] == narrowed["scope"]["kinds"] == ["aad_join"]  # capture.toml
    assert narrowed["scope"]["max_offline"] == 1 != plain["scope"]["max_offline"]
    assert plain["conforms"] is narrowed["conforms"] is True


def test_infer_honours_the_bound_and_its_exit_code_says_what_it_found() -> None:
    runner = CliRunner()
    cut = runner.invoke(
        cli, ["conform", str(CORPUS / "admin_unenroll"), "--infer", "--max-states", "3"]
    )
    assert cut.exit_code == 3 and "conforms to 0 of" in cut.output, cut.output
    found = runner.invoke(cli, ["conform", str(CORPUS / "first_session"), "--infer"])
    assert found.exit_code == 0 and "conforms          preset reference" in found.output


def test_the_server_s_answer_in_an_alert_session_is_read_as_of_that_session(
    tmp_path: Path,
) -> None:
    from lifecycle.mdm.state import Msg
    from lifecycle.syncml.codec import build
    from lifecycle.syncml.mapping import Endpoints, to_package

    ends = Endpoints(main_session="1", alert_session="2")
    alert = to_package(Msg("pkg1", 1, "alert", ("1201", "unenroll")), ends)
    answer = to_package(Msg("pkg2", 1, "alert", ("final",)), ends, reply_to=alert)
    main = to_package(Msg("pkg1", 1, "main", ("1201",)), ends)
    reply = to_package(Msg("pkg2", 1, "main", ("final",)), ends, reply_to=main)
    for n, pkg in enumerate((alert, answer, main, reply), start=1):
        side = "device" if n % 2 else "server"
        (tmp_path / f"{n:04d}-{side}.xml").write_text(build(pkg))
    events, _ = read_capture_dir(tmp_path)
    # The SessionID tells the server's packages apart: the alert session's is its own.
    assert [(e.kind, e.session) for e in events] == [
        ("pkg1", "alert"),
        ("pkg2", "alert"),
        ("pkg1", "main"),
        ("pkg2", "main"),
    ]
