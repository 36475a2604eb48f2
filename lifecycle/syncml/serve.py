"""`lifecycle serve`: the management endpoint over HTTP, on localhost.

The DM endpoint is ``POST /ManagementServer/MDM.svc`` with a SyncML body
(``application/vnd.syncml.dm+xml``), as Windows devices talk to their MDM server
(F58). The enrollment is the client certificate in a real deployment; over plain HTTP
the request names it in ``X-Enrollment-Generation``. The answer is the server's
package (200), or 204 when no row of the server's table takes the package (the model
leaves it unanswered) or a held package's session did not close in time. The
``X-Server-Row`` header names the row that took it (``NextMessage`` for the Next
Message reply to a message without Final, F74).

The admin interface, for tests and operators only, is JSON under ``/admin`` and needs
``Authorization: Bearer TOKEN`` (the token `lifecycle serve` prints or is given):

- ``GET /admin/records``: the record table and the MDM switch;
- ``GET /admin/steps``: the server's environment steps enabled now (the admin's
  requests, the tenant's switch, the timers);
- ``POST /admin/step`` ``{"trigger": ..., "device": ..., "generation": ...}``: fire one
  (409 with what is enabled, when it is not);
- ``POST /admin/enroll`` ``{"devid", "generation", "kind", "platform", "local_admin",
  "device"}``: the enrollment exchange (MS-MDE2 is not SyncML and out of scope);
- ``GET /admin/outbox``: what the server sent that no HTTP request carries back
  (pushes, an agent's requests).

It binds to loopback addresses only: it has no TLS and its admin interface is a test
fixture, not a console.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
import ssl
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from lifecycle.mdm import Design
from lifecycle.syncml.codec import MAX_BYTES
from lifecycle.syncml.endpoint import ManagementEndpoint, ServerStep
from lifecycle.syncml.errors import SyncMLError
from lifecycle.syncml.mapping import GENERATION_HEADER, SYNCML_TYPE
from lifecycle.syncml.store import Store

__all__ = ["DM_PATH", "create_app", "make_endpoint_server", "serving"]

#: Where Windows posts its DM sessions (the discovery response's MDM URL, F58).
DM_PATH = "/ManagementServer/MDM.svc"


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, sort_keys=True), status, mimetype="application/json")


def _error(text: str, status: int) -> Response:
    return Response(text + "\n", status, mimetype="text/plain")


def create_app(endpoint: ManagementEndpoint, token: str) -> Flask:
    """The Flask app of `endpoint`, its admin interface guarded by `token`."""
    app = Flask("lifecycle.serve")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BYTES

    @app.post(DM_PATH)
    def dm() -> Response:
        if request.mimetype != SYNCML_TYPE:
            return _error(f"Content-Type {request.mimetype!r}: a DM package is {SYNCML_TYPE}", 415)
        raw = request.headers.get(GENERATION_HEADER, "")
        if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 1000:
            return _error(
                f"{GENERATION_HEADER} {raw!r}: give the enrollment generation (1, 2, ...)", 401
            )
        try:
            answer = endpoint.receive(request.get_data(), int(raw))
        except SyncMLError as exc:
            return _error(str(exc), 400)
        headers = {"X-Server-Row": answer.row or "-"}
        if answer.reply is None:
            return Response(status=204, headers=headers)
        return Response(answer.reply, 200, headers=headers, mimetype=SYNCML_TYPE)

    def authorised() -> bool:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())

    @app.before_request
    def guard() -> Response | None:
        if request.path.startswith("/admin") and not authorised():
            return _error("the admin interface needs Authorization: Bearer TOKEN", 401)
        return None

    @app.get("/admin/records")
    def records() -> Response:
        return _json({"mdm": endpoint.store.server().mdm, "records": endpoint.records()})

    @app.get("/admin/steps")
    def steps() -> Response:
        return _json([s.as_dict() for s in endpoint.steps()])

    def json_body() -> Any:
        try:
            return request.get_json(silent=True)
        except RecursionError:  # nested too deep to be a request of this interface
            return None

    @app.post("/admin/step")
    def step() -> Response:
        body = json_body()
        if not isinstance(body, dict) or not isinstance(body.get("trigger"), str):
            return _error('a step is {"trigger": ..., "device": ..., "generation": ...}', 400)
        wanted = ServerStep(body["trigger"], body.get("device"), body.get("generation"))
        try:
            return _json(endpoint.step(wanted).as_dict())
        except LookupError as exc:
            return _error(str(exc), 409)

    @app.post("/admin/enroll")
    def enroll() -> Response:
        body = json_body()
        fields = ("devid", "generation", "kind", "platform", "local_admin")
        if not isinstance(body, dict) or any(f not in body for f in fields):
            return _error(f"an enrollment gives {', '.join(fields)} (and device)", 400)
        try:
            answer = endpoint.enroll(
                body["devid"],
                body["generation"],
                body["kind"],
                body["platform"],
                body["local_admin"],
                device=body.get("device"),
            )
        except (TypeError, ValueError, OverflowError) as exc:
            return _error(str(exc), 400)
        return _json({"response": list(answer)})

    @app.get("/admin/outbox")
    def outbox() -> Response:
        return _json([[i, list(m)] for i, m in endpoint.outbox])

    return app


def make_endpoint_server(
    design: Design,
    db: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
    hold_timeout: float = 10.0,
    ssl_context: ssl.SSLContext | None = None,
) -> tuple[BaseWSGIServer, ManagementEndpoint, str]:
    """A threaded HTTP server for `design`'s endpoint (not yet serving), the
    endpoint, and the admin token. Only loopback hosts are accepted (`ValueError`);
    a port in use is an `OSError`. `ssl_context` serves HTTPS (the tests' mutual-TLS
    server)."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise ValueError(f"--host {host}: lifecycle serve listens on loopback addresses only")
    token = token or secrets.token_urlsafe(16)
    store = Store(db)
    try:
        endpoint = ManagementEndpoint(design, store, hold_timeout=hold_timeout)
    except BaseException:
        store.close()
        raise
    try:
        server = make_server(
            host,
            port,
            create_app(endpoint, token),
            threaded=True,
            request_handler=_Quiet,
            ssl_context=ssl_context,
        )
    except BaseException:
        endpoint.store.close()
        raise
    server.log = _one_line_log  # type: ignore[method-assign]
    return server, endpoint, token


@contextmanager
def serving(
    design: Design, db: Path, **options: Any
) -> Iterator[tuple[str, ManagementEndpoint, str]]:
    """`make_endpoint_server` serving on a thread until the block ends (tests and
    benchmarks): its base URL, its endpoint and its admin token."""
    server, endpoint, token = make_endpoint_server(design, db, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        scheme = "https" if options.get("ssl_context") else "http"
        yield f"{scheme}://127.0.0.1:{server.server_port}", endpoint, token
    finally:
        server.shutdown()
        server.server_close()
        endpoint.store.close()


def _one_line_log(type: str, message: str, *args: Any) -> None:
    """The server's log: a request that fails below the app (a client dropped
    mid-request) is one line on stderr, not a traceback."""
    if type == "error":
        text = message % args if args else message
        lines = [line for line in text.splitlines() if line.strip()]
        sys.stderr.write(f"lifecycle serve: {(lines[-1] if lines else type)[:200]}\n")


class _Quiet(WSGIRequestHandler):
    """No line per request on stderr (`lifecycle serve` prints its own), and a client
    that stalls for `timeout` seconds in one read is dropped."""

    timeout = 30

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass
