"""Reading a capture file: refuse what is not a regular file before opening it, and
read at most `MAX_BYTES` + 1, as `lifecycle.mdm.design.load_design_file` does for
design files (a FIFO would block the read, a device would never end)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from lifecycle.syncml.codec import MAX_BYTES
from lifecycle.syncml.errors import SyncMLError


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    return "a FIFO" if stat.S_ISFIFO(mode) else "a device or socket"


def read_capture(path: str | Path) -> bytes:
    """The bytes of the SyncML file at `path`, or a one-line `SyncMLError` (without the
    path: the caller names it). The file is opened non-blocking and checked again once
    open, so a FIFO put in its place after the first check cannot block the read."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise SyncMLError(f"cannot read the file: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise SyncMLError(f"not a regular file ({_kind(info.st_mode)}); give a SyncML file")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise SyncMLError(f"cannot read the file: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise SyncMLError(f"not a regular file ({_kind(mode)}); give a SyncML file")
        try:
            raw = handle.read(MAX_BYTES + 1)
        except OSError as exc:
            raise SyncMLError(f"cannot read the file: {exc.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise SyncMLError(f"larger than {MAX_BYTES:,} bytes (1 MiB): refused")
    return raw
