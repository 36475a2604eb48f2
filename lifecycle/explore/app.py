"""The explorer's web pages: a Flask application over a `Walker`.

Two kinds of page, both rendered by jinja2 templates with autoescaping (state values,
design and property names are the user's text, never markup):

- `/?path=...`: a state. The fields the last step changed are marked, every enabled
  step is a link that takes it, each property says what it makes of this state, the
  path back to the initial state is a list of links, and each counterexample has a
  "jump" link.
- `/counterexample/N?step=K`: a counterexample, one step at a time, beside its
  sequence chart, with a link that opens the current state in the state view.

No state is kept per visitor: the address is the whole session (see
`lifecycle.explore.walk`). Flask is the web framework: small, well kept, and its
development server is enough for one architect on localhost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, abort, render_template, request
from jinja2 import ChoiceLoader, PackageLoader, StrictUndefined
from markupsafe import Markup

from lifecycle.engine import Trace, changed_fields, state_fields
from lifecycle.explore.walk import PathError, Walker, encode, parse
from lifecycle.render.templates import FOLDER, PACKAGE

__all__ = ["Counterexample", "create_app"]

#: Longest a value is shown in a table cell before it is cut.
VALUE_LIMIT = 160


@dataclass(frozen=True)
class Counterexample:
    """A counterexample the explorer can step through."""

    property: str
    kind: str
    trace: Trace
    explanation: str = ""
    #: Where it came from: "check" (the explorer's own check) or a file name.
    source: str = "check"


class _Explorer(Flask):
    """Flask autoescapes only .html/.xml templates; ours end in .j2, and every one of
    them renders the user's text, so all of them are escaped."""

    def select_jinja_autoescape(self, filename: str | None) -> bool:
        return True


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= VALUE_LIMIT else text[: VALUE_LIMIT - 1] + "…"


def create_app(
    walker: Walker,
    counterexamples: list[Counterexample],
    *,
    title: str,
    notes: list[str] | None = None,
    chart: Any = None,
) -> Flask:
    """The explorer for `walker`'s model. `chart(trace, title)` draws a sequence chart
    as inline SVG (None: no chart), `notes` are lines shown on every page (the scope,
    the check's verdict)."""
    app = _Explorer(__name__)
    # The explorer's pages extend the report's base template (the page frame and the
    # one copy of the CSS), with the same rules: undefined names are errors.
    app.jinja_options = {
        **app.jinja_options,
        "undefined": StrictUndefined,
        "trim_blocks": True,
        "lstrip_blocks": True,
    }
    app.jinja_loader = ChoiceLoader(
        [PackageLoader("lifecycle.explore", "templates"), PackageLoader(PACKAGE, FOLDER)]
    )
    shown_notes = list(notes or [])
    paths: dict[int, tuple[int, ...] | None] = {}

    def path_of(n: int) -> tuple[int, ...] | None:
        if n not in paths:
            try:
                paths[n] = walker.path_of(counterexamples[n].trace)
            except PathError:
                paths[n] = None
        return paths[n]

    def jumps() -> list[dict[str, Any]]:
        return [
            {
                "n": n,
                "property": c.property,
                "kind": c.kind,
                "steps": len(c.trace),
                "source": c.source,
            }
            for n, c in enumerate(counterexamples)
        ]

    @app.errorhandler(400)
    def bad_request(error: Any) -> tuple[str, int]:
        page = render_template(
            "explore_error.html.j2",
            title=title,
            message=error.description,
            notes=shown_notes,
            counterexamples=[],
        )
        return page, 400

    @app.route("/")
    def state() -> str:
        try:
            walk = walker.follow(parse(request.args.get("path", "0")))
        except PathError as exc:
            abort(400, description=str(exc))
        changed = walker.changes(walk)
        now = state_fields(walk.state)
        fields = [
            {
                "name": name,
                "value": _short(value),
                "before": _short(changed[name][0]) if name in changed else None,
            }
            for name, value in now.items()
        ]
        fields += [  # what the last step removed (a message delivered, a record deleted)
            {"name": name, "value": "(removed)", "before": _short(before)}
            for name, (before, _after) in changed.items()
            if name not in now
        ]
        here = walk.choices
        steps = [
            {
                "text": s.text,
                "href": "/?path=" + encode((*here, s.index)),
                "stays": s.stays,
            }
            for s in walker.steps(walk.state)
        ]
        history = [
            {
                "n": i,
                "text": "initial state" if i == 0 else walker.format_action(walk.actions[i - 1]),
                "href": "/?path=" + walk.prefix(i),
            }
            for i in range(len(walk.states))
        ]
        inits = [{"n": i, "href": f"/?path={i}"} for i in range(len(walker.init_states))]
        return render_template(
            "explore_state.html.j2",
            title=title,
            notes=shown_notes,
            depth=len(walk.actions),
            fields=fields,
            changed=len(changed),
            steps=steps,
            history=history,
            inits=inits,
            init=walk.choices[0],
            properties=walker.at(walk.state),
            counterexamples=jumps(),
        )

    @app.route("/counterexample/<int:n>")
    def counterexample(n: int) -> str:
        if n >= len(counterexamples):
            abort(
                400, description=f"there is no counterexample {n}: there are {len(counterexamples)}"
            )
        found = counterexamples[n]
        trace = found.trace
        try:
            step = int(request.args.get("step", "0"))
        except ValueError:
            abort(400, description="step must be a number")
        last = len(trace.states) - 1
        if not 0 <= step <= last:
            abort(400, description=f"step must be between 0 and {last}")
        path = path_of(n)
        rows = []
        for i, state in enumerate(trace.states):
            if i == 0:
                text, changes = "initial state", {}
            else:
                text = walker.format_action(trace.actions[i - 1])
                changes = changed_fields(trace.states[i - 1], state)
            rows.append(
                {
                    "n": i,
                    "text": text,
                    "changes": [(k, _short(a), _short(b)) for k, (a, b) in changes.items()],
                    "href": f"/counterexample/{n}?step={i}",
                    "current": i == step,
                }
            )
        loop = ""
        if trace.is_lasso:
            closing = trace.actions[-1]
            back = trace.cycle_start
            loop = f"{trace.loop_text()}: then {walker.describe(closing)} returns to state {back}"
        svg = chart(trace, f"{found.property} ({len(trace)} steps)") if chart is not None else ""
        fields = [
            {"name": k, "value": _short(v)} for k, v in state_fields(trace.states[step]).items()
        ]
        return render_template(
            "explore_counterexample.html.j2",
            title=title,
            notes=shown_notes,
            n=n,
            found=found,
            steps=len(trace),
            rows=rows,
            step=step,
            last=last,
            loop=loop,
            chart=Markup(svg),  # the chart renderer escapes every label it draws
            fields=fields,
            open_href=("/?path=" + encode(path[: step + 1])) if path is not None else None,
            prev_href=f"/counterexample/{n}?step={step - 1}" if step > 0 else None,
            next_href=f"/counterexample/{n}?step={step + 1}" if step < last else None,
            counterexamples=jumps(),
        )

    return app
