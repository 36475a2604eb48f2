"""A counterexample as a SyncML capture: `lifecycle check --syncml DIR`.

A trace of the MDM model says, state by state, which messages are in flight on each
device's channel. A message that appears was sent by the step that made it appear;
one that disappears was taken by the step that removed it: received, or lost when
that step is the network's `LoseMessage`. Each SyncML message becomes the package
`to_package` builds for it, with the wire's bookkeeping filled in the way a real
session would have it:

- every DM session gets its own SessionID, numbered per device in the order the
  sessions open (a package 1 with MsgID 1 opens one; the resent package 1 with
  credentials, F82, and the server's and device's replies stay in it);
- a reply answers the package it follows in its session (`reply_to`): its SyncHdr
  Status and command Statuses carry that package's MsgID and CmdIDs (F66, F73);
- the device's LocURI is one per device.

The capture directory holds one file per SyncML package, numbered in sending order
and named by its sender (``0003-device.xml``, ``0004-server.xml``: what the server's
management endpoint sees, in order), ``capture.toml`` with the device's enrollment
kind and platform when one device is involved, and ``manifest.json``, which lists
every message of the trace in sending order, SyncML or not: the step that sent it,
the step that took it, whether it was lost (sent, with no receipt), the step at
which a wait design's server held it (``held``: it stays on the channel), its session,
SessionID and MsgID, and for what is not SyncML (the MS-MDE2 enrollment exchange, a
WNS push, an agent's request) why it has no file.
It lists the server's environment steps too (``server_steps``: the admin's
requests, the tenant's switch, the timers), which a replay's operator takes.

The capture is built in memory and written to a temporary directory beside the
target, then renamed into place: an interrupted or failed write leaves the previous
capture or none, never half of one.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifecycle.engine import Trace, action_name
from lifecycle.mdm.state import Msg
from lifecycle.syncml.codec import build
from lifecycle.syncml.mapping import NOT_SYNCML, Endpoints, to_package
from lifecycle.syncml.package import Package

__all__ = [
    "CAPTURE_VERSION",
    "Capture",
    "Sent",
    "capture_of",
    "device_uri",
    "first_counterexample",
    "messages",
    "server_steps",
    "write_capture",
]

#: The manifest's format version.
CAPTURE_VERSION = 1
#: The kinds the device sends (the rest the server sends).
FROM_DEVICE = frozenset({"pkg1", "pkg3", "enroll_request", "agent"})
#: The network row that takes a message without delivering it.
LOSS = "LoseMessage"
#: A message on a device's channel: (device, message).
Pair = tuple[int, Msg]


@dataclass(frozen=True)
class Sent:
    """One message of a trace: who sent it, when (step numbers count from 1, as the
    rendered trace numbers them), and when it was taken."""

    step: int
    device: int
    msg: Msg
    taken: int | None = None
    lost: bool = False
    #: The step at which a wait design's server held it behind an open session (it
    #: stays on the channel, and may still be lost there).
    held: int | None = None


def channel_changes(before: Any, after: Any) -> tuple[list[Pair], list[Pair]]:
    """What one step of the MDM model does to the channels: the (device, message)
    pairs it puts in flight (sends) and those it takes out (receipts or losses), each
    as often as it does. The channels are multisets, so equal messages count apart."""
    sent: list[Pair] = []
    taken: list[Pair] = []
    for device, (old, new) in enumerate(zip(before.net, after.net, strict=True)):
        if old.in_flight == new.in_flight:
            continue
        was, now = Counter(old.in_flight), Counter(new.in_flight)
        taken += [(device, m) for m, count in (was - now).items() for _ in range(count)]
        sent += [(device, m) for m, count in (now - was).items() for _ in range(count)]
    return sent, taken


def messages(trace: Trace) -> list[Sent]:
    """Every message the trace's steps send, in sending order, with the step that took
    each (received, or lost by `LoseMessage`). A message still in flight at the end
    has no taker. A lasso's closing arrow is not a step forward, so it sends and
    takes nothing."""
    sent: list[Sent] = []
    open_: dict[Pair, list[int]] = {}
    for i in range(len(trace.states) - 1):
        added, removed = channel_changes(trace.states[i], trace.states[i + 1])
        lost = action_name(trace.actions[i]) == LOSS
        for pair in removed:
            waiting = open_.get(pair)
            if waiting:
                index = waiting.pop(0)
                sent[index] = dataclasses.replace(sent[index], taken=i + 1, lost=lost)
        was_held = {p for r in trace.states[i].server.records for p in r.held}
        for r in trace.states[i + 1].server.records:
            for pair in r.held:
                if pair in was_held:
                    continue
                first = next((k for k in open_.get(pair, []) if sent[k].held is None), None)
                if first is not None:
                    sent[first] = dataclasses.replace(sent[first], held=i + 1)
        for device, msg in added:
            open_.setdefault((device, msg), []).append(len(sent))
            sent.append(Sent(i + 1, device, msg))
    return sent


@dataclass(frozen=True)
class Capture:
    """A capture in memory: its files (name -> XML text) and its manifest."""

    files: dict[str, str]
    manifest: dict[str, Any]


def device_uri(device: int) -> str:
    """The LocURI (DevID) of device `device` of a trace: one per device."""
    return f"{Endpoints().device[:-4]}{device:04x}"


def server_steps(trace: Trace) -> list[dict[str, Any]]:
    """The server's environment steps of `trace` (the admin's requests, the tenant's
    MDM switch, the timers): rows of the server's table that receive nothing. They
    send no SyncML, but a replay against a live server has its operator take them at
    the same point (`lifecycle replay --admin`)."""
    from lifecycle.mdm.tables import all_tables

    triggers = {r.trigger for r in all_tables()["server"].rows if r.receives is None}
    out = []
    for k, action in enumerate(trace.actions, start=1):
        if action_name(action) not in triggers:
            continue
        record = action[2] if len(action) > 2 else None
        out.append(
            {
                "step": k,
                "trigger": action[0],
                "device": getattr(record, "device", action[1]),
                "generation": getattr(record, "gen", None),
            }
        )
    return out


def _endpoints(device: int, session: str, session_id: str) -> Endpoints:
    """The names of one device's package in one session: its own LocURI, and the
    SessionID that `from_package` reads back as that session."""
    other = "0"
    return Endpoints(
        device=device_uri(device),
        main_session=session_id if session != "alert" else other,
        alert_session=session_id if session == "alert" else other,
    )


def capture_of(trace: Trace, *, title: str = "", scope: Any = None) -> Capture:
    """The capture of `trace`: its SyncML packages and the manifest (see the module
    docstring). `scope` (a `Scope`) is recorded, so that `lifecycle conform` checks the
    capture at the scope it was found at."""
    files: dict[str, str] = {}
    entries: list[dict[str, Any]] = []
    sessions: dict[tuple[int, int, str], str] = {}  # the SessionID in force
    opened: Counter[int] = Counter()  # sessions opened per device
    last: dict[tuple[int, int, str], Package] = {}  # the last package of each session
    for n, s in enumerate(messages(trace), start=1):
        msg = s.msg
        entry: dict[str, Any] = {
            "n": n,
            "step": s.step,
            "taken": s.taken,
            "lost": s.lost,
            "held": s.held,
            "device": s.device,
            "from": "device" if msg.kind in FROM_DEVICE else "server",
            "to": "server" if msg.kind in FROM_DEVICE else "device",
            "kind": msg.kind,
            "generation": msg.generation,
            "session": msg.session,
            "body": list(msg.body),
        }
        if msg.kind in NOT_SYNCML:
            entry.update(syncml=False, why=NOT_SYNCML[msg.kind], file=None)
            entries.append(entry)
            continue
        key = (s.device, msg.generation, msg.session)
        if (msg.kind == "pkg1" and msg.msgid == 1) or key not in sessions:
            opened[s.device] += 1
            sessions[key] = str(opened[s.device])
            last.pop(key, None)
        session_id = sessions[key]
        ends = _endpoints(s.device, msg.session, session_id)
        package = to_package(msg, ends, reply_to=last.get(key))
        last[key] = package
        name = f"{len(files) + 1:04d}-{entry['from']}.xml"
        files[name] = build(package)
        entry.update(
            syncml=True,
            file=name,
            session_id=session_id,
            msg_id=package.header.msg_id,
            device_uri=ends.device,
        )
        entries.append(entry)
    manifest = {
        "capture_version": CAPTURE_VERSION,
        "title": title,
        "server_uri": Endpoints().server,
        "scope": dataclasses.asdict(scope) if scope is not None else None,
        "steps": len(trace),
        "cycle_start": trace.cycle_start,
        "messages": entries,
        "server_steps": server_steps(trace),
    }
    devices = {e["device"] for e in entries}
    if len(devices) == 1:
        (device,) = devices
        enrolled = next(
            (w.device[device] for w in trace.states if w.device[device].kind != "-"), None
        )
        if enrolled is not None:
            files["capture.toml"] = (
                "# The device this capture is of (lifecycle conform reads it).\n"
                f'kind = "{enrolled.kind}"\nplatform = "{enrolled.platform}"\n'
            )
    return Capture(files, manifest)


def _stem(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "capture"


def write_capture(out: Path, name: str, capture: Capture) -> Path:
    """Write `capture` as the directory `out/name` (made safe as a file name),
    replacing what was there, through a temporary directory and a rename."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / _stem(name)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=out))
    try:
        for file_name, text in capture.files.items():
            (staging / file_name).write_text(text, encoding="utf-8")
        (staging / "manifest.json").write_text(
            json.dumps(capture.manifest, indent=2) + "\n", encoding="utf-8"
        )
        os.chmod(staging, 0o755)
        if target.exists():
            # Two renames (a directory cannot replace a non-empty one in one): the
            # old capture is put back if the second fails.
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=out))
            os.replace(target, old / "previous")
            try:
                os.replace(staging, target)
            except BaseException:
                os.replace(old / "previous", target)
                shutil.rmtree(old, ignore_errors=True)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def first_counterexample(design: Any) -> tuple[Trace, Any] | None:
    """The first counterexample of `design` with a trace, and its scope: at the
    smallest scope that shows one (`smallest_scope`, then the design's own). None when
    only a `sometimes` property breaks, which leaves no trace to export."""
    from lifecycle.engine import check
    from lifecycle.mdm import LifecycleModel, Scope
    from lifecycle.mdm.design import smallest_scope

    for scope in (design.scope(smallest_scope()), design.scope(Scope())):
        result = check(LifecycleModel(design, scope, liveness=False), stop_on_violation=True)
        traced = [v for v in result.violations if v.trace.states]
        if traced:
            return traced[0].trace, scope
    return None
