"""`lifecycle replay CAPTURE --server URL`: a capture's device, played against a live
management endpoint.

The device's packages of the capture are posted to the endpoint
(``application/vnd.syncml.dm+xml``, F58), each at the point where the capture's
server took it (a package the capture lost is never posted; one still in flight at
its end is recorded but not posted). Each request runs on its own thread, because a
wait design's server may hold a request open until another of the device's requests
closes a session. Where the capture has the server's answer, the replay waits for the
endpoint's; the device answers the endpoint's commands as the capture's device did
(its Status package rebuilt to point at the endpoint's own CmdIDs, F67). Where the
endpoint answers otherwise than the capture (another kind or other commands), the
device's script no longer applies: the replay records the answer and stops there.

What is not SyncML is not sent: the enrollment (MS-MDE2) and the server's
environment steps (the admin's requests, the tenant's switch, the timers) are the
operator's. Given ``--admin`` (the admin interface of `lifecycle serve`), the replay
takes them there, at their point of the capture; without it, it says it skipped them.

The replay is recorded as a new capture (same format, the endpoint's packages as it
sent them), which `lifecycle conform` then checks against the design.

Bounded: every request has a timeout, nothing is retried, and a held request that is
never answered ends the replay when its wait runs out.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import Future, wait
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from lifecycle.reading import InputError, printable, read_json
from lifecycle.syncml.codec import build, parse
from lifecycle.syncml.conform import CaptureError, read_capture_dir
from lifecycle.syncml.errors import SyncMLError
from lifecycle.syncml.export import CAPTURE_VERSION, Capture, device_uri
from lifecycle.syncml.files import read_capture
from lifecycle.syncml.mapping import (
    GENERATION_HEADER,
    SYNCML_TYPE,
    from_package,
    session_endpoints,
    session_of,
    to_package,
)
from lifecycle.syncml.multimessage import is_next_message
from lifecycle.syncml.package import Package

__all__ = ["Admin", "Client", "ReplayError", "Replayed", "replay"]

#: Facts the replay follows (collected into docs/facts.md).
FACTS = ("F58", "F67", "F74")

MAX_MANIFEST = 16 * 1024 * 1024
#: The largest answer read from an endpoint (a package is at most 1 MiB, the codec's cap).
MAX_ANSWER = 1 << 20


T = TypeVar("T")


class ReplayError(ValueError):
    """A replay that cannot run: bad input, or an endpoint that cannot be reached or
    answers outside the protocol (one line, exit 2). `status`: the HTTP status of a
    refused request, if that is what it was."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _checked_url(url: str, flag: str) -> str:
    """`url` if it is an http(s) URL with a host and a valid port, else one line."""
    if not url.startswith(("http://", "https://")):
        raise ReplayError(f"{flag} {printable(url)}: give an http:// or https:// URL")
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError as exc:
        raise ReplayError(f"{flag} {printable(url)}: {exc}") from None
    if not parts.hostname:
        raise ReplayError(f"{flag} {printable(url)}: no host")
    return url


def spawn(work: Callable[[], T]) -> Future[T]:
    """Run `work` on a daemon thread: a request that never ends cannot keep the
    process alive once the replay has given up on it."""
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(work())
        except BaseException as exc:  # handed to whoever waits
            future.set_exception(exc)

    threading.Thread(target=run, daemon=True, name="replay-request").start()
    return future


def _exchange(
    req: urllib.request.Request, timeout: float, context: ssl.SSLContext | None, where: str
) -> Future[tuple[int, bytes]]:
    """One HTTP exchange, started on its own daemon thread: its status and body, or a
    `ReplayError`. The caller bounds the wait for it as a whole (`_within`): a socket
    timeout alone bounds each read, so an endpoint that trickles would never end."""

    def exchange() -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=context) as r:
                return r.status, r.read(MAX_ANSWER + 1)
        except urllib.error.HTTPError as exc:
            detail = exc.read(300).decode("utf-8", "replace").strip()
            raise ReplayError(f"{where}: HTTP {exc.code}: {printable(detail)}", exc.code) from None
        except http.client.HTTPException as exc:
            detail = f"{type(exc).__name__}: {str(exc)[:80]}"
            raise ReplayError(f"{where}: not an HTTP answer ({printable(detail)})") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ReplayError(f"{where}: {printable(str(reason)) or type(exc).__name__}") from None

    return spawn(exchange)


def _within(future: Future[T], seconds: float, where: str) -> T:
    """The result of `future` within `seconds`, or a `ReplayError` saying it did not come."""
    try:
        return future.result(timeout=max(0.0, seconds))
    except FutureTimeout:
        raise ReplayError(f"{where}: no answer within the timeout") from None


class Client:
    """Posts packages to a management endpoint: HTTP, or HTTPS with an optional
    client certificate (mutual TLS) and CA file. One attempt per package, within a
    timeout."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        cert: str | None = None,
        key: str | None = None,
        ca: str | None = None,
    ) -> None:
        self.url = _checked_url(url, "--server")
        self.timeout = timeout
        self.context: ssl.SSLContext | None = None
        if url.startswith("https://"):
            try:
                self.context = ssl.create_default_context(cafile=ca)
                if cert is not None:
                    self.context.load_cert_chain(cert, key)
            except (OSError, ssl.SSLError) as exc:
                raise ReplayError(f"--cert/--key/--ca: {printable(str(exc))}") from None
        elif cert is not None or key is not None or ca is not None:
            raise ReplayError("--cert, --key and --ca need an https:// --server")

    def send(self, xml: bytes, generation: int) -> Future[tuple[int, bytes]]:
        """Start posting one package: the status and body of the answer, to come."""
        req = urllib.request.Request(
            self.url,
            data=xml,
            method="POST",
            headers={"Content-Type": SYNCML_TYPE, GENERATION_HEADER: str(generation)},
        )
        return _exchange(req, self.timeout, self.context, self.url)

    def post(self, xml: bytes, generation: int) -> tuple[int, bytes]:
        """Post one package and wait for the answer, within the timeout."""
        return _within(self.send(xml, generation), self.timeout, self.url)


class Admin:
    """The admin interface of `lifecycle serve` (see `lifecycle.syncml.serve`); over
    HTTPS with the client's TLS settings."""

    def __init__(
        self, url: str, token: str, *, timeout: float = 10.0, context: ssl.SSLContext | None = None
    ) -> None:
        self.url = _checked_url(url, "--admin").rstrip("/")
        self.token = token
        self.timeout = timeout
        self.context = context if url.startswith("https://") else None

    def call(self, path: str, body: dict[str, Any]) -> Any:
        where = f"{self.url}{path}"
        req = urllib.request.Request(
            where,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
        )
        _status, raw = _within(
            _exchange(req, self.timeout, self.context, where), self.timeout, where
        )
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            raise ReplayError(f"{where}: the answer is not JSON") from None


@dataclass
class Replayed:
    """The replay's record: the new capture, what was skipped or differed, and the
    capture's file in whose place the endpoint answered otherwise (None: it never
    did)."""

    capture: Capture
    notes: list[str] = field(default_factory=list)
    diverged: str | None = None
    posted: int = 0
    #: The endpoint sent nothing where the capture's server answered: a DM server
    #: answers every message (F66), so the replay fails whatever conform says.
    silent: bool = False


@dataclass
class _Entry:
    """One message of the capture to replay, at the point the replay takes it."""

    at: tuple[int, int]
    n: int
    data: dict[str, Any]
    xml: bytes | None = None


#: What replay reads of a manifest's message and server step: field -> (types,
#: required). Anything else is left as it is.
_MESSAGE_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "step": ((int,), True),
    "from": ((str,), True),
    "taken": ((int, type(None)), False),
    "held": ((int, type(None)), False),
    "lost": ((bool,), False),
    "generation": ((int,), False),
    "device": ((int,), False),
    "kind": ((str,), False),
    "body": ((list,), False),
    "file": ((str, type(None)), False),
}
_STEP_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "step": ((int,), True),
    "trigger": ((str,), True),
    "device": ((int, type(None)), False),
    "generation": ((int, type(None)), False),
}


def _check_fields(item: Any, fields: dict[str, tuple[tuple[type, ...], bool]], where: str) -> None:
    """One line naming the first field of `item` replay cannot use."""
    if not isinstance(item, dict):
        raise ReplayError(f"{where}: not an object")
    for name, (types, required) in fields.items():
        if name not in item:
            if required:
                raise ReplayError(f"{where}: no {name!r}")
            continue
        value = item[name]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise ReplayError(f"{where}: {name!r} is {printable(repr(value))[:60]}")
    if item.get("from", "device") not in ("device", "server"):
        raise ReplayError(f"{where}: 'from' is neither 'device' nor 'server'")
    body = item.get("body", [])
    if item.get("kind") == "enroll_request" and (
        len(body) != 3 or not all(isinstance(t, str) for t in body)
    ):
        raise ReplayError(f"{where}: an enrollment request's body is [kind, platform, admin]")


def _entries(path: Path) -> tuple[list[_Entry], dict[str, Any]]:
    """The capture's messages and server steps, in the order the replay takes them:
    a device's package when the capture's server took it, a server's when it was
    sent, an operator's step at its step; without a manifest, the files in order."""
    where = printable(str(path))
    try:
        read_capture_dir(path)  # the same checks as conform: names, sizes, XML
    except CaptureError as exc:
        raise ReplayError(str(exc)) from None
    manifest_path = path / "manifest.json"
    if manifest_path.exists():
        try:
            manifest = read_json(manifest_path, MAX_MANIFEST, "a capture manifest")
        except InputError as exc:
            raise ReplayError(f"{where}/manifest.json: {exc}") from None
    else:
        names = sorted(p.name for p in path.glob("*.xml"))
        manifest = {
            "messages": [
                {
                    "n": i,
                    "step": i,
                    "taken": i,
                    "file": name,
                    "lost": False,
                    "syncml": True,
                    "from": "device" if name.endswith("-device.xml") else "server",
                    "generation": 1,
                }
                for i, name in enumerate(names, start=1)
            ]
        }
    if not isinstance(manifest, dict):
        raise ReplayError(f"{where}/manifest.json: not a capture manifest")
    for listed in ("messages", "server_steps"):
        if not isinstance(manifest.get(listed, []), list):
            raise ReplayError(f"{where}/manifest.json: {listed!r} is not a list")
    out: list[_Entry] = []
    for i, m in enumerate(manifest.get("messages") or [], start=1):
        _check_fields(m, _MESSAGE_FIELDS, f"{where}/manifest.json: message {i}")
        device_side = m["from"] == "device"
        when = m.get("taken") if device_side else m["step"]
        if device_side and m.get("held") is not None:
            when = m["held"]  # the server took it then, and held it
        elif device_side and (m.get("lost") or when is None):
            when = m["step"]  # recorded, never posted
        entry = _Entry((int(when), 1), i, m)
        name = m.get("file")
        if name is not None:
            try:
                entry.xml = read_capture(path / Path(name).name)
            except SyncMLError as exc:
                raise ReplayError(f"{where}/{printable(name)}: {exc}") from None
        out.append(entry)
    for i, st in enumerate(manifest.get("server_steps") or [], start=1):
        _check_fields(st, _STEP_FIELDS, f"{where}/manifest.json: server step {i}")
        out.append(_Entry((st["step"], 0), 0, {"server_step": st}))
    out.sort(key=lambda e: (e.at, e.n))
    return out, manifest


def _enroll(admin: Admin, m: dict[str, Any], generation: int, devids: dict[int, str]) -> str:
    """The capture's enrollment request, taken through the admin interface for the
    device's own DevID (the LocURI its packages carry); a note of the answer."""
    body = m.get("body") or []
    device = int(m.get("device", 0))
    got = admin.call(
        "/admin/enroll",
        {
            "devid": devids.get(device, device_uri(device)),
            "device": device,
            "generation": generation,
            "kind": body[0],
            "platform": body[1],
            "local_admin": body[2] == "admin",
        },
    )
    response = got.get("response") if isinstance(got, dict) else None
    if not isinstance(response, list) or not all(isinstance(t, str) for t in response):
        raise ReplayError(f"{admin.url}/admin/enroll: not an enrollment answer")
    return f"enrolled generation {generation}: {' '.join(response) or 'no response'}"


def _model_message(pkg: Package, alert_sessions: set[tuple[str, str]], generation: int) -> Any:
    """`from_package` with the session told by SessionID, as conform reads captures."""
    alert = session_of(pkg) in alert_sessions
    return from_package(pkg, session_endpoints(pkg, alert), generation=generation)


def replay(
    path: Path, client: Client, admin: Admin | None = None, *, hold_grace: float = 1.0
) -> Replayed:
    """Replay the device of the capture at `path` against `client`'s endpoint.
    `hold_grace`: how long a request may take before the replay goes on without its
    answer (the endpoint holds it, as a wait design's server does)."""
    entries, manifest = _entries(path)
    where = printable(str(path))
    files: dict[str, str] = {}
    new_entries: list[dict[str, Any]] = []
    done = Replayed(Capture(files, {}))
    pending: dict[tuple[str, str], tuple[Future[tuple[int, bytes]], float]] = {}
    last_answer: dict[tuple[str, str], Package] = {}
    alert_sessions: set[tuple[str, str]] = set()
    multi: set[tuple[str, str]] = set()  # sessions with a multi-message package (F74)
    skipped = {"steps": 0, "enrollments": 0}
    recorded: list[tuple[int, dict[str, Any], bytes | None]] = []
    # Each device's DevID, as its first package in the capture gives it.
    devids: dict[int, str] = {}
    for e in entries:
        if e.xml is not None and e.data.get("from") == "device":
            devids.setdefault(int(e.data.get("device", 0)), parse(e.xml).header.source)

    def record(entry: _Entry, xml: bytes | None, sender: str, **truth: Any) -> None:
        """The entry as the replay saw it: for a package, what it carries."""
        recorded.append((entry.n, {**entry.data, "n": entry.n, "from": sender, **truth}, xml))

    def stop(entry: _Entry, text: str, *, silent: bool = False) -> None:
        done.notes.append(f"{entry.data['file']}: {text}")
        done.diverged = entry.data["file"]
        done.silent = silent

    for e in entries:
        m = e.data
        if "server_step" in m:
            step = m["server_step"]
            if admin is None:
                skipped["steps"] += 1
                continue
            wanted = {k: step.get(k) for k in ("trigger", "device", "generation")}
            try:
                admin.call("/admin/step", wanted)
            except ReplayError as exc:
                if exc.status != 409:
                    raise
                # The endpoint's server is not where the capture's was: it diverged.
                done.notes.append(f"step {step['step']}: {exc}")
                done.diverged = f"step {step['step']} ({step['trigger']})"
                break
            continue
        generation = int(m.get("generation", 1))
        if m.get("from") == "device" and m.get("kind") == "enroll_request":
            if m.get("taken") is not None and not m.get("lost"):
                if admin is None:
                    skipped["enrollments"] += 1
                else:
                    done.notes.append(_enroll(admin, m, generation, devids))
            record(e, None, "device")
            continue
        if e.xml is None:  # a push, an agent's request, the enrollment response
            record(e, None, m.get("from", "server"))
            continue
        pkg = parse(e.xml)
        if m.get("from") == "device":
            key = session_of(pkg)
            # A later message of a package (after a Next Message reply) is posted as
            # the capture has it, and so is every message of a session that had one:
            # only a one-message Status package is rebuilt.
            continuing = key in last_answer and is_next_message(last_answer[key])
            if continuing or not pkg.final:
                multi.add(key)
            probe = None  # the first message of a package, read as the model's
            if not continuing:
                try:
                    probe = _model_message(pkg, alert_sessions, generation)
                except SyncMLError as exc:
                    if pkg.final:  # a whole package the model has no message for
                        raise ReplayError(f"{where}/{m['file']}: {exc}") from None
            if probe is not None and probe.kind == "pkg1" and probe.session == "alert":
                alert_sessions.add(key)
            msg = probe if pkg.final else None
            xml = e.xml
            if msg is not None and msg.kind == "pkg3" and key in last_answer and key not in multi:
                # Answer the endpoint's own package, as the capture's device did.
                try:
                    xml = build(to_package(msg, reply_to=last_answer[key])).encode()
                except SyncMLError as exc:  # nothing in it to answer: sent as captured
                    done.notes.append(f"{m['file']}: sent as captured ({exc})")
            record(e, xml, "device", msg_id=parse(xml).header.msg_id)
            held = m.get("held") is not None
            if not held and (m.get("lost") or m.get("taken") is None):
                continue
            future = client.send(xml, generation)
            pending[key] = (future, time.monotonic() + client.timeout)
            done.posted += 1
            # Let the endpoint take it before the next step: an answer that does not
            # come in `hold_grace` seconds is a request the server holds.
            wait([future], timeout=hold_grace)
            continue
        # The capture's server answered here: wait for the endpoint's answer.
        key = session_of(pkg)
        posted = pending.pop(key, None)
        if posted is None:
            raise ReplayError(
                f"{where}/{m['file']}: the capture's server answers a request the replay "
                "never posted (its device package is lost, or not taken, in the manifest)"
            )
        waiting, deadline = posted
        status, answer = _within(waiting, deadline - time.monotonic(), client.url)
        if status == 204 or not answer:
            stop(e, "the endpoint sent no answer where the capture has one", silent=True)
            break
        if len(answer) > MAX_ANSWER:
            raise ReplayError(f"{client.url}: an answer larger than {MAX_ANSWER:,} bytes")
        try:
            got_pkg = parse(answer)
            text = answer.decode("utf-8")
        except SyncMLError as exc:
            raise ReplayError(f"{client.url}: its answer in place of {m['file']}: {exc}") from None
        except UnicodeDecodeError:
            text = build(got_pkg)  # another encoding: kept as the codec writes it
            done.notes.append(f"{m['file']}: the endpoint's answer re-encoded as UTF-8")
        last_answer[key] = got_pkg
        if is_next_message(pkg) or is_next_message(got_pkg):
            record(
                e, text.encode(), "server", kind="next_message" if is_next_message(got_pkg) else "?"
            )
            if not (is_next_message(pkg) and is_next_message(got_pkg)):
                stop(
                    e,
                    "the endpoint and the capture disagree on whether more messages of the "
                    "device's package are due (Alert 1222, F74)",
                )
                break
            continue
        try:
            got = _model_message(got_pkg, alert_sessions, generation)
        except SyncMLError as exc:
            raise ReplayError(f"{client.url}: its answer in place of {m['file']}: {exc}") from None
        record(
            e,
            text.encode(),
            "server",
            kind=got.kind,
            body=list(got.body),
            msg_id=got_pkg.header.msg_id,
        )
        try:
            want = _model_message(pkg, alert_sessions, generation)
        except SyncMLError:  # the capture's server sent its package in several messages
            stop(
                e, "the capture's server sent this package in several messages; the endpoint in one"
            )
            break
        if (got.kind, got.body) != (want.kind, want.body):
            stop(
                e,
                f"the endpoint sent a {got.kind} ({', '.join(got.body)}) where the capture "
                f"has a {want.kind} ({', '.join(want.body)})",
            )
            break
    for key, (left, _deadline) in pending.items():
        if left.done() and left.exception() is not None:
            done.notes.append(
                f"a request of session {key[1]} that the capture leaves unanswered failed: "
                f"{left.exception()}"
            )
        elif left.done():
            status, answer = left.result()
            if status == 200 and answer:
                done.notes.append(
                    f"the endpoint answered session {key[1]} of {key[0]} where the capture "
                    "has no answer (the device had stopped waiting): not recorded"
                )
    # In the capture's sending order, the files numbered in it.
    for _, entry, package_xml in sorted(recorded, key=lambda item: item[0]):
        if package_xml is not None:
            entry["file"] = f"{len(files) + 1:04d}-{entry['from']}.xml"
            files[entry["file"]] = package_xml.decode("utf-8")
        new_entries.append(entry)
    if skipped["steps"] or skipped["enrollments"]:
        done.notes.append(
            f"{skipped['enrollments']} enrollment(s) and {skipped['steps']} step(s) of the "
            "server's operator not taken (give --admin to take them)"
        )
    done.capture.manifest.update(
        {
            "capture_version": CAPTURE_VERSION,
            "title": f"replay of {manifest.get('title') or path.name} against {client.url}",
            "server_uri": client.url,
            "scope": manifest.get("scope"),
            "messages": [{**m, "n": i} for i, m in enumerate(new_entries, start=1)],
            "server_steps": manifest.get("server_steps") or [],
            "replay": {"notes": done.notes, "diverged": done.diverged},
        }
    )
    toml = path / "capture.toml"
    if toml.is_file():
        files["capture.toml"] = toml.read_text()
    return done
