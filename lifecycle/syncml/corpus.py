"""The corpus of captures: the reference design's paths as SyncML, the files under
tests/syncml/data/captures that `lifecycle syncml corpus` writes.

A module of its own because it combines two others: a trace becomes a capture
(`lifecycle.syncml.export`), and one of the captures is also split into messages
(`lifecycle.syncml.multimessage`, which reads the capture type from export). Kept in
export, it made the two import each other.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from lifecycle.syncml.export import Capture, capture_of, write_capture
from lifecycle.syncml.multimessage import split_capture

#: The reference design's paths the corpus holds a capture of: each `sometimes`
#: property's witness (the shortest behaviour that completes that path).
CORPUS_PATHS = (
    "first_session_completes",
    "policy_acknowledged",
    "user_unenroll_completes",
    "admin_unenroll_completes",
    "aad_unenroll_completes",
    "wipe_completes",
)


def corpus() -> dict[str, Capture]:
    """A capture of each path of `CORPUS_PATHS`, of the reference design at the
    smallest scope that has every enrollment path (`smallest_scope`), and the admin's
    unenroll with multi-message packages: the captures under tests/syncml/data/captures
    (`lifecycle syncml corpus`)."""
    from lifecycle.engine import check
    from lifecycle.mdm import Design, LifecycleModel
    from lifecycle.mdm.design import smallest_scope

    scope = smallest_scope()
    result = check(LifecycleModel(Design(), scope, liveness=False))
    out = {}
    for name in CORPUS_PATHS:
        witness = result.witnesses.get(name)
        if witness is None:
            raise RuntimeError(f"the reference design has no witness of {name} at {scope}")
        path = name.removesuffix("_completes")
        out[path] = capture_of(witness, title=f"reference: {name}", scope=scope)
    # The admin's unenroll again, from a device that sends each package of two
    # commands or more in two messages (F74).
    out["admin_unenroll_multimessage"] = split_capture(out["admin_unenroll"])
    out["admin_unenroll_multimessage"].manifest["title"] += ", in messages of half a package"
    return out


def write_corpus(out: Path) -> list[Path]:
    """Write `corpus()` under `out`, one directory per path, and remove directories
    of paths no longer in it."""
    written = [write_capture(out, name, capture) for name, capture in corpus().items()]
    keep = {p.name for p in written}
    for stale in out.iterdir():
        if stale.is_dir() and stale.name not in keep and not stale.name.startswith("."):
            shutil.rmtree(stale)
    return written
