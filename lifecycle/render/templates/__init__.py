"""The jinja2 templates of the HTML pages (the report, the interactive explorer).

`environment()` is the one place they are loaded: autoescaping on for every HTML
template, undefined names an error, block tags trimmed. `base.html.j2` holds the
page skeleton and the shared CSS; a page extends it and fills ``body`` (and, for
its own rules, ``style``; ``head`` for anything else in the head).

Escaping: every value a template prints is escaped unless it is a
`markupsafe.Markup`. Names, descriptions and state values are untrusted (a design
file writes them), so they go in as plain ``str``; only HTML that our own code built
from escaped parts (an inline SVG, text with its fact ids turned into links) is
wrapped in `Markup`, in Python, where it is built. No template uses ``|safe``.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

#: The package (and folder in it) the template files ship in.
PACKAGE = "lifecycle.render"
FOLDER = "templates"


@cache
def environment() -> Environment:
    """The shared jinja2 environment for the project's HTML templates."""
    return Environment(
        loader=PackageLoader(PACKAGE, FOLDER),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


__all__ = ["environment"]
