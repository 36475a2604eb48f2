"""Build the explorer for a design and serve it on localhost (`lifecycle explore`).

The check runs once, before the server starts, so that every page can offer a jump
to each counterexample; `--no-check` skips it for a scope too large to check. A
counterexample saved by `lifecycle check --format json` can be loaded as well: its
steps are matched by their descriptions, which is what the JSON records.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask

from lifecycle.engine import STUTTER, Trace
from lifecycle.explore.app import Counterexample, create_app
from lifecycle.explore.walk import MAX_PATH, PathError, Walker
from lifecycle.reading import InputError, printable, read_json

__all__ = ["LoadError", "build", "load_counterexamples", "serve"]

#: The largest check result file `--load` reads.
MAX_LOAD_BYTES = 50 * 1024 * 1024


class LoadError(ValueError):
    """A counterexample file that cannot be loaded (one line, exit 2)."""


def _chart(model: Any) -> Callable[[Trace, str], str]:
    from lifecycle.mdm import LifecycleModel
    from lifecycle.render.mdmview import MdmSteps
    from lifecycle.render.sequence import to_svg
    from lifecycle.render.traces import trace_chart

    steps = MdmSteps(model) if isinstance(model, LifecycleModel) else model

    def draw(trace: Trace, title: str) -> str:
        note = f"after step {len(trace)}" if not trace.is_lasso else trace.loop_text()
        svg = to_svg(trace_chart(steps, trace, title=title, failing_note=note))
        start = svg.find("<svg")
        return svg[start:] if start >= 0 else svg

    return draw


def load_counterexamples(walker: Walker, path: Path) -> list[Counterexample]:
    """The counterexamples of a `lifecycle check --format json` file, as paths of this
    walker's model. `LoadError` names the file and what is wrong."""
    where = printable(str(path))
    try:
        data = read_json(path, MAX_LOAD_BYTES, "a file of `lifecycle check --format json`")
    except InputError as exc:
        raise LoadError(f"{where}: {exc}") from None
    violations = data.get("violations") if isinstance(data, dict) else None
    if not isinstance(violations, list):
        raise LoadError(f"{where}: not the output of `check --format json` (no violations list)")
    found = []
    for i, v in enumerate(violations):
        here = f"{where}: violation {i + 1}"
        if not isinstance(v, dict) or not isinstance(v.get("trace"), list) or not v["trace"]:
            continue  # a sometimes property with no witness has no trace
        texts = [
            step["action"]
            for step in v["trace"][1:]
            if isinstance(step, dict) and isinstance(step.get("action"), str)
        ]
        if len(texts) != len(v["trace"]) - 1:
            raise LoadError(f"{here}: a step without an action description")
        if len(texts) > MAX_PATH:
            raise LoadError(f"{here}: {len(texts)} steps; the explorer takes at most {MAX_PATH}")
        trace = None
        error = "no initial state"
        for init in range(len(walker.init_states)):
            try:
                walk = walker.follow(walker.path_of_texts(texts, init))
            except PathError as exc:
                error = str(exc)
                continue
            trace = walk.trace()
            break
        if trace is None:
            name = printable(str(v.get("property")))
            raise LoadError(f"{here} ({name}) does not follow this design: {error}")
        trace = _closed(walker, trace, v, here)
        found.append(
            Counterexample(
                printable(str(v.get("property", "?"))),
                printable(str(v.get("kind", "?"))),
                trace,
                printable(str(v.get("explanation") or "")),
                source=printable(path.name),
            )
        )
    return found


def _closed(walker: Walker, path: Trace, v: dict[str, Any], here: str) -> Trace:
    """A lasso's path closed as the JSON records it: `cycle_start` and the `closing`
    step ("STUTTER": the last state stays), which must lead back to that state."""
    start = v.get("cycle_start")
    if start is None:
        return path
    last = len(path.states) - 1
    if not isinstance(start, int) or isinstance(start, bool) or not 0 <= start <= last:
        raise LoadError(f"{here}: cycle_start {printable(repr(start))} names no state of it")
    closing = v.get("closing")
    if closing == "STUTTER":
        if start != last:
            raise LoadError(f"{here}: a stutter loops on the last state, not on state {start}")
        return Trace(path.states, (*path.actions, STUTTER), start)
    back = next(
        (
            s
            for s in walker.steps(path.states[-1])
            if s.text == closing and s.next_state == path.states[start]
        ),
        None,
    )
    if back is None:
        shown = printable(str(closing))[:80]
        raise LoadError(f"{here}: its closing step ({shown!r}) leads back to no state {start}")
    return Trace(path.states, (*path.actions, back.action), start)


def build(
    design: Any,
    scope: Any,
    *,
    run_check: bool = True,
    load: Path | None = None,
    on_check: Callable[[Any], None] | None = None,
) -> Flask:
    """The explorer application for `design` at `scope`."""
    from lifecycle.engine import check
    from lifecycle.mdm import LifecycleModel
    from lifecycle.render.report import describe_scope

    model = LifecycleModel(design, scope)
    walker = Walker(model)
    notes = [f"scope: {describe_scope(scope)}"]
    found: list[Counterexample] = []
    if run_check:
        result = check(model)
        if on_check is not None:
            on_check(result)
        found += [
            Counterexample(v.property, v.kind.value, v.trace, v.explanation or "")
            for v in result.violations
            if v.trace.states
        ]
        if result.ok:
            notes.append("check: every property holds (complete search)")
        elif result.violations:
            notes.append("check: violated: " + ", ".join(v.property for v in result.violations))
        else:
            notes.append("check: incomplete, so properties not violated are unknown")
    if load is not None:
        found += load_counterexamples(walker, load)
    return create_app(
        walker, found, title=f"lifecycle explore: {design.name}", notes=notes, chart=_chart(model)
    )


def serve(app: Flask, host: str, port: int, on_ready: Callable[[str], None]) -> None:
    """Serve `app` until interrupted; `on_ready(url)` once the socket listens (so a
    port in use fails before anything is printed as ready)."""
    import socket

    from werkzeug.serving import make_server

    # Bound here, not by werkzeug, which prints and exits the process when the port
    # is taken: an OSError lets the CLI say so in one line, with exit code 2.
    listener = socket.create_server((host, port))
    try:
        server = make_server(host, port, app, threaded=True, fd=listener.fileno())
        on_ready(f"http://{host}:{server.port}/")
        try:
            server.serve_forever()
        finally:
            server.server_close()
    finally:
        listener.close()
