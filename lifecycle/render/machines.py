"""State diagrams of the machines, drawn from the same tables the checker interprets.

A `MachineView` is a neutral copy of one table (states and rows), so the drawing code
does not depend on how `lifecycle.mdm` spells its rows; `lifecycle.render.mdmview`
builds the views from the MDM tables.

In the drawings:

- each edge is labelled with its trigger and, in brackets, its guard;
- the edge tooltip (SVG `<title>`) carries the fact ids, the actor and the effect;
- rows on an unenroll path (unenroll, cleanup, retire, wipe, disconnect) are drawn
  thick and red, everything else thin and grey-blue, with a legend;
- transitions between the same two states are merged into one edge with one label
  line per row, which keeps the drawings readable.
"""

from __future__ import annotations

from dataclasses import dataclass

from lifecycle.render.dot import attrs, html, node_id, quote

UNENROLL_WORDS = ("unenroll", "cleanup", "clean_up", "retire", "wipe", "disconnect", "remove")
UNENROLL_COLOUR = "#c62828"
NORMAL_COLOUR = "#37474f"


@dataclass(frozen=True)
class MachineRow:
    trigger: str
    source: str
    dest: str
    guard: str = ""
    effect: str = ""
    facts: tuple[str, ...] = ()
    actor: str = ""
    message: str = ""
    peer: str = ""
    unenroll: bool | None = None  # None: decide from the names

    @property
    def on_unenroll_path(self) -> bool:
        if self.unenroll is not None:
            return self.unenroll
        text = f"{self.trigger} {self.source} {self.dest}".lower()
        return any(word in text for word in UNENROLL_WORDS)

    def label(self) -> str:
        return f"{self.trigger} [{self.guard}]" if self.guard else self.trigger

    def tooltip(self) -> str:
        parts = [self.label()]
        if self.facts:
            parts.append("facts: " + ", ".join(self.facts))
        if self.actor:
            parts.append(f"actor: {self.actor}")
        if self.message:
            parts.append(f"message: {self.message}" + (f" to {self.peer}" if self.peer else ""))
        if self.effect:
            parts.append(f"effect: {self.effect}")
        return "\n".join(parts)


@dataclass(frozen=True)
class MachineView:
    name: str  # file-name friendly: device, server, directory, network
    title: str
    states: tuple[str, ...]
    rows: tuple[MachineRow, ...]
    initial: tuple[str, ...] = ()
    final: tuple[str, ...] = ()
    description: str = ""
    state_notes: tuple[tuple[str, str], ...] = ()  # (state, tooltip text)

    def all_states(self) -> list[str]:
        """Declared states first (in table order), then any state only rows mention."""
        seen = list(self.states)
        for row in self.rows:
            for s in (row.source, row.dest):
                if s not in seen:
                    seen.append(s)
        return seen


def _merge(rows: tuple[MachineRow, ...]) -> list[tuple[str, str, bool, list[MachineRow]]]:
    """Group rows by (source, dest, unenroll?) in first-appearance order."""
    groups: dict[tuple[str, str, bool], list[MachineRow]] = {}
    for row in rows:
        groups.setdefault((row.source, row.dest, row.on_unenroll_path), []).append(row)
    return [(s, d, u, rs) for (s, d, u), rs in groups.items()]


def _wrap(text: str, width: int = 34) -> list[str]:
    """Break a long label at spaces or underscores so edges stay narrow."""
    if len(text) <= width:
        return [text]
    lines: list[str] = []
    current = ""
    for word in text.replace("_", "_\u200b").split():
        for piece in word.split("\u200b"):
            if current and len(current) + len(piece) + 1 > width:
                lines.append(current)
                current = piece
            else:
                current = (
                    f"{current}{piece}"
                    if current.endswith("_")
                    else (f"{current} {piece}" if current else piece)
                )
    if current:
        lines.append(current)
    return lines


def machine_dot(view: MachineView, *, max_rows_per_edge: int = 4) -> str:
    """The machine as DOT text (deterministic)."""
    lines = [
        f"digraph {quote(view.name)} {{",
        "  graph "
        + attrs(
            {
                "label": f"{view.title}\n(hover an edge for its facts, actor and effect)",
                "labelloc": "t",
                "fontname": "Helvetica",
                "fontsize": 16,
                "rankdir": "TB",
                "nodesep": 0.35,
                "ranksep": 0.45,
                "newrank": True,
                "tooltip": view.description or view.title,
            }
        )
        + ";",
        "  node "
        + attrs(
            {
                "shape": "box",
                "style": "rounded,filled",
                "fillcolor": "#e3f2fd",
                "color": "#1565c0",
                "fontname": "Helvetica",
                "fontsize": 11,
            }
        )
        + ";",
        "  edge " + attrs({"fontname": "Helvetica", "fontsize": 9, "arrowsize": 0.7}) + ";",
    ]
    notes = dict(view.state_notes)
    unenroll_states = {
        s for r in view.rows if r.on_unenroll_path for s in (r.dest,) if r.dest != r.source
    }
    for state in view.all_states():
        node: dict[str, str | int | float | bool] = {
            "label": state.replace("_", " "),
            "tooltip": notes.get(state, state),
        }
        if state in view.final:
            node["peripheries"] = 2
        if state in unenroll_states:
            node["fillcolor"] = "#ffebee"
            node["color"] = UNENROLL_COLOUR
        lines.append(f"  {node_id(view.name, state)} {attrs(node)};")
    for i, state in enumerate(view.initial):
        start = node_id(view.name, "start", str(i))
        lines.append(
            f"  {start} "
            + attrs({"shape": "point", "width": 0.15, "label": "", "tooltip": "initial state"})
            + ";"
        )
        lines.append(f"  {start} -> {node_id(view.name, state)};")
    for source, dest, unenroll, rows in _merge(view.rows):
        label_rows = []
        for row in rows[:max_rows_per_edge]:
            text_lines = _wrap(row.label())
            facts = f" ({', '.join(row.facts)})" if row.facts else ""
            text_lines[-1] += facts
            label_rows.extend(text_lines)
        if len(rows) > max_rows_per_edge:
            label_rows.append(f"+{len(rows) - max_rows_per_edge} more (see tooltip)")
        label = "<" + "<br/>".join(html(t) for t in label_rows) + ">"
        tooltip = "\n\n".join(r.tooltip() for r in rows)
        edge: dict[str, str | int | float | bool] = {
            "label": label,
            "tooltip": tooltip,
            "labeltooltip": tooltip,
            "edgetooltip": tooltip,
        }
        if unenroll:
            edge.update(
                {
                    "color": UNENROLL_COLOUR,
                    "fontcolor": UNENROLL_COLOUR,
                    "penwidth": 2.2,
                    "class": "unenroll",
                }
            )
        else:
            edge.update({"color": NORMAL_COLOUR, "fontcolor": "#263238"})
        lines.append(f"  {node_id(view.name, source)} -> {node_id(view.name, dest)} {attrs(edge)};")
    # legend
    lines.append("  subgraph cluster_legend {")
    lines.append(
        "    graph "
        + attrs(
            {
                "label": "legend",
                "fontsize": 10,
                "style": "dashed",
                "color": "#90a4ae",
                "fontname": "Helvetica",
            }
        )
        + ";"
    )
    lines.append(
        "    legend_a "
        + attrs({"label": "", "shape": "point", "width": 0.05, "style": "invis"})
        + "; legend_b "
        + attrs({"label": "", "shape": "point", "width": 0.05, "style": "invis"})
        + "; legend_c "
        + attrs({"label": "", "shape": "point", "width": 0.05, "style": "invis"})
        + "; legend_d "
        + attrs({"label": "", "shape": "point", "width": 0.05, "style": "invis"})
        + ";"
    )
    lines.append(
        "    legend_a -> legend_b "
        + attrs(
            {
                "label": "unenroll path",
                "color": UNENROLL_COLOUR,
                "fontcolor": UNENROLL_COLOUR,
                "penwidth": 2.2,
                "fontsize": 9,
            }
        )
        + ";"
    )
    lines.append(
        "    legend_c -> legend_d "
        + attrs({"label": "trigger [guard] (facts)", "color": NORMAL_COLOUR, "fontsize": 9})
        + ";"
    )
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- Mermaid
def _mermaid_id(view: MachineView, state: str) -> str:
    return node_id(state) or "s"


def _mermaid_label(text: str) -> str:
    return text.replace(":", " ").replace(";", ",").replace("#", "no. ").replace("\n", " ")


def machine_mermaid(view: MachineView) -> str:
    """The machine as a Mermaid `stateDiagram-v2`; unenroll-path states in red, and
    unenroll-path transitions prefixed with ⚠ (Mermaid cannot colour one transition)."""
    lines = ["stateDiagram-v2", f"    %% {view.title}; generated from the model tables"]
    lines.append("    direction TB")
    for state in view.all_states():
        lines.append(f'    state "{_mermaid_label(state.replace("_", " "))}" as {node_id(state)}')
    for state in view.initial:
        lines.append(f"    [*] --> {_mermaid_id(view, state)}")
    for source, dest, unenroll, rows in _merge(view.rows):
        for row in rows:
            facts = f" ({', '.join(row.facts)})" if row.facts else ""
            mark = "⚠ " if unenroll else ""
            lines.append(
                f"    {_mermaid_id(view, source)} --> {_mermaid_id(view, dest)}: "
                f"{mark}{_mermaid_label(row.label())}{facts}"
            )
    for state in view.final:
        lines.append(f"    {_mermaid_id(view, state)} --> [*]")
    unenroll_states = sorted(
        {r.dest for r in view.rows if r.on_unenroll_path and r.dest != r.source},
        key=view.all_states().index,
    )
    if unenroll_states:
        lines.append("    classDef unenroll fill:#ffebee,stroke:#c62828,color:#b71c1c")
        lines.append(
            "    class " + ",".join(_mermaid_id(view, s) for s in unenroll_states) + " unenroll"
        )
    return "\n".join(lines) + "\n"
