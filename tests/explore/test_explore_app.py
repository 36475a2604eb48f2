"""The explorer's pages, through Flask's test client, and `lifecycle explore`'s errors."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from html import unescape

from click.testing import CliRunner

from lifecycle.cli import cli
from lifecycle.engine import Model, Property, Trace, changed_fields
from lifecycle.explore.app import Counterexample, create_app
from lifecycle.explore.walk import Walker


@dataclass(frozen=True)
class Hostile(Model):
    """A model whose action and state text is markup: the page must show it as text."""

    def init_states(self) -> list[tuple[str, int]]:
        return [("<b>start</b>", 0)]

    def actions(self, state: tuple[str, int]) -> list[str]:
        return ["<script>alert(1)</script>", "stay"] if state[1] < 3 else []

    def next_state(self, state: tuple[str, int], action: str) -> tuple[str, int]:
        return state if action == "stay" else ("<i>next</i>", state[1] + 1)

    def properties(self) -> list[Property]:
        return [Property.always("small", lambda s: s[1] < 2, "<u>two</u> at most")]


def _app(counterexamples: list[Counterexample] | None = None) -> tuple[Walker, object]:
    walker = Walker(Hostile())
    app = create_app(walker, counterexamples or [], title="<h1>x</h1>", notes=["<em>n</em>"])
    return walker, app.test_client()


def _links(html: str, cls: str) -> list[str]:
    return re.findall(rf'<a class="{cls}" href="([^"]+)">', html)


def test_state_page_offers_every_enabled_step_and_escapes_markup() -> None:
    walker, client = _app()
    page = client.get("/?path=0")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<h1>x</h1>" not in html and "<em>" not in html and "<u>" not in html
    assert _links(html, "take") == ["/?path=0.0", "/?path=0.1"]
    assert len(walker.steps(walker.init_states[0])) == 2
    assert "(changes nothing)" in html  # the self-loop is marked


def test_taking_a_step_marks_what_it_changed_and_the_path_back() -> None:
    walker, client = _app()
    first = walker.steps(walker.init_states[0])[0]  # by its rendering, "'<script>..."
    html = client.get("/?path=0.0.0").get_data(as_text=True)
    walk = walker.follow((0, 0, 0))
    changed = changed_fields(walk.states[-2], walk.states[-1])
    assert html.count('<tr class="changed">') == len(changed) == 1
    history = re.findall(r'<li><a href="(/\?path=[0-9.]*)">', html)
    assert history == ["/?path=0", "/?path=0.0", "/?path=0.0.0"]
    assert unescape(first.text) in unescape(html)
    # the property is violated in state 2 (counter 2), as its predicate says
    assert "violated" in html


def test_bad_addresses_are_400_with_the_reason() -> None:
    _walker, client = _app()
    page = client.get("/?path=0.7")
    assert page.status_code == 400
    assert "chooses 7, but state 0 has 2 enabled steps" in page.get_data(as_text=True)
    assert client.get("/counterexample/3").status_code == 400
    assert client.get("/?path=0.x").status_code == 400


def test_counterexample_pages_step_through_the_trace() -> None:
    walker = Walker(Hostile())
    walk = walker.follow((0, 0, 0))
    trace = Trace(walk.states, walk.actions)
    found = Counterexample("small", "always", trace, "counter <b>2</b>")
    app = create_app(walker, [found], title="t", chart=lambda t, title: "<svg class='c'></svg>")
    client = app.test_client()
    home = client.get("/").get_data(as_text=True)
    assert _links(home, "jump") == ["/counterexample/0"]
    html = client.get("/counterexample/0?step=1").get_data(as_text=True)
    assert "<svg class='c'></svg>" in html  # the chart, as markup
    assert "counter &lt;b&gt;2&lt;/b&gt;" in html  # the explanation, as text
    assert 'id="open" href="/?path=0.0"' in html
    assert 'id="prev" href="/counterexample/0?step=0"' in html
    assert 'id="next" href="/counterexample/0?step=2"' in html
    assert html.count('<tr class="current">') == 1
    assert client.get("/counterexample/0?step=9").status_code == 400


def test_cli_refuses_a_port_in_use_with_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            cli, ["explore", "--no-check", "--port", str(port), "--devices", "1"]
        )
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and "cannot listen: Address already in use" in lines[0], lines


def test_cli_refuses_a_bad_load_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "x.json"
    bad.write_text("{")
    result = CliRunner().invoke(cli, ["explore", "--no-check", "--load", str(bad)])
    assert result.exit_code == 2
    assert "not JSON" in result.output and "Traceback" not in result.output
