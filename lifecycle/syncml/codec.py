"""Read and write SyncML DM 1.2 packages: `parse(xml) -> Package`, `build(pkg) -> str`.

``parse(build(p)) == p`` for every package `build` accepts, and ``build(parse(x))`` is
a fixed point: parsing normalises (whitespace between elements, comments, element
order, the quirks below) and nothing else.

A capture is untrusted input, so `parse` refuses, with a one-line `SyncMLError` and
before doing any work that grows with the attack: a DTD (so no entity expansion, as in
billion laughs, and no external entity, XXE), more than `MAX_BYTES` and nesting deeper
than `MAX_DEPTH`. It parses with defusedxml's expat parser (what
``defusedxml.ElementTree.fromstring`` uses, with forbid_dtd, forbid_entities and
forbid_external all on) and a tree builder that counts depth and records each
element's line, so that every error names a line.

Malformed XML is reported with its line and column (1-based) and, when the line shows
one, the known defect of the doc's samples it looks like (`lifecycle.syncml.defects`).
Well-formed quirks are accepted and listed in `Package.warnings`: the ``syncml:metinfo``
namespace (the correct one is ``syncml:metinf``), a Meta Type or Format padded with
spaces (stripped), a repeated CmdID or CmdID 0 (F73), an empty ``<Meta/>`` (F10), a
SessionID over 4 bytes (F72), ``./DevInfo/DevID`` for ``DevId``, Target and Source
swapped, and a Generic Alert in a first message without Alert 1200/1201 (F65).

`build` writes with the standard library's xml.etree.ElementTree and refuses what it
could not write faithfully (characters XML cannot carry, a carriage return that a
parser would turn into a newline, a padded Meta Type, a number outside 0..2**31-1).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from typing import Any, NoReturn
from xml.parsers import expat

import defusedxml
import defusedxml.ElementTree as DET

from lifecycle.syncml.defects import diagnose
from lifecycle.syncml.errors import SyncMLError
from lifecycle.syncml.package import (
    CLIENT_ALERTS,
    CLIENT_INITIATED,
    COMMANDS,
    GENERIC_ALERT,
    MAX_NUMBER,
    METINF_NS,
    SERVER_INITIATED,
    SYNCML_NS,
    VER_DTD,
    VER_PROTO,
    Add,
    Alert,
    Chal,
    Command,
    Cred,
    Exec,
    Get,
    Item,
    Meta,
    Package,
    Replace,
    Results,
    Status,
    SyncHdr,
)

#: Facts the parser's checks and warnings cite.
FACTS = ("F10", "F65", "F72", "F73", "F76")

#: The largest message `parse` reads: 1 MiB (Windows' MaxMsgSize is far below it).
MAX_BYTES = 1 << 20
#: The deepest nesting `parse` reads; a SyncML DM message nests fewer than 10 levels.
MAX_DEPTH = 100
#: The namespace the doc's sample 2.1 writes for MetInf (a misspelling).
METINFO_TYPO = "syncml:metinfo"

_NUMBER = re.compile(r"\s*([0-9]{1,10})\s*")
_NOT_XML = re.compile("[^\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_EXTERNAL = re.compile(r"<!ENTITY[^>]*\b(?:SYSTEM|PUBLIC)\b")


# ----------------------------------------------------------------------------- parse
class _Refused(Exception):
    """Raised inside the parser's callbacks to stop at once."""


class _Builder(ET.TreeBuilder):
    """A TreeBuilder that refuses nesting deeper than MAX_DEPTH and records the line of
    each element's start tag."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.lines: dict[ET.Element, int] = {}
        self.expat: Any = None

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        self.depth += 1
        line = self.expat.CurrentLineNumber if self.expat is not None else 0
        if self.depth > MAX_DEPTH:
            raise _Refused(f"line {line}: elements nested deeper than {MAX_DEPTH} levels: refused")
        elem = super().start(tag, attrs)
        self.lines[elem] = line
        return elem

    def end(self, tag: str) -> ET.Element:
        self.depth -= 1
        return super().end(tag)


def _size_check(xml: bytes | str) -> None:
    """Refuse more than MAX_BYTES before parsing (a str is measured in UTF-8, once its
    length in characters, a lower bound, is known to be small enough to encode)."""
    size = len(xml)
    if isinstance(xml, str) and size <= MAX_BYTES:
        size = len(xml.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise SyncMLError(f"larger than {MAX_BYTES:,} bytes (1 MiB): refused")


def _line_of(xml: bytes | str, number: int) -> str:
    text = xml.decode("utf-8", "replace") if isinstance(xml, bytes) else xml
    lines = text.splitlines()
    return lines[number - 1] if 0 < number <= len(lines) else ""


def _dtd_refusal(xml: bytes | str, line: int) -> str:
    text = xml.decode("utf-8", "replace") if isinstance(xml, bytes) else xml
    if _EXTERNAL.search(text):
        what = "a DTD declaring an external entity (XXE)"
    elif "<!ENTITY" in text:
        what = "a DTD declaring entities (entity expansion, as in billion laughs)"
    else:
        what = "a DTD (<!DOCTYPE>)"
    return f"line {line}: {what}: refused, a SyncML DM message carries no DTD"


def _tree(xml: bytes | str) -> tuple[ET.Element, dict[ET.Element, int]]:
    """The element tree of `xml` and each element's line, or a one-line SyncMLError."""
    if not isinstance(xml, bytes | str):
        raise SyncMLError(f"expected the XML as bytes or str, not {type(xml).__name__}")
    _size_check(xml)
    builder = _Builder()
    parser = DET.XMLParser(
        target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    builder.expat = parser.parser
    try:
        parser.feed(xml)
        root = parser.close()
    except ET.ParseError as exc:
        line, column = exc.position
        reason = expat.ErrorString(exc.code) if exc.code else str(exc)
        message = f"line {line}, column {column + 1}: XML error: {reason}"
        hint = diagnose(_line_of(xml, line))
        raise SyncMLError(f"{message}; it looks like {hint}" if hint else message) from None
    except defusedxml.DefusedXmlException:
        raise SyncMLError(_dtd_refusal(xml, builder.expat.CurrentLineNumber)) from None
    except _Refused as exc:
        raise SyncMLError(str(exc)) from None
    return root, builder.lines


def _split(tag: str) -> tuple[str | None, str]:
    """(namespace, local name) of an ElementTree tag."""
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return None, tag


#: A child spec: element name -> how many: "1" exactly one, "?" at most one, "*" any.
_Spec = dict[str, str]


class _Reader:
    """Turns the element tree into a Package, collecting warnings with their lines."""

    def __init__(self, lines: dict[ET.Element, int]) -> None:
        self.lines = lines
        self.warnings: list[tuple[int, str]] = []
        self.cmd_ids: dict[int, tuple[str, int]] = {}

    # ------------------------------------------------------------------ helpers
    def line(self, e: ET.Element) -> int:
        return self.lines.get(e, 0)

    def fail(self, e: ET.Element, message: str) -> NoReturn:
        raise SyncMLError(f"line {self.line(e)}: {message}")

    def warn(self, e: ET.Element, message: str) -> None:
        entry = (self.line(e), f"line {self.line(e)}: {message}")
        if entry not in self.warnings:
            self.warnings.append(entry)

    def children(self, e: ET.Element, spec: _Spec) -> dict[str, list[ET.Element]]:
        """The children of container `e` by name, checked against `spec`: no text
        outside the children, no unknown element, the counts the spec allows."""
        name = _split(e.tag)[1]
        if e.text and e.text.strip():
            self.fail(e, f"text {e.text.strip()[:40]!r} directly inside <{name}>")
        found: dict[str, list[ET.Element]] = {}
        for child in e:
            child_name = _split(child.tag)[1]
            if child.tail and child.tail.strip():
                self.fail(child, f"text {child.tail.strip()[:40]!r} directly inside <{name}>")
            if child_name not in spec:
                self.fail(
                    child,
                    f"<{child_name}> inside <{name}> is not in the subset this codec "
                    f"reads (docs/syncml.md); <{name}> may hold {', '.join(spec) or 'nothing'}",
                )
            found.setdefault(child_name, []).append(child)
        for child_name, count in spec.items():
            n = len(found.get(child_name, ()))
            if count == "1" and n != 1:
                self.fail(e, f"<{name}> needs one <{child_name}>, it has {n}")
            if count == "?" and n > 1:
                self.fail(found[child_name][1], f"<{name}> has more than one <{child_name}>")
        return found

    def text(self, e: ET.Element) -> str:
        """The text of leaf `e`; a leaf holding an element is refused."""
        if len(e):
            inner = _split(e[0].tag)[1]
            name = _split(e.tag)[1]
            hint = " (a placeholder written inside a LocURI?)" if name == "LocURI" else ""
            self.fail(e[0], f"<{name}> holds an element <{inner}>, expected text{hint}")
        return e.text or ""

    def number(self, e: ET.Element) -> int:
        raw = self.text(e)
        match = _NUMBER.fullmatch(raw)
        value = int(match.group(1)) if match else MAX_NUMBER + 1
        if match is None or value > MAX_NUMBER:
            name = _split(e.tag)[1]
            self.fail(e, f"<{name}> {raw.strip()[:40]!r} is not a number from 0 to {MAX_NUMBER}")
        return value

    def one(self, found: dict[str, list[ET.Element]], name: str) -> ET.Element:
        return found[name][0]

    def optional(
        self, found: dict[str, list[ET.Element]], name: str, read: Callable[[ET.Element], Any]
    ) -> Any:
        elems = found.get(name)
        return read(elems[0]) if elems else None

    def loc_uri(self, e: ET.Element) -> str:
        found = self.children(e, {"LocURI": "1"})
        return self.text(self.one(found, "LocURI"))

    # ------------------------------------------------------------------ parts
    def meta(self, e: ET.Element, owner: str) -> Meta:
        found = self.children(e, {element: "?" for _f, element in Meta.ELEMENTS})
        values: dict[str, str | None] = {}
        for attr, element in Meta.ELEMENTS:
            child = found.get(element, [None])[0]
            if child is None:
                values[attr] = None
                continue
            ns = _split(child.tag)[0]
            if ns == METINFO_TYPO:
                self.warn(
                    child,
                    f"Meta {element} in the namespace {METINFO_TYPO}, as in the doc's sample "
                    f"2.1; the correct one is {METINF_NS}",
                )
            elif ns != METINF_NS:
                self.warn(child, f"Meta {element} outside the {METINF_NS} namespace")
            value = self.text(child)
            if attr in ("type", "format") and value != value.strip():
                self.warn(
                    child,
                    f"Meta {element} {value!r} has a leading or trailing space, as in the "
                    "doc's samples; stripped",
                )
                value = value.strip()
            values[attr] = value
        meta = Meta(**values)
        if meta == Meta():
            self.warn(e, f"an empty <Meta/> in {owner}: no Type, no Format (F10)")
        return meta

    def item(self, e: ET.Element, owner: str) -> Item:
        found = self.children(e, {"Target": "?", "Source": "?", "Meta": "?", "Data": "?"})
        source = self.optional(found, "Source", self.loc_uri)
        if source == "./DevInfo/DevID":
            self.warn(
                found["Source"][0],
                "./DevInfo/DevID, as in the doc's sample 2.1: DevInfo node names are "
                "case-sensitive, the node is ./DevInfo/DevId",
            )
        return Item(
            target=self.optional(found, "Target", self.loc_uri),
            source=source,
            meta=self.optional(found, "Meta", lambda m: self.meta(m, owner)),
            data=self.optional(found, "Data", self.text),
        )

    def items(self, found: dict[str, list[ET.Element]], owner: str) -> tuple[Item, ...]:
        return tuple(self.item(i, owner) for i in found.get("Item", ()))

    def cmd_id(self, found: dict[str, list[ET.Element]], name: str) -> int:
        elem = self.one(found, "CmdID")
        value = self.number(elem)
        if value == 0:
            self.warn(elem, f"CmdID 0 in {name}: a CmdID is never 0 (F73)")
        if value in self.cmd_ids:
            first, first_line = self.cmd_ids[value]
            self.warn(
                elem,
                f"CmdID {value} of {name} repeats the CmdID of {first} (line {first_line}); "
                "a CmdID is unique within a message (F73)",
            )
        else:
            self.cmd_ids[value] = (name, self.line(elem))
        return value

    def header(self, e: ET.Element) -> SyncHdr:
        found = self.children(
            e,
            {
                "VerDTD": "1",
                "VerProto": "1",
                "SessionID": "1",
                "MsgID": "1",
                "Target": "1",
                "Source": "1",
                "Cred": "?",
                "Meta": "?",
            },
        )
        ver_dtd = self.text(self.one(found, "VerDTD"))
        ver_proto = self.text(self.one(found, "VerProto"))
        if ver_dtd.strip() != VER_DTD or ver_proto.strip() != VER_PROTO:
            self.fail(
                e, f"VerDTD {ver_dtd!r} VerProto {ver_proto!r}: this codec reads SyncML DM 1.2"
            )
        session = self.one(found, "SessionID")
        session_id = self.text(session)
        if len(session_id.encode("utf-8")) > 4:
            self.warn(session, f"SessionID {session_id!r} is longer than 4 bytes (F72)")
        return SyncHdr(
            session_id=session_id,
            msg_id=self.number(self.one(found, "MsgID")),
            target=self.loc_uri(self.one(found, "Target")),
            source=self.loc_uri(self.one(found, "Source")),
            cred=self.optional(found, "Cred", self.cred),
            meta=self.optional(found, "Meta", lambda m: self.meta(m, "the SyncHdr")),
        )

    def cred(self, e: ET.Element) -> Cred:
        found = self.children(e, {"Meta": "?", "Data": "1"})
        return Cred(
            meta=self.optional(found, "Meta", lambda m: self.meta(m, "the Cred")),
            data=self.text(self.one(found, "Data")),
        )

    def chal(self, e: ET.Element) -> Chal:
        found = self.children(e, {"Meta": "1"})
        return Chal(meta=self.meta(self.one(found, "Meta"), "the Chal"))

    # ------------------------------------------------------------------ commands
    def command(self, e: ET.Element) -> Command:
        name = _split(e.tag)[1]
        if name == "Alert":
            found = self.children(e, {"CmdID": "1", "Data": "1", "Correlator": "?", "Item": "*"})
            cmd_id = self.cmd_id(found, "Alert")
            code = self.number(self.one(found, "Data"))
            return Alert(
                cmd_id=cmd_id,
                data=code,
                items=self.items(found, f"Alert {code} (CmdID {cmd_id})"),
                correlator=self.optional(found, "Correlator", self.text),
            )
        if name == "Exec":
            found = self.children(e, {"CmdID": "1", "Correlator": "?", "Item": "*"})
            cmd_id = self.cmd_id(found, name)
            return Exec(
                cmd_id=cmd_id,
                items=self.items(found, f"Exec (CmdID {cmd_id})"),
                correlator=self.optional(found, "Correlator", self.text),
            )
        if name in ("Replace", "Add", "Get"):
            found = self.children(e, {"CmdID": "1", "Item": "*"})
            cmd_id = self.cmd_id(found, name)
            items = self.items(found, f"{name} (CmdID {cmd_id})")
            if name == "Replace":
                return Replace(cmd_id=cmd_id, items=items)
            return Add(cmd_id=cmd_id, items=items) if name == "Add" else Get(cmd_id, items)
        if name == "Status":
            found = self.children(
                e,
                {
                    "CmdID": "1",
                    "MsgRef": "1",
                    "CmdRef": "1",
                    "Cmd": "1",
                    "TargetRef": "*",
                    "SourceRef": "*",
                    "Chal": "?",
                    "Data": "1",
                    "Item": "*",
                },
            )
            cmd_id = self.cmd_id(found, name)
            return Status(
                cmd_id=cmd_id,
                msg_ref=self.number(self.one(found, "MsgRef")),
                cmd_ref=self.number(self.one(found, "CmdRef")),
                cmd=self.text(self.one(found, "Cmd")),
                data=self.number(self.one(found, "Data")),
                target_refs=tuple(self.text(t) for t in found.get("TargetRef", ())),
                source_refs=tuple(self.text(s) for s in found.get("SourceRef", ())),
                chal=self.optional(found, "Chal", self.chal),
                items=self.items(found, f"Status (CmdID {cmd_id})"),
            )
        if name == "Results":
            found = self.children(e, {"CmdID": "1", "MsgRef": "1", "CmdRef": "1", "Item": "*"})
            cmd_id = self.cmd_id(found, name)
            return Results(
                cmd_id=cmd_id,
                msg_ref=self.number(self.one(found, "MsgRef")),
                cmd_ref=self.number(self.one(found, "CmdRef")),
                items=self.items(found, f"Results (CmdID {cmd_id})"),
            )
        self.fail(e, f"<{name}> is not a command of the subset this codec reads (docs/syncml.md)")

    def body(self, e: ET.Element) -> tuple[tuple[Command, ...], bool]:
        self.children(e, {**{name: "*" for name in COMMANDS}, "Final": "?"})
        commands: list[Command] = []
        final = False
        for child in e:
            name = _split(child.tag)[1]
            if final:
                self.fail(child, f"<{name}> after <Final/>: Final closes the SyncBody (F74)")
            if name == "Final":
                self.children(child, {})
                final = True
            else:
                commands.append(self.command(child))
        return tuple(commands), final

    def package(self, root: ET.Element) -> Package:
        ns, name = _split(root.tag)
        if name != "SyncML":
            fragment = (
                " (a fragment, as the doc's samples 2.2 and 2.3 are)" if name in COMMANDS else ""
            )
            self.fail(root, f"the document element is <{name}>, not <SyncML>{fragment}")
        if ns is None:
            self.warn(root, f'<SyncML> without xmlns="{SYNCML_NS}"; SyncML 1.2 assumed')
        elif ns.upper() != SYNCML_NS:
            self.fail(root, f"<SyncML> in the namespace {ns!r}, not {SYNCML_NS}")
        elif ns != SYNCML_NS:
            self.warn(root, f"<SyncML> in the namespace {ns!r}; the spec spells it {SYNCML_NS}")
        found = self.children(root, {"SyncHdr": "1", "SyncBody": "1"})
        header = self.header(self.one(found, "SyncHdr"))
        commands, final = self.body(self.one(found, "SyncBody"))
        self.direction_warnings(root, header, commands)
        warnings = tuple(text for _line, text in sorted(self.warnings, key=lambda w: w[0]))
        return Package(header, commands, final, warnings)

    def direction_warnings(
        self, root: ET.Element, header: SyncHdr, commands: Iterable[Command]
    ) -> None:
        """The two defects of the doc's sample 2.1 that only the whole package shows."""
        codes = [c.data for c in commands if isinstance(c, Alert)]
        device_alerts = any(code in CLIENT_ALERTS for code in codes)
        if device_alerts and _is_url(header.source) and not _is_url(header.target):
            self.warn(
                root,
                "Target and Source look swapped, as in the doc's sample 2.1: the alerts "
                "are a device's, so the server's URL belongs in Target (F65, F76)",
            )
        opened = SERVER_INITIATED in codes or CLIENT_INITIATED in codes
        if header.msg_id == 1 and GENERIC_ALERT in codes and not opened:
            self.warn(
                root,
                "a Generic Alert 1226 in a session's first message without Alert 1200 or "
                "1201, as in the doc's sample 2.1: package 1 needs one (F65)",
            )


def _is_url(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


def parse(xml: bytes | str) -> Package:
    """The package `xml` holds, or a one-line `SyncMLError` (see the module docstring)."""
    root, lines = _tree(xml)
    return _Reader(lines).package(root)


# ----------------------------------------------------------------------------- build
def _checked(value: str, where: str) -> str:
    bad = _NOT_XML.search(value)
    if bad:
        char = bad.group()
        why = (
            "a carriage return, which a parser reads as a newline"
            if char == "\r"
            else ("a character XML 1.0 cannot carry")
        )
        raise SyncMLError(f"{where} {value[:40]!r} holds {char!r}, {why}")
    return value


def _number(value: int, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_NUMBER:
        raise SyncMLError(f"{where} {value!r} is not a number from 0 to {MAX_NUMBER}")
    return str(value)


def _leaf(parent: ET.Element, name: str, text: str, attrs: dict[str, str] | None = None) -> None:
    ET.SubElement(parent, name, attrs or {}).text = _checked(text, name)


def _loc(parent: ET.Element, name: str, uri: str) -> None:
    _leaf(ET.SubElement(parent, name), "LocURI", uri)


def _meta(parent: ET.Element, meta: Meta) -> None:
    elem = ET.SubElement(parent, "Meta")
    for attr, element in Meta.ELEMENTS:
        value = getattr(meta, attr)
        if value is None:
            continue
        if attr in ("type", "format") and value != value.strip():
            raise SyncMLError(f"Meta {element} {value!r} has a leading or trailing space")
        _leaf(elem, element, value, {"xmlns": METINF_NS})


def _items(parent: ET.Element, items: tuple[Item, ...]) -> None:
    for item in items:
        elem = ET.SubElement(parent, "Item")
        if item.target is not None:
            _loc(elem, "Target", item.target)
        if item.source is not None:
            _loc(elem, "Source", item.source)
        if item.meta is not None:
            _meta(elem, item.meta)
        if item.data is not None:
            _leaf(elem, "Data", item.data)


def _command(parent: ET.Element, c: Command) -> None:
    elem = ET.SubElement(parent, c.NAME)
    _leaf(elem, "CmdID", _number(c.cmd_id, f"{c.NAME} CmdID"))
    if isinstance(c, Status):
        _leaf(elem, "MsgRef", _number(c.msg_ref, "Status MsgRef"))
        _leaf(elem, "CmdRef", _number(c.cmd_ref, "Status CmdRef"))
        _leaf(elem, "Cmd", c.cmd)
        for ref in c.target_refs:
            _leaf(elem, "TargetRef", ref)
        for ref in c.source_refs:
            _leaf(elem, "SourceRef", ref)
        if c.chal is not None:
            _meta(ET.SubElement(elem, "Chal"), c.chal.meta)
        _leaf(elem, "Data", _number(c.data, "Status Data"))
    elif isinstance(c, Results):
        _leaf(elem, "MsgRef", _number(c.msg_ref, "Results MsgRef"))
        _leaf(elem, "CmdRef", _number(c.cmd_ref, "Results CmdRef"))
    elif isinstance(c, Alert):
        _leaf(elem, "Data", _number(c.data, "Alert Data"))
    if isinstance(c, Alert | Exec) and c.correlator is not None:
        _leaf(elem, "Correlator", c.correlator)
    _items(elem, c.items)


def build(pkg: Package) -> str:
    """The XML text of `pkg` (no XML declaration: UTF-8 by default), indented; or a
    one-line `SyncMLError` for a value XML cannot carry faithfully."""
    root = ET.Element("SyncML", {"xmlns": SYNCML_NS})
    h = pkg.header
    if (h.ver_dtd, h.ver_proto) != (VER_DTD, VER_PROTO):
        raise SyncMLError(
            f"VerDTD {h.ver_dtd!r} VerProto {h.ver_proto!r}: this codec writes SyncML DM 1.2"
        )
    hdr = ET.SubElement(root, "SyncHdr")
    _leaf(hdr, "VerDTD", h.ver_dtd)
    _leaf(hdr, "VerProto", h.ver_proto)
    _leaf(hdr, "SessionID", h.session_id)
    _leaf(hdr, "MsgID", _number(h.msg_id, "MsgID"))
    _loc(hdr, "Target", h.target)
    _loc(hdr, "Source", h.source)
    if h.cred is not None:
        cred = ET.SubElement(hdr, "Cred")
        if h.cred.meta is not None:
            _meta(cred, h.cred.meta)
        _leaf(cred, "Data", h.cred.data)
    if h.meta is not None:
        _meta(hdr, h.meta)
    body = ET.SubElement(root, "SyncBody")
    for command in pkg.commands:
        _command(body, command)
    if pkg.final:
        ET.SubElement(body, "Final")
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="unicode") + "\n"
