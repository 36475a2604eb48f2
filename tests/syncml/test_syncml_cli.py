"""`lifecycle syncml check FILE...`: the header and commands of each package, its
warnings, exit 0 when every file parses; one line per bad file on stderr, the other
files still checked, exit 2."""

from __future__ import annotations

import os
from pathlib import Path

from tests.test_cli import assert_one_line, run

DATA = Path(__file__).resolve().parent / "data"


def test_good_files_print_header_commands_and_warnings_and_exit_0() -> None:
    proc = run(
        "syncml", "check", str(DATA / "doc-2.1-fixed.xml"), str(DATA / "field-8376-package1.xml")
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    out = proc.stdout.splitlines()
    assert out[0] == (
        f"{DATA / 'doc-2.1-fixed.xml'}: SessionID 1, MsgID 1, Source {{unique device ID}}, "
        "Target https://www.thephone-company.com/mgmt-server"
    )
    assert out[1:5] == [
        "  Alert 1201 client-initiated session (CmdID 1)",
        "  Alert 1226 generic alert (CmdID 2): Type com.microsoft:mdm.unenrollment.userrequest,"
        " Format int, Data 1",
        "  Replace (CmdID 3): ./DevInfo/DevId, Data {unique device ID}",
        "  Final",
    ]
    assert "  model: pkg1, alert session: 1201, unenroll" in out
    assert (
        "  warning: line 4: an empty <Meta/> in Alert 1226 (CmdID 4): no Type, no Format (F10)"
        in out
    )


def test_bad_files_get_one_line_each_after_the_others_are_tried(tmp_path: Path) -> None:
    laughs = tmp_path / "laughs.xml"
    laughs.write_text('<!DOCTYPE x [<!ENTITY a "aaaa">]><SyncML>&a;</SyncML>')
    fifo = tmp_path / "pipe.xml"
    os.mkfifo(fifo)
    bad = [DATA / "doc-2.1-zh-curly-quotes.xml", laughs, fifo]
    proc = run(
        "syncml",
        "check",
        str(bad[0]),
        str(DATA / "doc-2.1-fixed.xml"),
        *map(str, bad[1:]),
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert [line.split(": ", 3)[:3] for line in lines] == [
        ["lifecycle syncml", "error", str(path)] for path in bad
    ]
    assert "line 20, column 26" in lines[0] and "curly quotes" in lines[0]
    assert "billion laughs" in lines[1]
    assert "not a regular file (a FIFO)" in lines[2]
    assert "Traceback" not in proc.stderr
    assert "doc-2.1-fixed.xml: SessionID 1" in proc.stdout  # the good file was still read


def test_one_bad_file_is_one_line_and_exit_2() -> None:
    line = assert_one_line(
        run("syncml", "check", str(DATA / "doc-2.1-unenroll-alert.xml")),
        2,
        "lifecycle syncml: error: ",
        "line 1, column 15",
        "&#39;",
    )
    assert line.startswith(f"lifecycle syncml: error: {DATA / 'doc-2.1-unenroll-alert.xml'}: ")
    assert_one_line(run("syncml", "check"), 2, "lifecycle syncml check: error:", "FILES")
