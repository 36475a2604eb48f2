"""`check_design`, the pytest recipe: known-bad designs held to their expected
violations, every broken property reported, design files found beside the test
file, the harness' own frames hidden, and a Hypothesis failure's seed printed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import Phase, settings

from lifecycle.engine import check
from lifecycle.mdm import LifecycleModel, Scope, presets
from lifecycle.testing import DesignFailure, check_design, run_length
from lifecycle.testing.harness import SMALL, _resolve

DESIGNS = Path(__file__).parents[2] / "lifecycle" / "mdm" / "designs"


def test_a_known_bad_design_passes_when_only_its_expected_properties_break() -> None:
    check_design("never_learns", hypothesis=False)


def test_without_expected_every_broken_property_is_reported() -> None:
    broken = check(LifecycleModel(presets()["never_learns"], SMALL)).violations
    assert len(broken) >= 2
    with pytest.raises(DesignFailure) as caught:
        check_design("never_learns", hypothesis=False, expected=False)
    text = str(caught.value)
    assert f"{len(broken)} problem(s)" in text
    for v in broken:
        assert f"{v.property} ({v.kind.value})" in text


def test_a_relative_design_file_is_found_beside_the_calling_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mine.toml").write_text((DESIGNS / "never_learns.toml").read_text())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    design = _resolve("mine.toml", str(tmp_path / "test_mine.py"))
    assert design.name == "never_learns"
    with pytest.raises(Exception, match=r"mine\.toml"):
        _resolve("mine.toml", str(elsewhere / "test_other.py"))


def test_pytest_shows_the_test_s_line_not_the_harness_frames(tmp_path: Path) -> None:
    (tmp_path / "never.toml").write_text((DESIGNS / "never_learns.toml").read_text())
    (tmp_path / "test_recipe.py").write_text(
        textwrap.dedent(
            """
            from lifecycle.testing import check_design

            def test_recipe():
                check_design("never.toml", hypothesis=False, expected=False)
            """
        )
    )
    # From another directory: the design file is found beside the test file.
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--tb=long",
            str(tmp_path / "test_recipe.py"),
        ],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
        timeout=300,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "DesignFailure" in proc.stdout and "server_eventually_learns" in proc.stdout
    assert 'check_design("never.toml"' in proc.stdout
    assert "harness.py" not in proc.stdout


def test_a_hypothesis_failure_prints_the_seed_that_replays_it() -> None:
    design = presets()["data_only_alerts"]
    # The budget and seed of tests/testing/test_testing_presets.py, which finds it.
    run = settings(
        max_examples=2000,
        stateful_step_count=run_length(design),
        derandomize=False,
        database=None,
        deadline=None,
        report_multiple_bugs=False,
        phases=(Phase.explicit, Phase.generate),
    )
    with pytest.raises(DesignFailure) as caught:
        check_design(
            design,
            exhaustive=False,
            expected=False,
            hypothesis_scope=design.scope(Scope()),
            settings=run,
            seed=0,
        )
    assert "reproduce with check_design(..., seed=0)" in str(caught.value)
