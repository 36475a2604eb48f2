"""`lifecycle serve` and `lifecycle replay`: the model's server over HTTP, and a
capture's device played against it.

Differential: every preset's counterexample, replayed against that preset's endpoint,
gets the counterexample's packages back, package for package, leaves the endpoint's
SQLite records where the trace leaves the model's, and the replayed capture conforms
to the preset. So a known-bad design's server reproduces its bug over HTTP.
"""

from __future__ import annotations

import datetime
import json
import re
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from lifecycle.cli import cli
from lifecycle.engine import check
from lifecycle.mdm import LifecycleModel, presets
from lifecycle.mdm.design import smallest_scope
from lifecycle.mdm.state import RECORD_GHOSTS, Msg
from lifecycle.syncml.codec import build, parse
from lifecycle.syncml.conform import conform_capture, read_capture_dir
from lifecycle.syncml.export import capture_of, device_uri, write_capture
from lifecycle.syncml.mapping import SYNCML_TYPE, Endpoints, from_package, to_package
from lifecycle.syncml.replay import Admin, Client, ReplayError, replay
from lifecycle.syncml.serve import DM_PATH, serving
from tests.syncml.counterexamples import BAD, counterexample

CORPUS = Path(__file__).parent / "data" / "captures"


#: `lifecycle serve`'s server for a design, on a free loopback port, in a thread.
endpoint = serving


def _real(records: Any) -> list[tuple[Any, ...]]:
    """The record table without the history's ghost fields (no server keeps those)."""
    return sorted(
        tuple(v for k, v in r._asdict().items() if k not in RECORD_GHOSTS) for r in records
    )


def _messages(manifest: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(m["device"], m["kind"], m["body"], m["lost"]) for m in manifest["messages"]]


def _wire(where: Path) -> list[tuple[Any, ...]]:
    """What the files of a capture carry, read back from them (not the manifest)."""
    events, _ = read_capture_dir(where)
    return [(e.device, e.kind, e.session, e.body, e.msgid) for e in events]


def _answers_point_at_their_requests(where: Path) -> None:
    """Every server message's SyncHdr Status points at the device message it follows
    in its session (F66): MsgRef is that message's MsgID."""
    last: dict[str, int] = {}
    for name in sorted(p.name for p in where.glob("*.xml")):
        pkg = parse((where / name).read_bytes())
        if name.endswith("-device.xml"):
            last[pkg.header.session_id] = pkg.header.msg_id
            continue
        status = next(c for c in pkg.commands if getattr(c, "cmd", None) == "SyncHdr")
        assert status.msg_ref == last[pkg.header.session_id], name


def _conforms(design: Any, where: Path) -> bool | None:
    return conform_capture(design, where).conforms


@pytest.mark.parametrize("name", BAD)
def test_every_preset_counterexample_replays_over_http_as_the_model_ran_it(
    name: str, tmp_path: Path
) -> None:
    found = counterexample(name)
    if found is None:  # only a `sometimes` property breaks: there is no trace
        assert all(p.endswith("_completes") for p in presets()[name].expected_violations)
        return
    trace, scope = found
    design = presets()[name]
    where = write_capture(tmp_path, "cx", capture_of(trace, title=name, scope=scope))
    original = json.loads((where / "manifest.json").read_text())
    with endpoint(design, tmp_path / "records.sqlite") as (url, ep, token):
        done = replay(where, Client(url + DM_PATH, timeout=10), Admin(url, token))
        stored, taken = ep.store.server(), list(ep.taken)
    assert done.diverged is None, done.notes
    replayed = write_capture(tmp_path, "replayed", done.capture)
    # The endpoint sent the trace's packages (read back from its own files), took the
    # operator's steps the trace takes, and its records are the trace's.
    assert _wire(replayed) == _wire(where)
    assert _messages(done.capture.manifest) == _messages(original)
    assert [s.trigger for s in taken] == [s["trigger"] for s in original["server_steps"]]
    assert _real(stored.records) == _real(trace.states[-1].server.records)
    assert stored.mdm == trace.states[-1].server.mdm
    assert _conforms(design, replayed) is True


@pytest.mark.parametrize(
    "path",
    ["user_unenroll", "admin_unenroll", "aad_unenroll", "wipe", "admin_unenroll_multimessage"],
)
def test_the_reference_happy_paths_replay_over_http(path: str, tmp_path: Path) -> None:
    design = presets()["reference"]
    original = json.loads((CORPUS / path / "manifest.json").read_text())
    with endpoint(design, tmp_path / "records.sqlite") as (url, ep, token):
        done = replay(CORPUS / path, Client(url + DM_PATH), Admin(url, token))
        records = ep.records()
    assert done.diverged is None, done.notes
    replayed = write_capture(tmp_path, "replayed", done.capture)
    assert _wire(replayed) == _wire(CORPUS / path)
    assert _messages(done.capture.manifest) == _messages(original)
    _answers_point_at_their_requests(replayed)
    # Each path ends with the server's record retired.
    assert [r["status"] for r in records] == ["unenrolled"]
    assert _conforms(design, replayed) is True


def _post(url: str, xml: bytes, generation: int | None = 1, **headers: str) -> tuple[int, bytes]:
    sent = {"Content-Type": SYNCML_TYPE, **headers}
    if generation is not None:
        sent["X-Enrollment-Generation"] = str(generation)
    req = urllib.request.Request(url + DM_PATH, data=xml, method="POST", headers=sent)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _admin(url: str, token: str, path: str, body: Any = None) -> tuple[int, Any]:
    req = urllib.request.Request(
        url + path,
        data=None if body is None else json.dumps(body).encode(),
        method="GET" if body is None else "POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _enroll(url: str, token: str, devid: str, generation: int = 1) -> Any:
    body = {
        "devid": devid,
        "generation": generation,
        "kind": "work_access",
        "platform": "desktop",
        "local_admin": True,
    }
    return _admin(url, token, "/admin/enroll", body)


def _package(kind: str, session: str, body: tuple[str, ...], *, reply_to: Any = None) -> Any:
    ends = Endpoints(device=device_uri(0), main_session="1", alert_session="2")
    return to_package(Msg(kind, 1, session, body), ends, reply_to=reply_to)


def _held_alert(url: str, ep: Any) -> tuple[threading.Thread, list[tuple[int, bytes]]]:
    """Post device 0's unenroll alert on a thread, and wait until the endpoint holds
    it: the thread, and the list its answer will be put in."""
    alert = build(_package("pkg1", "alert", ("1201", "unenroll"))).encode()
    got: list[tuple[int, bytes]] = []
    waiter = threading.Thread(target=lambda: got.append(_post(url, alert)))
    waiter.start()
    for _ in range(400):
        if any(r["held"] for r in ep.records()):
            break
        waiter.join(0.05)
    assert any(r["held"] for r in ep.records()), "the alert was never held"
    return waiter, got


def test_a_held_package_is_answered_when_the_session_that_holds_it_closes(
    tmp_path: Path,
) -> None:
    design = presets()["keeps_sessions_and_waits"]
    with endpoint(design, tmp_path / "db.sqlite", hold_timeout=30) as (url, ep, token):
        assert _enroll(url, token, device_uri(0)) == (200, {"response": ["token"]})
        first = _package("pkg1", "main", ("1201",))
        status, answer = _post(url, build(first).encode())
        policy = parse(answer)
        assert status == 200 and from_package(policy).body == ("policy",)
        # The unenroll alert, in its own session, while package 3 is awaited: held.
        waiter, got = _held_alert(url, ep)
        assert not got  # still waiting: the session is open
        status3, closing = _post(
            url, build(_package("pkg3", "main", ("ok",), reply_to=policy)).encode()
        )
        assert status3 == 200 and from_package(parse(closing)).kind == "pkg4"
        waiter.join(30)
        assert got and got[0][0] == 200
        reply = parse(got[0][1])
        assert reply.header.session_id == "2"  # the alert session's own answer
        assert from_package(reply).kind == "pkg2"
        assert not any(r["held"] for r in ep.records())


def test_a_held_package_whose_session_never_closes_gets_204_after_the_timeout(
    tmp_path: Path,
) -> None:
    design = presets()["keeps_sessions_and_waits"]
    with endpoint(design, tmp_path / "db.sqlite", hold_timeout=0.2) as (url, ep, token):
        _enroll(url, token, device_uri(0))
        _, answer = _post(url, build(_package("pkg1", "main", ("1201",))).encode())
        status, body = _post(url, build(_package("pkg1", "alert", ("1201", "unenroll"))).encode())
        assert (status, body) == (204, b"")
        assert any(r["held"] for r in ep.records())
        # The session closes: the held package is processed all the same, and its
        # answer, which no request waits for, goes to the outbox.
        pkg3 = _package("pkg3", "main", ("ok",), reply_to=parse(answer))
        assert _post(url, build(pkg3).encode())[0] == 200
        assert not any(r["held"] for r in ep.records())
        assert [(m.kind, m.session) for _, m in ep.outbox] == [("pkg2", "alert")]


def test_the_endpoint_refuses_bad_requests_in_one_line(tmp_path: Path) -> None:
    with endpoint(presets()["reference"], tmp_path / "db.sqlite") as (url, _ep, token):
        good = build(_package("pkg1", "main", ("1201",))).encode()
        cases = [
            (_post(url, good, **{"Content-Type": "text/xml"}), 415, "application/vnd.syncml"),
            (_post(url, good, generation=None), 401, "X-Enrollment-Generation"),
            (_post(url, b"<SyncML><SyncHdr>", 1), 400, "line 1"),
            (_post(url, b"x" * (2 << 20), 1), 413, ""),
            (_post(url, build(_package("pkg2", "main", ("final",))).encode()), 400, "server"),
        ]
        for (status, body), want, text in cases:
            assert status == want, (status, body[:200])
            if text:
                assert text in body.decode() and body.decode().count("\n") <= 1
        bare = urllib.request.Request(url + "/admin/records")
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(bare, timeout=10)
        assert denied.value.code == 401
        assert _admin(url, "wrong", "/admin/records")[0] == 401
        status, text = _admin(
            url,
            token,
            "/admin/step",
            {"trigger": "AdminRequestUnenroll", "device": 0, "generation": 1},
        )
        assert status == 409 and "is not enabled; enabled: TurnOffMDM" in text
        assert _admin(url, token, "/admin/enroll", {"devid": "x"})[0] == 400
        # The operator's steps: the admin's request is enabled once the enrollment is
        # confirmed by the device's first session.
        _enroll(url, token, device_uri(0))
        assert _post(url, good)[0] == 200
        status, steps = _admin(url, token, "/admin/steps")
        assert {"trigger": "AdminRequestUnenroll", "device": 0, "generation": 1} in steps
        step = {"trigger": "AdminRequestUnenroll", "device": 0, "generation": 1}
        assert _admin(url, token, "/admin/step", step) == (200, step)
        assert _admin(url, token, "/admin/records")[1]["records"][0]["status"] == "unenroll_queued"


def test_serve_keeps_its_records_across_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "records.sqlite"

    def start() -> tuple[subprocess.Popen[str], str]:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lifecycle",
                "serve",
                "--port",
                "0",
                "--db",
                str(db),
                "--admin-token",
                "T",
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        line = proc.stderr.readline()
        match = re.search(r"at (http://127\.0\.0\.1:\d+)", line)
        assert match, line
        return proc, match.group(1)

    def stop(proc: subprocess.Popen[str]) -> None:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0

    proc, url = start()
    try:
        assert _enroll(url, "T", device_uri(0)) == (200, {"response": ["token"]})
    finally:
        stop(proc)
    proc, url = start()
    try:
        records = _admin(url, "T", "/admin/records")[1]["records"]
        assert [(r["device"], r["gen"], r["status"]) for r in records] == [(0, 1, "pending")]
        req = urllib.request.Request(
            url + DM_PATH,
            data=build(_package("pkg1", "main", ("1201",))).encode(),
            headers={"Content-Type": SYNCML_TYPE, "X-Enrollment-Generation": "1"},
        )
        with urllib.request.urlopen(req, timeout=20) as r:
            assert r.headers["X-Server-Row"] == "ConfirmEnrollment"
            assert from_package(parse(r.read())).body == ("policy",)
    finally:
        stop(proc)


def test_serve_refuses_what_it_cannot_do_in_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    outside = runner.invoke(cli, ["serve", "--host", "0.0.0.0", "--db", str(tmp_path / "d")])
    assert outside.exit_code == 2 and "loopback addresses only" in outside.output
    (tmp_path / "junk").write_bytes(b"not a database" * 100)
    junk = runner.invoke(cli, ["serve", "--port", "0", "--db", str(tmp_path / "junk")])
    assert junk.exit_code == 2 and "--db" in junk.output
    assert len(junk.output.strip().splitlines()) == 1


def _replay_cli(design: str, capture: Path, out: Path) -> Any:
    """`lifecycle replay` of `capture` against `design`'s endpoint, with its admin."""
    with endpoint(presets()[design], out.with_suffix(".sqlite")) as (url, _ep, token):
        args = ["replay", str(capture), "--server", url + DM_PATH]
        args += ["--admin", url, "--admin-token", token, "--out", str(out)]
        return CliRunner().invoke(cli, args)


def test_replay_cli_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    capture = CORPUS / "admin_unenroll"
    ok = _replay_cli("reference", capture, tmp_path / "ok")
    assert ok.exit_code == 0, ok.output
    assert "package for package" in ok.output and "conforms to reference" in ok.output
    # A server that challenges where the reference does not: the replay does not
    # conform to the reference, and the knob that would explain it is named.
    bad = _replay_cli("challenge_drops_alert", capture, tmp_path / "bad")
    assert bad.exit_code == 1, bad.output
    assert "does not conform to reference" in bad.output and "auth_challenge" in bad.output
    hostile = tmp_path / "hostile"
    shutil.copytree(capture, hostile)
    manifest = json.loads((hostile / "manifest.json").read_text())
    manifest["messages"][2]["taken"] = "soon"
    (hostile / "manifest.json").write_text(json.dumps(manifest))
    with socketless_port() as closed:
        refused = [
            (["replay", str(capture), "--server", f"http://127.0.0.1:{closed}/x"], "refused"),
            (["replay", str(capture), "--server", "ftp://x"], "http:// or https://"),
            (["replay", str(capture), "--server", "http://x", "--key", "k"], "--key needs --cert"),
            (["replay", str(capture), "--server", "http://x", "--cert", "c"], "https://"),
            (["replay", str(capture), "--server", "http://x", "--admin", "http://x"], "token"),
            (
                ["replay", str(hostile), "--server", "http://x", "--out", str(tmp_path / "h")],
                "'taken'",
            ),
            (["replay", str(tmp_path / "none"), "--server", "http://x"], "not a capture"),
        ]
        for args, text in refused:
            result = runner.invoke(cli, args)
            assert result.exit_code == 2, (args, result.output)
            assert text in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "h").exists()
    steps = tmp_path / "steps"
    shutil.copytree(capture, steps)
    manifest = json.loads((steps / "manifest.json").read_text())
    manifest["server_steps"] = 5
    (steps / "manifest.json").write_text(json.dumps(manifest))
    for args, text in [
        (["replay", str(steps), "--server", "http://x"], "'server_steps' is not a list"),
        (["replay", str(capture), "--server", "http://127.0.0.1:abc/x"], "cast to integer"),
        (["replay", str(capture), "--server", "http://[::1/x"], "IPv6"),
        (["serve", "--admin-token", "", "--db", str(tmp_path / "t")], "--admin-token"),
    ]:
        result = runner.invoke(cli, args)
        assert result.exit_code == 2, (args, result.output)
        assert text in result.output and len(result.output.strip().splitlines()) == 1


@contextmanager
def socketless_port() -> Iterator[int]:
    """A loopback port nothing listens on."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    yield port


def _certificates(where: Path) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all signed
    by the CA (PEM files)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def issue(name: str, issuer: Any, issuer_key: Any, *, ca: bool, san: Any = None) -> Any:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer or subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if san is not None:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        cert = builder.sign(issuer_key or key, hashes.SHA256())
        return key, cert

    ca_key, ca_cert = issue("test CA", None, None, ca=True)
    files: dict[str, Path] = {}
    for name, san in (
        ("server", [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
        ("client", None),
    ):
        key, cert = issue(name, ca_cert.subject, ca_key, ca=False, san=san)
        files[f"{name}.crt"] = where / f"{name}.crt"
        files[f"{name}.key"] = where / f"{name}.key"
        files[f"{name}.crt"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        files[f"{name}.key"].write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    files["ca.crt"] = where / "ca.crt"
    files["ca.crt"].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    return files


def test_replay_passes_a_client_certificate_to_a_server_that_requires_one(tmp_path: Path) -> None:
    pem = _certificates(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem["server.crt"], pem["server.key"])
    context.load_verify_locations(pem["ca.crt"])
    context.verify_mode = ssl.CERT_REQUIRED  # mutual TLS
    capture = CORPUS / "policy_acknowledged"
    design = presets()["reference"]
    with endpoint(design, tmp_path / "db.sqlite", ssl_context=context) as (url, ep, _):
        assert url.startswith("https://")
        # The admin interface is plain JSON over the same TLS port: enroll directly.
        ep.enroll(device_uri(0), 1, "work_access", "desktop", True, device=0)
        with pytest.raises(ReplayError, match=r"(?i)certificate|handshake|alert|protocol"):
            replay(capture, Client(url + DM_PATH, ca=str(pem["ca.crt"]), timeout=5))
        done = replay(
            capture,
            Client(
                url + DM_PATH,
                cert=str(pem["client.crt"]),
                key=str(pem["client.key"]),
                ca=str(pem["ca.crt"]),
                timeout=10,
            ),
        )
    kinds = [m["kind"] for m in done.capture.manifest["messages"] if m.get("file")]
    assert done.diverged is None, done.notes
    original = json.loads((capture / "manifest.json").read_text())["messages"]
    # The endpoint answered over mutual TLS, package for package.
    assert kinds == [m["kind"] for m in original if m.get("file")] and "pkg2" in kinds


def test_the_replays_drive_the_operators_steps_and_the_timers() -> None:
    """The replays above take, through the admin interface, the admin's unenroll and
    wipe requests, the tenant turning MDM off, and the server's timers."""
    taken: set[str] = set()
    for name in BAD:
        found = counterexample(name)
        if found is not None:
            taken |= {s["trigger"] for s in capture_of(found[0]).manifest["server_steps"]}
    for path in CORPUS.iterdir():
        taken |= {
            s["trigger"] for s in json.loads((path / "manifest.json").read_text())["server_steps"]
        }
    assert {"AdminRequestUnenroll", "AdminRequestWipe", "TurnOffMDM"} <= taken
    assert {"ConfirmUnenrolled", "AbandonSession"} <= taken


def test_the_endpoint_keeps_nothing_of_what_it_refuses(tmp_path: Path) -> None:
    with endpoint(presets()["reference"], tmp_path / "db.sqlite") as (url, ep, token):
        # Packages no row takes, from DevIDs never enrolled: no device is learnt.
        for n in range(5):
            ends = Endpoints(device=f"urn:stranger:{n}", main_session="1")
            stray = to_package(Msg("pkg3", 1, "main", ("ok",)), ends)
            _post(url, build(stray).encode())
        assert ep.store.devices() == {}
        bad = [
            {"device": -3},
            {"device": "abc"},
            {"device": 1.5},
            {"device": 10**6},
            {"generation": 10**21},
            {"generation": 1e300},
            {"kind": "nonsense"},
            {"platform": "toaster"},
            {"local_admin": "false"},
            {"devid": ""},
        ]
        for change in bad:
            body = {
                "devid": device_uri(0),
                "generation": 1,
                "kind": "work_access",
                "platform": "desktop",
                "local_admin": True,
                **change,
            }
            status, text = _admin(url, token, "/admin/enroll", body)
            assert status == 400 and text.count("\n") <= 1, (change, status, text)
        assert ep.store.devices() == {} and ep.records() == []
        # A header whose digits are not ASCII digits is not a generation.
        good = build(_package("pkg1", "main", ("1201",))).encode()
        assert _post(url, good, generation=None, **{"X-Enrollment-Generation": "\u00b2"})[0] == 401


class _Stub:
    """A management endpoint that misbehaves in one way, on loopback, in a thread."""

    def __init__(self, mode: str) -> None:
        import http.server

        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if stub.mode == "silent":
                    self.send_response(204)
                    self.end_headers()
                elif stub.mode == "trickle":
                    self.send_response(200)
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    for _ in range(600):
                        if stub.stopping.is_set():
                            return
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        stub.stopping.wait(0.5)
                elif stub.mode == "garbage":
                    self.wfile.write(b"HELLO THERE\r\n\r\n")
                else:  # "empty json" or "deep json", for the admin interface
                    body = b"{}" if stub.mode == "empty json" else b"[" * 200_000
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

        self.mode = mode
        self.stopping = threading.Event()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    ("mode", "code", "text"),
    [
        ("trickle", 2, "no answer within"),
        ("garbage", 2, "BadStatusLine"),
        ("silent", 1, "a DM server answers every message"),
    ],
)
def test_replay_against_an_endpoint_that_misbehaves_ends_bounded(
    mode: str, code: int, text: str, tmp_path: Path
) -> None:
    stub = _Stub(mode)
    try:
        # A subprocess, so that a request left hanging would show as a hang here.
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "lifecycle",
                "replay",
                str(CORPUS / "policy_acknowledged"),
                "--server",
                stub.url + DM_PATH,
                "--timeout",
                "1",
                "--out",
                str(tmp_path / "r"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        stub.close()
    assert result.returncode == code, result.stdout + result.stderr
    assert text in result.stdout + result.stderr
    if code == 2:
        assert len(result.stderr.strip().splitlines()) == 1 and not result.stdout


def test_replay_refuses_an_admin_interface_that_answers_nonsense(tmp_path: Path) -> None:
    stub = _Stub("empty json")
    try:
        with pytest.raises(ReplayError, match="not an enrollment answer"):
            replay(CORPUS / "admin_unenroll", Client(stub.url + DM_PATH), Admin(stub.url, "T"))
    finally:
        stub.close()


def test_a_held_package_whose_record_is_replaced_goes_back_to_the_server(
    tmp_path: Path,
) -> None:
    design = presets()["keeps_sessions_and_waits"]
    with endpoint(design, tmp_path / "db.sqlite", hold_timeout=120) as (url, ep, token):
        _enroll(url, token, device_uri(0))
        _post(url, build(_package("pkg1", "main", ("1201",))).encode())
        waiter, got = _held_alert(url, ep)
        # The device enrolls again: the record that held the alert is replaced, and
        # the alert is back in flight: the server takes it, and its request is
        # answered long before its two-minute wait would run out.
        assert _enroll(url, token, device_uri(0), generation=2)[0] == 200
        waiter.join(60)
        assert got, "the held request was left waiting"
        assert not any(r["held"] for r in ep.records())


def test_sessions_of_one_message_packages_keep_no_messages(tmp_path: Path) -> None:
    with endpoint(presets()["reference"], tmp_path / "db.sqlite") as (url, ep, _token):
        package = build(_package("pkg1", "main", ("1201",)))
        again = package.replace("<MsgID>1</MsgID>", "<MsgID>2</MsgID>", 1).encode()
        for _ in range(40):
            _post(url, again)
        assert all(s.history is None for s in ep._sessions.values())
        assert len(ep._sessions) <= 1


def test_replay_uses_the_captures_own_devid_and_keeps_what_out_held(tmp_path: Path) -> None:
    renamed = tmp_path / "renamed"
    shutil.copytree(CORPUS / "admin_unenroll", renamed)
    old, new = device_uri(0), "urn:uuid:0f0f0f0f-1111-2222-3333-444444444444"
    for f in renamed.iterdir():
        f.write_text(f.read_text().replace(old, new))
    with endpoint(presets()["reference"], tmp_path / "db.sqlite") as (url, ep, token):
        done = replay(renamed, Client(url + DM_PATH), Admin(url, token))
        assert set(ep.store.devices()) == {new}
    assert done.diverged is None, done.notes
    runner = CliRunner()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    for out, text in ((mine, "is not a capture"), (renamed, "the capture being replayed")):
        result = runner.invoke(
            cli, ["replay", str(renamed), "--server", "http://x", "--out", str(out)]
        )
        assert result.exit_code == 2 and text in result.output, result.output
    assert (mine / "notes.txt").read_text() == "keep me"


def test_an_operator_step_the_endpoint_does_not_offer_is_a_divergence(tmp_path: Path) -> None:
    # never_learns' shortest quiet disagreement has a timer the reference's server never
    # starts (its first counterexample, of unenroll_alert_recognised, has none).
    design = presets()["never_learns"]
    scope = design.scope(smallest_scope())
    result = check(LifecycleModel(design, scope, liveness=False))
    trace = result.violation("server_agrees_when_quiet").trace
    where = write_capture(tmp_path, "cx", capture_of(trace, title="never_learns", scope=scope))
    triggers = [
        s["trigger"] for s in json.loads((where / "manifest.json").read_text())["server_steps"]
    ]
    with endpoint(presets()["reference"], tmp_path / "db.sqlite") as (url, _ep, token):
        done = replay(where, Client(url + DM_PATH), Admin(url, token))
    assert done.diverged is not None and done.diverged.startswith("step ")
    assert any("is not enabled" in n for n in done.notes)
    assert done.diverged.split("(")[1].rstrip(")") in triggers


def test_nested_json_is_refused_in_one_line(tmp_path: Path) -> None:
    with endpoint(presets()["reference"], tmp_path / "db.sqlite") as (url, _ep, token):
        deep = b"[" * 100_000
        for path in ("/admin/enroll", "/admin/step"):
            req = urllib.request.Request(
                url + path,
                data=deep,
                method="POST",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(req, timeout=20)
            assert refused.value.code == 400
            assert refused.value.read().decode().count("\n") <= 1
    stub = _Stub("deep json")
    try:
        with pytest.raises(ReplayError, match="not JSON"):
            replay(CORPUS / "admin_unenroll", Client(stub.url + DM_PATH), Admin(stub.url, "T"))
    finally:
        stub.close()
