"""docs/model.md carries the generated states-and-transitions block, fresh, and a
decision for each of the 19 ambiguities."""

from __future__ import annotations

import re
from pathlib import Path

from lifecycle.mdm.reference import BEGIN, END, model_reference_markdown, splice

DOC = Path(__file__).resolve().parents[2] / "docs" / "model.md"


def test_generated_block_is_fresh() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert BEGIN in text and END in text
    assert splice(text) == text, "docs/model.md is stale: regenerate with lifecycle.mdm.reference"


def test_every_ambiguity_is_decided() -> None:
    text = DOC.read_text(encoding="utf-8")
    for n in range(1, 20):
        assert re.search(rf"^\| A{n} \|", text, re.MULTILINE), f"A{n} has no decision row"


def test_generated_text_names_every_trigger_and_knob() -> None:
    from lifecycle.mdm import knobs
    from lifecycle.mdm.tables import all_rows

    text = model_reference_markdown()
    for r in all_rows():
        assert f"`{r.trigger}`" in text
    for k in knobs():
        assert f"`{k['name']}`" in text
