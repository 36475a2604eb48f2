"""The distributed search (`backend="ray"`) against the serial one, on a local Ray
instance: the same counts, coverage, verdicts and counterexamples; models from a test
file and from `__main__` shipped unchanged; a clear error without Ray."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from hypothesis import given, settings

from lifecycle.engine import check
from lifecycle.examples import FastPaxosCommit, TwoPhase
from tests.engine.engine_graphs import FAST, FastGraphModel, GraphModel, GraphSpec, graph_specs
from tests.engine.test_engine_parallel import Broken, order_free, summary

ray = pytest.importorskip("ray", reason="the [distributed] extra is part of the test install")
RAY = settings(parent=FAST, max_examples=5)


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    # One local instance for the module, as a cluster would be: check() uses a running
    # one and leaves it up. Its workers import what is not shipped by value from here.
    path = {"env_vars": {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}}
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        runtime_env=path,
    )
    yield
    ray.shutdown()


@RAY
@given(graph_specs(max_nodes=25))
def test_random_graphs_give_the_serial_answers(spec: GraphSpec) -> None:
    # GraphModel lives in a test module the actors cannot import: shipped by value.
    for model in (GraphModel(spec), FastGraphModel(spec), GraphModel(spec, recoverable=True)):
        for store in ("exact", "fingerprint"):
            serial = check(model, store=store)
            distributed = check(model, store=store, backend="ray", workers=2)
            assert summary(distributed) == summary(serial), (type(model).__name__, store)


def test_classic_models_and_the_kept_graph() -> None:
    for store in ("exact", "fingerprint"):
        assert summary(check(Broken(3), store=store, backend="ray", workers=2)) == summary(
            check(Broken(3), store=store)
        )
        paxos = FastPaxosCommit(2, 1)
        assert order_free(check(paxos, store=store, backend="ray", workers=3)) == order_free(
            check(paxos, store=store)
        )
    one = check(Broken(3), backend="ray", workers=1)
    assert summary(one) == summary(check(Broken(3))) and one.extra["workers"] == 1
    serial = check(TwoPhase(3), keep_graph=True)
    distributed = check(TwoPhase(3), keep_graph=True, backend="ray", workers=2)
    assert distributed.graph is not None and serial.graph is not None
    assert distributed.graph.states == serial.graph.states
    assert distributed.graph.successors == serial.graph.successors
    assert distributed.extra["backend"] == "ray"


def test_a_bound_leaves_it_incomplete() -> None:
    result = check(Broken(4), backend="ray", workers=2, max_states=100)
    assert not result.complete and result.distinct_states == 100
    assert result.stop_reason == "max_states=100 reached"


MAIN = """
from lifecycle.engine import Model, Property, check

class Ring(Model):  # defined in __main__: the actors get it by value
    def init_states(self):
        return [0]
    def actions(self, s):
        return ["step"]
    def next_state(self, s, a):
        return (s + 1) % 50
    def properties(self):
        return [Property.always("below 40", lambda s: s < 40)]

result = check(Ring(), backend="ray", workers=2)
print(result.distinct_states, result.violations[0].property, len(result.violations[0].trace))
"""


def test_a_model_in_main_works_unchanged() -> None:
    done = subprocess.run([sys.executable, "-c", MAIN], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["50", "below", "40", "40"]


def test_without_ray_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ValueError, match=r"pip install 'mdm-lifecycle\[distributed\]'"):
        check(TwoPhase(2), backend="ray", workers=2)
    with pytest.raises(ValueError, match="backend must be"):
        check(TwoPhase(2), backend="dask")
    with pytest.raises(ValueError, match="address is for"):
        check(TwoPhase(2), address="auto")


def test_the_cli_runs_on_ray_with_the_serial_answers() -> None:
    args = ["check", "--design", "trusts_alert_alone", "--devices", "1", "--reenrollments", "0"]
    args += ["--kind", "work_access", "--platform", "desktop", "--max-offline", "0"]
    args += ["--no-mdm-toggle", "--no-progress", "--format", "json"]
    serial = subprocess.run(
        [sys.executable, "-m", "lifecycle", *args], capture_output=True, text=True, timeout=300
    )
    on_ray = subprocess.run(
        [sys.executable, "-m", "lifecycle", *args, "--backend", "ray", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert serial.returncode == on_ray.returncode == 1, on_ray.stderr[-2000:]
    one, two = json.loads(serial.stdout), json.loads(on_ray.stdout)
    assert two["backend"] == "ray" and two["workers"] == 2
    for key in ("distinct_states", "generated_states", "depth", "properties", "violations"):
        assert two[key] == one[key], key
