"""The corpus of captures, one per path of the reference design
(tests/syncml/data/captures, written by `lifecycle syncml corpus`): current, each
conforming to the reference, and each showing its path on the wire."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lifecycle.mdm import Design, LifecycleModel, Scope
from lifecycle.syncml.conform import conform, read_capture_dir, recorded_scope
from lifecycle.syncml.corpus import CORPUS_PATHS, corpus

DATA = Path(__file__).parent / "data" / "captures"
FIX = "stale corpus: run `.venv/bin/lifecycle syncml corpus`"
PATHS = [p.removesuffix("_completes") for p in CORPUS_PATHS]


def test_the_committed_corpus_is_current() -> None:
    fresh = corpus()
    assert sorted(fresh) == sorted(p.name for p in DATA.iterdir() if p.is_dir()), FIX
    for name, capture in fresh.items():
        files = {**capture.files, "manifest.json": json.dumps(capture.manifest, indent=2) + "\n"}
        on_disk = {p.name: p.read_text(encoding="utf-8") for p in (DATA / name).iterdir()}
        assert on_disk == files, f"{name}: {FIX}"


#: What each path shows on the wire: (kind, session, a body token) of some package.
SIGNATURE = {
    "first_session": ("pkg1", "main", "1201"),
    "policy_acknowledged": ("pkg3", "main", "ok"),
    "user_unenroll": ("pkg1", "alert", "unenroll"),
    "admin_unenroll": ("pkg2", "main", "unenroll"),
    "aad_unenroll": ("pkg1", "alert", "unenroll"),
    "wipe": ("pkg2", "main", "wipe"),
}


@pytest.mark.parametrize("name", PATHS)
def test_each_capture_of_the_corpus_conforms_to_the_reference(name: str) -> None:
    events, recorded = read_capture_dir(DATA / name)
    assert recorded is not None
    scope = recorded_scope(Scope(), recorded)
    verdict = conform(LifecycleModel(Design(), scope, liveness=False), events)
    assert verdict.conforms is True, name
    kind, session, token = SIGNATURE[name]
    assert any(e.kind == kind and e.session == session and token in e.body for e in events)
