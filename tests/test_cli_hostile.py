"""Hostile input and hostile conditions: every bad design file or CLI value gets one
line and exit 2, names and descriptions are printed as text, a finished verdict is
never lost (to a report that cannot be written, or to SIGTERM), and a bug exits 4
with its traceback in a file."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lifecycle.cli as cli_module
from lifecycle.mdm import DesignError, load_design
from lifecycle.mdm.design import MAX_DESIGN_BYTES, load_design_file
from tests.test_cli import SMALL, assert_one_line, run


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b'name = "x"\nchannel = "\xff\xfe"\n', "not UTF-8 text (byte 0xff at offset 22)"),
        ('name = "x"\n'.encode("utf-16"), "not UTF-8 text"),
        (b'name = "x"\x00\x01\x02', "binary data (a NUL byte at offset 10)"),
        (b"x = " + b"[" * 5000 + b"]" * 5000, "nested too deep"),
        (b"x = " + b"9" * 5000, "not a design"),
        (b'name = "' + b"n" * 5000 + b'"\ncolour = 1', "unknown knob"),
        (b'"bad\\nkey" = 1', "key 'bad\\nkey'"),
        (b'channel = "lossy\\u001b[31m"', "is not allowed"),
    ],
)
def test_a_bad_design_file_is_one_line_and_exit_2(
    tmp_path: Path, content: bytes, needle: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    line = assert_one_line(run("check", "--design", str(path)), 2, str(path), needle)
    assert len(line) < 2000 or "unknown knob" in line


def test_files_that_are_not_regular_are_refused_before_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    assert_one_line(
        run("check", "--design", str(fifo), timeout=20), 2, "not a regular file (a FIFO)"
    )
    assert_one_line(run("check", "--design", "/dev/zero"), 2, "not a regular file (a device")
    assert_one_line(run("check", "--design", str(tmp_path)), 2, "not a regular file (a directory)")
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * (MAX_DESIGN_BYTES + 1))
    assert_one_line(run("check", "--design", str(big)), 2, "larger than 1,048,576 bytes")


def test_odd_names_and_arguments_are_one_line(tmp_path: Path) -> None:
    assert_one_line(run("check", "--design", "x" * 5000), 2, "no such preset or design file")
    odd = tmp_path / "a\nb.toml"
    odd.write_text('name = "odd"\ncolour = 1\n')
    assert_one_line(run("check", "--design", str(odd)), 2, "a\\nb.toml", "unknown knob")
    for flag, value in (("--time-limit", "nan"), ("--time-limit", "inf"), ("--max-states", "-1")):
        assert_one_line(run("check", flag, value), 2, flag)


def test_names_are_printed_as_text_not_markup(tmp_path: Path) -> None:
    path = tmp_path / "markup.toml"
    path.write_text('name = "[/bold] \\u001b[31mred"\n')
    proc = run("check", "--design", str(path), "--devices", "1", *SMALL)
    assert proc.returncode == 0, proc.stderr
    assert "design [/bold] \\x1b[31mred at scope" in proc.stdout
    assert "\x1b" not in proc.stdout


def test_a_report_that_cannot_be_written_keeps_the_verdict_and_exits_5(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    proc = run("check", "--devices", "1", *SMALL, "--report", str(blocker / "out"))
    assert proc.returncode == 5, proc.stderr
    assert "properties hold" in " ".join(proc.stdout.split())  # the verdict came first
    assert_one_line(proc, 5, "--report", "cannot write the report")
    # Written atomically: the report and no temporary file beside it.
    good = tmp_path / "report"
    assert run("check", "--devices", "1", *SMALL, "--report", str(good)).returncode == 0
    assert [p.name for p in good.iterdir()] == ["report.html"]
    assert (good / "report.html").read_text().rstrip().endswith("</html>")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_prints_the_partial_result_and_exits_3(workers: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "lifecycle", "check", "--devices", "2", "--workers", workers],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(4)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, err
    assert "INCOMPLETE" in out and "interrupted" in out, out
    assert "Traceback" not in err


def test_an_internal_error_exits_4_with_the_traceback_in_a_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("planted")

    monkeypatch.setattr(cli_module, "render_text", broken)
    with pytest.raises(SystemExit) as exit_info:
        cli_module.main(["check", "--devices", "1", *SMALL])
    assert exit_info.value.code == 4
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "internal error: ZeroDivisionError: planted" in err
    found = re.search(r"the traceback is in (\S+)$", err)
    assert found is not None, err
    written = Path(found.group(1)).read_text()
    assert "Traceback" in written and "planted" in written
    Path(found.group(1)).unlink()


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=200).map(str.encode))
def test_the_design_loader_never_raises_anything_but_a_one_line_design_error(
    tmp_path_factory: pytest.TempPathFactory, content: bytes
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.toml"
    path.write_bytes(content)
    try:
        load_design_file(path)
    except DesignError as exc:
        text = str(exc)
        assert "\n" not in text and "\r" not in text and "\x1b" not in text
        assert text.startswith(str(path))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_any_design_argument_is_a_preset_a_file_or_a_one_line_error(name: str) -> None:
    try:
        load_design(name)
    except DesignError as exc:
        assert "\n" not in str(exc) and "\x1b" not in str(exc)
