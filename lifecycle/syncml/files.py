"""Reading a capture file: `lifecycle.reading.read_regular`, as for design files,
with the codec's size cap."""

from __future__ import annotations

from pathlib import Path

from lifecycle.reading import InputError, read_regular
from lifecycle.syncml.codec import MAX_BYTES
from lifecycle.syncml.errors import SyncMLError


def read_capture(path: str | Path) -> bytes:
    """The bytes of the SyncML file at `path`, or a one-line `SyncMLError` (without the
    path: the caller names it)."""
    try:
        return read_regular(path, MAX_BYTES, "a SyncML file")
    except InputError as exc:
        raise SyncMLError(str(exc)) from None
