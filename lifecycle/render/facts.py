"""The fact ids the code cites, and `docs/facts.md`: every fact, ambiguity decision and
real-world interleaving with how it is modelled, generated from the citations.

A citation is an id in a place the tool prints or acts on: a row's ``facts``, a knob's
documentation and source, a property's description, a preset's description, an
interleaving's witness (`lifecycle.mdm.interleavings`), and the ``FACTS`` tuple of a
`lifecycle.syncml` module. Ranges (``F33-F36``) and lists
(``real-world 3.1, 3.14``) are expanded, so "cited" means the same everywhere: the
page, the report's links and the test that counts the classes read one index.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
from collections.abc import Iterable, Iterator
from typing import Any

from lifecycle.mdm import catalog

_RANGE = re.compile(r"\b([FA])(\d+)(?:\s*[-–]\s*\1?(\d+))?\b")
_REAL_WORLD = re.compile(r"real-world\s+(\d+(?:\.\d+)?(?:\s*,\s*\d+\.\d+)*)")
#: Any printed id, for the link rewriting of the HTML report.
ID_PATTERN = re.compile(r"\b[FA]\d+\b|real-world \d+(?:\.\d+)?")


def cited_ids(text: str) -> list[str]:
    """The catalog ids `text` cites, in order, ranges and lists expanded."""
    out: list[str] = []
    for letter, first, last in _RANGE.findall(text):
        lo = int(first)
        hi = int(last) if last else lo
        out.extend(f"{letter}{n}" for n in range(lo, max(lo, hi) + 1))
    for group in _REAL_WORLD.findall(text):
        out.extend(f"real-world {n.strip()}" for n in group.split(","))
    return list(dict.fromkeys(i for i in out if i in catalog.all_entries()))


def anchor(ident: str) -> str:
    """The id's anchor in docs/facts.md and in the report: ``f14``, ``a10``, ``rw-3-8``."""
    if ident.startswith("real-world "):
        return "rw-" + ident.split()[1].replace(".", "-")
    return ident.lower()


def _syncml_citations() -> Iterator[tuple[str, str]]:
    """(id, where) for each ``FACTS`` tuple of a `lifecycle.syncml` module, if any."""
    try:
        package = importlib.import_module("lifecycle.syncml")
    except ImportError:
        return
    for info in pkgutil.iter_modules(package.__path__, "lifecycle.syncml."):
        module = importlib.import_module(info.name)
        for ident in getattr(module, "FACTS", ()):
            yield ident, f"`{info.name}`"


def citations() -> dict[str, list[str]]:
    """Id -> where the code cites it (row, knob, property, preset, syncml module)."""
    from lifecycle.mdm import Design, LifecycleModel, presets
    from lifecycle.mdm.design import knob_fields
    from lifecycle.mdm.tables import REFERENCE

    found: dict[str, list[str]] = {}

    def add(ids: Iterable[str], where: str) -> None:
        for ident in ids:
            places = found.setdefault(ident, [])
            if where not in places:
                places.append(where)

    for row in REFERENCE.rows():
        add(cited_ids(" ".join(row.facts)), f"row `{row.trigger}` ({row.machine})")
    for f in knob_fields():
        add(cited_ids(f"{f.metadata['doc']} {f.metadata['source']}"), f"knob `{f.name}`")
    # Every witness is built at a scope that allows every path.
    from lifecycle.mdm import Scope

    scope = dataclasses.replace(
        Scope(),
        kinds=("work_access", "aad_join", "bulk", "aad_registered"),
        platforms=("desktop", "mobile"),
    )
    for p in LifecycleModel(Design(), scope).properties():
        add(cited_ids(p.description), f"property `{p.name}`")
    for name, design in presets().items():
        if name != "reference":
            add(cited_ids(design.description), f"preset `{name}`")
    from lifecycle.mdm.interleavings import INTERLEAVINGS

    for item in INTERLEAVINGS:
        if item.holds is not None:
            add([item.id], f"witness in `lifecycle.mdm.interleavings` (design `{item.design}`)")
    for ident, where in _syncml_citations():
        add([ident], where)
    return found


def classes(found: dict[str, list[str]] | None = None) -> dict[str, dict[str, int]]:
    """Per fact class: how many facts it has and how many the code cites."""
    found = citations() if found is None else found
    out: dict[str, dict[str, int]] = {}
    for kind in catalog.FACT_KINDS:
        ids = [i for i, e in catalog.FACTS.items() if e.kind == kind]
        out[kind] = {"facts": len(ids), "cited": sum(i in found for i in ids)}
    return out


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def facts_page(witnesses: dict[str, str] | None = None) -> str:
    """The body of docs/facts.md (`lifecycle.render.docs` adds the generated-page
    header). `witnesses`: interleaving id -> its witness note (computed by
    `lifecycle.mdm.interleavings` when not given)."""
    found = citations()
    counts = classes(found)
    if witnesses is None:
        witnesses = _interleaving_witnesses()
    out = [
        "# Facts, ambiguity decisions and real-world interleavings\n\n",
        "Every id that `lifecycle check`, the HTML report and these docs print resolves "
        "here. Each entry says what it states (in this project's words), where it comes "
        "from, its class, and how the model uses it: the rows, design knobs, properties, "
        "presets and SyncML modules that cite it, collected from the code. The sources "
        "are the Microsoft documents, the OMA DM specification and the public issue "
        "threads listed under [Sources](#sources).\n\n",
        "Classes: **behavioural** facts constrain what a party does or in which order, "
        "and are modelled by rows, knobs and properties; **wire** facts fix the message "
        "format (package structure, codes, MsgIDs) and belong to the SyncML layer; "
        "**informational** facts are recorded with the reason they are not modelled.\n\n",
        "| class | facts | cited in the code |\n|---|---|---|\n",
    ]
    for kind, c in counts.items():
        out.append(f"| {kind} | {c['facts']} | {c['cited']} |\n")
    total = sum(c["cited"] for c in counts.values())
    out.append(f"| all | {len(catalog.FACTS)} | {total} |\n\n")
    out.append("## Facts\n\n")
    for ident, e in catalog.FACTS.items():
        out.append(_entry(ident, e, found))
    out.append("## Ambiguity decisions\n\n")
    for ident, e in catalog.AMBIGUITIES.items():
        out.append(_entry(ident, e, found))
    out.append("## Real-world interleavings\n\n")
    for ident, e in catalog.INTERLEAVINGS.items():
        out.append(_entry(ident, e, found, witnesses.get(ident)))
    out.append("## Other real-world sections\n\n")
    for ident, e in catalog.SECTIONS.items():
        out.append(_entry(ident, e, found))
    out.append('<a id="sources"></a>\n\n## Sources\n\n| key | document |\n|---|---|\n')
    for key, text in catalog.SOURCES.items():
        out.append(f"| {key} | {_cell(text)} |\n")
    return "".join(out)


def _entry(
    ident: str, e: catalog.Entry, found: dict[str, list[str]], witness: str | None = None
) -> str:
    places = found.get(ident, [])
    lines = [
        f'<a id="{anchor(ident)}"></a>\n\n',
        f"### {ident} ({e.kind})\n\n",
        f"{_cell(e.statement)}\n\n",
        f"- Source: {_cell(e.source)}\n",
    ]
    if places:
        lines.append(f"- Modelled by: {', '.join(places)}\n")
    elif e.kind == "informational":
        lines.append(f"- Not modelled: {_cell(e.reason)}\n")
    elif e.kind == "wire":
        lines.append("- Not cited yet: a wire-format fact, for the SyncML layer.\n")
    else:
        lines.append("- Not cited in the code yet.\n")
    if e.kind == "informational" and places and e.reason:
        lines.append(f"- Only partly modelled: {_cell(e.reason)}\n")
    if witness is not None:
        lines.append(f"- Witness: {witness}\n")
    lines.append("\n")
    return "".join(lines)


def _interleaving_witnesses() -> dict[str, str]:
    try:
        module = importlib.import_module("lifecycle.mdm.interleavings")
    except ImportError:
        return {}
    notes: dict[str, str] = module.witness_notes()
    return notes


def link_ids(escaped_html: str, prefix: str = "fact-") -> tuple[str, list[str]]:
    """Turn each catalog id in already-escaped HTML into a link to its entry
    (``#fact-f14``); return the new HTML and the ids linked, in order."""
    linked: list[str] = []

    def link(match: re.Match[str]) -> str:
        ident = match.group(0)
        if ident not in catalog.all_entries():
            return ident
        linked.append(ident)
        return f'<a href="#{prefix}{anchor(ident)}">{ident}</a>'

    return ID_PATTERN.sub(link, escaped_html), list(dict.fromkeys(linked))
