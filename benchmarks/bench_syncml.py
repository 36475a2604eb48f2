"""SyncML: how fast packages parse, and how fast a long capture is checked.

    .venv/bin/python -m benchmarks.bench_syncml

- parse: every package of a set of exported counterexamples (several presets),
  parsed again and again for about two seconds: packages per second (the bound is
  5,000/s);
- conform: a 200-package capture of the reference design at the default scope (a
  walk of the system's own steps: sessions after sessions), checked by `conform`
  (the bound is 2 s), and the same capture in reverse order, which is refuted only
  once every pair the search reaches is explored, for scale;
- replay: every preset's counterexample (a capture, as `check --syncml` writes it)
  replayed with `lifecycle replay` against that preset's `lifecycle serve` endpoint
  (HTTP on loopback, records in SQLite, the operator's steps through the admin
  interface), and the replayed capture checked by `conform`: the replays' total time
  (the bound is 60 s), apart from the time the checker takes to find the
  counterexamples.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from lifecycle.engine import Trace, check
from lifecycle.engine.liveness import model_fairness
from lifecycle.mdm import LifecycleModel, Scope, presets
from lifecycle.render.diagrams import smallest_scope
from lifecycle.syncml.codec import parse
from lifecycle.syncml.conform import LOGGED, conform, conform_capture, read_capture_dir
from lifecycle.syncml.export import capture_of, first_counterexample, messages, write_capture

PRESETS = ("keeps_aad_association", "exec_done_at_send", "data_only_alerts", "mobile_aadj_proceeds")


def _corpus() -> list[str]:
    texts = []
    for name in PRESETS:
        design = presets()[name]
        result = check(
            LifecycleModel(design, smallest_scope(), liveness=False), stop_on_violation=True
        )
        trace = next(v.trace for v in result.violations if v.trace.states)
        texts += [t for n, t in capture_of(trace).files.items() if n.endswith(".xml")]
    return texts


def bench_parse() -> float:
    texts = [t.encode() for t in _corpus()]
    parsed = 0
    start = time.perf_counter()
    while time.perf_counter() - start < 2.0:
        for text in texts:
            parse(text)
        parsed += len(texts)
    rate = parsed / (time.perf_counter() - start)
    print(f"parse: {len(texts)} distinct packages, {parsed:,} parsed, {rate:,.0f} packages/s")
    return rate


def long_trace(model: LifecycleModel, packages: int, seed: int = 3) -> Trace:
    """A walk of the system's own steps (those the model's fairness promises), with
    an enrollment to start, until `packages` SyncML packages have been sent."""
    fair = [f for f in model_fairness(model) if f.kind != "finite"]
    rng = random.Random(seed)
    state = model.init_states()[0]
    states, actions = [state], []
    sent = 0
    while sent < packages:
        steps = [(a, n) for a, n in model.successors(state) if n != state]
        system = [(a, n) for a, n in steps if any(f.matches(a) for f in fair)]
        action, state = rng.choice(system or steps)
        actions.append(action)
        states.append(state)
        step = Trace((states[-2], state), (action,))
        sent += sum(1 for s in messages(step) if s.msg.kind in LOGGED)
    return Trace(tuple(states), tuple(actions))


def bench_conform(packages: int = 200) -> float:
    design = presets()["reference"]
    scope = design.scope(Scope())
    model = LifecycleModel(design, scope, liveness=False)
    trace = long_trace(model, packages)
    with tempfile.TemporaryDirectory() as tmp:
        where = write_capture(Path(tmp), "long", capture_of(trace, scope=scope))
        events, _ = read_capture_dir(where)
    start = time.perf_counter()
    verdict = conform(model, events)
    seconds = time.perf_counter() - start
    print(
        f"conform: {len(events)} packages, {len(trace)} steps, reference at the default "
        f"scope: conforms={verdict.conforms}, {verdict.states:,} pairs, {seconds:.3f} s"
    )
    # Refuted: the capture in reverse order (every pair the search can reach is
    # explored before it says no), bounded at a minute.
    start = time.perf_counter()
    refuted = conform(model, events[::-1], time_limit=60)
    print(
        f"conform: the same in reverse order: conforms={refuted.conforms}, first "
        f"unexplained package {refuted.matched + 1}, {refuted.states:,} pairs, "
        f"{time.perf_counter() - start:.2f} s"
    )
    return seconds


def bench_replay() -> float:
    from lifecycle.syncml.replay import Admin, Client, replay
    from lifecycle.syncml.serve import DM_PATH, serving

    bad = sorted(n for n, d in presets().items() if d.expected_violations)
    start = time.perf_counter()
    found = {name: first_counterexample(presets()[name]) for name in bad}
    traced = {name: pair for name, pair in found.items() if pair is not None}
    finding = time.perf_counter() - start
    posted = conforming = same = 0
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        for name, (trace, scope) in traced.items():
            design = presets()[name]
            where = write_capture(Path(tmp), name, capture_of(trace, title=name, scope=scope))
            with serving(design, Path(tmp) / f"{name}.sqlite") as (url, _endpoint, token):
                done = replay(where, Client(url + DM_PATH), Admin(url, token))
            posted += done.posted
            same += done.diverged is None
            replayed = write_capture(Path(tmp), f"{name}-replay", done.capture)
            conforming += conform_capture(design, replayed).conforms is True
        seconds = time.perf_counter() - start
    print(
        f"replay: {len(traced)} presets' counterexamples ({len(bad) - len(traced)} with no "
        f"trace), {posted} packages posted, {same} answered package for package, "
        f"{conforming} replayed captures conform; {seconds:.2f} s in all (finding the "
        f"counterexamples: {finding:.1f} s)"
    )
    ok = same == conforming == len(traced)
    return seconds if ok else float("inf")


def main(argv: Sequence[str] | None = None) -> int:
    rate = bench_parse()
    seconds = bench_conform()
    replaying = bench_replay()
    ok = rate >= 5000 and seconds < 2.0 and replaying < 60
    print(
        f"bounds: parse >= 5,000/s {'met' if rate >= 5000 else 'NOT met'}; "
        f"conform of 200 packages < 2 s {'met' if seconds < 2.0 else 'NOT met'}; "
        f"replay of every preset's counterexample < 60 s {'met' if replaying < 60 else 'NOT met'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
