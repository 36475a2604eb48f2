"""State diagrams of the machines, drawn from the same tables the checker interprets.

A `MachineView` is a neutral copy of one table (states and rows), so the drawing code
does not depend on how `lifecycle.mdm` spells its rows; `lifecycle.render.mdmview`
builds the views from the MDM tables.

How a table becomes a readable drawing:

- a row that changes the state is an edge labelled with its trigger (its guard's
  conjuncts are in the tooltip); a transition another machine's row makes (its
  ``also``) is dashed and labelled `trigger (machine)`;
- a set of three or more states that several rows fire from is drawn as a dashed box
  (a UML composite state): the rows that keep the state are listed in the box's
  label, and each row that leaves the box starts at a dot at the bottom of the box,
  labelled once;
- any other row that fires from three or more states goes through one small
  junction dot, so it is labelled once instead of once per source;
- a row back up the flow (a retry, a resurrection) is laid out reversed, so the
  lifecycle reads from top to bottom;
- a row that does not change the state (an internal transition: receive a status,
  serve a session) is listed inside the box of each state it fires from, under a
  rule, like a UML internal activity; a row that fires from any state is listed in a
  separate "in any state" box;
- the fact ids, the actor, the message and the effect of a row are in its SVG
  tooltip (the edge, or the line in the box);
- rows on an unenroll path (unenroll, cleanup, wipe, alert, verification) are drawn
  thick and red, with a legend.
"""

from __future__ import annotations

from dataclasses import dataclass

import graphviz

from lifecycle.render.dot import STATE_NODE, attributes, html, node_id

UNENROLL_COLOUR = "#c62828"
NORMAL_COLOUR = "#37474f"
JUNCTION_MIN_SOURCES = 3
ANY = "*"


@dataclass(frozen=True)
class MachineRow:
    """One row of a table. `dest` None is an internal transition; `sources` may be
    `("*",)` for any state."""

    trigger: str
    sources: tuple[str, ...]
    dest: str | None
    guard: str = ""
    effect: str = ""
    facts: tuple[str, ...] = ()
    actor: str = ""
    message: str = ""
    unenroll: bool = False
    description: str = ""
    #: The machine whose row makes this transition (its ``also``), when it is another.
    via: str = ""

    @property
    def internal(self) -> bool:
        return self.dest is None

    def label(self) -> str:
        """The edge text: the trigger, and the machine whose row it is when another.
        Guards are tuples of conjuncts, too long for an edge: they go in the tooltip
        and the reference page."""
        return f"{self.trigger} ({self.via})" if self.via else self.trigger

    def tooltip(self) -> str:
        parts = [f"{self.label()} [{self.guard}]" if self.guard else self.label()]
        if self.description:
            parts.append(self.description)
        parts.append("facts: " + (", ".join(self.facts) if self.facts else "-"))
        if self.actor:
            parts.append(f"actor: {self.actor}")
        if self.message:
            parts.append(f"message: {self.message}")
        if self.effect:
            parts.append(f"effect: {self.effect}")
        return "\n".join(parts)


@dataclass(frozen=True)
class MachineView:
    name: str  # file-name friendly: device, server, directory, network
    title: str
    states: tuple[str, ...]  # the initial state first
    rows: tuple[MachineRow, ...]
    description: str = ""
    final: tuple[str, ...] = ()

    @property
    def initial(self) -> str:
        return self.states[0]

    def unenroll_states(self) -> list[str]:
        """States entered by an unenroll-path row (shaded red)."""
        out = []
        for row in self.rows:
            if (
                row.unenroll
                and row.dest is not None
                and row.dest not in out
                and row.dest != self.initial
            ):
                out.append(row.dest)
        return [s for s in self.states if s in out]


def _attr(text: str) -> str:
    """Text for an attribute inside an HTML-like label (newlines as entities)."""
    return html(text).replace("\n", "&#10;")


def _sid(view: MachineView, state: str) -> str:
    return node_id(view.name, state)


def _state_label(state: str, internal: list[MachineRow], heading_colour: str) -> str:
    """An HTML-like label: the state name, then its internal transitions."""
    cells = [
        f'<tr><td align="center"><font point-size="12" color="{heading_colour}">'
        f"<b>{html(state.replace('_', ' '))}</b></font></td></tr>"
    ]
    if internal:
        cells.append("<hr/>")
    for row in internal:
        colour = UNENROLL_COLOUR if row.unenroll else "#455a64"
        cells.append(
            f'<tr><td align="left" href="#" tooltip="{_attr(row.tooltip())}">'
            f'<font point-size="8" color="{colour}">{html(row.label())}</font></td></tr>'
        )
    return '<<table border="0" cellborder="0" cellspacing="1" cellpadding="1">' + (
        "".join(cells) + "</table>>"
    )


def groups(view: MachineView) -> list[tuple[str, ...]]:
    """Source sets drawn as boxes (UML composite states): a set of 3+ states that two
    or more rows fire from, kept only while the boxes nest (a laminar family).
    Each group lists its states in table order; groups come largest first."""
    counts: dict[frozenset[str], int] = {}
    for row in view.rows:
        if ANY in row.sources or len(set(row.sources)) < JUNCTION_MIN_SOURCES:
            continue
        key = frozenset(row.sources)
        counts[key] = counts.get(key, 0) + 1
    order = {s: i for i, s in enumerate(view.states)}
    candidates = sorted(
        (s for s, c in counts.items() if c >= 2),
        key=lambda s: (-len(s), sorted(order[x] for x in s)),
    )
    chosen: list[frozenset[str]] = []
    for s in candidates:
        if all(s <= g or g <= s or not (s & g) for g in chosen):
            chosen.append(s)
    return [tuple(x for x in view.states if x in g) for g in chosen]


def _group_label(entries: list[tuple[str, MachineRow]]) -> str:
    cells = [
        '<tr><td align="left"><font point-size="9" color="#546e7a"><i>'
        + ("in any state in this box:" if entries else "")
        + "</i></font></td></tr>"
    ]
    for text, row in entries:
        colour = UNENROLL_COLOUR if row.unenroll else "#455a64"
        cells.append(
            f'<tr><td align="left" href="#" tooltip="{_attr(row.tooltip())}">'
            f'<font point-size="9" color="{colour}">{html(text)}</font></td></tr>'
        )
    return '<<table border="0" cellborder="0" cellspacing="1" cellpadding="1">' + (
        "".join(cells) + "</table>>"
    )


def ranks(view: MachineView) -> dict[str, int]:
    """Breadth-first distance of each state from the initial state along the rows
    (states no row reaches start a new search, in table order). An edge that goes
    back to a smaller distance is a back edge: it does not push its target
    down, so the main flow of the lifecycle reads from top to bottom."""
    succ: dict[str, list[str]] = {s: [] for s in view.states}
    for row in view.rows:
        if row.dest is None:
            continue
        sources = list(view.states) if ANY in row.sources else list(row.sources)
        for s in sources:
            if row.dest not in succ[s]:
                succ[s].append(row.dest)
    rank: dict[str, int] = {}
    for root in view.states:
        if root in rank:
            continue
        rank[root] = 0
        frontier = [root]
        while frontier:
            nxt = []
            for s in frontier:
                for d in succ[s]:
                    if d not in rank:
                        rank[d] = rank[s] + 1
                        nxt.append(d)
            frontier = nxt
    return rank


def _edge_style(unenroll: bool) -> dict[str, str | int | float | bool]:
    if unenroll:
        return {
            "color": UNENROLL_COLOUR,
            "fontcolor": UNENROLL_COLOUR,
            "penwidth": 2.2,
            "class": "unenroll",
        }
    return {"color": NORMAL_COLOUR, "fontcolor": "#263238"}


def machine_dot(view: MachineView) -> str:
    """The machine as DOT text (deterministic: table order throughout)."""
    digraph = graphviz.Digraph(view.name)
    digraph.attr(
        "graph",
        **attributes(
            {
                "label": f"{view.title}\n"
                "red: unenroll path;  lines in a box: transitions that keep the state;  "
                "hover for facts",
                "labelloc": "t",
                "fontname": "Helvetica",
                "fontsize": 15,
                "rankdir": "TB",
                "nodesep": 0.3,
                "ranksep": 0.45,
                "compound": True,
                "tooltip": view.description or view.title,
            }
        ),
    )
    digraph.attr("node", **attributes({**STATE_NODE, "margin": "0.08,0.04"}))
    digraph.attr("edge", **attributes({"fontname": "Helvetica", "fontsize": 9, "arrowsize": 0.7}))
    boxes = groups(view)
    box_of = {frozenset(g): i for i, g in enumerate(boxes)}
    box_entries: dict[int, list[tuple[str, MachineRow]]] = {i: [] for i in range(len(boxes))}
    internal_of: dict[str, list[MachineRow]] = {s: [] for s in view.states}
    any_internal: list[MachineRow] = []
    for row in view.rows:
        key = frozenset(row.sources)
        if row.internal:
            if ANY in row.sources:
                any_internal.append(row)
            elif key in box_of:
                box_entries[box_of[key]].append((row.label(), row))
            else:
                for s in row.sources:
                    internal_of.setdefault(s, []).append(row)
        elif key in box_of and row.dest in key:
            box_entries[box_of[key]].append(
                (f"{row.label()} → {(row.dest or '').replace('_', ' ')}", row)
            )

    shaded = set(view.unenroll_states())
    rank = ranks(view)

    def back(sources: list[str] | tuple[str, ...], dest: str) -> bool:
        """An edge back up the flow: to a smaller distance, or into a box whose
        earliest state comes before every source (a retry, a resurrection)."""
        target = rank[dest]
        for g in boxes:
            if dest in g and not set(sources) <= set(g):
                target = min(target, *(rank[s] for s in g))
        return all(target < rank[s] for s in sources)

    def add_state(graph: graphviz.Digraph, state: str) -> None:
        node: dict[str, str | int | float | bool] = {
            "label": _state_label(state, internal_of.get(state, []), "#0d47a1"),
            "tooltip": state,
        }
        if state in shaded:
            node["fillcolor"] = "#ffebee"
            node["color"] = UNENROLL_COLOUR
            node["label"] = _state_label(state, internal_of.get(state, []), "#b71c1c")
        if state in view.final:
            node["peripheries"] = 2
        graph.node(_sid(view, state), **attributes(node))

    # nested boxes: the parent of a box is the smallest box strictly containing it
    sets = [frozenset(g) for g in boxes]
    parent: dict[int, int | None] = {}
    for i, members in enumerate(sets):
        around = [j for j, h in enumerate(sets) if j != i and members < h]
        parent[i] = min(around, key=lambda j: len(sets[j])) if around else None

    def add_box(graph: graphviz.Digraph, i: int) -> None:
        with graph.subgraph(name=f"cluster_group_{i}") as box:
            box.attr(
                "graph",
                **attributes(
                    {
                        "label": _group_label(box_entries[i]),
                        "labeljust": "l",
                        "style": "rounded,dashed",
                        "color": "#78909c",
                        "fontname": "Helvetica",
                        "tooltip": "a group of states that rows fire from as one",
                    }
                ),
            )
            for j in sorted(k for k, p in parent.items() if p == i):
                add_box(box, j)
            inner = set().union(*(sets[j] for j, p in parent.items() if p == i))
            for state in boxes[i]:
                if state not in inner:
                    add_state(box, state)
            for row in exits.get(i, []):
                colour = UNENROLL_COLOUR if row.unenroll else NORMAL_COLOUR
                box.node(
                    _exit_id(i, row),
                    **attributes(
                        {
                            "shape": "point",
                            "width": 0.1,
                            "style": "filled",
                            "fillcolor": colour,
                            "color": colour,
                            "label": "",
                            "tooltip": row.tooltip(),
                        }
                    ),
                )

    def _exit_id(i: int, row: MachineRow) -> str:
        return node_id(view.name, "exit", str(i), row.trigger)

    # a forward row from a box leaves from a dot drawn inside the box, so it is not
    # mistaken for a row from the state nearest to where it crosses the border
    exits: dict[int, list[MachineRow]] = {}
    for row in view.rows:
        key = frozenset(row.sources)
        if (
            row.dest is not None
            and key in box_of
            and row.dest not in key
            and not back(boxes[box_of[key]], row.dest)
        ):
            exits.setdefault(box_of[key], []).append(row)

    boxed = set().union(*sets) if sets else set()
    for state in view.states:
        if state not in boxed:
            add_state(digraph, state)
    for i in sorted(k for k, p in parent.items() if p is None):
        add_box(digraph, i)

    start = node_id(view.name, "start")
    digraph.node(
        start,
        **attributes(
            {
                "shape": "point",
                "width": 0.14,
                "style": "filled",
                "fillcolor": "black",
                "label": "",
                "tooltip": "initial state",
            }
        ),
    )
    digraph.edge(start, _sid(view, view.initial))
    if any_internal:
        digraph.node(
            node_id(view.name, "any_state"),
            **attributes(
                {
                    "label": _state_label("in any state", any_internal, "#37474f"),
                    "style": "rounded,dashed,filled",
                    "fillcolor": "#fafafa",
                    "color": "#78909c",
                    "tooltip": "rows that may fire in any state and keep it",
                }
            ),
        )
    # state-changing rows
    merged: dict[tuple[str, str, bool], list[MachineRow]] = {}
    from_box: list[tuple[int, MachineRow]] = []
    junctions: list[MachineRow] = []
    for row in view.rows:
        if row.dest is None:
            continue
        key = frozenset(row.sources)
        if key in box_of:
            if row.dest not in key:
                from_box.append((box_of[key], row))
            continue
        sources = list(view.states) if ANY in row.sources else list(row.sources)
        if len(sources) >= JUNCTION_MIN_SOURCES:
            junctions.append(row)
            continue
        for s in sources:
            merged.setdefault((s, row.dest, row.unenroll), []).append(row)

    for (source, dest, unenroll), rows in merged.items():
        tooltip = "\n\n".join(r.tooltip() for r in rows)
        label = "<" + "<br/>".join(html(r.label()) for r in rows) + ">"
        edge: dict[str, str | int | float | bool] = {
            "label": label,
            "tooltip": tooltip,
            "labeltooltip": tooltip,
        }
        edge.update(_edge_style(unenroll))
        if all(r.via for r in rows):
            edge["style"] = "dashed"  # another machine's row makes this transition
        if source != dest and back([source], dest):
            # drawn reversed with the arrow at the far end: it ranks like a forward
            # edge, so the main flow stays top to bottom and the edge stays short
            edge["dir"] = "back"
            digraph.edge(_sid(view, dest), _sid(view, source), **attributes(edge))
        else:
            digraph.edge(_sid(view, source), _sid(view, dest), **attributes(edge))
    for i, box in enumerate(boxes):
        # a row from a box to a state inside it is listed in the box; an invisible
        # edge from the box's earliest state keeps its target below it
        for _, row in box_entries[i]:
            if row.dest is None:
                continue
            first = min((s for s in box if s != row.dest), key=lambda s: (rank[s], box.index(s)))
            if rank[row.dest] > rank[first]:
                digraph.edge(_sid(view, first), _sid(view, row.dest), style="invis")
    for i, row in from_box:
        assert row.dest is not None
        tooltip = row.tooltip()
        box_edge: dict[str, str | int | float | bool] = {
            "label": "<" + html(row.label()) + "<br/>(from any state in the box)>",
            "tooltip": tooltip,
            "labeltooltip": tooltip,
            "ltail": f"cluster_group_{i}",
        }
        box_edge.update(_edge_style(row.unenroll))
        if back(boxes[i], row.dest):
            box_edge["dir"] = "back"
            box_edge["lhead"] = box_edge.pop("ltail")
            digraph.edge(_sid(view, row.dest), _sid(view, boxes[i][-1]), **attributes(box_edge))
        else:
            del box_edge["ltail"]
            digraph.edge(_exit_id(i, row), _sid(view, row.dest), **attributes(box_edge))
            # invisible edges keep the dot below every state of the box
            for s in boxes[i]:
                digraph.edge(_sid(view, s), _exit_id(i, row), style="invis", weight="0")
    for row in junctions:
        assert row.dest is not None
        junction = node_id(view.name, "via", row.trigger)
        colour = UNENROLL_COLOUR if row.unenroll else NORMAL_COLOUR
        tooltip = row.tooltip()
        digraph.node(
            junction,
            **attributes(
                {
                    "shape": "point",
                    "width": 0.09,
                    "style": "filled",
                    "fillcolor": colour,
                    "color": colour,
                    "label": "",
                    "tooltip": tooltip,
                }
            ),
        )
        sources = list(view.states) if ANY in row.sources else list(row.sources)
        for s in sources:
            inbound: dict[str, str | int | float | bool] = {
                "arrowhead": "none",
                "tooltip": tooltip,
                "style": "dashed",
            }
            inbound.update(_edge_style(row.unenroll))
            inbound["penwidth"] = 1.0
            digraph.edge(_sid(view, s), junction, **attributes(inbound))
        outbound: dict[str, str | int | float | bool] = {
            "label": "<" + html(row.label()) + f"<br/>(from {len(sources)} states)>",
            "tooltip": tooltip,
            "labeltooltip": tooltip,
        }
        outbound.update(_edge_style(row.unenroll))
        if row.via:
            outbound["style"] = "dashed"
        digraph.edge(junction, _sid(view, row.dest), **attributes(outbound))
    return str(digraph.source)


# --------------------------------------------------------------------------- Mermaid
def _mermaid_label(text: str) -> str:
    text = text.replace(":", " ").replace(";", ",").replace("#", "no. ").replace("\n", " ")
    return text.replace("<", "#lt;").replace(">", "#gt;")


def machine_mermaid(view: MachineView) -> str:
    """The machine as a Mermaid `stateDiagram-v2`.

    Unenroll-path states are red and unenroll-path transitions are prefixed with ⚠
    (Mermaid cannot colour a single transition). Internal transitions become notes on
    their states; fact ids follow each label in parentheses.
    """
    lines = [
        "stateDiagram-v2",
        f"    %% {view.title}: generated from the model tables by `lifecycle diagrams`",
        "    direction TB",
    ]
    for state in view.states:
        lines.append(f'    state "{_mermaid_label(state.replace("_", " "))}" as {node_id(state)}')
    lines.append(f"    [*] --> {node_id(view.initial)}")
    for row in view.rows:
        if row.dest is None:
            continue
        sources = list(view.states) if ANY in row.sources else list(row.sources)
        facts = f" ({', '.join(row.facts)})" if row.facts else ""
        mark = "⚠ " if row.unenroll else ""
        for s in sources:
            lines.append(
                f"    {node_id(s)} --> {node_id(row.dest)}: "
                f"{mark}{_mermaid_label(row.label())}{facts}"
            )
    notes: dict[str, list[str]] = {}
    any_id = "in_any_state"
    for row in view.rows:
        if row.dest is not None:
            continue
        facts = f" ({', '.join(row.facts)})" if row.facts else ""
        targets = [any_id] if ANY in row.sources else [node_id(s) for s in row.sources]
        for s in targets:
            notes.setdefault(s, []).append(_mermaid_label(row.label()) + facts)
    if any_id in notes:
        lines.append(f'    state "in any state (keeps the state)" as {any_id}')
    for state in [*(node_id(s) for s in view.states), any_id]:
        if state in notes:
            lines.append(f"    note right of {state}")
            lines.extend(f"        {text}" for text in notes[state])
            lines.append("    end note")
    for state in view.final:
        lines.append(f"    {node_id(state)} --> [*]")
    shaded = view.unenroll_states()
    if shaded:
        lines.append("    classDef unenroll fill:#ffebee,stroke:#c62828,color:#b71c1c")
        lines.append("    class " + ",".join(node_id(s) for s in shaded) + " unenroll")
    return "\n".join(lines) + "\n"
