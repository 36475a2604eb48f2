"""Sequence charts: one lifeline per party, one row per step, the failing step marked.

A counterexample is easier to read as "who sent what to whom" than as a list of state
diffs, so every trace the checker finds is also drawn as a sequence chart. This module
knows nothing about MDM: it draws `Step`s between named lifelines. The adapter in
`lifecycle.render.lifecycle` turns a trace of the MDM model into steps.

Two outputs, both deterministic (no timestamps, no random ids):

- `to_svg(chart)`: a self-contained SVG, written directly (no Graphviz, which cannot
  lay out sequence charts), with the full text of each step in a `<title>` tooltip;
- `to_mermaid(chart)`: a Mermaid `sequenceDiagram` for code hosts that render Mermaid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

# The parties of the MDM lifecycle, left to right in the order messages usually flow.
DEFAULT_LIFELINES: tuple[tuple[str, str], ...] = (
    ("user", "User"),
    ("device", "Device"),
    ("network", "Network"),
    ("server", "Server"),
    ("aad", "Azure AD"),
    ("admin", "Admin"),
)

# Step kinds: a message between two lifelines, a local step on one lifeline, a message
# the network dropped (drawn dashed with a cross where it was lost).
MESSAGE, LOCAL, LOST = "message", "local", "lost"
KINDS = (MESSAGE, LOCAL, LOST)


@dataclass(frozen=True)
class Step:
    """One step of a chart.

    `source` and `target` are lifeline keys; a `LOCAL` step has `target == source`.
    `label` is the short text on the arrow; `note` the full description, shown in a
    column on the right; `detail` (e.g. the changed fields and the fact ids) goes into
    the tooltip.
    """

    source: str
    target: str
    label: str
    kind: str = MESSAGE
    detail: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"step kind must be one of {', '.join(KINDS)}, not {self.kind!r}")


@dataclass(frozen=True)
class SequenceChart:
    """Steps between lifelines. `failing` is the index of the step after which the
    property is violated (usually the last), or None. `loop_start`: for a liveness
    counterexample (a lasso), the index of the first step of the loop, which runs to
    the last step and then repeats for ever."""

    title: str
    steps: tuple[Step, ...]
    lifelines: tuple[tuple[str, str], ...] = DEFAULT_LIFELINES
    failing: int | None = None
    failing_note: str = ""
    subtitle: str = ""
    notes: tuple[str, ...] = field(default=())
    loop_start: int | None = None

    def __post_init__(self) -> None:
        keys = {key for key, _ in self.lifelines}
        for i, step in enumerate(self.steps):
            for end in (step.source, step.target):
                if end not in keys:
                    raise ValueError(
                        f"step {i + 1} uses lifeline {end!r}; known: {', '.join(sorted(keys))}"
                    )
        if self.failing is not None and not 0 <= self.failing < len(self.steps):
            raise ValueError(f"failing step {self.failing} is out of range")
        if self.loop_start is not None and not 0 <= self.loop_start < len(self.steps):
            raise ValueError(f"loop start {self.loop_start} is out of range")


# --------------------------------------------------------------------------- SVG
_FONT = "Helvetica, Arial, sans-serif"
_CHAR_W = 6.6  # approximate advance of a 12px sans-serif character
_COL_W = 160
_LEFT = 46  # room for step numbers
_TOP = 54
_ROW_H = 34
_HEAD_H = 30
_RED = "#c62828"
_INK = "#263238"
_LOCAL_FILL = "#eef3f8"


def _fit(text: str, width: float) -> str:
    """Shorten `text` to about `width` pixels, with an ellipsis (full text in the tooltip)."""
    limit = max(4, int(width / _CHAR_W))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


_NOTE_W = 470  # the column on the right with each step's full description
_NOTE_CHARS = 74
_NOTE_LINES = 3
_LINE_H = 14


def _wrap(text: str, width: int, max_lines: int) -> list[str]:
    """Greedy word wrap; the last line ends with an ellipsis when text is left over."""
    words = text.split()
    lines: list[str] = []
    current = ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _fit(lines[-1] + " …", width * _CHAR_W)
        if not lines[-1].endswith("…"):
            lines[-1] += "…"
    return [_fit(line, (width + 2) * _CHAR_W) for line in lines]


def to_svg(chart: SequenceChart) -> str:
    """The chart as a standalone SVG document (also fine to inline in HTML).

    Arrows carry the short `label`; when steps have a `note`, a column on the right
    gives each step's full description, wrapped, on the same row."""
    keys = [key for key, _ in chart.lifelines]
    x_of = {key: _LEFT + _COL_W * i + _COL_W / 2 for i, key in enumerate(keys)}
    has_notes = any(step.note for step in chart.steps)
    chart_w = _LEFT + _COL_W * len(keys)
    width = chart_w + (_NOTE_W + 10 if has_notes else 10)
    top = _TOP + (16 if chart.subtitle else 0)
    first_top = top + _HEAD_H + 10
    notes = [
        _wrap(step.note, _NOTE_CHARS, _NOTE_LINES) if step.note else [] for step in chart.steps
    ]
    heights = [max(_ROW_H, _LINE_H * len(lines) + 12) for lines in notes]
    row_tops = []
    y_acc = first_top
    for h in heights:
        row_tops.append(y_acc)
        y_acc += h
    note_h = 30 if chart.failing is not None or chart.loop_start is not None else 0
    bottom = y_acc + note_h + 8
    height = bottom + _HEAD_H + 12
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sequence-chart" '
        f'width="{_num(width)}" height="{_num(height)}" '
        f'viewBox="0 0 {_num(width)} {_num(height)}" role="img" '
        f'aria-label="{escape(chart.title)}" font-family="{_FONT}" font-size="12">',
        f"<title>{escape(chart.title)}</title>",
        "<defs>"
        '<marker id="seq-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" '
        'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{_INK}"/></marker>'
        '<marker id="seq-arrow-red" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" '
        'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{_RED}"/></marker>'
        "</defs>",
        f'<rect x="0" y="0" width="{_num(width)}" height="{_num(height)}" fill="white"/>',
        f'<text x="10" y="22" font-size="15" font-weight="bold" fill="{_INK}">'
        f"{escape(chart.title)}</text>",
    ]
    if chart.subtitle:
        out.append(
            f'<text x="10" y="40" font-size="12" fill="#546e7a">'
            f"{escape(_fit(chart.subtitle, width - 20))}</text>"
        )
    if has_notes:
        out.append(
            f'<text x="{_num(chart_w + 10)}" y="{_num(top + 19)}" font-weight="bold" '
            f'fill="#546e7a">what happens</text>'
        )

    # zebra bands first, so that lifelines and arrows are drawn on top of them
    for i, (y0, h) in enumerate(zip(row_tops, heights, strict=True)):
        if chart.failing == i:
            out.append(
                f'<rect class="failing-band" x="2" y="{_num(y0)}" width="{_num(width - 4)}" '
                f'height="{_num(h)}" fill="#ffebee" stroke="{_RED}" stroke-width="1.5" rx="3"/>'
            )
        elif i % 2 == 1:
            out.append(
                f'<rect x="2" y="{_num(y0)}" width="{_num(width - 4)}" height="{_num(h)}" '
                f'fill="#f7f9fa"/>'
            )

    if chart.loop_start is not None:
        # the loop: a dashed frame around its rows, and the way back on the left
        y0 = row_tops[chart.loop_start]
        out.append(
            f'<g class="loop"><rect x="3" y="{_num(y0)}" width="{_num(width - 6)}" '
            f'height="{_num(y_acc - y0)}" fill="#fff8e1" stroke="#ef6c00" '
            f'stroke-width="1.5" stroke-dasharray="6 3" rx="4"/>'
            f'<path d="M{_num(_LEFT - 6)},{_num(y_acc - 6)} h-30 V{_num(y0 + 8)} h24" '
            f'fill="none" stroke="#ef6c00" stroke-width="1.5" marker-end="url(#seq-arrow)"/>'
            "</g>"
        )

    # lifelines: a head box at the top and at the bottom, a dashed line between
    for key, label in chart.lifelines:
        x = x_of[key]
        out.append(f'<g class="lifeline" data-lifeline="{escape(key)}">')
        for head_y in (top, bottom):
            out.append(
                f'<rect x="{_num(x - 60)}" y="{_num(head_y)}" width="120" height="{_HEAD_H}" '
                f'rx="4" fill="#e3f2fd" stroke="#1565c0"/>'
                f'<text x="{_num(x)}" y="{_num(head_y + 19)}" text-anchor="middle" '
                f'font-weight="bold" fill="#0d47a1">{escape(label)}</text>'
            )
        out.append(
            f'<line x1="{_num(x)}" y1="{_num(top + _HEAD_H)}" x2="{_num(x)}" y2="{_num(bottom)}" '
            f'stroke="#90a4ae" stroke-dasharray="4 4"/>'
        )
        out.append("</g>")

    for i, step in enumerate(chart.steps):
        y0, h = row_tops[i], heights[i]
        y = y0 + h / 2 - 4  # the arrow's baseline area, centred in the row
        failing = chart.failing == i
        colour = _RED if failing else _INK
        marker = "seq-arrow-red" if failing else "seq-arrow"
        classes = "step failing-step" if failing else "step"
        tooltip = f"{i + 1}. {step.label}"
        if step.note:
            tooltip += f"\n{step.note}"
        if step.detail:
            tooltip += f"\n{step.detail}"
        out.append(f'<g class="{classes}" data-step="{i + 1}">')
        out.append(f"<title>{escape(tooltip)}</title>")
        # an invisible band, so that the whole row shows the tooltip
        out.append(
            f'<rect x="2" y="{_num(y0)}" width="{_num(width - 4)}" height="{_num(h)}" '
            f'fill="white" fill-opacity="0"/>'
        )
        out.append(
            f'<text x="8" y="{_num(y + 4)}" fill="{colour}" font-weight="bold">{i + 1}</text>'
        )
        x1, x2 = x_of[step.source], x_of[step.target]
        if step.kind == LOCAL or x1 == x2:
            text = _fit(step.label, _COL_W * 1.6)
            box_w = min(_COL_W * 1.7, len(text) * _CHAR_W + 14)
            # keep the box on the chart: put it left of the lifeline near the right edge
            bx = x1 - 8
            if bx + box_w > chart_w - 6:
                bx = max(_LEFT, chart_w - 6 - box_w)
            out.append(
                f'<rect x="{_num(bx)}" y="{_num(y - 11)}" width="{_num(box_w)}" height="20" '
                f'rx="3" fill="{"#ffcdd2" if failing else _LOCAL_FILL}" stroke="{colour}"/>'
                f'<text x="{_num(bx + 7)}" y="{_num(y + 3)}" fill="{colour}">{escape(text)}</text>'
            )
        else:
            end = x2 - (12 if step.kind == LOST else 0) * (1 if x2 > x1 else -1)
            dash = ' stroke-dasharray="6 4"' if step.kind == LOST else ""
            out.append(
                f'<line x1="{_num(x1)}" y1="{_num(y + 6)}" x2="{_num(end)}" y2="{_num(y + 6)}" '
                f'stroke="{colour}" stroke-width="{1.8 if failing else 1.3}"{dash}'
                + ("" if step.kind == LOST else f' marker-end="url(#{marker})"')
                + "/>"
            )
            if step.kind == LOST:
                out.append(
                    f'<path d="M{_num(end - 5)},{_num(y + 1)} l10,10 m0,-10 l-10,10" '
                    f'stroke="{_RED}" stroke-width="2"/>'
                )
            span = abs(x2 - x1)
            text = _fit(step.label, max(span - 8, _COL_W * 1.25))
            mid = (x1 + x2) / 2
            out.append(
                f'<text x="{_num(mid)}" y="{_num(y + 1)}" text-anchor="middle" '
                f'fill="{colour}">{escape(text)}</text>'
            )
        for j, line in enumerate(notes[i]):
            ny = y0 + 6 + (h - _LINE_H * len(notes[i])) / 2 + _LINE_H * j + 10
            out.append(
                f'<text class="note" x="{_num(chart_w + 10)}" y="{_num(ny - 4)}" '
                f'fill="{colour}" font-size="11.5">{escape(line)}</text>'
            )
        out.append("</g>")

    if chart.failing is not None or chart.loop_start is not None:
        y = y_acc + 4
        if chart.failing is not None:
            note = chart.failing_note or f"property violated after step {chart.failing + 1}"
        else:
            assert chart.loop_start is not None
            note = chart.failing_note or (
                f"steps {chart.loop_start + 1}-{len(chart.steps)} repeat for ever"
            )
        out.append(
            f'<g class="failing-note"><rect x="4" y="{_num(y)}" '
            f'width="{_num(min(width - 8, len(note) * _CHAR_W * 1.1 + 30))}" height="20" '
            f'fill="white"/><text x="10" y="{_num(y + 14)}" fill="{_RED}" '
            f'font-weight="bold">✗ {escape(note)}</text></g>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- Mermaid
def _mermaid_text(text: str) -> str:
    """Mermaid message text: no newlines, no semicolons or `#` (which Mermaid parses),
    and `<`/`>` as Mermaid entities so `<Meta/>` is not read as HTML."""
    text = text.replace("\n", " ").replace(";", ",").replace("#", "no. ").replace("%%", "%")
    return text.replace("<", "#lt;").replace(">", "#gt;").strip()


def to_mermaid(chart: SequenceChart) -> str:
    """The chart as a Mermaid `sequenceDiagram`; the failing step sits in a red box."""
    lines = ["sequenceDiagram", f"    title {_mermaid_text(chart.title)}"]
    for key, label in chart.lifelines:
        lines.append(f"    participant {key} as {_mermaid_text(label)}")
    for i, step in enumerate(chart.steps):
        failing = chart.failing == i
        looping = chart.loop_start is not None and i >= chart.loop_start
        indent = "        " if failing or looping else "    "
        if i == chart.loop_start:
            lines.append(f"    loop {_mermaid_text(chart.failing_note or 'repeats for ever')}")
        if failing:
            lines.append("    rect rgb(255, 205, 210)")
        text = f"{i + 1}. {_mermaid_text(step.label)}"
        if step.note:
            note = _mermaid_text(step.note)
            text += ": " + (note if len(note) <= 100 else note[:99] + "…")
        if step.kind == LOCAL or step.source == step.target:
            lines.append(f"{indent}Note over {step.source}: {text}")
        elif step.kind == LOST:
            lines.append(f"{indent}{step.source}-x{step.target}: {text} (lost)")
        else:
            lines.append(f"{indent}{step.source}->>{step.target}: {text}")
        if failing:
            note = chart.failing_note or "property violated here"
            first, last = chart.lifelines[0][0], chart.lifelines[-1][0]
            lines.append(f"{indent}Note over {first},{last}: ✗ {_mermaid_text(note)}")
            lines.append("    end")
    if chart.loop_start is not None:
        lines.append("    end")
    return "\n".join(lines) + "\n"
