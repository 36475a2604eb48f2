"""Shared test set-up. Keep it small; append fixtures rather than rewrite.

Hypothesis runs under the `ci` profile (derandomized, fast) unless
LIFECYCLE_HYPOTHESIS_PROFILE=deep selects the nightly one (lifecycle/testing/profiles.py).
"""

from lifecycle.testing.profiles import load_profile

load_profile()


# ------------------------------------------------------------------ headless Chromium
import os  # noqa: E402
import shutil  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

#: How the browser tests start Debian's Chromium: no network of its own (the machine
#: has none, and its connection attempts would be refused many at a time).
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
        "headless Chromium is needed for the browser tests and was not found; install it "
        "(sudo apt-get install chromium, or run `make test` as root) or set "
        "LIFECYCLE_CHROMIUM to its path",
        pytrace=False,
    )


@pytest.fixture
def chromium() -> Iterator[Any]:
    """A headless Chromium driven by Playwright. Missing Chromium or Playwright FAILS
    the test with the command that installs it; it never skips, so CI cannot silently
    lose a browser test."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - a broken set-up, not a skip
        pytest.fail(
            "the playwright package is missing: install the dev extras "
            "(.venv/bin/pip install -e '.[dev]', which `make test` does)",
            pytrace=False,
        )
    executable = _chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
