"""Building DOT with the `graphviz` package and running Graphviz through it.

The drawings are built with `graphviz.Digraph` and saved as its DOT source. The
package writes the statements in the order they were added (and the attributes of one
statement sorted by name), so the same tables give the same DOT byte for byte: the
staleness test compares committed DOT files with freshly generated ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

import graphviz


class GraphvizMissing(RuntimeError):
    """Graphviz `dot` is not installed."""


INSTALL_HINT = "Graphviz 'dot' is not installed; install it: sudo apt-get install graphviz"

# The look of a machine-state box, shared by the machine and reachable-graph drawings.
STATE_NODE: dict[str, str | int | float | bool] = {
    "shape": "box",
    "style": "rounded,filled",
    "fillcolor": "#e3f2fd",
    "color": "#1565c0",
    "fontname": "Helvetica",
    "fontsize": 11,
}


def html(text: str) -> str:
    """Text escaped for a DOT HTML-like label."""
    return escape(text, quote=True)


def text(value: str) -> str:
    """Plain text for an attribute: backslashes and newlines written as DOT escapes
    (so a newline is `\\n` and each statement stays on one line), and never taken
    for an HTML-like label even if it looks like `<...>`. The package adds the
    quotes and escapes the double quotes."""
    plain: str = graphviz.nohtml(value.replace("\\", "\\\\").replace("\n", "\\n"))
    return plain


def attributes(values: Mapping[str, str | int | float | bool]) -> dict[str, str]:
    """Attribute values as the strings `graphviz` takes: booleans `true`/`false`,
    numbers as written, a `label` of the form `<...>` kept as an HTML-like label,
    any other string plain text (`text`)."""
    out: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif not isinstance(value, str):
            out[key] = str(value)
        elif key == "label" and value.startswith("<") and value.endswith(">"):
            out[key] = value
        else:
            out[key] = text(value)
    return out


def node_id(*parts: str) -> str:
    """A DOT identifier built from names: letters, digits and underscores only."""
    raw = "_".join(parts)
    return "".join(c if c.isalnum() else "_" for c in raw)


def render(dot_text: str, fmt: str = "svg", *, engine: str = "dot") -> bytes:
    """Run Graphviz on DOT text and return the output (`svg`, `png`, ...).

    There is no timeout: `graphviz.pipe` (0.20, 0.21) takes none."""
    try:
        out: bytes = graphviz.pipe(engine, fmt, dot_text.encode(), quiet=True)
    except graphviz.ExecutableNotFound as exc:
        raise GraphvizMissing(INSTALL_HINT) from exc
    except graphviz.CalledProcessError as exc:
        stderr = exc.stderr or b""
        if isinstance(stderr, bytes):
            stderr = stderr.decode(errors="replace")
        raise RuntimeError(f"Graphviz failed: {stderr.strip()}") from exc
    return out


def render_svg(dot_text: str) -> str:
    """DOT to SVG text, with the XML prologue removed so it can be inlined in HTML."""
    svg = render(dot_text, "svg").decode()
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg
