"""Small helpers for writing DOT by hand and running Graphviz.

DOT is written as text (not through the `graphviz` package's builder) so that the
output is byte-for-byte deterministic: the staleness test compares committed DOT files
with freshly generated ones.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from html import escape


class GraphvizMissing(RuntimeError):
    """Graphviz `dot` is not installed."""


# The look of a machine-state box, shared by the machine and reachable-graph drawings.
STATE_NODE: dict[str, str | int | float | bool] = {
    "shape": "box",
    "style": "rounded,filled",
    "fillcolor": "#e3f2fd",
    "color": "#1565c0",
    "fontname": "Helvetica",
    "fontsize": 11,
}


def quote(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def html(text: str) -> str:
    """Text escaped for a DOT HTML-like label."""
    return escape(text, quote=True)


def attrs(values: Mapping[str, str | int | float | bool]) -> str:
    """`[a="1", b="x"]`, keys in the given order; HTML labels (`<...>`) left unquoted."""
    parts = []
    for key, value in values.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        text = str(value)
        if key == "label" and text.startswith("<") and text.endswith(">"):
            parts.append(f"{key}={text}")
        else:
            parts.append(f"{key}={quote(text)}")
    return "[" + ", ".join(parts) + "]"


def node_id(*parts: str) -> str:
    """A DOT identifier built from names: letters, digits and underscores only."""
    raw = "_".join(parts)
    return "".join(c if c.isalnum() else "_" for c in raw)


def dot_binary() -> str:
    found = shutil.which("dot")
    if found is None:
        raise GraphvizMissing(
            "Graphviz 'dot' is not installed; install it: sudo apt-get install graphviz"
        )
    return found


def render(dot_text: str, fmt: str = "svg", *, engine: str = "dot", timeout: float = 60) -> bytes:
    """Run Graphviz on DOT text and return the output (`svg`, `png`, ...)."""
    binary = dot_binary()
    proc = subprocess.run(
        [binary, f"-K{engine}", f"-T{fmt}"],
        input=dot_text.encode(),
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"Graphviz failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


def render_svg(dot_text: str) -> str:
    """DOT to SVG text, with the XML prologue removed so it can be inlined in HTML."""
    svg = render(dot_text, "svg").decode()
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg
