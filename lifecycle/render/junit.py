"""JUnit XML for CI: one testcase per property of a check.

CI systems (GitHub Actions through a test-report action, GitLab, Jenkins) read JUnit
XML and show each property as a test: a violated property is a failure whose text is
the counterexample in the steps `lifecycle check` prints, and a property the search
left unknown is skipped with the reason, never passed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from lifecycle.render.files import write_atomic


def _text(value: str) -> str:
    """XML 1.0 cannot hold most control characters, even escaped: drop them."""
    return "".join(c for c in value if c in "\t\n\r" or ord(c) >= 0x20)


def junit_xml(design: Any, scope: Any, model: Any, result: Any) -> str:
    """The JUnit document of one check."""
    from lifecycle.render.report import describe_scope

    violations = {v.property: v for v in result.violations}
    suite = ET.Element(
        "testsuite",
        {
            "name": _text(f"lifecycle check {design.name}"),
            "tests": str(len(result.properties)),
            "failures": str(len(violations)),
            "errors": "0",
            "skipped": str(
                sum(p.status.value not in ("holds", "violated") for p in result.properties)
            ),
            "time": f"{result.elapsed:.3f}",
        },
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("design", design.name),
        ("scope", describe_scope(scope)),
        ("distinct_states", str(result.distinct_states)),
        ("complete", str(result.complete).lower()),
        ("store", result.store),
    ):
        ET.SubElement(props, "property", {"name": name, "value": _text(value)})
    for p in result.properties:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": _text(f"lifecycle.{design.name}"), "name": p.name, "time": "0"},
        )
        status = p.status.value
        if p.name in violations:
            v = violations[p.name]
            message = f"{p.name} ({p.kind.value}) violated"
            if v.explanation:
                message += f": {v.explanation}"
            failure = ET.SubElement(case, "failure", {"message": _text(message)})
            if v.trace.states:
                failure.text = _text(v.trace.render(format_action=model.describe_action))
            else:
                failure.text = "no reachable state is a witness"
        elif status == "unknown":
            reason = result.stop_reason or result.extra.get("liveness_unknown", {}).get(
                p.name, "the search did not decide it"
            )
            ET.SubElement(case, "skipped", {"message": _text(f"unknown: {reason}")})
        elif status != "holds":
            why = f"{status}: {p.reason}" if p.reason else status
            ET.SubElement(case, "skipped", {"message": _text(why)})
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode")


def write_junit(path: Path, design: Any, scope: Any, model: Any, result: Any) -> Path:
    """Write the JUnit document atomically (`write_atomic`)."""
    return write_atomic(path, junit_xml(design, scope, model, result))
