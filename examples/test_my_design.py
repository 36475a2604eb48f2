"""Turn a design TOML into a pytest test (docs/testing.md).

    .venv/bin/pytest examples/test_my_design.py

`check_design` runs the exhaustive check at a small scope, then Hypothesis over the
live machines at a wider one; a failure prints the counterexample steps as
`lifecycle check` does. This example design is known to be wrong (it trusts the
alert alone), so its test is marked as an expected failure to show the output:
delete the mark for your own design.
"""

from pathlib import Path

import pytest

from lifecycle.testing import check_design, load_profile

load_profile()  # ci by default; LIFECYCLE_HYPOTHESIS_PROFILE=deep for nightly runs


@pytest.mark.xfail(reason="trusting the alert alone is a known-bad decision", strict=True)
def test_my_design() -> None:
    check_design(Path(__file__).with_name("my_design.toml"))


def test_reference_design() -> None:
    check_design("reference")
