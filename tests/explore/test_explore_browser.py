"""`lifecycle explore` in headless Chromium: click through a counterexample and into
the state view, and check what the page shows against the model.

The screenshots are saved under test-artifacts/ (gitignored; CI keeps them).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lifecycle.engine import changed_fields
from lifecycle.explore.serve import build
from lifecycle.explore.walk import Walker
from lifecycle.mdm import LifecycleModel, load_design
from lifecycle.render.diagrams import REPORT_PRESET, smallest_scope

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def explorer() -> Iterator[tuple[str, LifecycleModel, Any]]:
    """The explorer of the report's preset, served on a free port in a thread."""
    from werkzeug.serving import make_server

    design = load_design(REPORT_PRESET)
    scope = smallest_scope()
    results: list[Any] = []
    app = build(design, scope, on_check=results.append)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}", LifecycleModel(design, scope), results[0]
    finally:
        server.shutdown()
        thread.join(5)


@pytest.mark.browser
def test_click_through_a_counterexample(chromium: Any, explorer: Any) -> None:
    url, model, result = explorer
    violation = next(v for v in result.violations if v.trace.states)
    trace = violation.trace
    walker = Walker(model)
    ARTIFACTS.mkdir(exist_ok=True)
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url + "/")

    # the home page: the initial state, its enabled steps, a jump per counterexample
    first = walker.init_states[0]
    assert page.locator("#enabled a.take").count() == len(walker.steps(first))
    jumps = page.locator("a.jump")
    assert jumps.count() == sum(1 for v in result.violations if v.trace.states)
    jumps.first.click()

    # the counterexample: its chart, one row per state, the first one current
    page.wait_for_selector("svg.sequence-chart")
    chart = page.locator("svg.sequence-chart").bounding_box()
    assert chart is not None and chart["width"] > 400 and chart["height"] > 150
    assert page.locator("#heading").inner_text().startswith(violation.property)
    assert page.locator("#steps tbody tr").count() == len(trace.states)
    assert page.locator("#position").inner_text() == f"state 0 of {len(trace.states) - 1}"
    if violation.explanation:
        assert violation.explanation in page.locator("#why").inner_text()
    for expected in range(1, len(trace.states)):
        page.locator("#next").click()
        assert page.locator("#position").inner_text().startswith(f"state {expected} ")
        current = page.locator("#steps tr.current")
        assert current.count() == 1
        assert current.locator("td").first.inner_text() == str(expected)
    assert page.locator("#next").count() == 0  # the last state
    page.screenshot(path=str(ARTIFACTS / "explore-counterexample.png"), full_page=True)

    # open the last state in the state view: the path back is the whole trace
    page.locator("#open").click()
    page.wait_for_selector("#history")
    assert page.locator("#history li").count() == len(trace.states)
    changed = changed_fields(trace.states[-2], trace.states[-1])
    assert page.locator("#state tr.changed").count() == len(changed)
    statuses = {
        row.locator("td").nth(0).inner_text(): row.locator(".badge").inner_text()
        for row in page.locator("#properties tbody tr").all()
    }
    if violation.kind.value == "always":
        assert statuses[violation.property] == "violated"

    # take a step: the history grows by one, and the marked fields are the step's
    take = page.locator("#enabled a.take")
    choices = walker.steps(trace.states[-1])
    if choices:
        take.first.click()
        page.wait_for_selector("#history")
        assert page.locator("#history li").count() == len(trace.states) + 1
        step = choices[0]
        assert page.locator("#history li").last.inner_text() == step.text
        moved = changed_fields(trace.states[-1], step.next_state)
        assert page.locator("#state tr.changed").count() == len(moved)
    page.screenshot(path=str(ARTIFACTS / "explore-state.png"), full_page=True)
    assert (ARTIFACTS / "explore-state.png").stat().st_size > 10_000
