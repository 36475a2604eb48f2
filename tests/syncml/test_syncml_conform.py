"""`lifecycle conform`: a capture against a design.

Round trip: every preset's counterexample, exported as a capture, conforms to the
preset it came from, at the scope the manifest records. A capture with a package
taken out does not, and the verdict names the first package no behaviour explains.
A search cut short is unknown, never "conforms".
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from lifecycle.cli import cli
from lifecycle.engine import check
from lifecycle.mdm import LifecycleModel, Scope, presets
from lifecycle.render.diagrams import smallest_scope
from lifecycle.syncml.conform import CaptureError, conform, read_capture_dir
from lifecycle.syncml.export import capture_of, write_capture

BAD = sorted(n for n, d in presets().items() if d.expected_violations)


def _export(name: str, out: Path) -> tuple[Path, Scope] | None:
    """The first counterexample of `name` with a trace, as a capture: at the smallest
    scope when it shows one, else at the preset's own."""
    design = presets()[name]
    for scope in (design.scope(smallest_scope()), design.scope(Scope())):
        result = check(LifecycleModel(design, scope, liveness=False), stop_on_violation=True)
        traced = [v for v in result.violations if v.trace.states]
        if traced:
            capture = capture_of(traced[0].trace, title=name, scope=scope)
            return write_capture(out, f"counterexample-{name}", capture), scope
    return None


@pytest.mark.parametrize("name", BAD)
def test_every_exported_counterexample_conforms_to_its_design(name: str, tmp_path: Path) -> None:
    exported = _export(name, tmp_path)
    if exported is None:  # only a `sometimes` property breaks: there is no trace to export
        assert all(p.endswith("_completes") for p in presets()[name].expected_violations)
        return
    where, scope = exported
    events, recorded = read_capture_dir(where)
    assert (
        recorded is not None
        and Scope(**{k: tuple(v) if isinstance(v, list) else v for k, v in recorded.items()})
        == scope
    )
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
