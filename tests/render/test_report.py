"""The HTML report's templates: untrusted text stays escaped, and the template files
ship with the package. (The report's content is tested in test_render_sequence.py,
tests/mdm/test_mdm_facts.py and, in a browser, test_render_browser.py.)"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

from lifecycle.engine import Model, Property, check
from lifecycle.render.report import build_html, report_data
from lifecycle.render.templates import environment

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = "<script>alert(1)</script>"
#: Breaks out of an attribute value if quotes are not escaped.
ATTRIBUTE = '"><img src=x onerror=alert(2)>'
#: Would print 49 if untrusted text were rendered as a template.
TEMPLATE_TEXT = "{{ 7*7 }}"


class _S(NamedTuple):
    server: str


class _Hostile(Model):
    """A two-step violation in which every name, description and value a design
    could write is hostile HTML."""

    def init_states(self) -> list[_S]:
        return [_S("enrolled")]

    def actions(self, state: _S) -> list[str]:
        return ["admin_unenroll", SCRIPT]

    def next_state(self, state: _S, action: str) -> _S | None:
        if action == "admin_unenroll" and state.server == "enrolled":
            return _S(ATTRIBUTE)
        if action == SCRIPT and state.server == ATTRIBUTE:
            return _S(SCRIPT)
        return None

    def properties(self) -> list[Property]:
        return [
            Property.always(
                f"agrees{SCRIPT}{ATTRIBUTE}",
                lambda s: s.server != SCRIPT,
                f"{SCRIPT} {ATTRIBUTE} {TEMPLATE_TEXT} [/bold] (F14)",
                explain=lambda trace: f"{SCRIPT} {trace.states[-1].server} (F14)",
            )
        ]

    def actor_of(self, action: str) -> str:
        return "admin" if action == "admin_unenroll" else "server"


class _Design:
    name = f"toy{SCRIPT}"
    description = f"{SCRIPT} {ATTRIBUTE} {TEMPLATE_TEXT}"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.text: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _hostile_html() -> str:
    model = _Hostile()
    result = check(model, deadlock=False)
    assert result.violations and result.violations[0].trace.states
    return build_html(report_data(_Design(), "1 device", model, result))


def test_untrusted_text_is_escaped_in_the_report() -> None:
    html = _hostile_html()
    # No tag, attribute or template expression from the design's text gets through...
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    page = _Page()
    page.feed(html)
    assert not page.tags & {"script", "img", "iframe", "object", "embed"}, page.tags
    assert not [name for name, _ in page.attributes if name.startswith("on")]
    # ... and it is shown as text, escaped: in the summary, the property table, the
    # counterexample's heading, description, explanation, initial state and steps.
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 8
    text = "".join(page.text)
    assert f"{SCRIPT} {ATTRIBUTE} {TEMPLATE_TEXT}" in text  # the design description
    assert f"{SCRIPT} {ATTRIBUTE} {TEMPLATE_TEXT} [/bold] (F14)" in text  # the property's
    assert f"Why: {SCRIPT} {SCRIPT} (F14)" in text
    assert f"server: 'enrolled' → {ATTRIBUTE!r}" in text  # a step's changed field
    # The links still work: the counterexample anchor of the hostile property name,
    # and the fact id in its (escaped) description and explanation.
    hrefs = {v for k, v in page.attributes if k == "href" and v}
    ids = {v for k, v in page.attributes if k == "id" and v}
    assert f"#cx-agrees{SCRIPT}{ATTRIBUTE}" in hrefs
    assert f"cx-agrees{SCRIPT}{ATTRIBUTE}" in ids
    assert "#fact-f14" in hrefs and "fact-f14" in ids


def test_the_templates_autoescape_and_never_mark_text_safe() -> None:
    env = environment()
    assert "&lt;script&gt;" in env.get_template("base.html.j2").render(title=SCRIPT)
    names = env.list_templates(extensions=["j2"])
    assert {"base.html.j2", "report.html.j2"} <= set(names)
    for name in names:
        source = (ROOT / "lifecycle" / "render" / "templates" / name).read_text()
        assert not re.search(r"\|\s*safe\b|autoescape\s+false", source), name
    # The CSS is in one place, the base template the report (and the explorer) extend.
    assert "svg.sequence-chart" in (ROOT / "lifecycle/render/templates/base.html.j2").read_text()
    assert "{% extends" in (ROOT / "lifecycle/render/templates/report.html.j2").read_text()


def test_the_templates_ship_as_package_data() -> None:
    folder = resources.files("lifecycle.render.templates")
    for name in ("base.html.j2", "report.html.j2"):
        assert folder.joinpath(name).is_file(), name
    # Every template file is matched by a package-data glob, so a wheel carries it.
    config: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["lifecycle"]
    shipped = sorted((ROOT / "lifecycle").glob("render/templates/*.j2"))
    assert len(shipped) >= 2
    for path in shipped:
        relative = path.relative_to(ROOT / "lifecycle").as_posix()
        assert any(fnmatch.fnmatch(relative, g) for g in globs), (relative, globs)
