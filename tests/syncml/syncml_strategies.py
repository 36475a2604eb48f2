"""Hypothesis strategies for SyncML packages: any value `build` can write faithfully
(text XML 1.0 carries, without a carriage return; Meta Type and Format unpadded;
numbers from 0 to 2**31-1)."""

from __future__ import annotations

from hypothesis import strategies as st

from lifecycle.syncml import (
    Add,
    Alert,
    Chal,
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
from lifecycle.syncml.package import MAX_NUMBER

_chars = st.characters(
    min_codepoint=0x20, exclude_categories=("Cs",), exclude_characters="\ufffe\uffff"
) | st.sampled_from("\t\n<>&\"'")
texts = st.text(_chars, max_size=12)
numbers = st.integers(0, MAX_NUMBER)
optional = st.none() | texts

metas = st.builds(
    Meta,
    format=st.none() | texts.map(str.strip),
    type=st.none() | texts.map(str.strip),
    mark=optional,
    next_nonce=optional,
    max_msg_size=optional,
)
items = st.builds(Item, target=optional, source=optional, meta=st.none() | metas, data=optional)
item_tuples = st.lists(items, max_size=3).map(tuple)
alerts = st.builds(
    Alert,
    cmd_id=numbers,
    data=st.sampled_from((1200, 1201, 1222, 1223, 1224, 1226)) | numbers,
    items=item_tuples,
    correlator=optional,
)
statuses = st.builds(
    Status,
    cmd_id=numbers,
    msg_ref=numbers,
    cmd_ref=numbers,
    cmd=texts,
    data=numbers,
    target_refs=st.lists(texts, max_size=2).map(tuple),
    source_refs=st.lists(texts, max_size=2).map(tuple),
    chal=st.none() | st.builds(Chal, meta=metas),
    items=item_tuples,
)
commands = st.one_of(
    alerts,
    statuses,
    st.builds(Replace, cmd_id=numbers, items=item_tuples),
    st.builds(Add, cmd_id=numbers, items=item_tuples),
    st.builds(Exec, cmd_id=numbers, items=item_tuples, correlator=optional),
    st.builds(Get, cmd_id=numbers, items=item_tuples),
    st.builds(Results, cmd_id=numbers, msg_ref=numbers, cmd_ref=numbers, items=item_tuples),
)
headers = st.builds(
    SyncHdr,
    session_id=texts,
    msg_id=numbers,
    target=texts,
    source=texts,
    cred=st.none() | st.builds(Cred, meta=st.none() | metas, data=texts),
    meta=st.none() | metas,
)
packages = st.builds(
    Package, header=headers, commands=st.lists(commands, max_size=5).map(tuple), final=st.booleans()
)
