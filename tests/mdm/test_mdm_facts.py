"""The facts inside the repository: every id the tool prints resolves in docs/facts.md,
every behavioural fact is modelled, and the citation index reads the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lifecycle.engine import check
from lifecycle.mdm import Design, LifecycleModel, catalog, presets
from lifecycle.render.docs import HEADER
from lifecycle.render.facts import anchor, citations, cited_ids, classes, facts_page
from lifecycle.render.report import build_html, report_data

ROOT = Path(__file__).resolve().parents[2]
PRINTED = re.compile(r"\b[FA]\d+\b|real-world \d+(?:\.\d+)?")


def test_the_catalog_has_every_fact_ambiguity_and_interleaving() -> None:
    assert list(catalog.FACTS) == [f"F{n}" for n in range(1, 92)]
    assert list(catalog.AMBIGUITIES) == [f"A{n}" for n in range(1, 20)]
    assert list(catalog.INTERLEAVINGS) == [f"real-world 3.{n}" for n in range(1, 24)]
    for ident, e in catalog.all_entries().items():
        assert e.id == ident
        assert "\n" not in e.statement and 0 < len(e.statement) <= 160, ident
        assert e.source, ident
    for e in catalog.FACTS.values():
        assert e.kind in catalog.FACT_KINDS
        # An informational fact says why it is not modelled.
        assert (e.kind == "informational") <= bool(e.reason), e.id


def test_ranges_and_lists_expand() -> None:
    assert cited_ids("F33-F36 and A10") == ["F33", "F34", "F35", "F36", "A10"]
    assert cited_ids("(real-world 3.1, 3.14, 3.23)") == [
        "real-world 3.1",
        "real-world 3.14",
        "real-world 3.23",
    ]
    assert cited_ids("F99, A42, Fleet #50612") == []


def test_every_behavioural_fact_is_modelled() -> None:
    found = citations()
    missing = [i for i, e in catalog.FACTS.items() if e.kind == "behavioural" and i not in found]
    assert not missing, f"behavioural facts no row, knob or property cites: {missing}"
    counts = classes(found)
    assert counts["behavioural"]["cited"] == counts["behavioural"]["facts"]
    assert sum(c["facts"] for c in counts.values()) == 91


def test_citations_come_from_the_code() -> None:
    """The index reads rows, knobs and properties: a row's fact shows up under it."""
    found = citations()
    assert "row `UserDisconnect` (device)" in found["F31"]
    assert "knob `outcome`" in found["F55"]
    assert "property `server_notified_before_data_deleted`" in found["F4"]
    # The misleading citations are gone: a UI notice and an app provisioning detail.
    assert "F30" not in found and "F38" not in found


def _printed_texts() -> dict[str, str]:
    texts = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md")}
    texts["README.md"] = (ROOT / "README.md").read_text(encoding="utf-8")
    return texts


def test_every_id_the_docs_print_resolves_in_docs_facts() -> None:
    page = (ROOT / "docs" / "facts.md").read_text(encoding="utf-8")
    anchors = set(re.findall(r'<a id="([a-z0-9-]+)"></a>', page))
    for name, text in _printed_texts().items():
        for ident in set(PRINTED.findall(text)):
            assert ident in catalog.all_entries(), f"{name} prints {ident}, not in the catalog"
            assert anchor(ident) in anchors, f"{name} prints {ident}, no entry in docs/facts.md"


def test_docs_facts_is_fresh() -> None:
    page = (ROOT / "docs" / "facts.md").read_text(encoding="utf-8")
    assert page == HEADER + facts_page(), "docs/facts.md is stale: regenerate with `make diagrams`"


@pytest.mark.parametrize("name", ["keyed_by_device_id", "reference"])
def test_the_report_links_every_fact_id_to_its_entry(name: str) -> None:
    design = presets()[name] if name != "reference" else Design()
    model = LifecycleModel(design, design.scope())
    result = check(model)
    html = build_html(report_data(design, design.scope(), model, result))
    links = set(re.findall(r'href="#(fact-[a-z0-9-]+)"', html))
    targets = set(re.findall(r'id="(fact-[a-z0-9-]+)"', html))
    assert links, "the report links no fact"
    assert links <= targets, links - targets
    # No bare id is left in the property table's descriptions.
    table = html.split('id="property-table"')[1].split("</table>")[0]
    bare = re.sub(r"<a [^>]*>[^<]*</a>", "", table)
    assert not re.findall(r"\bF\d+\b", bare)
