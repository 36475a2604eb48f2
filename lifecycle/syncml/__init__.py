"""SyncML DM 1.2 for the subset the model uses: packages as frozen values, a codec that
reads captures safely and writes packages (`parse`, `build`), and the mapping between
the model's message kinds and packages (`to_package`, `from_package`).

Rooms: this package sits above `lifecycle.mdm` (it reads `Msg`) and below the CLI
(``lifecycle syncml check FILE...``). docs/syncml.md describes the subset, the mapping,
the defects of the doc's samples and the limits on untrusted input.
"""

from lifecycle.syncml.codec import MAX_BYTES, MAX_DEPTH, build, parse
from lifecycle.syncml.errors import SyncMLError
from lifecycle.syncml.files import read_capture
from lifecycle.syncml.mapping import (
    NOT_SYNCML,
    SYNCML_KINDS,
    Endpoints,
    from_package,
    to_package,
)
from lifecycle.syncml.package import (
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
from lifecycle.syncml.summary import describe_command, describe_header

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "NOT_SYNCML",
    "SYNCML_KINDS",
    "Add",
    "Alert",
    "Chal",
    "Command",
    "Cred",
    "Endpoints",
    "Exec",
    "Get",
    "Item",
    "Meta",
    "Package",
    "Replace",
    "Results",
    "Status",
    "SyncHdr",
    "SyncMLError",
    "build",
    "describe_command",
    "describe_header",
    "from_package",
    "parse",
    "read_capture",
    "to_package",
]
