"""The self-contained HTML report written by `lifecycle check --report DIR`.

One file, no scripts, no external resources: a summary, the property table, and for
each counterexample an inline SVG sequence chart and a table of steps in which the
fields that changed are highlighted. It opens from a CI artifact or an e-mail
attachment as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from lifecycle.mdm import catalog
from lifecycle.render.facts import anchor, link_ids
from lifecycle.render.files import write_atomic
from lifecycle.render.sequence import SequenceChart, to_svg
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


_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2rem;
       color: #263238; max-width: 1500px; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #cfd8dc; }
h3 { font-size: 1.05rem; margin-top: 1.5rem; }
.verdict { font-size: 1.1rem; font-weight: bold; padding: .4rem .8rem; display: inline-block;
           border-radius: 4px; }
.verdict.ok { background: #e8f5e9; color: #1b5e20; }
.verdict.bad { background: #ffebee; color: #b71c1c; }
.verdict.unknown { background: #fff8e1; color: #8d6e00; }
table { border-collapse: collapse; margin: .6rem 0; }
th, td { border: 1px solid #cfd8dc; padding: .3rem .6rem; text-align: left;
         vertical-align: top; font-size: .9rem; }
th { background: #eceff1; }
table.summary th { width: 12rem; }
td.status-holds { color: #1b5e20; font-weight: bold; }
td.status-violated { color: #b71c1c; font-weight: bold; }
td.status-unknown { color: #8d6e00; font-weight: bold; }
tr.failing td { background: #ffebee; }
.chart { overflow-x: auto; border: 1px solid #eceff1; padding: .4rem; margin: .6rem 0; }
svg.sequence-chart { max-width: 100%; height: auto; }
code, .field { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85rem; }
del { background: #ffebee; color: #b71c1c; text-decoration: line-through; }
ins { background: #e8f5e9; color: #1b5e20; text-decoration: none; font-weight: bold; }
ul.changes { margin: 0; padding-left: 1rem; }
.muted { color: #607d8b; }
details { margin: .4rem 0; }
"""


def _status_class(status: str) -> str:
    return f"status-{status}" if status in ("holds", "violated", "unknown") else ""


def build_html(data: ReportData) -> str:
    """The report as one HTML document (deterministic for the same data)."""
    verdict_class = "ok" if data.ok else ("bad" if data.counterexamples else "unknown")
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{escape(data.title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{escape(data.title)}</h1>",
        f'<p class="verdict {verdict_class}" id="verdict">{escape(data.verdict)}</p>',
        '<h2 id="summary">Summary</h2>',
        '<table class="summary">',
    ]
    for key, value in data.summary:
        out.append(f"<tr><th>{escape(key)}</th><td>{escape(value)}</td></tr>")
    out.append("</table>")
    for note in data.notes:
        out.append(f'<p class="muted">{escape(note)}</p>')

    out.append('<h2 id="properties">Properties</h2>')
    out.append('<table class="properties" id="property-table">')
    out.append(
        "<thead><tr><th>property</th><th>kind</th><th>status</th>"
        "<th>counterexample</th><th>meaning and facts</th></tr></thead><tbody>"
    )
    cited: list[str] = []

    def linked(text: str) -> str:
        # Each fact id links to its entry in the "Facts cited" section below.
        html, ids = link_ids(escape(text))
        cited.extend(i for i in ids if i not in cited)
        return html

    for p in data.properties:
        link = (
            f'<a href="#cx-{escape(p.name)}">{p.steps} steps</a>'
            if p.steps is not None
            else (
                "-" if p.status != "violated" else f'<a href="#cx-{escape(p.name)}">see below</a>'
            )
        )
        out.append(
            f"<tr><td><code>{escape(p.name)}</code></td><td>{escape(p.kind)}</td>"
            f'<td class="{_status_class(p.status)}">{escape(p.status)}</td>'
            f"<td>{link}</td><td>{linked(p.description)}</td></tr>"
        )
    out.append("</tbody></table>")

    if data.counterexamples:
        out.append('<h2 id="counterexamples">Counterexamples</h2>')
        out.append(
            '<p class="muted">Each is a shortest trace (breadth-first search). Hover an '
            "arrow for its details; the failing step is red.</p>"
        )
    for cx in data.counterexamples:
        out.append(f'<section class="counterexample" id="cx-{escape(cx.property)}">')
        out.append(
            f"<h3><code>{escape(cx.property)}</code> ({escape(cx.kind)}) — "
            f"{len(cx.rows)} steps</h3>"
        )
        if cx.description:
            out.append(f"<p>{escape(cx.description)}</p>")
        if cx.message:
            out.append(f"<p>{escape(cx.message)}</p>")
        if cx.explanation:
            out.append(f'<p class="why"><b>Why:</b> {linked(cx.explanation)}</p>')
        if cx.chart is not None:
            out.append(f'<div class="chart">{to_svg(cx.chart)}</div>')
        if cx.initial:
            out.append("<details><summary>initial state</summary><table>")
            for key, value in cx.initial:
                out.append(
                    f'<tr><td class="field">{escape(key)}</td><td><code>{escape(value)}</code>'
                    "</td></tr>"
                )
            out.append("</table></details>")
        if cx.rows:
            out.append('<table class="steps">')
            out.append(
                "<thead><tr><th>#</th><th>who</th><th>action</th><th>changed fields</th>"
                "</tr></thead><tbody>"
            )
            for row in cx.rows:
                changes = "".join(
                    f'<li><span class="field">{escape(k)}</span>: <del>{escape(a)}</del> → '
                    f"<ins>{escape(b)}</ins></li>"
                    for k, a, b in row.changes
                )
                facts = f' <span class="muted">[{linked(row.facts)}]</span>' if row.facts else ""
                cls = ' class="failing"' if row.failing else ""
                out.append(
                    f"<tr{cls}><td>{row.index}</td><td>{escape(row.actor)}</td>"
                    f"<td><code>{escape(row.action)}</code>{facts}</td>"
                    f'<td><ul class="changes">{changes or "<li>(no field changed)</li>"}</ul>'
                    "</td></tr>"
                )
            out.append("</tbody></table>")
        out.append("</section>")
    if cited:
        out.append('<h2 id="facts">Facts cited</h2>')
        out.append(
            '<p class="muted">In the project\'s words; docs/facts.md has every fact with '
            "the rows, knobs and properties that model it.</p><dl>"
        )
        for ident in cited:
            e = catalog.entry(ident)
            out.append(
                f'<dt id="fact-{anchor(ident)}">{escape(ident)} ({escape(e.kind)})</dt>'
                f'<dd>{escape(e.statement)} <span class="muted">{escape(e.source)}</span></dd>'
            )
        out.append("</dl>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


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
