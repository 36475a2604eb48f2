"""What `lifecycle check` tells a CI system: the JSON object against its published
schema (docs/check-output.schema.json), coverage and witnesses as the engine computed
them, `--expected` for designs that are meant to break, and JUnit XML."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from lifecycle.cli import expectation
from lifecycle.engine import check
from lifecycle.mdm import LifecycleModel, Scope, presets
from tests.test_cli import SMALL, assert_one_line, run

SCHEMA = json.loads(
    (Path(__file__).parents[1] / "docs" / "check-output.schema.json").read_text("utf-8")
)
SMALL_SCOPE = Scope(
    reenrollments=0,
    kinds=("work_access",),
    platforms=("desktop",),
    max_offline=0,
    mdm_toggle=False,
)


def _json(*args: str) -> tuple[int, dict]:
    proc = run("check", *args, *SMALL, "--format", "json")
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture(scope="module")
def never_learns() -> dict:
    code, data = _json("--design", "never_learns")
    assert code == 1
    return data


def test_the_json_output_follows_its_schema_holding_violated_and_incomplete(
    never_learns: dict,
) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    code, holding = _json()
    assert code == 0
    code, cut = _json("--max-states", "50")
    assert code == 3
    for data in (holding, never_learns, cut):
        jsonschema.validate(data, SCHEMA)
        assert data["schema_version"] == 1 and data["command_line"][0] == "check"
    assert any(v["cycle_start"] is not None for v in never_learns["violations"])
    # Every violation explains itself, naming the device that breaks it (F55).
    for v in never_learns["violations"]:
        if not v["trace"]:
            assert v["explanation"] == "no reachable state satisfies it", v
        elif v["property"] != "deadlock":
            assert "device 0" in v["explanation"], v
    why = {v["property"]: v["explanation"] for v in never_learns["violations"]}
    assert "F55" in why["server_eventually_learns"]
    # The schema is strict enough to fail: a property status it does not know.
    broken = json.loads(json.dumps(holding))
    broken["properties"][0]["status"] = "fine"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


def test_coverage_and_witnesses_are_the_engine_s(never_learns: dict) -> None:
    result = check(LifecycleModel(presets()["never_learns"], SMALL_SCOPE))
    coverage = never_learns["coverage"]
    assert coverage["never_enabled"] == list(result.coverage.never_enabled)
    assert coverage["actions"] == {
        name: {"enabled": c.enabled, "new_states": c.new_states}
        for name, c in result.coverage.actions.items()
    }
    assert set(never_learns["witnesses"]) == set(result.witnesses)
    for name, trace in result.witnesses.items():
        steps = never_learns["witnesses"][name]
        assert len(steps) == len(trace.states) and steps[0]["action"] is None


def test_the_text_output_warns_of_actions_never_enabled_and_lists_them_on_demand() -> None:
    plain = run("check", "--design", "never_learns", *SMALL)
    assert "action(s) never enabled at this scope" in plain.stdout
    assert "why: device 0 (work_access, desktop, enrollment 1, phase 'dormant')" in plain.stdout
    assert "new states" not in plain.stdout
    listed = run("check", "--design", "never_learns", *SMALL, "--coverage")
    assert "new states" in listed.stdout and "<- never enabled" in listed.stdout


def _design_file(tmp_path: Path, expected: list[str]) -> Path:
    source = (Path(__file__).parents[1] / "lifecycle/mdm/designs/never_learns.toml").read_text()
    lines = [
        f"expected_violations = {json.dumps(expected)}"
        if line.startswith("expected_violations")
        else line
        for line in source.splitlines()
    ]
    path = tmp_path / "mine.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_expected_exits_0_only_for_exactly_the_expected_violations(
    tmp_path: Path, never_learns: dict
) -> None:
    broken = [v["property"] for v in never_learns["violations"]]
    exact = _design_file(tmp_path, broken)
    proc = run("check", "--design", str(exact), *SMALL, "--expected")
    assert proc.returncode == 0, proc.stderr
    assert "as expected" in proc.stderr
    # Without the flag the exit code is the plain verdict.
    assert run("check", "--design", str(exact), *SMALL).returncode == 1
    # One expected violation too many (a property that holds), or one too few.
    for wrong, needle in (
        ([*broken, "no_orphaned_aad_device"], "expected but holding: no_orphaned_aad_device"),
        (broken[1:], f"violated but not expected: {broken[0]}"),
    ):
        proc = run("check", "--design", str(_design_file(tmp_path, wrong)), *SMALL, "--expected")
        assert_one_line(proc, 1, "NOT as expected", needle)
    # A cut search that found nothing unexpected leaves the expectation open.
    proc = run("check", "--design", str(exact), *SMALL, "--expected", "--max-states", "30")
    assert_one_line(proc, 3, "expectation undecided")
    # The reference expects nothing and breaks nothing.
    assert run("check", *SMALL, "--expected").returncode == 0


def test_expectation_is_undecided_only_while_nothing_contradicts_it() -> None:
    design = presets()["never_learns"]
    result = check(LifecycleModel(design, SMALL_SCOPE), max_states=30)
    e = expectation(design, result)
    assert result.complete is False
    assert e["as_expected"] is (False if e["unexpected"] else None)


def test_junit_has_one_testcase_per_property_and_fails_the_violated(
    tmp_path: Path, never_learns: dict
) -> None:
    out = tmp_path / "junit.xml"
    proc = run("check", "--design", "never_learns", *SMALL, "--junit", str(out))
    assert proc.returncode == 1, proc.stderr
    suite = ET.parse(out).getroot()
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert set(cases) == {p["name"] for p in never_learns["properties"]}
    failed = {n for n, c in cases.items() if c.find("failure") is not None}
    assert failed == {v["property"] for v in never_learns["violations"]}
    assert suite.get("failures") == str(len(failed))
    lasso = next(v["property"] for v in never_learns["violations"] if v["cycle_start"] is not None)
    failure = cases[lasso].find("failure")
    assert failure is not None and "repeat for ever" in (failure.text or "")
    assert "device 0" in (failure.get("message") or "")
    # A cut search: nothing passes that was not decided, the unknown are skipped.
    cut = tmp_path / "cut.xml"
    run("check", *SMALL, "--max-states", "50", "--junit", str(cut))
    skipped = [c for c in ET.parse(cut).getroot().iter("testcase") if c.find("skipped") is not None]
    messages = [c.find("skipped").get("message") or "" for c in skipped]  # type: ignore[union-attr]
    assert any(m.startswith("unknown") for m in messages)
    assert all(m.startswith(("unknown", "not applicable: ")) for m in messages), messages


def test_an_unwritable_junit_file_is_one_line_after_the_verdict_with_exit_5(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = run("check", *SMALL, "--junit", str(blocker / "junit.xml"))
    assert_one_line(proc, 5, "--junit", "cannot write the JUnit file")
    assert "all checked properties hold" in " ".join(proc.stdout.split())


def test_max_memory_stops_the_check_incomplete_and_refuses_bad_sizes() -> None:
    proc = run("check", *SMALL, "--max-memory", "1K", "--format", "json")
    assert proc.returncode == 3, proc.stderr
    data = json.loads(proc.stdout)
    assert "max_memory" in data["stop_reason"] and not data["complete"]
    assert "holds" not in {p["status"] for p in data["properties"]}
    for bad in ("4X", "0", "nan", "-1G"):
        assert_one_line(run("check", "--max-memory", bad), 2, "--max-memory", bad)
    assert_one_line(
        run("check", "--max-memory", "1G", "--backend", "ray"), 2, "--max-memory", "local"
    )
    # Several workers: the coordinator and its workers together.
    proc = run("check", *SMALL, "--max-memory", "1K", "--workers", "2", "--format", "json")
    assert proc.returncode == 3, proc.stderr
    data = json.loads(proc.stdout)
    assert "2 workers" in data["stop_reason"] and not data["complete"]


def test_matrix_checks_the_design_files_given_with_a_line_per_design(tmp_path: Path) -> None:
    mine = _design_file(tmp_path, ["server_eventually_learns"])
    scope = [a for a in SMALL if a != "--no-progress"]
    proc = run("matrix", str(mine), "reference", *scope, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [r["design"] for r in rows] == ["never_learns", "reference"]
    assert rows[0]["caught"] and "server_eventually_learns" in rows[0]["found"]
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("[1/2] never_learns: caught") and lines[1].startswith(
        "[2/2] reference: holds"
    )
    quiet = run("matrix", "reference", *SMALL, "--format", "json")
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert_one_line(run("matrix", str(tmp_path / "missing.toml")), 2, "missing.toml")


def test_every_scope_field_has_a_flag_that_reaches_the_model() -> None:
    import dataclasses

    from lifecycle.cli import SCOPE_FLAGS

    fields = {f.name for f in dataclasses.fields(Scope)}
    assert fields == set(SCOPE_FLAGS)
    code, both = _json()
    assert both["scope"]["local_admin"] == [True, False]
    code, narrowed = _json(
        "--local-admin", "yes", "--manual-unenroll", "no", "--max-in-flight", "1"
    )
    assert code == 0
    assert narrowed["scope"]["local_admin"] == [True]
    assert narrowed["scope"]["manual_unenroll"] == [False]
    assert narrowed["scope"]["max_in_flight"] == 1
    assert narrowed["distinct_states"] < both["distinct_states"]
    assert_one_line(run("check", "--max-in-flight", "9"), 2, "--max-in-flight")


def test_a_design_s_own_counterexamples_are_drawn_as_svg_and_mermaid(
    tmp_path: Path, never_learns: dict
) -> None:
    out = tmp_path / "charts"
    proc = run("check", "--design", "never_learns", *SMALL, "--diagrams", str(out))
    assert proc.returncode == 1, proc.stderr
    drawn = [v["property"] for v in never_learns["violations"] if v["trace"]]
    for prop in drawn:
        svg = out / f"counterexample-never_learns-{prop}.svg"
        ET.parse(svg)  # well-formed
        mermaid = (out / f"counterexample-never_learns-{prop}.mmd").read_text()
        assert mermaid.startswith("sequenceDiagram")
    lasso = next(v["property"] for v in never_learns["violations"] if v["cycle_start"] is not None)
    assert "loop" in (out / f"counterexample-never_learns-{lasso}.mmd").read_text()
    assert len(list(out.iterdir())) == 2 * len(drawn)
    # The same from `lifecycle diagrams --design`, for a design file.
    mine = _design_file(tmp_path, [])
    again = tmp_path / "again"
    scope = [a for a in SMALL if a != "--no-progress"]
    proc = run("diagrams", "--design", str(mine), *scope, "--out", str(again))
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in again.iterdir()) == sorted(p.name for p in out.iterdir())
    _assert_unwritable(tmp_path, "--diagrams", "cannot write the diagrams")


def test_a_scope_that_leaves_a_property_without_meaning_never_reports_it_as_holding() -> None:
    code, small = _json()
    assert code == 0
    status = {p["name"]: p for p in small["properties"]}
    # SMALL: work_access only, no re-enrollment, one device, no MDM switch.
    for name in (
        "no_orphaned_aad_device",
        "no_stale_unenroll",
        "mdm_off_admits_nothing",
        "sessions_stay_in_their_enrollment",
    ):
        assert status[name]["status"] == "not applicable" and status[name]["reason"], name
    text = " ".join(run("check", *SMALL).stdout.split())
    assert "all checked properties hold (4 not applicable)" in text
    assert "no_orphaned_aad_device: not applicable: no Azure AD kind" in text
    wider = ["--kind", "aad_join", "--mdm-toggle", "--reenrollments", "1", "--format", "json"]
    wide = json.loads(run("check", *SMALL, *wider).stdout)  # the later flags win
    assert "not applicable" not in {p["status"] for p in wide["properties"]}
    # Disconnect always allowed, and no Azure AD enrollment: nothing to refuse.
    allowed = json.loads(
        run("check", *SMALL, "--manual-unenroll", "yes", "--format", "json").stdout
    )
    status = {p["name"]: p["status"] for p in allowed["properties"]}
    assert status["manual_unenroll_policy_respected"] == "not applicable"


def test_a_design_s_counterexamples_are_exported_as_syncml_captures(
    tmp_path: Path, never_learns: dict
) -> None:
    out = tmp_path / "captures"
    proc = run("check", "--design", "never_learns", *SMALL, "--syncml", str(out))
    assert proc.returncode == 1, proc.stderr
    exported = [v["property"] for v in never_learns["violations"] if v["trace"]]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"counterexample-never_learns-{prop}" for prop in exported
    )
    for prop in exported:
        capture = out / f"counterexample-never_learns-{prop}"
        manifest = json.loads((capture / "manifest.json").read_text())
        files = [m["file"] for m in manifest["messages"] if m["syncml"]]
        assert files and sorted(files) == sorted(p.name for p in capture.glob("*.xml"))
    _assert_unwritable(tmp_path, "--syncml", "cannot write the capture")


def test_check_and_its_report_need_no_graphviz(tmp_path: Path) -> None:
    """`make check` installs no Graphviz: the check and its HTML report draw none."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PATH": str(tmp_path)}  # no `dot` anywhere on it
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "lifecycle",
            "check",
            "--design",
            "never_learns",
            *SMALL,
            "--report",
            str(tmp_path / "r"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 1, proc.stderr
    assert "<svg" in (tmp_path / "r" / "report.html").read_text()


def _assert_unwritable(tmp_path: Path, flag: str, message: str) -> None:
    """`check FLAG DIR` where DIR cannot be made (a file is in the way): one line after
    the verdict, and exit 5."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = run("check", "--design", "never_learns", *SMALL, flag, str(blocker / "d"))
    assert_one_line(proc, 5, message)
    assert "violated" in proc.stdout
