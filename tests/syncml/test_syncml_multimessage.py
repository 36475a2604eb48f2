"""Packages sent in several messages (F74): a capture with a package split into
messages, the receiver's Next Message replies (Alert 1222) between them, reads back as
the capture it was split from, and conforms where that one does."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle.mdm import presets
from lifecycle.syncml.codec import build, parse
from lifecycle.syncml.conform import conform_capture, read_capture_dir
from lifecycle.syncml.multimessage import is_next_message, join, next_message_reply, split
from lifecycle.syncml.package import NEXT_MESSAGE, Alert, Package

CORPUS = Path(__file__).parent / "data" / "captures"
#: The corpus captures whose packages are each one message.
CAPTURES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and "multimessage" not in p.name)


def _packages(name: str) -> list[tuple[str, Package]]:
    manifest = json.loads((CORPUS / name / "manifest.json").read_text())
    files = [m["file"] for m in manifest["messages"] if m.get("file")]
    return [(f, parse((CORPUS / name / f).read_bytes())) for f in files]


def _write(where: Path, packages: list[tuple[str, Package]], scope: object) -> Path:
    """A capture directory of `packages` (as the wire has them), with the scope."""
    where.mkdir()
    for name, pkg in packages:
        (where / name).write_text(build(pkg))
    manifest = {"messages": [{"file": n} for n, _ in packages], "scope": scope}
    (where / "manifest.json").write_text(json.dumps(manifest))
    return where


def _splittable(name: str) -> list[int]:
    return [i for i, (_, p) in enumerate(_packages(name)) if len(p.commands) >= 2]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_split_package_joins_back_into_the_capture_it_came_from(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(CAPTURES))
    packages = _packages(name)
    index = data.draw(st.sampled_from(_splittable(name)))
    parts = data.draw(st.integers(2, min(4, len(packages[index][1].commands))))
    wire = split(packages, index, parts)
    assert len(wire) == len(packages) + 2 * (parts - 1)
    # Through the codec, as a capture file is: each message is well-formed SyncML,
    # only the last of the package has Final, and each reply is a Next Message.
    reread = [(n, parse(build(p))) for n, p in wire]
    sent = [p for _, p in reread[index : index + 2 * parts - 1]]
    assert [p.final for p in sent[::2]] == [False] * (parts - 1) + [True]
    assert all(is_next_message(p) for p in sent[1::2])
    assert [p for _, p in join(reread)] == [p for _, p in packages]


def test_a_capture_with_multi_message_packages_reads_and_conforms_as_the_original(
    tmp_path: Path,
) -> None:
    name = "admin_unenroll"
    scope = json.loads((CORPUS / name / "manifest.json").read_text())["scope"]
    packages = _packages(name)
    wire = packages
    for index in reversed(_splittable(name)):  # every package that can be, in two
        wire = split(wire, index, 2)
    assert len(wire) > len(packages)
    original, _ = read_capture_dir(CORPUS / name)
    split_dir = _write(tmp_path / "split", wire, scope)
    events, _ = read_capture_dir(split_dir)
    strip = [dataclasses.replace(e, file="") for e in events]
    assert strip == [dataclasses.replace(e, file="") for e in original]
    assert conform_capture(presets()["reference"], split_dir).conforms is True


def test_a_message_without_final_that_no_next_message_follows_is_left_whole() -> None:
    packages = _packages("policy_acknowledged")
    first = dataclasses.replace(packages[0][1], final=False)
    joined = join([(packages[0][0], first), *packages[1:]])
    assert [p for _, p in joined] == [first] + [p for _, p in packages[1:]]


def test_the_corpus_multi_message_capture_is_the_admin_unenroll_split() -> None:
    split_one = _packages("admin_unenroll_multimessage")
    assert any(is_next_message(p) for _, p in split_one)
    assert [p for _, p in join(split_one)] == [p for _, p in _packages("admin_unenroll")]


def test_the_next_message_reply_answers_every_command_and_carries_alert_1222() -> None:
    pkg = _packages("policy_acknowledged")[0][1]
    reply = next_message_reply(dataclasses.replace(pkg, final=False), msg_id=1)
    assert is_next_message(reply) and not reply.final
    assert reply.header.target == pkg.header.source
    alerts = [c for c in reply.commands if isinstance(c, Alert)]
    assert [a.data for a in alerts] == [NEXT_MESSAGE]
    assert len(reply.commands) == 1 + len(pkg.commands) + 1
    with pytest.raises(ValueError, match="cannot go in"):
        split([("x", pkg)], 0, len(pkg.commands) + 1)


def test_a_session_id_used_again_starts_the_numbering_again() -> None:
    packages = _packages("policy_acknowledged")
    once = split(packages, 0, 2)
    # The same session run twice under one SessionID, each time split.
    twice = [*once, *[(f"again-{n}", p) for n, p in once]]
    joined = [p for _, p in join(twice)]
    assert joined == [p for _, p in packages] * 2
    assert min(p.header.msg_id for p in joined) >= 1
