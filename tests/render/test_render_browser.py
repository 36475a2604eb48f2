"""The HTML report really renders: open it in headless Chromium and measure it.

Needs Chromium (installed by `make test` and `.ci/run`). When it is missing the test
FAILS with the command to install it; it never skips, so CI cannot silently lose it.
Set LIFECYCLE_CHROMIUM to use a browser binary at another path. The screenshot is
saved under test-artifacts/ (gitignored; CI keeps it as an artifact).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lifecycle.engine import check
from lifecycle.mdm import LifecycleModel, Scope, load_design
from lifecycle.render.report import write_report

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.mark.browser
def test_report_renders_in_headless_chromium(tmp_path: Path, chromium: Any) -> None:
    from lifecycle.render.diagrams import REPORT_PRESET, smallest_scope

    design = load_design(REPORT_PRESET)
    scope: Scope = smallest_scope()
    model = LifecycleModel(design, scope)
    result = check(model)
    assert result.violations, f"{REPORT_PRESET} should have a counterexample"
    path = write_report(tmp_path / "report", design, scope, model, result)

    ARTIFACTS.mkdir(exist_ok=True)
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto(path.resolve().as_uri())
    table = page.locator("#property-table")
    box = table.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 50
    rows = table.locator("tbody tr")
    assert rows.count() == len(result.properties)
    violated = table.locator("td.status-violated")
    assert violated.count() >= 1
    status_box = violated.first.bounding_box()
    assert status_box is not None and status_box["width"] > 0

    charts = page.locator("svg.sequence-chart")
    assert charts.count() == sum(1 for v in result.violations if v.trace.states)
    chart_box = charts.first.bounding_box()
    assert chart_box is not None and chart_box["width"] > 400
    assert chart_box["height"] > 150
    # six lifelines and a visible failing step
    assert charts.first.locator("g.lifeline").count() == 6
    failing = charts.first.locator("g.failing-step")
    assert failing.count() == 1
    failing_box = failing.bounding_box()
    assert failing_box is not None and failing_box["height"] > 10
    # changed fields highlighted in the step table
    ins = page.locator("table.steps ins").first
    ins_box = ins.bounding_box()
    assert ins_box is not None and ins_box["width"] > 0
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000
