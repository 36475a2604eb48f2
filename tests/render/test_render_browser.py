"""The HTML report really renders: open it in headless Chromium and measure it.

Needs Chromium (installed by `make test` and `.ci/run`). When it is missing the test
FAILS with the command to install it; it never skips, so CI cannot silently lose it.
Set LIFECYCLE_CHROMIUM to use a browser binary at another path. The screenshot is
saved under test-artifacts/ (gitignored; CI keeps it as an artifact).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from lifecycle.engine import check
from lifecycle.mdm import LifecycleModel, Scope, load_design
from lifecycle.render.report import write_report

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    configured = os.environ.get("LIFECYCLE_CHROMIUM")
    if configured:
        return configured
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "headless Chromium is needed for the report test and was not found; install it "
        "(sudo apt-get install chromium, or run `make test` as root) or set "
        "LIFECYCLE_CHROMIUM to its path",
        pytrace=False,
    )


@pytest.mark.browser
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - a broken set-up, not a skip
        pytest.fail(
            "the playwright package is missing: install the dev extras "
            "(.venv/bin/pip install -e '.[dev]', which `make test` does)",
            pytrace=False,
        )

    from lifecycle.render.diagrams import REPORT_PRESET, smallest_scope

    design = load_design(REPORT_PRESET)
    scope: Scope = smallest_scope()
    model = LifecycleModel(design, scope)
    result = check(model)
    assert result.violations, f"{REPORT_PRESET} should have a counterexample"
    path = write_report(tmp_path / "report", design, scope, model, result)

    executable = _chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
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
        finally:
            browser.close()
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000
