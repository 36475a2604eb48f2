"""The one error the SyncML layer raises.

Why one class: a capture is untrusted input, and the CLI prints whatever went wrong as
one line and exits 2 (``lifecycle syncml: error: FILE: ...``), so every refusal (a
malformed document, an attack, a package outside the subset, a model kind that has no
SyncML form) is the same `ValueError` with a one-line message.
"""

from __future__ import annotations

from lifecycle.reading import printable


class SyncMLError(ValueError):
    """A package that cannot be read, built or mapped. The message is one line:
    control characters (newlines included) from the input are escaped."""

    def __init__(self, message: str) -> None:
        super().__init__(printable(message))
