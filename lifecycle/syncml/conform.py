"""Conformance of a captured session: `lifecycle conform CAPTURE [--design D]`.

Does some behaviour of the design produce the captured packages, in their order? As
TLA+ trace validation and P's PObserve do, the model is constrained to the logged
events and free in everything the log does not show:

- once the capture's first package is matched, a model step that sends a SyncML
  package must send the capture's next package (the same device, kind, session, body
  tokens and MsgID; the enrollment generation is not on the wire, so any generation
  matches); before it, the device's life is free, since a capture may start at any
  point (it need not end in a quiet state either: it is a prefix);
- every other step is unlogged and free: the MS-MDE2 enrollment exchange and WNS
  pushes (not SyncML), deliveries, losses, timers, a user's or an admin's clicks.

The search runs over (state, packages matched) pairs (`_Constrained`), best-first
(`conform`), so a capture that conforms comes with a behaviour that explains it, found
without exploring every unlogged variation of every earlier point, and one that does
not is reported at the first package no behaviour reaches, with what the model could
send there instead. A search cut short
by a bound is "unknown", never "conforms".

A capture is a directory of SyncML files (``NNNN-device.xml`` for what the device
sent, ``NNNN-server.xml`` for what the server sent): the order is the manifest's
(`lifecycle check --syncml` writes one, with the scope it was checked at) or, without
a manifest, the files' names; an optional ``capture.toml`` gives the device's
enrollment ``kind`` and ``platform``, which narrow the scope. Devices are told apart
by their LocURI, numbered in the order they first appear; a session is the
unenroll-alert session (F6) when its package 1 carries a 1226 unenroll alert, and
the server is the URL its packages go to.
"""

from __future__ import annotations

import heapq
import itertools
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifecycle.engine import Model, Trace
from lifecycle.mdm.state import Msg
from lifecycle.reading import InputError, printable, read_json, read_regular
from lifecycle.syncml.codec import parse
from lifecycle.syncml.errors import SyncMLError
from lifecycle.syncml.export import channel_changes
from lifecycle.syncml.files import read_capture
from lifecycle.syncml.mapping import (
    from_device,
    from_package,
    session_endpoints,
    session_of,
)
from lifecycle.syncml.multimessage import join
from lifecycle.syncml.package import Alert, Package

__all__ = ["CaptureError", "Conformance", "Event", "conform", "read_capture_dir"]

#: The most packages a capture may hold (a session of the model has a handful).
MAX_PACKAGES = 500
#: The largest manifest read.
MAX_MANIFEST = 4 * 1024 * 1024


class CaptureError(ValueError):
    """A capture that cannot be read (one line naming the file and what is wrong)."""


@dataclass(frozen=True)
class Event:
    """One captured package, as the model would send it."""

    file: str
    device: int
    kind: str
    session: str
    body: tuple[str, ...]
    msgid: int

    def matches(self, device: int, msg: Msg) -> bool:
        return (device, msg.kind, msg.session, msg.body, msg.msgid) == (
            self.device,
            self.kind,
            self.session,
            self.body,
            self.msgid,
        )

    def text(self) -> str:
        return f"{self.kind} ({self.session} session, {', '.join(self.body)}, MsgID {self.msgid})"


def read_capture_dir(path: Path) -> tuple[list[Event], dict[str, Any] | None]:
    """The events of a capture directory, in order, and the scope its manifest
    records (None without one). `CaptureError` names the file and the problem."""
    where = printable(str(path))
    if not path.is_dir():
        raise CaptureError(f"{where}: not a capture directory")
    manifest_path = path / "manifest.json"
    scope: dict[str, Any] | None = None
    # lexists: a dangling or looping symlink is a manifest that cannot be read, not
    # a capture without one.
    if os.path.lexists(manifest_path):
        names, scope = _manifest(manifest_path, f"{where}/manifest.json")
    else:
        names = sorted(p.name for p in path.glob("*.xml"))
    device = _device_toml(path / "capture.toml", where)
    if device:
        scope = {**(scope or {}), **device}
    if len(names) > MAX_PACKAGES:
        raise CaptureError(f"{where}: {len(names)} packages; conform reads at most {MAX_PACKAGES}")
    if not names and scope is None and not os.path.lexists(manifest_path):
        # (A manifest that lists no package is a capture of a behaviour that sent
        # nothing over SyncML: an offline self-unenrollment, say.)
        raise CaptureError(f"{where}: no SyncML package (*.xml, or a manifest listing them)")
    packages: list[tuple[str, Package]] = []
    for name in names:
        file = path / Path(str(name)).name  # a manifest names files inside the capture
        try:
            packages.append((file.name, parse(read_capture(file))))
        except SyncMLError as exc:
            raise CaptureError(f"{printable(str(file))}: {exc}") from None
    return _events(packages, where), scope


def recorded_scope(base: Any, recorded: dict[str, Any] | None) -> Any:
    """`base` (a `Scope`) with the fields a capture records (`read_capture_dir`: its
    manifest's scope, narrowed by capture.toml), JSON's lists read back as tuples."""
    import dataclasses

    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in (recorded or {}).items()}
    return dataclasses.replace(base, **fields)


def conform_capture(design: Any, path: Path, **bounds: Any) -> Conformance:
    """`conform` of the capture directory at `path` against `design`, at the design's
    scope with what the capture records (`recorded_scope`); `bounds` as `conform`'s."""
    from lifecycle.mdm import LifecycleModel

    events, recorded = read_capture_dir(path)
    model = LifecycleModel(design, recorded_scope(design.scope(), recorded), liveness=False)
    return conform(model, events, **bounds)


def _manifest(path: Path, where: str) -> tuple[list[str], dict[str, Any] | None]:
    """The package files a manifest lists, in order, and the scope it records."""
    import dataclasses

    from lifecycle.mdm import Scope

    try:
        manifest = read_json(path, MAX_MANIFEST, "a capture manifest")
    except InputError as exc:
        raise CaptureError(f"{where}: {exc}") from None
    messages = manifest.get("messages") if isinstance(manifest, dict) else None
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise CaptureError(f"{where}: not a capture manifest (no list of message objects)")
    names = []
    for i, m in enumerate(messages, start=1):
        name = m.get("file")
        if name is None:
            continue  # a message that is not SyncML has no file
        if not isinstance(name, str) or not name or "\x00" in name:
            raise CaptureError(f"{where}: message {i}: 'file' is not a file name")
        names.append(name)
    scope = manifest.get("scope")
    if scope is not None:
        fields = {f.name for f in dataclasses.fields(Scope)}
        if not isinstance(scope, dict) or set(scope) - fields:
            raise CaptureError(
                f"{where}: 'scope' is not a scope (fields: {', '.join(sorted(fields))})"
            )
    return names, scope


def _device_toml(path: Path, where: str) -> dict[str, Any]:
    """`capture.toml`'s enrollment kind and platform, as scope fields (one each)."""
    import tomllib

    from lifecycle.mdm.design import KINDS, PLATFORMS

    if not os.path.lexists(path):
        return {}
    try:
        data = tomllib.loads(read_regular(path, 64 * 1024, "a capture.toml").decode("utf-8"))
    except InputError as exc:
        raise CaptureError(f"{where}/capture.toml: {exc}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CaptureError(f"{where}/capture.toml: not TOML ({exc})") from None
    out: dict[str, Any] = {}
    for key, allowed, field_name in (
        ("kind", KINDS, "kinds"),
        ("platform", PLATFORMS, "platforms"),
    ):
        if key in data:
            if data[key] not in allowed:
                raise CaptureError(
                    f"{where}/capture.toml: {key} = {data[key]!r}; one of {', '.join(allowed)}"
                )
            out[field_name] = (data[key],)
    unknown = set(data) - {"kind", "platform"}
    if unknown:
        raise CaptureError(f"{where}/capture.toml: unknown key {sorted(unknown)[0]!r}")
    return out


def _events(packages: list[tuple[str, Package]], where: str) -> list[Event]:
    # A package sent in several messages is one package of the model (F74).
    packages = join(packages)
    devices: dict[str, int] = {}
    # The alert sessions: those whose package 1 carries an unenroll alert (F6).
    alert_sessions: set[tuple[str, str]] = set()
    for _, p in packages:
        if from_device(p) and any(
            isinstance(c, Alert) and c.data == 1226 and _unenroll_alert(c) for c in p.commands
        ):
            alert_sessions.add(session_of(p))
    events = []
    for name, p in packages:
        key = session_of(p)
        device = devices.setdefault(key[0], len(devices))
        alert = key in alert_sessions
        try:
            msg = from_package(p, session_endpoints(p, alert))
        except SyncMLError as exc:
            raise CaptureError(f"{where}/{name}: {exc}") from None
        events.append(Event(name, device, msg.kind, msg.session, msg.body, msg.msgid))
    return events


def _unenroll_alert(alert: Alert) -> bool:
    meta = alert.items[0].meta if alert.items else None
    return meta is None or meta.type is None or meta.type.endswith("unenrollment.userrequest")


#: The kinds a capture holds (the others are not SyncML and never logged).
LOGGED = frozenset({"pkg1", "pkg2", "pkg3", "pkg4"})


class _Constrained(Model):
    """The design's model, constrained to a capture: states are (world, matched)."""

    def __init__(self, base: Any, events: Sequence[Event]) -> None:
        self.base = base
        self.events = tuple(events)
        self.describe_action = base.describe_action

    def init_states(self) -> list[Any]:
        return [(w, 0) for w in self.base.init_states()]

    def successors(self, state: Any) -> list[tuple[Any, Any]]:
        world, matched = state
        events = self.events
        out = []
        for action, nxt in self.base.successors(world):
            logged = [(d, m) for d, m in channel_changes(world, nxt)[0] if m.kind in LOGGED]
            if logged and not matched:
                # Before the capture's first package: the device's life before the
                # capture began, free (a capture may start at any point).
                out.append((action, (nxt, 0)))
            i = matched
            ok = True
            for device, msg in logged:
                if i < len(events) and events[i].matches(device, msg):
                    i += 1
                else:
                    ok = False
                    break
            if ok and (i > matched or not logged):
                out.append((action, (nxt, i)))
        return out


@dataclass(frozen=True)
class Conformance:
    """The verdict: `conforms` True (with `trace`, the shortest behaviour that sends
    the captured packages), False (`first_unexplained` is the index of the first
    package no behaviour reaches, `instead` what the model could send there), or
    None: the search was cut short, so the capture is neither explained nor refuted."""

    conforms: bool | None
    events: tuple[Event, ...]
    matched: int
    trace: Trace | None = None
    instead: tuple[str, ...] = ()
    states: int = 0
    stop_reason: str | None = None

    @property
    def first_unexplained(self) -> int | None:
        return None if self.conforms is not False else self.matched


def conform(
    base: Any,
    events: Sequence[Event],
    *,
    max_states: int | None = None,
    time_limit: float | None = None,
) -> Conformance:
    """Check `events` against `base` (a `LifecycleModel`; see the module docstring).

    The search is best-first over (state, packages matched) pairs: the states that
    explain the most packages are expanded first, and among them those reached in the
    fewest steps. A capture that conforms is then explained without exploring the
    many unlogged variations of every earlier point (a breadth-first search of a
    200-package capture visits about two million pairs; this one a few thousand). A
    verdict of non-conformance needs every pair explored, whatever the order."""
    if not events:
        return Conformance(True, (), 0, Trace((base.init_states()[0],), ()))
    model = _Constrained(base, events)
    goal = len(events)
    parent: dict[Any, tuple[Any, Any]] = {}
    heap: list[tuple[int, int, int, Any]] = []
    order = itertools.count()
    for state in model.init_states():
        if state not in parent:
            parent[state] = (None, None)
            heapq.heappush(heap, (0, 0, next(order), state))
    best = heap[0][3]
    deadline = time.perf_counter() + time_limit if time_limit is not None else None
    stop: str | None = None
    expanded = 0
    while heap:
        _neg, depth, _n, state = heapq.heappop(heap)
        expanded += 1
        if deadline is not None and not expanded & 255 and time.perf_counter() >= deadline:
            stop = f"time_limit={time_limit}s reached"
            break
        for action, nxt in model.successors(state):
            if nxt in parent:
                continue
            parent[nxt] = (state, action)
            if nxt[1] > best[1]:
                best = nxt
                if nxt[1] == goal:
                    return Conformance(
                        True, tuple(events), goal, _path(parent, nxt), states=len(parent)
                    )
            heapq.heappush(heap, (-nxt[1], depth + 1, next(order), nxt))
        if max_states is not None and len(parent) >= max_states:
            stop = f"max_states={max_states} reached"
            break
    if stop is not None:
        return Conformance(None, tuple(events), best[1], states=len(parent), stop_reason=stop)
    return Conformance(
        False,
        tuple(events),
        best[1],
        instead=_alternatives(base, _path(parent, best) if best[1] else None),
        states=len(parent),
    )


def _path(parent: dict[Any, tuple[Any, Any]], state: Any) -> Trace:
    """The behaviour the search reached `state` by, as a trace of the design's worlds."""
    states, actions = [state[0]], []
    while True:
        before, action = parent[state]
        if before is None:
            break
        states.append(before[0])
        actions.append(action)
        state = before
    return Trace(tuple(reversed(states)), tuple(reversed(actions)))


def _alternatives(base: Any, trace: Trace | None) -> tuple[str, ...]:
    """What the model could send, on a behaviour that explains the packages matched,
    instead of the next one: the first packages sent on the unlogged paths out of the
    state `trace` ends in (out of the initial states when nothing matched): an
    illustration from one such state, not every one."""
    frontier = [trace.states[-1]] if trace is not None else list(base.init_states())
    seen: list[str] = []
    visited = set(frontier)
    while frontier and len(visited) < 20_000:
        nxt = []
        for world in frontier:
            for _action, after in base.successors(world):
                sent = [(d, m) for d, m in channel_changes(world, after)[0] if m.kind in LOGGED]
                for device, msg in sent:
                    text = Event("", device, msg.kind, msg.session, msg.body, msg.msgid).text()
                    if text not in seen:
                        seen.append(text)
                if not sent and after not in visited:
                    visited.add(after)
                    nxt.append(after)
        frontier = nxt
    return tuple(seen)


# ------------------------------------------------------------------ inference
#: The pairs each candidate's search may visit in `explain_by_knobs` and `infer`
#: before it is left "unknown" (a refutation explores every pair it can reach).
CANDIDATE_STATES = 200_000


def one_knob_deviations(design: Any) -> list[tuple[str, Any]]:
    """Every design that differs from `design` in one knob, as ``(knob = value,
    design)``; combinations a knob's condition forbids are left out."""
    import dataclasses

    from lifecycle.mdm.design import DesignError, knob_fields

    out = []
    for f in knob_fields():
        for value in f.metadata["allowed"]:
            if value == getattr(design, f.name):
                continue
            shown = f'"{value}"' if isinstance(value, str) else str(value).lower()
            label = f"{f.name} = {shown}"
            try:
                deviant = dataclasses.replace(
                    design,
                    name=f"{design.name}, {label}",
                    expected_violations=(),
                    **{f.name: value},
                )
            except DesignError:
                continue
            out.append((label, deviant))
    return out


def _verdicts(
    candidates: list[tuple[str, Any]],
    scope: Any,
    events: Sequence[Event],
    max_states: int,
    time_limit: float | None,
) -> list[tuple[str, Conformance]]:
    from lifecycle.mdm import LifecycleModel

    out = []
    for label, design in candidates:
        model = LifecycleModel(design, scope, liveness=False)
        out.append((label, conform(model, events, max_states=max_states, time_limit=time_limit)))
    return out


def explain_by_knobs(
    design: Any,
    scope: Any,
    events: Sequence[Event],
    *,
    max_states: int = CANDIDATE_STATES,
    time_limit: float | None = None,
) -> list[tuple[str, Conformance]]:
    """The one-knob deviations of `design` and their verdicts on `events`: for a
    capture `design` does not explain, the knobs that would ("conforms to
    queue_on_unenroll = "deliver", not to "drop""). Each search is bounded."""
    return _verdicts(one_knob_deviations(design), scope, events, max_states, time_limit)


def infer(
    design: Any,
    scope: Any,
    events: Sequence[Event],
    *,
    max_states: int = CANDIDATE_STATES,
    time_limit: float | None = None,
) -> list[tuple[str, Conformance]]:
    """`lifecycle conform --infer`: the verdict of every preset, then of every one-knob
    deviation of `design`, on `events`, at `scope` with each preset's own scope
    fields applied (each search bounded: past the bound, unknown)."""
    from lifecycle.mdm import presets

    chosen = [(f"preset {name}", d) for name, d in sorted(presets().items())]
    out = []
    for label, preset in chosen:
        out += _verdicts([(label, preset)], preset.scope(scope), events, max_states, time_limit)
    return out + explain_by_knobs(
        design, scope, events, max_states=max_states, time_limit=time_limit
    )
