"""`lifecycle diagrams`: every generated diagram, from the model itself.

Writes into one directory (default `diagrams/`), deterministically (sorted, no
timestamps), so that the committed files can be checked for staleness:

- `machine-<name>.dot` / `.svg`: one state diagram per machine table;
- `reachable.dot` / `.svg`: the reachable product graph of the reference design at
  the smallest scope, clustered by device state, violating states red, cut at
  `DRAW_LIMIT` states with a visible note;
- `reachable-quotient.dot` / `.svg`: the same graph divided by device state (always
  readable, whatever the size);
- `reachable-<preset>.dot` / `.svg`: the quotient graph of a known-bad preset at the
  smallest scope, where the violating device states are red;
- `counterexample-<preset>.svg`: a sequence chart of the shortest counterexample of
  every known-bad preset (drawn directly as SVG, no Graphviz needed).

With `fmt="mermaid"` it writes `machine-<name>.mmd` and `counterexample-<preset>.mmd`
instead (Mermaid state and sequence diagrams, for code hosts that render Mermaid).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from lifecycle.render.dot import render_svg
from lifecycle.render.machines import machine_dot, machine_mermaid
from lifecycle.render.reachable import cut, quotient_dot, reachable_dot, violations_by_node
from lifecycle.render.sequence import SequenceChart, to_mermaid, to_svg

FORMATS = ("svg", "mermaid")
DRAW_LIMIT = 120  # draw every state only up to this many; otherwise cut + quotient
EXPLORE_LIMIT = 50_000  # the reachable graph export's own bound
# The known-bad preset whose report the browser test opens, and whose reachable
# quotient shows violating states in red.
REPORT_PRESET = "keeps_aad_association"


def smallest_scope() -> Any:
    """The smallest scope that still has every enrollment path: one device, no
    re-enrollment, one message in flight."""
    from lifecycle.mdm import Scope

    return Scope(devices=1, reenrollments=0, max_in_flight=1)


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


@cache
def counterexamples() -> tuple[Counterexample, ...]:
    """The shortest counterexample of every known-bad preset, for the property it is
    expected to violate, at the default scope (sorted by preset name)."""
    from lifecycle.engine import check
    from lifecycle.mdm import LifecycleModel
    from lifecycle.render.mdmview import MdmSteps
    from lifecycle.render.report import describe_scope
    from lifecycle.render.traces import trace_chart

    scope = default_scope()
    out = []
    for name, design in sorted(_bad_presets()):
        model = LifecycleModel(design, scope)
        result = check(model)
        chosen = None
        for prop in design.expected_violations:
            v = result.violation(prop)
            if v is not None and v.trace.states:
                chosen = v
                break
        if chosen is None:
            continue
        chart = trace_chart(
            MdmSteps(model),
            chosen.trace,
            title=f"{name}: {chosen.property} violated in {len(chosen.trace)} steps",
            failing_note=f"{chosen.property} violated after step {len(chosen.trace)}",
            subtitle=f"design {name} ({design.description})"[:150],
        )
        out.append(
            Counterexample(
                preset=name,
                property=chosen.property,
                description=design.description,
                steps=len(chosen.trace),
                chart=chart,
                scope_text=describe_scope(scope),
                distinct_states=result.distinct_states,
            )
        )
    return tuple(out)


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
    """The DOT texts of the reachable-graph drawings (see the module docstring)."""
    from lifecycle.engine import to_networkx
    from lifecycle.mdm import LifecycleModel, load_design
    from lifecycle.render.mdmview import MdmSteps, device_key
    from lifecycle.render.report import describe_scope

    scope = smallest_scope()
    scope_text = describe_scope(scope)
    drawings = []
    for preset in ("reference", REPORT_PRESET):
        design = load_design(preset)
        model = LifecycleModel(design, scope)
        steps = MdmSteps(model)
        graph = to_networkx(model, max_states=EXPLORE_LIMIT)
        total = graph.number_of_nodes()
        violations = violations_by_node(graph, _always_predicates(model))
        complete = not graph.graph.get("truncated")
        size_note = f"{total} reachable states" if complete else f"over {total} states (cut)"
        if preset == "reference":
            drawn, was_cut = cut(graph, DRAW_LIMIT)
            note = (
                f"CUT: the first {drawn.number_of_nodes()} of {total} states (BFS order) are "
                "drawn; see reachable-quotient.svg for the whole graph"
                if was_cut
                else ""
            )
            drawings.append(
                ReachableDrawing(
                    "reachable",
                    reachable_dot(
                        drawn,
                        key=device_key,
                        state_label=lambda s: "",
                        state_tooltip=_state_tooltip,
                        describe=steps.describe_action,
                        violations=violations,
                        title=f"Reachable states: {preset} design, smallest scope "
                        f"({scope_text}); {size_note}, clustered by device state",
                        total_states=total,
                        cut_note=note,
                    ),
                    total,
                    drawn.number_of_nodes(),
                    was_cut,
                )
            )
            name = "reachable-quotient"
        else:
            name = f"reachable-{preset}"
        drawings.append(
            ReachableDrawing(
                name,
                quotient_dot(
                    graph,
                    key=device_key,
                    violations=violations,
                    title=f"Reachable states by device state: {preset} design, smallest scope "
                    f"({scope_text}); {size_note}",
                    note="" if complete else "CUT: the export bound stopped the search",
                ),
                total,
                total,
                not complete,
            )
        )
    return drawings


def write_diagrams(out: Path, fmt: str = "svg") -> list[Path]:
    """Write every diagram into `out` and return the paths written (sorted)."""
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
        for path in [p for p in written if p.suffix == ".dot"]:
            svg_path = path.with_suffix(".svg")
            svg_path.write_text(render_svg(path.read_text(encoding="utf-8")), encoding="utf-8")
            written.append(svg_path)
    for cx in counterexamples():
        stem = f"counterexample-{cx.preset}"
        if fmt == "mermaid":
            path = out / f"{stem}.mmd"
            path.write_text(to_mermaid(cx.chart), encoding="utf-8")
        else:
            path = out / f"{stem}.svg"
            path.write_text(to_svg(cx.chart), encoding="utf-8")
        written.append(path)
    return sorted(written)
