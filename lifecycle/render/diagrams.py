"""`lifecycle diagrams`: every generated diagram, from the model itself.

Writes into one directory (default `diagrams/`), deterministically (sorted, no
timestamps), so that the committed files can be checked for staleness:

- `machine-<name>.dot` / `.svg`: one state diagram per machine table;
- `reachable-reference.dot` / `.svg` and `reachable-<REPORT_PRESET>.dot` / `.svg`:
  the reachable product graph at the smallest scope. Up to `DRAW_LIMIT` states it is
  drawn state by state, clustered by device state, violating states red; a bigger
  graph says so in its title and is drawn as its quotient by device state (one box
  per device state, red when it holds violating states), never as a hairball;
- `counterexample-<preset>-liveness.svg`: the lasso of a preset that breaks a liveness
  property, its loop framed;
- `counterexample-<preset>.svg`: a sequence chart of the shortest counterexample of
  every known-bad preset (drawn directly as SVG, no Graphviz needed).

With `fmt="mermaid"` it writes `machine-<name>.mmd` and `counterexample-<preset>.mmd`
instead (Mermaid state and sequence diagrams, for code hosts that render Mermaid).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache, partial
from pathlib import Path
from typing import Any

from lifecycle.mdm.design import smallest_scope
from lifecycle.render.dot import render_svg
from lifecycle.render.machines import machine_dot, machine_mermaid
from lifecycle.render.reachable import quotient_dot, reachable_dot, violations_by_node
from lifecycle.render.sequence import SequenceChart, to_mermaid, to_svg

FORMATS = ("svg", "mermaid")
DRAW_LIMIT = 150  # draw state by state up to this many; beyond, the quotient
EXPLORE_LIMIT = 50_000  # the reachable graph export's own bound
# The known-bad preset whose report the browser test opens, and whose reachable
# quotient shows violating states in red.
REPORT_PRESET = "keeps_aad_association"


def default_scope() -> Any:
    from lifecycle.mdm import Scope

    return Scope()


@dataclass(frozen=True)
class Counterexample:
    """The shortest counterexample of a known-bad preset, ready to draw."""

    preset: str
    property: str
    description: str
    steps: int
    chart: SequenceChart
    scope_text: str
    distinct_states: int


def _bad_presets() -> list[tuple[str, Any]]:
    from lifecycle.mdm import presets

    return [(name, d) for name, d in presets().items() if d.expected_violations]


def counterexample_scopes() -> list[Any]:
    """The scopes tried, smallest first, when looking for a preset's counterexample:
    the smallest scope, then one re-enrollment (stale-message bugs need one), then
    the MDM switch, then the default scope; each with the design's own scope fields."""
    small = smallest_scope()
    return [
        small,
        replace(small, reenrollments=1),
        replace(small, mdm_toggle=True),
        default_scope(),
    ]


@cache
def counterexamples() -> tuple[Counterexample, ...]:
    """The shortest counterexample of every known-bad preset (sorted by name), for a
    property it is expected to violate, at the smallest scope that shows it
    (`counterexample_scopes`): small scopes give short, readable charts and keep
    `lifecycle diagrams` fast. When the preset expects an invariant to break, the
    search stops at the first (so shallowest) violation of its expected invariants;
    otherwise it runs to the end."""

    out = []
    for name, design in sorted(_bad_presets()):
        found = _first_violation(design, _expected_check)
        if found is None:
            continue
        prop, steps = found[0].property, len(found[0].trace)
        title = f"{name}: {prop} violated in {steps} steps"
        out.append(_drawn(name, design, found, title, f"{prop} violated after step {steps}"))
    return tuple(out)


def _drawn(name: str, design: Any, found: Any, title: str, note: str) -> Counterexample:
    """A found (violation, scope, result) drawn as a `Counterexample`."""
    from lifecycle.mdm import LifecycleModel
    from lifecycle.render.mdmview import MdmSteps
    from lifecycle.render.report import describe_scope
    from lifecycle.render.traces import trace_chart

    chosen, scope, result = found
    chart = trace_chart(
        MdmSteps(LifecycleModel(design, scope)),
        chosen.trace,
        title=title,
        failing_note=note,
        subtitle=_clip(design.description, 150),
    )
    return Counterexample(
        preset=name,
        property=chosen.property,
        description=design.description,
        steps=len(chosen.trace),
        chart=chart,
        scope_text=describe_scope(scope),
        distinct_states=result.distinct_states,
    )


def _first_violation(design: Any, run: Any) -> tuple[Any, Any, Any] | None:
    """(violation, scope, result) of the first expected property `run(design, scope)`
    finds violated, at the smallest of `counterexample_scopes` that shows one."""
    for base in counterexample_scopes():
        scope = design.scope(base)
        _model, result = run(design, scope)
        for prop in design.expected_violations:
            v = result.violation(prop)
            if v is not None and v.trace.states:
                return v, scope, result
    return None


@cache
def lassos() -> tuple[Counterexample, ...]:
    """The liveness counterexample of every preset that expects a liveness property to
    fail (sorted by name): a shortest lasso for the first one, at the smallest scope
    that shows it, drawn with its loop framed."""
    from lifecycle.engine import Kind
    from lifecycle.mdm.design import LIVENESS

    out = []
    for name, design in sorted(_bad_presets()):
        if not set(design.expected_violations) & set(LIVENESS):
            continue
        found = _first_violation(
            design, partial(_expected_check, kinds=(Kind.EVENTUALLY, Kind.LEADS_TO))
        )
        if found is None:
            continue
        prop, trace = found[0].property, found[0].trace
        loop = trace.loop_text()
        title = f"{name}: {prop} never met: {len(trace.states) - 1} steps, then {loop}"
        note = f"{prop}: the goal never comes ({loop})"
        out.append(_drawn(name, design, found, title, note))
    return tuple(out)


def _expected_check(design: Any, scope: Any, kinds: tuple[Any, ...] = ()) -> tuple[Any, Any]:
    """Check `design` at `scope` for its counterexample: with only its expected
    properties of `kinds` (default: invariants) when it expects any, else with every
    property. Invariants alone stop at the first (shallowest) violation; anything else
    runs to the end (liveness is decided on the whole graph). Returns (model, result)."""
    from lifecycle.engine import Kind, check
    from lifecycle.mdm import LifecycleModel

    model = LifecycleModel(design, scope)
    expected = set(design.expected_violations)
    wanted = kinds or (Kind.ALWAYS,)
    chosen = [p for p in model.properties() if p.name in expected and p.kind in wanted]
    if chosen:
        model._properties = chosen
    invariants = bool(chosen) and all(p.kind is Kind.ALWAYS for p in chosen)
    return model, check(model, stop_on_violation=invariants)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def machine_files(out: Path, fmt: str) -> list[Path]:
    from lifecycle.render.mdmview import machine_views

    written = []
    for view in machine_views():
        if fmt == "mermaid":
            path = out / f"machine-{view.name}.mmd"
            path.write_text(machine_mermaid(view), encoding="utf-8")
            written.append(path)
            continue
        dot_path = out / f"machine-{view.name}.dot"
        dot_text = machine_dot(view)
        dot_path.write_text(dot_text, encoding="utf-8")
        written.append(dot_path)
    return written


@dataclass(frozen=True)
class ReachableDrawing:
    name: str
    dot: str
    states: int
    drawn: int
    cut: bool


def _always_predicates(model: Any) -> list[tuple[str, Any]]:
    from lifecycle.engine import Kind

    return [(p.name, p.predicate) for p in model.properties() if p.kind == Kind.ALWAYS]


def _state_tooltip(state: Any) -> str:
    from lifecycle.engine import state_fields

    return "\n".join(f"{k} = {v!r}" for k, v in state_fields(state).items())


def reachable_drawings() -> list[ReachableDrawing]:
    """The reachable graph of the reference design and of `REPORT_PRESET` at the
    smallest scope. A graph of at most `DRAW_LIMIT` states is drawn state by state,
    clustered by device state; a bigger one would be a hairball, so the drawing says
    so and shows the quotient by device state instead. Violating states are red."""
    from lifecycle.engine import to_networkx
    from lifecycle.mdm import LifecycleModel, load_design
    from lifecycle.render.mdmview import MdmSteps, device_key
    from lifecycle.render.report import describe_scope

    scope = smallest_scope()
    scope_text = describe_scope(scope)
    drawings = []
    for preset in ("reference", REPORT_PRESET):
        model = LifecycleModel(load_design(preset), scope)
        graph = to_networkx(model, max_states=EXPLORE_LIMIT)
        total = graph.number_of_nodes()
        violations = violations_by_node(graph, _always_predicates(model))
        complete = not graph.graph.get("truncated")
        bad = len(violations)
        title = (
            f"Reachable states of the {preset} design at the smallest scope\n"
            f"({_wrap_commas(scope_text, 90)})\n"
            f"{total:,} states{'' if complete else ' or more'}"
            + (f", {bad:,} violating a property (red)" if bad else ", none violating a property")
        )
        name = f"reachable-{preset}"
        if complete and total <= DRAW_LIMIT:
            steps = MdmSteps(model)
            dot_text = reachable_dot(
                graph,
                key=device_key,
                state_label=lambda s: "",
                state_tooltip=_state_tooltip,
                describe=steps.describe_action,
                violations=violations,
                title=title + "; clustered by device state",
            )
            drawn = total
        else:
            note = (
                f"TOO LARGE TO DRAW STATE BY STATE (over {DRAW_LIMIT}): drawn as the "
                "quotient by device state;\neach box stands for every state with that "
                "device state, each arrow for the actions that change it"
            )
            if not complete:
                note = f"CUT: the search stopped at {EXPLORE_LIMIT:,} states. " + note
            dot_text = quotient_dot(
                graph, key=device_key, violations=violations, title=title, note=note
            )
            drawn = 0
        drawings.append(ReachableDrawing(name, dot_text, total, drawn, not complete))
    return drawings


def _wrap_commas(text: str, width: int) -> str:
    """Break a comma-separated line into lines of about `width` characters."""
    lines: list[str] = []
    current = ""
    for part in text.split(", "):
        candidate = f"{current}, {part}" if current else part
        if current and len(candidate) > width:
            lines.append(current + ",")
            current = part
        else:
            current = candidate
    lines.append(current)
    return "\n".join(lines)


def write_diagrams(out: Path, fmt: str = "svg", *, render: bool = True) -> list[Path]:
    """Write every diagram into `out` and return the paths written (sorted).

    `render=False` writes the DOT files without running Graphviz on them (the
    staleness test compares DOT, not SVG)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = machine_files(out, fmt)
    if fmt == "svg":
        for drawing in reachable_drawings():
            path = out / f"{drawing.name}.dot"
            path.write_text(drawing.dot, encoding="utf-8")
            written.append(path)
        for path in [p for p in written if p.suffix == ".dot" and render]:
            svg_path = path.with_suffix(".svg")
            svg_path.write_text(render_svg(path.read_text(encoding="utf-8")), encoding="utf-8")
            written.append(svg_path)
    charts = [(f"counterexample-{cx.preset}", cx) for cx in counterexamples()]
    charts += [(f"counterexample-{cx.preset}-liveness", cx) for cx in lassos()]
    for stem, cx in charts:
        if fmt == "mermaid":
            path = out / f"{stem}.mmd"
            path.write_text(to_mermaid(cx.chart), encoding="utf-8")
        else:
            path = out / f"{stem}.svg"
            path.write_text(to_svg(cx.chart), encoding="utf-8")
        written.append(path)
    _remove_stale(out, fmt, written)
    return sorted(written)


GENERATED_PREFIXES = ("machine-", "reachable-", "counterexample-")


def _remove_stale(out: Path, fmt: str, written: list[Path]) -> None:
    """Delete generated files of this format that were not written this time (a
    renamed preset or machine), so the directory always matches the model."""
    suffixes = (".mmd",) if fmt == "mermaid" else (".dot", ".svg")
    keep = {p.name for p in written}
    for path in sorted(out.iterdir()):
        if (
            path.suffix in suffixes
            and path.name.startswith(GENERATED_PREFIXES)
            and path.name not in keep
        ):
            path.unlink()


# ------------------------------------------------------------ the user's own design
def result_charts(design: Any, model: Any, result: Any) -> list[tuple[str, SequenceChart]]:
    """A sequence chart of every counterexample of one check (`lifecycle check
    --diagrams`, `lifecycle diagrams --design`), named
    ``counterexample-<design>-<property>``; a lasso's loop is framed."""
    import re

    from lifecycle.render.mdmview import MdmSteps
    from lifecycle.render.traces import trace_chart

    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", design.name).strip("-.") or "design"
    steps = MdmSteps(model)
    charts = []
    for v in result.violations:
        if not v.trace.states:
            continue
        if v.trace.is_lasso:
            loop = v.trace.loop_text()
            title = (
                f"{design.name}: {v.property} never met: {len(v.trace.states) - 1} steps, "
                f"then {loop}"
            )
            note = f"{v.property}: the goal never comes ({loop})"
        else:
            title = f"{design.name}: {v.property} violated in {len(v.trace)} steps"
            note = f"{v.property} violated after step {len(v.trace)}"
        chart = trace_chart(
            steps,
            v.trace,
            title=_clip(title, 150),
            failing_note=note,
            subtitle=_clip(v.explanation or design.description, 150),
        )
        charts.append((f"counterexample-{stem}-{v.property}", chart))
    return charts


def write_charts(out: Path, charts: list[tuple[str, SequenceChart]]) -> list[Path]:
    """Each chart as SVG and as Mermaid text, written atomically (`write_atomic`)."""
    from lifecycle.render.files import write_atomic

    written = []
    for stem, chart in charts:
        written.append(write_atomic(out / f"{stem}.svg", to_svg(chart)))
        written.append(write_atomic(out / f"{stem}.mmd", to_mermaid(chart)))
    return written
