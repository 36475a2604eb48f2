"""The `lifecycle` command as a user (or a CI script) runs it: exit codes, JSON shape,
one-line errors with exit code 2, and the progress display."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lifecycle.cli import ProgressDisplay
from lifecycle.engine import Progress


def run(
    *args: str, cwd: Path | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lifecycle", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


def assert_one_line(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    """Exit `code` and one line on stderr, naming each needle: no traceback, and no
    escape sequence reaching the terminal. Returns the line."""
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "\x1b" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert_one_line(proc, 2, *needles)


def test_designs_json_lists_reference_with_no_expected_violations() -> None:
    proc = run("designs", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    designs = json.loads(proc.stdout)
    by_name = {d["name"]: d for d in designs}
    assert by_name["reference"]["expected_violations"] == []
    bad = [d for d in designs if d["name"] != "reference"]
    assert bad, "there must be known-bad presets"
    assert all(d["expected_violations"] for d in bad)
    assert all(set(d) == {"name", "description", "expected_violations"} for d in designs)


def test_check_reference_holds_and_json_has_the_documented_keys() -> None:
    proc = run("check", "--format", "json", "--no-progress")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(proc.stdout)
    for key in (
        "design",
        "scope",
        "ok",
        "complete",
        "distinct_states",
        "generated_states",
        "depth",
        "elapsed_s",
        "properties",
        "violations",
    ):
        assert key in data
    assert data["design"] == "reference"
    assert data["ok"] is True and data["complete"] is True
    assert data["violations"] == []
    assert {p["status"] for p in data["properties"]} == {"holds"}
    names = {p["name"] for p in data["properties"]}
    assert {"no_deadlock", "no_orphaned_aad_device", "cleanup_complete"} <= names


def _first_bad_preset() -> tuple[str, list[str]]:
    designs = json.loads(run("designs", "--format", "json").stdout)
    bad = next(d for d in designs if d["expected_violations"])
    return bad["name"], bad["expected_violations"]


def test_check_bad_preset_exits_1_with_a_shortest_trace() -> None:
    name, expected = _first_bad_preset()
    proc = run(
        "check", "--design", name, "--reenrollments", "0", "--format", "json", "--no-progress"
    )
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data["ok"] is False
    found = {v["property"]: v for v in data["violations"]}
    assert set(expected) & set(found), (expected, list(found))
    violation = found[next(p for p in expected if p in found)]
    if violation["kind"] != "sometimes":
        steps = violation["trace"]
        assert steps[0]["action"] is None
        assert all(isinstance(s["action"], str) and s["action"] for s in steps[1:])
    statuses = {p["name"]: p["status"] for p in data["properties"]}
    assert all(statuses[p] == "violated" for p in found)


def test_check_text_output_shows_table_and_steps() -> None:
    name, _ = _first_bad_preset()
    proc = run("check", "--design", name, "--reenrollments", "0", "--no-progress")
    assert proc.returncode == 1
    assert "violated" in proc.stdout
    assert "shortest counterexample" in proc.stdout or "no reachable state" in proc.stdout
    assert "distinct states" in proc.stdout


def test_bounded_check_is_incomplete_and_reports_unknown() -> None:
    proc = run("check", "--max-states", "50", "--format", "json", "--no-progress")
    assert proc.returncode == 3, proc.stderr
    data = json.loads(proc.stdout)
    assert data["complete"] is False and data["ok"] is False
    assert data["distinct_states"] <= 50
    assert "unknown" in {p["status"] for p in data["properties"]}
    # Safety properties not yet violated must be unknown, never "holds".
    for p in data["properties"]:
        if p["kind"] in ("always", "recoverable", "deadlock"):
            assert p["status"] in ("unknown", "violated"), p


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["check", "--devices", "9"], ["--devices", "9"]),
        (["check", "--design", "no-such-design"], ["no-such-design"]),
        (["check", "--store", "bogus"], ["--store", "bogus"]),
        (["nonsense-command"], ["nonsense-command"]),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(args: list[str], needles: list[str]) -> None:
    assert_one_line_error(run(*args), *needles)


def test_bad_design_file_gives_one_line_naming_file_and_key(tmp_path: Path) -> None:
    design = tmp_path / "mine.toml"
    design.write_text('name = "mine"\nno_such_knob = true\n')
    proc = run("check", "--design", str(design), "--no-progress")
    assert_one_line_error(proc, "mine.toml", "no_such_knob")


def test_report_writes_nothing_half_written_on_bad_input(tmp_path: Path) -> None:
    out = tmp_path / "report"
    proc = run("check", "--design", "no-such-design", "--report", str(out))
    assert proc.returncode == 2
    assert not out.exists()


def test_progress_display_is_quiet_under_a_second_and_plain_off_a_terminal() -> None:
    stream = io.StringIO()
    display = ProgressDisplay(True, stream)
    display(Progress(100, 200, 3, 10, 0.5))
    assert stream.getvalue() == ""
    display(Progress(5000, 9000, 7, 1234, 1.2))
    text = stream.getvalue()
    assert "5,000 states" in text and "depth 7" in text and "queue 1,234" in text
    assert "states/s" in text
    display(Progress(6000, 9500, 8, 10, 2.0))  # within 5 s of the last line: quiet
    assert stream.getvalue() == text
    display(Progress(9000, 19000, 9, 10, 6.5))
    assert stream.getvalue().count("\n") == 2


def test_channel_option_overrides_the_design_knob() -> None:
    def states(channel: str) -> int:
        proc = run(
            "check", "--channel", channel, "--reenrollments", "0", "--format", "json",
            "--no-progress",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return int(json.loads(proc.stdout)["distinct_states"])

    # A reliable channel has no message-loss steps, so strictly fewer states.
    assert states("reliable") < states("lossy")


def test_python_dash_m_and_help() -> None:
    proc = run("--help")
    assert proc.returncode == 0
    for command in ("check", "designs", "matrix"):
        assert command in proc.stdout


def test_an_impossible_knob_combination_gives_one_line_and_exit_2(tmp_path: Path) -> None:
    design = tmp_path / "no_exec.toml"
    design.write_text('server_unenroll = "none"\nexec_done_at = "send"\n')
    proc = run("check", "--design", str(design), "--no-progress")
    assert_one_line_error(proc, "no_exec.toml", "exec_done_at", "server_unenroll", '"outcome"')
    design.write_text('record_key = "by_serial"\n')
    proc = run("check", "--design", str(design), "--no-progress")
    assert_one_line_error(proc, "no_exec.toml", "record_key", '"enrollment", "device_id"')


def test_scope_flags_reach_the_model_and_the_design_file_scope_applies(tmp_path: Path) -> None:
    def figures(*args: str) -> dict[str, object]:
        proc = run("check", "--format", "json", "--no-progress", *args)
        assert proc.returncode in (0, 1), proc.stderr
        data: dict[str, object] = json.loads(proc.stdout)
        return data

    small = ("--reenrollments", "0", "--max-offline", "0", "--no-mdm-toggle")
    plain = figures(*small)
    scope = plain["scope"]
    assert isinstance(scope, dict)
    assert scope["max_offline"] == 0 and scope["mdm_toggle"] is False
    offline = figures("--reenrollments", "0", "--max-offline", "1", "--no-mdm-toggle")
    assert int(offline["distinct_states"]) > int(plain["distinct_states"])  # type: ignore[call-overload]
    # The preset's own scope (two cloned devices) is where its bug shows, and the
    # flags still apply on top of it.
    proc = run(
        "check", "--design", "keyed_by_hardware_id", "--format", "json", "--no-progress",
        "--max-states", "100000",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data["scope"]["devices"] == 2 and data["scope"]["shared_hardware_id"] is True
    assert "server_agrees_when_quiet" in {v["property"] for v in data["violations"]}
    assert_one_line_error(run("check", "--max-offline", "7"), "--max-offline", "7")


#: A small scope: one kind, one platform, no re-enrollment, offline period or MDM switch.
SMALL = [
    "--reenrollments",
    "0",
    "--kind",
    "work_access",
    "--platform",
    "desktop",
    "--max-offline",
    "0",
    "--no-mdm-toggle",
    "--no-progress",
]
SMALL_TWO = ["--devices", "2", *SMALL, "--format", "json"]


def test_symmetry_flag_reduces_verifies_and_reports() -> None:
    safety = [*SMALL_TWO, "--no-liveness"]
    on = json.loads(run("check", *safety, "--max-depth", "12").stdout)
    off = json.loads(run("check", *safety, "--max-depth", "12", "--symmetry", "off").stdout)
    assert on["symmetry"] == "on" and off["symmetry"] == "off"
    assert off["distinct_states"] > 1.5 * on["distinct_states"]
    bounded = run("check", *safety, "--max-states", "500", "--symmetry", "verify")
    assert_one_line_error(bounded, "--symmetry verify", "unreduced search to finish")
    # With the liveness properties (the default), auto does not reduce, and says why;
    # asking for the reduction is a one-line error that names the way out.
    live = json.loads(run("check", *SMALL_TWO, "--max-depth", "12").stdout)
    assert live["symmetry"].startswith("off (liveness property")
    assert live["distinct_states"] == off["distinct_states"]
    refused = run("check", *SMALL_TWO, "--max-depth", "12", "--symmetry", "on")
    assert_one_line_error(refused, "--symmetry on", "--no-liveness")


def test_workers_flag_gives_the_serial_answers_and_rejects_bad_values() -> None:
    one = ["--design", "trusts_alert_alone", "--devices", "1", *SMALL_TWO[2:]]
    serial = json.loads(run("check", *one).stdout)
    assert serial["violations"] and serial["complete"]
    parallel = json.loads(run("check", *one, "--workers", "2").stdout)
    assert serial["workers"] == 1 and parallel["workers"] == 2
    for key in ("ok", "complete", "distinct_states", "generated_states", "depth", "properties"):
        assert parallel[key] == serial[key], key
    assert parallel["violations"] == serial["violations"]
    auto = json.loads(run("check", *one, "--workers", "auto").stdout)
    assert auto["distinct_states"] == serial["distinct_states"] and auto["workers"] >= 1
    for bad in ("0", "-2", "two", "1.5", "nan"):
        assert_one_line_error(run("check", *one, "--workers", bad), "--workers", bad)


def test_ctrl_c_stops_a_parallel_search_with_the_partial_result() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "lifecycle", "check", "--devices", "2", "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the signal goes to this group only, as a terminal's would
    )
    time.sleep(4)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, err
    assert "interrupted (Ctrl-C)" in out and "INCOMPLETE" in out, out
    assert "Traceback" not in err


def test_simulate_finds_a_violation_proves_nothing_and_repeats() -> None:
    args = ["check", "--design", "keyed_by_hardware_id", "--simulate", "300", "--depth", "30"]
    first = run(*args, "--format", "json", "--no-progress")
    assert first.returncode == 1, first.stderr
    data = json.loads(first.stdout)
    assert data["store"] == "simulation" and not data["complete"] and not data["ok"]
    assert "simulation: 300 of 300 runs" in data["stop_reason"]
    statuses = {p["name"]: p["status"] for p in data["properties"]}
    assert statuses["server_agrees_when_quiet"] == "violated"
    # A simulation never proves: only a witnessed `sometimes` may hold.
    kinds = {p["name"]: p["kind"] for p in data["properties"]}
    assert "holds" not in {s for n, s in statuses.items() if kinds[n] != "sometimes"}
    again = run(*args, "--format", "json", "--no-progress", "--workers", "2")
    assert json.loads(again.stdout)["violations"] == data["violations"]
    reference = run("check", "--devices", "1", "--simulate", "50", "--no-progress")
    assert reference.returncode == 3, reference.stderr  # nothing found, nothing proven
    assert_one_line_error(run("check", "--simulate", "5", "--max-states", "9"), "--simulate")


def test_a_liveness_violation_is_a_lasso_in_text_and_json() -> None:
    args = ["check", "--design", "never_learns", *SMALL]
    text = run(*args)
    assert text.returncode == 1, text.stderr
    assert (
        "server_eventually_learns (leads_to) violated; a fair behaviour that never" in text.stdout
    )
    assert "liveness under fairness:" in text.stdout
    data = json.loads(run(*args, "--format", "json").stdout)
    (lasso,) = [v for v in data["violations"] if v["property"] == "server_eventually_learns"]
    assert lasso["kind"] == "leads_to"
    start = lasso["cycle_start"]
    assert isinstance(start, int) and 0 <= start < len(lasso["trace"])
    assert lasso["closing"]  # the action back to cycle_start, or STUTTER
    assert lasso["trace"][0]["action"] is None
    safety = [v for v in data["violations"] if v["kind"] == "always"]
    assert all(v["cycle_start"] is None for v in safety)
    assert data["fairness"] and any("finitely often" in f for f in data["fairness"])
