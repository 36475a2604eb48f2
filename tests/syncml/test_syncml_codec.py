"""The codec: the doc's samples with and without their defects, round trips of any
package, the quirks accepted as warnings, and malformed XML named by line and column."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lifecycle.syncml import (
    Alert,
    Item,
    Meta,
    Package,
    SyncHdr,
    SyncMLError,
    build,
    parse,
)
from lifecycle.syncml.mapping import UNENROLL_TYPE
from tests.syncml.syncml_strategies import packages

DATA = Path(__file__).resolve().parent / "data"


def _read(name: str) -> bytes:
    return (DATA / name).read_bytes()


# ------------------------------------------------------------------ the doc's samples
@pytest.mark.parametrize(
    ("name", "where", "needle"),
    [
        ("doc-2.1-unenroll-alert.xml", "line 1, column 15", "&#39; written in place of a quote"),
        ("doc-2.1-zh-curly-quotes.xml", "line 20, column 26", "curly quotes"),
        ("doc-2.3-unenroll-exec.xml", "line 5, column 77", "placeholder such as <ProviderID>"),
        ("doc-2.3-unenroll-exec-2017.xml", "line 5, column 77", "<ProviderID>"),
        ("doc-2.4-generic-alert.xml", "line 3, column 42", "closed with --!>"),
        ("doc-2.2-server-alert.xml", "line 1", "a fragment"),
    ],
)
def test_each_broken_sample_is_one_line_naming_where_and_the_defect(
    name: str, where: str, needle: str
) -> None:
    with pytest.raises(SyncMLError) as caught:
        parse(_read(name))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(where + ":"), message
    assert needle in message, message


def test_curly_quotes_say_they_are_a_defect_of_the_doc_samples() -> None:
    with pytest.raises(SyncMLError, match=r"curly quotes .* a defect of the doc's samples"):
        parse(_read("doc-2.1-zh-curly-quotes.xml"))


def test_sample_2_1_made_well_formed_keeps_every_quirk_as_a_warning() -> None:
    pkg = parse(_read("doc-2.1-well-formed.xml"))
    text = "\n".join(pkg.warnings)
    assert "namespace syncml:metinfo" in text and "the correct one is syncml:metinf" in text
    assert "leading or trailing space" in text
    assert "CmdID 2 of Replace repeats the CmdID of Alert (line 16)" in text
    assert "Target and Source look swapped" in text
    assert "without Alert 1200 or 1201" in text
    assert "./DevInfo/DevId" in text
    assert all(re.match(r"line \d+: ", w) for w in pkg.warnings)
    alert = pkg.commands[0]
    assert isinstance(alert, Alert) and alert.items[0].meta is not None
    assert alert.items[0].meta.type == UNENROLL_TYPE  # the leading space is stripped


def test_sample_2_1_with_its_defects_fixed_parses_clean() -> None:
    pkg = parse(_read("doc-2.1-fixed.xml"))
    assert pkg.warnings == ()
    assert [type(c).__name__ for c in pkg.commands] == ["Alert", "Alert", "Replace"]
    assert pkg.header.target.startswith("https://") and pkg.final


def test_the_field_package_records_the_empty_meta() -> None:
    pkg = parse(_read("field-8376-package1.xml"))
    empty = [w for w in pkg.warnings if "empty <Meta/>" in w]
    assert len(empty) == 2 and "Alert 1226 (CmdID 4)" in empty[1]
    alert = pkg.commands[2]
    assert isinstance(alert, Alert) and alert.items[0].meta == Meta()


def test_sample_2_4_in_a_package_strips_the_padded_type() -> None:
    pkg = parse(_read("doc-2.4-package1.xml"))
    alert = pkg.commands[1]
    assert isinstance(alert, Alert) and alert.correlator == "abc123"
    meta = alert.items[0].meta
    assert meta is not None and meta.type == "Reversed-Domain-Name: org.domain.samplealert"
    assert meta.mark == "critical" and alert.items[0].source == "./SyncML/Sample"
    assert any("stripped" in w for w in pkg.warnings)


@pytest.mark.parametrize("path", sorted(DATA.glob("*.xml")), ids=lambda p: p.name)
def test_every_sample_that_parses_is_a_fixed_point(path: Path) -> None:
    try:
        pkg = parse(path.read_bytes())
    except SyncMLError:
        return
    assert parse(build(pkg)) == pkg
    assert build(parse(build(pkg))) == build(pkg)


# ------------------------------------------------------------------ round trips
@given(packages)
def test_parse_of_build_is_the_package(pkg: Package) -> None:
    assert parse(build(pkg)) == pkg


def _perturb(text: str, how: str) -> str:
    if how == "metinfo":
        return text.replace('xmlns="syncml:metinf"', 'xmlns="syncml:metinfo"')
    if how == "padded":
        return text.replace('<Type xmlns="syncml:metinf">', '<Type xmlns="syncml:metinf">  ')
    if how == "comments":
        return text.replace("<SyncBody>", "<SyncBody><!-- c -->").replace("</Item>", "</Item> ")
    if how == "declaration":
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + text
    return re.sub(r">\n\s*<", "><", text)  # compact: no indentation (may empty a leaf)


@given(packages, st.sampled_from(["metinfo", "padded", "comments", "declaration", "compact"]))
def test_quirks_are_accepted_and_build_of_parse_is_a_fixed_point(pkg: Package, how: str) -> None:
    text = _perturb(build(pkg), how)
    once = build(parse(text))
    assert build(parse(once)) == once
    if how != "compact":
        read = parse(text)
        assert read == pkg
        if how == "metinfo" and "syncml:metinf" in build(pkg):
            assert any("syncml:metinfo" in w for w in read.warnings)
        if how == "padded" and '<Type xmlns="syncml:metinf">' in build(pkg):
            assert any("leading or trailing space" in w for w in read.warnings)


@given(st.binary(max_size=200) | st.text(max_size=200))
def test_any_input_parses_or_is_one_line(data: bytes | str) -> None:
    try:
        parse(data)
    except SyncMLError as exc:
        assert "\n" not in str(exc)


@given(packages, st.data())
def test_a_damaged_package_parses_or_is_one_line(pkg: Package, data: st.DataObject) -> None:
    text = build(pkg)
    at = data.draw(st.integers(0, len(text) - 1))
    cut = data.draw(st.integers(1, 5))
    try:
        parse(text[:at] + text[at + cut :])
    except SyncMLError as exc:
        assert "\n" not in str(exc)
        assert re.match(r"line \d+", str(exc)), str(exc)


# ------------------------------------------------------------------ warnings and errors
_HDR = (
    "<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>{sid}</SessionID>"
    "<MsgID>1</MsgID><Target><LocURI>https://s</LocURI></Target>"
    "<Source><LocURI>dev</LocURI></Source></SyncHdr>"
)


def _doc(body: str, sid: str = "1", root: str = '<SyncML xmlns="SYNCML:SYNCML1.2">') -> str:
    return f"{root}{_HDR.format(sid=sid)}<SyncBody>{body}</SyncBody></SyncML>"


@pytest.mark.parametrize(
    ("body", "sid", "needle"),
    [
        ("<Alert><CmdID>0</CmdID><Data>1201</Data></Alert>", "1", "CmdID 0"),
        ("<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>", "12345", "longer than 4 bytes"),
        (
            "<Alert><CmdID>1</CmdID><Data>1226</Data><Item><Meta>"
            "<Type>x</Type></Meta></Item></Alert>",
            "1",
            "outside the syncml:metinf namespace",
        ),
    ],
)
def test_well_formed_quirks_are_warnings(body: str, sid: str, needle: str) -> None:
    pkg = parse(_doc(body, sid))
    assert any(needle in w for w in pkg.warnings), pkg.warnings


def test_a_clean_package_has_no_warning_and_no_namespace_is_one() -> None:
    body = "<Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Final/>"
    assert parse(_doc(body)).warnings == ()
    assert parse(_doc(body, root="<SyncML>")).warnings[0].startswith("line 1: <SyncML> without")


def test_malformed_xml_names_line_and_column() -> None:
    with pytest.raises(SyncMLError) as caught:
        parse("<SyncML>\n  <a x=\u201dy\u201d/>\n</SyncML>")
    assert str(caught.value).startswith("line 2, column 8: XML error: not well-formed")
    with pytest.raises(SyncMLError, match=r"^line 3, column 3: XML error: mismatched tag$"):
        parse(b"<SyncML>\n<a>\n</b></SyncML>")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (
            "<Sequence><CmdID>1</CmdID></Sequence>",
            "<Sequence> inside <SyncBody> is not in the subset",
        ),
        ("<Alert><CmdID>x</CmdID><Data>1201</Data></Alert>", "<CmdID> 'x' is not a number"),
        ("<Alert><CmdID>99999999999</CmdID><Data>1</Data></Alert>", "is not a number"),
        ("<Alert><Data>1201</Data></Alert>", "<Alert> needs one <CmdID>, it has 0"),
        ("<Final/><Alert><CmdID>1</CmdID><Data>1201</Data></Alert>", "after <Final/>"),
        ("<Exec><CmdID>1</CmdID><Item>oops</Item></Exec>", "text 'oops' directly inside <Item>"),
        (
            "<Exec><CmdID>1</CmdID><Item><Target><LocURI>a<b/></LocURI></Target></Item></Exec>",
            "placeholder",
        ),
    ],
)
def test_packages_outside_the_subset_are_one_line_with_a_line(body: str, needle: str) -> None:
    with pytest.raises(SyncMLError) as caught:
        parse(_doc(body))
    assert re.match(r"line 1: ", str(caught.value)) and needle in str(caught.value)


def test_only_syncml_dm_1_2_is_read() -> None:
    with pytest.raises(SyncMLError, match=r"SyncML DM 1\.2"):
        parse(_doc("").replace("<VerDTD>1.2", "<VerDTD>1.1"))
    with pytest.raises(SyncMLError, match=r"namespace 'SYNCML:SYNCML1\.1'"):
        parse(_doc("", root='<SyncML xmlns="SYNCML:SYNCML1.1">'))


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        (Item(data="a\rb"), "carriage return"),
        (Item(data="a\x00b"), "XML 1.0 cannot carry"),
        (Item(meta=Meta(type=" padded")), "leading or trailing space"),
    ],
)
def test_build_refuses_what_it_cannot_write_faithfully(value: Item, needle: str) -> None:
    pkg = Package(SyncHdr("1", 1, "t", "s"), (Alert(1, 1226, (value,)),))
    with pytest.raises(SyncMLError, match=needle):
        build(pkg)


def test_build_refuses_numbers_and_versions_out_of_range() -> None:
    with pytest.raises(SyncMLError, match="not a number"):
        build(Package(SyncHdr("1", -1, "t", "s")))
    with pytest.raises(SyncMLError, match=r"SyncML DM 1\.2"):
        build(Package(SyncHdr("1", 1, "t", "s", ver_dtd="1.1")))
