"""Reading an untrusted input file (a design, a capture, a saved check result).

What is not a regular file is refused before it is opened: a FIFO would block the
read and a device would never end. The file is opened non-blocking and checked again
once open, so a FIFO put in its place after the first check cannot block the read
either, and at most `limit` + 1 bytes are read.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

__all__ = ["InputError", "printable", "read_json", "read_regular"]


def printable(text: str) -> str:
    """`text` with control characters (newlines included) escaped, so that a key, a
    value or a file name cannot break a one-line error or reach the terminal as an
    escape sequence."""
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )


class InputError(ValueError):
    """An input file that cannot be read; the message is one line, without the path
    (the caller names it)."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    return "a FIFO" if stat.S_ISFIFO(mode) else "a device or socket"


def read_regular(path: str | Path, limit: int, wanted: str) -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them, or an
    `InputError`: "cannot read the file: ...", "not a regular file (a FIFO); give
    `wanted`", or "larger than `limit` bytes: refused"."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"not a regular file ({_kind(info.st_mode)}); give {wanted}")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise InputError(f"not a regular file ({_kind(mode)}); give {wanted}")
        try:
            raw = handle.read(limit + 1)
        except OSError as exc:
            raise InputError(f"cannot read the file: {exc.strerror}") from None
    if len(raw) > limit:
        raise InputError(f"larger than {limit:,} bytes: refused")
    return raw


def read_json(path: str | Path, limit: int, wanted: str) -> Any:
    """The JSON value of the regular file at `path` (`read_regular`), or an
    `InputError`: the reader's, or "not UTF-8 text (offset N)", "not JSON: ... at line
    L column C", "not JSON: values nested too deep", or "not JSON: ..." for a number
    of more digits than Python converts."""
    raw = read_regular(path, limit, wanted)
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (offset {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise InputError("not JSON: values nested too deep") from None
    except ValueError as exc:
        raise InputError(f"not JSON: {printable(str(exc))}") from None
