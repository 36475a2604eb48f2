"""The self-contained HTML report written by `lifecycle check --report DIR`.

One file, no scripts, no external resources: a summary, the property table, and for
each counterexample an inline SVG sequence chart and a table of steps in which the
fields that changed are highlighted. It opens from a CI artifact or an e-mail
attachment as it is.

The page is rendered from ``templates/report.html.j2`` (which extends the shared
``base.html.j2``) by `lifecycle.render.templates.environment`, which autoescapes:
names, descriptions and state values go in as plain text; only the inline SVG and the
fact-id links built here from escaped text are `Markup`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from lifecycle.mdm import catalog
from lifecycle.render.facts import anchor, link_ids
from lifecycle.render.files import write_atomic
from lifecycle.render.sequence import SequenceChart, to_svg
from lifecycle.render.templates import environment
from lifecycle.render.traces import StepRow, trace_chart, trace_rows

REPORT_NAME = "report.html"


@dataclass(frozen=True)
class CounterexampleView:
    """What the report shows for one violated property."""

    property: str
    kind: str
    description: str
    chart: SequenceChart | None
    rows: tuple[StepRow, ...]
    initial: tuple[tuple[str, str], ...] = ()
    message: str = ""
    #: Why the trace breaks the property (`Violation.explanation`).
    explanation: str = ""


@dataclass(frozen=True)
class PropertyRow:
    name: str
    kind: str
    status: str
    description: str
    steps: int | None = None


@dataclass(frozen=True)
class ReportData:
    title: str
    verdict: str
    ok: bool
    summary: tuple[tuple[str, str], ...]
    properties: tuple[PropertyRow, ...]
    counterexamples: tuple[CounterexampleView, ...]
    notes: tuple[str, ...] = ()


#: The template of the page (lifecycle/render/templates/), which extends the base
#: template that holds the CSS.
TEMPLATE = "report.html.j2"


def _status_class(status: str) -> str:
    return f"status-{status}" if status in ("holds", "violated", "unknown") else ""


@dataclass(frozen=True)
class _PropertyCell:
    name: str
    kind: str
    status: str
    status_class: str
    steps: int | None
    #: The description, escaped, with its fact ids linked.
    description: Markup


@dataclass(frozen=True)
class _StepCell:
    index: int
    actor: str
    action: str
    failing: bool
    changes: tuple[tuple[str, str, str], ...]
    #: The step's facts, escaped and linked ("" when it cites none).
    facts: Markup


@dataclass(frozen=True)
class _CounterexampleCell:
    property: str
    kind: str
    description: str
    message: str
    #: Escaped and linked.
    explanation: Markup
    #: The inline sequence chart (`to_svg` escapes what it draws), or None.
    svg: Markup | None
    initial: tuple[tuple[str, str], ...]
    rows: tuple[_StepCell, ...]


@dataclass(frozen=True)
class _FactCell:
    ident: str
    anchor: str
    kind: str
    statement: str
    source: str


class _Linker:
    """Escapes text and links each fact id in it to the "Facts cited" section,
    remembering the ids in the order the page shows them."""

    def __init__(self) -> None:
        self.cited: list[str] = []

    def __call__(self, text: str) -> Markup:
        html, ids = link_ids(str(escape(text)))
        self.cited.extend(i for i in ids if i not in self.cited)
        # link_ids only adds <a href="#fact-..."> around ids in text escaped above.
        return Markup(html)


def _context(data: ReportData) -> dict[str, Any]:
    """What the template reads. Plain strings are escaped by the template; the
    Markup values were built here from escaped parts. The links are made in page
    order, so the facts section lists the ids in the order they are first shown."""
    linked = _Linker()
    properties = [
        _PropertyCell(
            p.name, p.kind, p.status, _status_class(p.status), p.steps, linked(p.description)
        )
        for p in data.properties
    ]
    counterexamples = []
    for cx in data.counterexamples:
        explanation = linked(cx.explanation) if cx.explanation else Markup("")
        svg = Markup(to_svg(cx.chart)) if cx.chart is not None else None
        rows = tuple(
            _StepCell(
                row.index,
                row.actor,
                row.action,
                bool(row.failing),
                tuple(row.changes),
                linked(row.facts) if row.facts else Markup(""),
            )
            for row in cx.rows
        )
        counterexamples.append(
            _CounterexampleCell(
                cx.property,
                cx.kind,
                cx.description,
                cx.message,
                explanation,
                svg,
                cx.initial,
                rows,
            )
        )
    facts = []
    for ident in linked.cited:
        e = catalog.entry(ident)
        facts.append(_FactCell(ident, anchor(ident), e.kind, e.statement, e.source))
    return {
        "title": data.title,
        "verdict": data.verdict,
        "verdict_class": "ok" if data.ok else ("bad" if data.counterexamples else "unknown"),
        "summary": data.summary,
        "notes": data.notes,
        "properties": properties,
        "counterexamples": counterexamples,
        "facts": facts,
    }


def build_html(data: ReportData) -> str:
    """The report as one HTML document (deterministic for the same data), rendered
    from `templates/report.html.j2`."""
    return environment().get_template(TEMPLATE).render(_context(data))


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_scope(scope: Any) -> str:
    """One line for a scope: `devices=1, reenrollments=1, ...` (or its own text)."""
    described = scope.describe() if hasattr(scope, "describe") else scope
    if isinstance(described, dict):
        return ", ".join(f"{k}={_plain(v)}" for k, v in described.items())
    return str(described)


def _plain(value: Any) -> str:
    if value is None:
        return "unbounded"
    if isinstance(value, (tuple, list)):
        return "/".join(_plain(v) for v in value) or "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def report_data(design: Any, scope: Any, model: Any, result: Any) -> ReportData:
    """Collect what the report shows from a check result (any engine model works;
    the MDM model's `describe_action`/`actor_of` make the charts richer)."""
    from lifecycle.engine import state_fields

    design_name = str(getattr(design, "name", design))
    scope_text = describe_scope(scope)
    if result.ok:
        verdict = "All properties hold (complete search)."
    elif result.violations:
        names = ", ".join(v.property for v in result.violations)
        verdict = f"Violated: {names}."
    else:
        verdict = "Incomplete search: properties not violated are unknown."
    summary: list[tuple[str, str]] = [
        ("design", design_name),
    ]
    description = getattr(design, "description", "")
    if description:
        summary.append(("design description", str(description)))
    summary += [
        ("scope", scope_text),
        ("search", "complete" if result.complete else "INCOMPLETE"),
        ("distinct states", f"{result.distinct_states:,}"),
        ("generated states", f"{result.generated_states:,}"),
        ("depth", str(result.depth)),
        ("time", f"{result.elapsed:.2f} s"),
        ("state store", str(result.store)),
        ("symmetry reduction", str(result.extra.get("symmetry", "off"))),
        ("workers", str(result.extra.get("workers", 1))),
        (
            "fingerprint collision probability (TLC's optimistic estimate)",
            "-" if result.collision_probability is None else f"{result.collision_probability:.1e}",
        ),
    ]
    if result.stop_reason:
        summary.append(("stopped early", str(result.stop_reason)))
    chart_model = _chart_model(model)
    steps_by_property = {v.property: len(v.trace) for v in result.violations if v.trace.states}
    properties = tuple(
        PropertyRow(
            p.name, p.kind.value, p.status.value, p.description, steps_by_property.get(p.name)
        )
        for p in result.properties
    )
    descriptions = {p.name: p.description for p in result.properties}
    views = []
    for v in result.violations:
        if not v.trace.states:
            views.append(
                CounterexampleView(
                    v.property,
                    v.kind.value,
                    descriptions.get(v.property, ""),
                    None,
                    (),
                    message="No reachable state is a witness: this path can never complete "
                    "in the explored scope (there is no trace to draw).",
                )
            )
            continue
        if v.trace.is_lasso:
            loop = v.trace.loop_text()
            title = f"{v.property}: {design_name} (never met: {loop})"
            note = f"{v.property}: the goal never comes ({loop})"
        else:
            title = f"{v.property}: {design_name} ({len(v.trace)} steps)"
            note = f"{v.property} violated after step {len(v.trace)}"
        chart = trace_chart(
            chart_model, v.trace, title=title, failing_note=note, subtitle=f"scope: {scope_text}"
        )
        initial = tuple((k, _short(val)) for k, val in state_fields(v.trace.states[0]).items())
        views.append(
            CounterexampleView(
                v.property,
                v.kind.value,
                descriptions.get(v.property, ""),
                chart,
                trace_rows(model, v.trace),
                initial=initial,
                explanation=v.explanation or "",
            )
        )
    return ReportData(
        title=f"lifecycle check: {design_name}",
        verdict=verdict,
        ok=bool(result.ok),
        summary=tuple(summary),
        properties=properties,
        counterexamples=tuple(views),
    )


def _chart_model(model: Any) -> Any:
    """The MDM model gets its lifelines from the table rows; any other model is
    drawn as it is."""
    try:
        from lifecycle.mdm import LifecycleModel
    except ImportError:  # pragma: no cover - the mdm package is part of the project
        return model
    if isinstance(model, LifecycleModel):
        from lifecycle.render.mdmview import MdmSteps

        return MdmSteps(model)
    return model


def write_report(out_dir: Path, design: Any, scope: Any, model: Any, result: Any) -> Path:
    """Write `out_dir/report.html` and return its path."""
    out_dir = Path(out_dir)
    return write_html(out_dir / REPORT_NAME, report_data(design, scope, model, result))


def write_html(path: Path, data: ReportData) -> Path:
    """Write the report atomically (`write_atomic`): a full disk or an interruption
    leaves the old report or none, never a truncated one."""
    return write_atomic(path, build_html(data))


__all__: Sequence[str] = (
    "CounterexampleView",
    "PropertyRow",
    "ReportData",
    "StepRow",
    "build_html",
    "report_data",
    "write_html",
    "write_report",
)
