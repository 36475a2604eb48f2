"""Sequence charts, Mermaid export, machine diagrams and the HTML report, on small
hand-made inputs (no MDM model needed): structure, determinism, escaping."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, NamedTuple

import pytest

from lifecycle.engine import Model, Property, check
from lifecycle.render.machines import MachineRow, MachineView, machine_dot, machine_mermaid
from lifecycle.render.report import build_html, report_data
from lifecycle.render.sequence import LOCAL, LOST, SequenceChart, Step, to_mermaid, to_svg
from lifecycle.render.traces import trace_chart

SVG = "{http://www.w3.org/2000/svg}"


def _chart() -> SequenceChart:
    return SequenceChart(
        title="no_deadlock: <demo> & co",
        steps=(
            Step("admin", "server", "request unenroll"),
            Step("server", "server", "queue Unenroll Exec", LOCAL),
            Step("device", "network", "Package 1 (1201)"),
            Step("network", "server", "deliver Package 1; #2"),
            Step("server", "device", "Exec Unenroll", LOST, detail="facts: F14"),
        ),
        failing=4,
        failing_note="no_deadlock violated",
    )


def test_sequence_svg_is_valid_xml_with_one_marked_failing_step() -> None:
    svg = to_svg(_chart())
    root = ET.fromstring(svg)
    steps = [g for g in root.iter(f"{SVG}g") if "step" in g.get("class", "").split()]
    assert len(steps) == 5
    failing = [g for g in steps if "failing-step" in g.get("class", "")]
    assert [g.get("data-step") for g in failing] == ["5"]
    lifelines = [g.get("data-lifeline") for g in root.iter(f"{SVG}g") if g.get("data-lifeline")]
    assert lifelines == ["user", "device", "network", "server", "aad", "admin"]
    assert "&lt;demo&gt; &amp; co" in svg  # escaped
    assert "facts: F14" in svg  # detail in the tooltip
    assert to_svg(_chart()) == svg  # deterministic


def test_unknown_lifeline_and_bad_failing_index_are_refused() -> None:
    with pytest.raises(ValueError, match="lifeline 'printer'"):
        SequenceChart("t", (Step("printer", "device", "x"),))
    with pytest.raises(ValueError, match="out of range"):
        SequenceChart("t", (Step("user", "device", "x"),), failing=3)


def test_sequence_mermaid_has_participants_arrows_and_a_red_failing_box() -> None:
    text = to_mermaid(_chart())
    lines = text.splitlines()
    assert lines[0] == "sequenceDiagram"
    assert "    participant aad as Azure AD" in lines
    assert "    admin->>server: 1. request unenroll" in lines
    assert "    Note over server: 2. queue Unenroll Exec" in lines
    assert "    network->>server: 4. deliver Package 1, no. 2" in lines  # ; and # escaped
    i = lines.index("    rect rgb(255, 205, 210)")
    assert lines[i + 1] == "        server-xdevice: 5. Exec Unenroll (lost)"
    assert lines[i + 3] == "    end"


def _view() -> MachineView:
    return MachineView(
        name="toy",
        title="Toy machine",
        states=("enrolled", "unenrolling", "unenrolled", "failed"),
        rows=(
            MachineRow("Sync", ("enrolled",), None, guard="online", facts=("F56",)),
            MachineRow("UserUnenroll", ("enrolled",), "unenrolling", facts=("F1",), unenroll=True),
            MachineRow("Cleanup", ("unenrolling",), "unenrolled", effect="certs", unenroll=True),
            MachineRow("Fail", ("enrolled", "unenrolling", "unenrolled"), "failed"),
            MachineRow("Status", ("*",), None, facts=("F66",)),
        ),
    )


def test_machine_dot_marks_unenroll_paths_and_puts_facts_in_tooltips() -> None:
    dot = machine_dot(_view())
    unenroll_edges = [line for line in dot.splitlines() if "class=unenroll" in line]
    assert len(unenroll_edges) == 2
    assert all("#c62828" in line for line in unenroll_edges)
    # an internal transition is listed in its state's box, facts in its tooltip
    assert 'tooltip="Sync [online]&#10;facts: F56"' in dot
    assert "in any state" in dot  # the "*" row has its own box
    # a row from three states goes through one junction, labelled once
    assert dot.count("toy_via_Fail") == 5  # the dot, three inbound lines, one arrow
    assert dot.count("label=<Fail<br/>") == 1
    assert machine_dot(_view()) == dot


def test_back_edges_are_drawn_reversed_so_the_flow_reads_top_down() -> None:
    view = MachineView(
        name="loop",
        title="loop",
        states=("a", "b"),
        rows=(MachineRow("Go", ("a",), "b"), MachineRow("Back", ("b",), "a")),
    )
    dot = machine_dot(view)
    assert "loop_a -> loop_b" in dot
    back = [line for line in dot.splitlines() if "Back" in line and "->" in line]
    assert back and back[0].strip().startswith("loop_a -> loop_b") and "dir=back" in back[0]


def test_machine_mermaid_is_a_state_diagram() -> None:
    text = machine_mermaid(_view())
    assert text.startswith("stateDiagram-v2\n")
    assert "    [*] --> enrolled" in text
    assert "    enrolled --> unenrolling: ⚠ UserUnenroll (F1)" in text
    assert "    enrolled --> failed: Fail" in text
    assert "        Sync (F56)" in text  # internal transition as a note (guard: tooltip)
    assert "class unenrolling,unenrolled unenroll" in text


class _S(NamedTuple):
    device: str
    server: str


class _Toy(Model):
    """Two parties; the server can forget the device: a violation in two steps."""

    def init_states(self) -> list[_S]:
        return [_S("enrolled", "enrolled")]

    def actions(self, state: _S) -> list[str]:
        return ["admin_unenroll", "server_forget"]

    def next_state(self, state: _S, action: str) -> _S | None:
        if action == "admin_unenroll" and state.server == "enrolled":
            return state._replace(server="queued")
        if action == "server_forget" and state.server == "queued":
            return state._replace(server="gone")
        return None

    def properties(self) -> list[Property]:
        return [
            Property.always(
                "agrees",
                lambda s: s.server != "gone",
                "toy property",
                explain=lambda trace: f"the server is {trace.states[-1].server!r} <F55>",
            )
        ]

    def actor_of(self, action: str) -> str:
        return {"admin_unenroll": "admin", "server_forget": "server"}[action]

    def message_of(self, action: str) -> Any:
        return ("request", "server") if action == "admin_unenroll" else (None, None)


def test_report_html_for_a_toy_violation() -> None:
    model = _Toy()
    result = check(model, deadlock=False)
    assert result.violations
    html = build_html(report_data("toy-design", "1 device", model, result))
    assert 'id="property-table"' in html
    assert html.count('class="sequence-chart"') == 1
    assert "<del>&#39;queued&#39;</del> → <ins>&#39;gone&#39;</ins>" in html
    assert '<tr class="failing">' in html
    # The property's explanation, escaped and with its fact linked.
    assert result.violations[0].explanation == "the server is 'gone' <F55>"
    assert "<b>Why:</b> the server is &#39;gone&#39; &lt;" in html
    assert "http" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # self-contained
    chart = trace_chart(model, result.violations[0].trace, title="t")
    assert [(s.source, s.target, s.kind) for s in chart.steps] == [
        ("admin", "server", "message"),
        ("server", "server", "local"),
    ]


class _NeverDone(_Toy):
    def properties(self) -> list[Property]:
        return [Property.sometimes("finishes", lambda s: s.server == "done", "never happens")]


def test_report_explains_a_sometimes_property_without_a_witness() -> None:
    model = _NeverDone()
    result = check(model, deadlock=False)
    html = build_html(report_data("toy-design", "1 device", model, result))
    assert "No reachable state is a witness" in html
    assert html.count("<svg") == 0
    assert '<td class="status-violated">violated</td>' in html
