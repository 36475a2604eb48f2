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
    `label` is the short text on the arrow; `detail` (e.g. the changed fields and the
    fact ids) goes into the tooltip and the report's step table.
    """

    source: str
    target: str
    label: str
    kind: str = MESSAGE
    detail: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"step kind must be one of {', '.join(KINDS)}, not {self.kind!r}")


@dataclass(frozen=True)
class SequenceChart:
    """Steps between lifelines. `failing` is the index of the step after which the
    property is violated (usually the last), or None."""

    title: str
    steps: tuple[Step, ...]
    lifelines: tuple[tuple[str, str], ...] = DEFAULT_LIFELINES
    failing: int | None = None
    failing_note: str = ""
    subtitle: str = ""
    notes: tuple[str, ...] = field(default=())

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


def to_svg(chart: SequenceChart) -> str:
    """The chart as a standalone SVG document (also fine to inline in HTML)."""
    keys = [key for key, _ in chart.lifelines]
    x_of = {key: _LEFT + _COL_W * i + _COL_W / 2 for i, key in enumerate(keys)}
    width = _LEFT + _COL_W * len(keys) + 10
    top = _TOP + (16 if chart.subtitle else 0)
    first_row = top + _HEAD_H + 26
    note_h = 30 if chart.failing is not None else 0
    bottom = first_row + _ROW_H * len(chart.steps) + note_h + 8
    height = bottom + _HEAD_H + 12
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sequence-chart" '
        f'width="{_num(width)}" height="{_num(height)}" '
        f'viewBox="0 0 {_num(width)} {_num(height)}" role="img" '
        f'aria-label="{escape(chart.title)}" font-family="{_FONT}" font-size="12">',
        f"<title>{escape(chart.title)}</title>",
        "<defs>"
        '<marker id="seq-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" '
        f'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" '
        f'fill="{_INK}"/></marker>'
        '<marker id="seq-arrow-red" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" '
        f'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" '
        f'fill="{_RED}"/></marker>'
        "</defs>",
        f'<rect x="0" y="0" width="{_num(width)}" height="{_num(height)}" fill="white"/>',
        f'<text x="10" y="22" font-size="15" font-weight="bold" fill="{_INK}">'
        f"{escape(chart.title)}</text>",
    ]
    if chart.subtitle:
        out.append(
            f'<text x="10" y="40" font-size="12" fill="#546e7a">{escape(chart.subtitle)}</text>'
        )

    # lifelines: a head box at the top and at the bottom, a dashed line between
    for key, label in chart.lifelines:
        x = x_of[key]
        out.append(f'<g class="lifeline" data-lifeline="{escape(key)}">')
        for y in (top, bottom):
            out.append(
                f'<rect x="{_num(x - 60)}" y="{_num(y)}" width="120" height="{_HEAD_H}" rx="4" '
                f'fill="#e3f2fd" stroke="#1565c0"/>'
                f'<text x="{_num(x)}" y="{_num(y + 19)}" text-anchor="middle" '
                f'font-weight="bold" fill="#0d47a1">{escape(label)}</text>'
            )
        out.append(
            f'<line x1="{_num(x)}" y1="{_num(top + _HEAD_H)}" x2="{_num(x)}" y2="{_num(bottom)}" '
            f'stroke="#90a4ae" stroke-dasharray="4 4"/>'
        )
        out.append("</g>")

    for i, step in enumerate(chart.steps):
        y = first_row + _ROW_H * i
        failing = chart.failing == i
        colour = _RED if failing else _INK
        marker = "seq-arrow-red" if failing else "seq-arrow"
        classes = "step failing-step" if failing else "step"
        tooltip = f"{i + 1}. {step.label}" + (f"\n{step.detail}" if step.detail else "")
        out.append(f'<g class="{classes}" data-step="{i + 1}">')
        out.append(f"<title>{escape(tooltip)}</title>")
        if failing:
            out.append(
                f'<rect x="2" y="{_num(y - _ROW_H / 2 - 1)}" width="{_num(width - 4)}" '
                f'height="{_ROW_H}" fill="#ffebee" stroke="{_RED}" stroke-width="1.5" rx="3"/>'
            )
        else:
            # an invisible band, so the whole row shows the tooltip
            out.append(
                f'<rect x="2" y="{_num(y - _ROW_H / 2)}" width="{_num(width - 4)}" '
                f'height="{_ROW_H}" fill="white" fill-opacity="0"/>'
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
            if bx + box_w > width - 6:
                bx = max(_LEFT, width - 6 - box_w)
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
            text = _fit(step.label, max(span - 8, _COL_W * 0.9))
            mid = (x1 + x2) / 2
            out.append(
                f'<text x="{_num(mid)}" y="{_num(y + 1)}" text-anchor="middle" '
                f'fill="{colour}">{escape(text)}</text>'
            )
        out.append("</g>")

    if chart.failing is not None:
        y = first_row + _ROW_H * len(chart.steps) - 6
        note = chart.failing_note or f"property violated after step {chart.failing + 1}"
        out.append(
            f'<g class="failing-note"><rect x="4" y="{_num(y - 4)}" '
            f'width="{_num(min(width - 8, len(note) * _CHAR_W * 1.1 + 30))}" height="20" '
            f'fill="white"/><text x="10" y="{_num(y + 10)}" fill="{_RED}" '
            f'font-weight="bold">✗ {escape(note)}</text></g>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- Mermaid
def _mermaid_text(text: str) -> str:
    """Mermaid message text: no newlines, no semicolons or `#` (which Mermaid parses)."""
    return text.replace("\n", " ").replace(";", ",").replace("#", "no. ").replace("%%", "%").strip()


def to_mermaid(chart: SequenceChart) -> str:
    """The chart as a Mermaid `sequenceDiagram`; the failing step sits in a red box."""
    lines = ["sequenceDiagram", f"    title {_mermaid_text(chart.title)}"]
    for key, label in chart.lifelines:
        lines.append(f"    participant {key} as {_mermaid_text(label)}")
    for i, step in enumerate(chart.steps):
        failing = chart.failing == i
        indent = "        " if failing else "    "
        if failing:
            lines.append("    rect rgb(255, 205, 210)")
        text = f"{i + 1}. {_mermaid_text(step.label)}"
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
    return "\n".join(lines) + "\n"
