"""Stage 1 ready. Stage 2 ready (scopes and shapes from discovery, fields=, /auth + code grant,
the review calendar's calendars.insert and events.insert/update/delete).

A fake Google (Calendar v3, Gmail v1, OAuth 2.0 token and authorization endpoints) on
127.0.0.1, for the real googleapiclient + google-auth to talk to over HTTP.

    fake = FakeGoogle(); fake.start()
    fake.write_token(path, ["calendar.events", "gmail.compose"])
    # calbot config: [google] api_root = fake.root, token_file = path
    ...
    fake.stop()

Paths are the discovery documents' own: `/calendar/v3/...` and `/gmail/v1/users/...`; OAuth
at `/token` and `/auth`. Routes are named after the discovery method ids
("calendar.events.list", "gmail.drafts.create" — Gmail's "users." dropped except
"gmail.users.getProfile"), plus "oauth.token", "oauth.auth". Scopes, query parameters and
request bodies are checked against the discovery documents; whatever a careful client must
never do lands in `violations` (the pytest fixture fails the test on it).

Faults, scripted per route: `fail` (statuses, Retry-After), `delay` (a slow answer, before
or after the request is carried out), `reset_connection` (dropped before it is carried out),
`lose_answer` (carried out, then the answer is a dropped connection or a 503), and
`vanish_on_patch` (calendar.py: the event is deleted as the patch arrives). Every request is
logged (`requests`: `Logged`, with `at`, its arrival on the monotonic clock, and `fault`,
which scripted fault it met); `pending()` says what scripted faults are left.

Facts worth knowing: stock httplib2 silently resends a request once when the connection
drops before the answer, so `reset_connection(route)` with times=1 is invisible to a stock
client on GET (use times=2); calbot's Http never resends a POST. googleapiclient never reads
Retry-After.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from . import discovery
from .calendar import CalendarMixin, Query
from .errors import ApiError, Reply, error_body
from .gmail import GmailMixin
from .oauth import TOKEN_LIFETIME, OAuthMixin, basic_auth

SEND_ROUTES = frozenset(
    {
        "gmail.drafts.send",
        "gmail.messages.send",
        "gmail.messages.import",
        "gmail.messages.insert",
        "gmail.messages.batchDelete",
        "gmail.messages.batchModify",
    }
)
IMPLEMENTED = frozenset(
    {
        "calendar.events.list",
        "calendar.events.get",
        "calendar.events.patch",
        "calendar.freebusy.query",
        "calendar.calendarList.list",
        "calendar.calendarList.get",
        "calendar.calendars.insert",
        "calendar.calendars.get",
        "calendar.calendars.delete",
        "calendar.events.insert",
        "calendar.events.update",
        "calendar.events.delete",
        "gmail.drafts.create",
        "gmail.drafts.update",
        "gmail.drafts.get",
        "gmail.drafts.list",
        "gmail.drafts.delete",
        "gmail.users.getProfile",
    }
)
APP_CREATED = discovery.full_scope("calendar.app.created")


@dataclass(frozen=True)
class Logged:
    route: str
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int
    scopes: frozenset[str]
    at: float = 0.0  # time.monotonic() when the request arrived
    fault: str = ""  # the scripted fault it met: "status", "reset", "delay", "lost", ...


@dataclass(frozen=True)
class _Fault:
    status: int
    retry_after: float | None = None
    reason: str | None = None


class FakeGoogle(CalendarMixin, GmailMixin, OAuthMixin):
    client_id = "fake-client-id.apps.googleusercontent.com"
    client_secret = "fake-client-secret"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.user_email = "me@example.com"
        self.now: datetime | None = None  # fixes "now" for expanding endless series
        self.violations: list[str] = []
        self.fake_errors: list[str] = []  # the fake's own answers off the discovery shapes
        self.requests: list[Logged] = []
        self.access_tokens: dict[str, frozenset[str]] = {}
        self.refreshes = 0
        self._access_expiry: dict[str, float] = {}
        self._refresh_tokens: dict[str, frozenset[str]] = {}
        self._revoked: set[str] = set()
        self._codes: dict[str, dict[str, Any]] = {}
        self._counter = itertools.count(1)
        self._faults: dict[str, list[_Fault]] = {}
        self._delays: dict[str, list[float]] = {}
        self._in_flight = 0  # requests being answered now (a delayed one included)
        self._resets: dict[str, int] = {}
        self._lost: dict[str, list[int | None]] = {}  # carried out, answer replaced
        self._glitches: dict[str, list[str]] = {}  # a 200 whose body cannot be trusted
        self._met = threading.local()  # the scripted fault the current request met
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.root = ""
        self.token_uri = ""
        self.auth_uri = ""
        self._calendar_init()
        self._gmail_init()

    # --- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        port = server.server_address[1]
        self.root = f"http://127.0.0.1:{port}/"
        self.token_uri = self.root + "token"
        self.auth_uri = self.root + "auth"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeGoogle:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the log ----------------------------------------------------------------------

    def violation(self, text: str) -> None:
        with self._lock:
            self.violations.append(text)

    def count(self, route: str) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.route == route)

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    # --- OAuth, test side -------------------------------------------------------------

    def _new_access(self, scopes: frozenset[str], *, expired: bool = False) -> str:
        token = f"ya29.fake-{next(self._counter):06d}"
        self.access_tokens[token] = scopes
        self._access_expiry[token] = time.time() + (-60 if expired else TOKEN_LIFETIME)
        return token

    def write_token(
        self,
        path: str | Path,
        scopes: Sequence[str],
        *,
        expired: bool = False,
        refresh_token: str = "refresh-1",
    ) -> None:
        full = [discovery.full_scope(s) for s in scopes]
        with self._lock:
            self._refresh_tokens[refresh_token] = frozenset(full)
            self._revoked.discard(refresh_token)
            token = self._new_access(frozenset(full), expired=expired)
        expiry = datetime.now(UTC).replace(tzinfo=None) + timedelta(
            seconds=-3600 if expired else TOKEN_LIFETIME
        )
        data = {
            "token": token,
            "refresh_token": refresh_token,
            "token_uri": self.token_uri,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "scopes": full,
            "universe_domain": "googleapis.com",
            "account": "",
            "expiry": expiry.isoformat() + "Z",
        }
        _write_private(Path(path), json.dumps(data))

    def write_client_secret(self, path: str | Path) -> None:
        data = {
            "installed": {
                "client_id": self.client_id,
                "project_id": "calbot-fake",
                "auth_uri": self.auth_uri,
                "token_uri": self.token_uri,
                "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
                "client_secret": self.client_secret,
                "redirect_uris": ["http://localhost"],
            }
        }
        _write_private(Path(path), json.dumps(data))

    def revoke(self) -> None:
        """Every refresh token issued so far answers invalid_grant; every access token 401."""
        with self._lock:
            self._revoked.update(self._refresh_tokens)
            self._refresh_tokens.clear()
            self.access_tokens.clear()
            self._access_expiry.clear()

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is now expired (API calls answer 401)."""
        with self._lock:
            for token in self._access_expiry:
                self._access_expiry[token] = 0

    # --- faults -----------------------------------------------------------------------

    def fail(
        self,
        route: str,
        *statuses: int,
        retry_after: float | None = None,
        reason: str | None = None,
    ) -> None:
        """The next len(statuses) requests to `route` answer these statuses, in order (calls
        queue up); 200 lets that request through as usual (to fault a later page). Google
        error JSON: 403 and 429 say rateLimitExceeded, 5xx backendError, unless `reason`; on
        "oauth.token" the body is {"error": reason} (e.g. fail("oauth.token", 400,
        reason="invalid_grant"))."""
        with self._lock:
            queue = self._faults.setdefault(route, [])
            queue.extend(_Fault(status, retry_after, reason) for status in statuses)

    def delay(
        self, route: str, seconds: float, times: int = 1, *, carried_out: bool = False
    ) -> None:
        """The next `times` answers on `route` come `seconds` late. `carried_out`: the
        request is carried out at once and only its answer is held (Google did the work,
        the client gave up waiting); else it waits before it is carried out."""
        with self._lock:
            self._delays.setdefault(route, []).extend(
                [-seconds if carried_out else seconds] * times
            )

    def lose_answer(self, route: str, times: int = 1, *, status: int | None = None) -> None:
        """The next `times` requests on `route` are carried out (the draft is made, the event
        patched...), then the answer is lost: the connection drops (`status=None`) or a
        `status` error (e.g. 503) comes back instead of the real answer."""
        with self._lock:
            self._lost.setdefault(route, []).extend([status] * times)

    def glitch(self, route: str, kind: str = "empty", times: int = 1) -> None:
        """The next `times` answers on `route` are a 200 that cannot be trusted: `empty`, a
        JSON object with nothing in it (for drafts.list: no `drafts` although there are
        some), or `not_json`, an HTML page."""
        if kind not in ("empty", "not_json"):
            raise ValueError(f"unknown glitch {kind!r}")
        with self._lock:
            self._glitches.setdefault(route, []).extend([kind] * times)

    def pending(self, route: str | None = None) -> int:
        """Scripted faults not met yet (every kind), on `route` or on all routes."""

        def mine(r: str) -> bool:
            return route is None or r == route

        with self._lock:
            queued: list[dict[str, Any]] = [self._faults, self._delays, self._lost, self._glitches]
            total = sum(len(q[r]) for q in queued for r in q if mine(r))
            total += sum(n for r, n in self._resets.items() if mine(r))
            if mine("calendar.events.patch"):
                total += self._vanish
            return total

    def faulted(self, route: str) -> list[Logged]:
        """The logged requests on `route` that met a scripted fault."""
        with self._lock:
            return [r for r in self.requests if r.route == route and r.fault]

    def clear_faults(self) -> None:
        """Forget every scripted fault not met yet."""
        with self._lock:
            self._faults.clear()
            self._delays.clear()
            self._glitches.clear()
            self._resets.clear()
            self._lost.clear()
            self._vanish = 0

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Until no request is being answered: a late answer the client gave up waiting
        for has landed (and written what it writes). Polls with a deadline."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if self._in_flight == 0:
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"fake Google still busy after {timeout} s")
            time.sleep(0.005)

    def reset_connection(self, route: str, times: int = 1) -> None:
        with self._lock:
            self._resets[route] = self._resets.get(route, 0) + times

    # --- dispatch ---------------------------------------------------------------------

    def _handle(
        self, method: str, raw_path: str, headers: dict[str, str], raw: bytes
    ) -> Reply | None:
        url = urlsplit(raw_path)
        path = url.path
        query = parse_qs(url.query, keep_blank_values=True)
        found = None if path in ("/token", "/auth") else discovery.resolve(method, path)
        if path == "/token":
            route = "oauth.token"
        elif path == "/auth":
            route = "oauth.auth"
        elif found is not None:
            route = found[0].route
        elif "batch" in path.split("/"):
            route = "batch"
        else:
            route = "unknown"
        body = _parse_body(raw, headers.get("content-type", ""))
        arrived = time.monotonic()
        self._met.fault = ""
        with self._lock:
            pause = self._delays.get(route) and self._delays[route].pop(0)
            reset = self._resets.get(route, 0) > 0
            if reset:
                self._resets[route] -= 1
            lost = None if reset else self._lost.get(route)
            lose, answer = (True, lost.pop(0)) if lost else (False, None)
        if pause:
            self._met.fault = "delay"
            if pause > 0:
                time.sleep(pause)
        if reset:
            self._log(route, method, path, query, body, 0, frozenset(), arrived, "reset")
            return None
        with self._lock:
            scopes: frozenset[str] = frozenset()
            try:
                if route == "oauth.token":
                    form = dict(body) if isinstance(body, dict) else {}
                    form.update(basic_auth(headers.get("authorization", "")))
                    reply = self._token(form)
                elif route == "oauth.auth":
                    reply = self._auth(method, query)
                elif route in ("batch", "unknown"):
                    self.violation(f"{method} {path}: {route} request")
                    reply = Reply(
                        403 if route == "batch" else 404,
                        error_body(403 if route == "batch" else 404, "forbidden", "Not allowed"),
                    )
                else:
                    assert found is not None
                    scopes, reply = self._api(found[0], found[1], method, query, body, headers)
            except ApiError as exc:
                reply = Reply(exc.status, exc.body(), exc.headers)
            except Exception as exc:  # a bug in the fake: answer 500, fail the test
                self.fake_errors.append(f"{method} {path}: {type(exc).__name__}: {exc}")
                reply = Reply(500, error_body(500, "backendError", f"fake crashed: {exc}"))
            sent: Reply | None = reply
            if lose:  # carried out (or refused) as usual; the answer never reaches the client
                self._met.fault = "lost" if answer is None else f"lost:{answer}"
                sent = (
                    None
                    if answer is None
                    else Reply(answer, error_body(answer, "backendError", "Backend Error"))
                )
            status = 0 if sent is None else sent.status
            self._log(route, method, path, query, body, status, scopes, arrived, self._met.fault)
        if pause and pause < 0:  # carried out; the answer is held
            time.sleep(-pause)
        return sent

    def _log(
        self,
        route: str,
        method: str,
        path: str,
        query: Query,
        body: Any,
        status: int,
        scopes: frozenset[str],
        at: float = 0.0,
        fault: str = "",
    ) -> None:
        with self._lock:
            self.requests.append(
                Logged(route, method, path, query, body, status, scopes, at, fault)
            )

    def _take_fault(self, route: str) -> ApiError | None:
        queue = self._faults.get(route)
        if not queue:
            return None
        fault = queue.pop(0)
        status = fault.status
        if status == 200:
            return None
        self._met.fault = "status"
        if status == 403 or status == 429:
            reason = fault.reason or "rateLimitExceeded"
        elif status >= 500:
            reason = fault.reason or "backendError"
        else:
            reason = fault.reason or ""
        hdrs = {}
        if fault.retry_after is not None:
            hdrs["Retry-After"] = f"{fault.retry_after:g}"
        return ApiError(status, reason or None, f"Scripted {status} ({reason})", hdrs)

    def _api(
        self,
        m: discovery.Method,
        params: dict[str, str],
        method: str,
        query: Query,
        body: Any,
        headers: dict[str, str],
    ) -> tuple[frozenset[str], Reply]:
        route = m.route
        args = {k: unquote(v) for k, v in params.items()}
        if route in SEND_ROUTES:
            self.violation(f"{route}: {method} {m.regex.pattern} — calbot never sends")
            raise ApiError(403, "forbidden", "The fake refuses every send.")
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if token not in self.access_tokens or self._access_expiry.get(token, 0) <= time.time():
            raise ApiError(
                401,
                "authError",
                "Request had invalid authentication credentials.",
                {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
            )
        scopes = self.access_tokens[token]
        if not (scopes & m.scopes):
            self.violation(f"{route}: scopes {sorted(scopes)} do not cover it")
            raise ApiError(403, "insufficientPermissions", "Request had insufficient scopes.")
        if scopes & m.scopes == {APP_CREATED} and "calendarId" in args:
            key = unquote(args["calendarId"])
            cal = self._cals.get("primary" if key in ("primary", self.user_email) else key)
            if cal is not None and not cal.app_created:
                self.violation(f"{route}: calendar.app.created reaches only the app's calendars")
                raise ApiError(403, "forbidden", "Forbidden")
        fault = self._take_fault(route)
        if fault is not None:
            raise fault
        unknown = sorted(set(query) - m.query_params)
        if unknown:
            self.violation(f"{route}: unknown query parameters {unknown}")
        if m.request_ref is not None:
            if not isinstance(body, dict):
                self.violation(f"{route}: request body is not a JSON object")
                raise ApiError(400, "parseError", "Parse Error")
            for err in discovery.shape_errors(m.api, m.request_ref, body):
                self.violation(f"{route}: {err}")
        if route not in IMPLEMENTED:
            self.violation(f"{route}: not implemented by the fake")
            raise ApiError(501, "notImplemented", f"{route} is not implemented by the fake")
        result = self._route(route, args, query, body)
        glitches = self._glitches.get(route)
        if glitches:
            self._met.fault = f"glitch:{glitches[0]}"
            if glitches.pop(0) == "empty":
                return scopes, Reply(200, {})
            return scopes, Reply(200, b"<html><body>Temporary glitch</body></html>")
        if result is None:
            return scopes, Reply(204)
        if m.response_ref is not None:
            for err in discovery.shape_errors(m.api, m.response_ref, result, "response"):
                self.fake_errors.append(f"{route}: {err}")
        fields = (query.get("fields") or [""])[0]
        if fields:
            try:
                result = discovery.apply_fields(discovery.parse_fields(fields), result)
            except ValueError as exc:
                raise ApiError(
                    400, "invalidParameter", f"Invalid field selection {fields}"
                ) from exc
        return scopes, Reply(200, result)

    def _route(self, route: str, args: dict[str, str], query: Query, body: Any) -> Any:
        if route.startswith("calendar.events."):
            cal = self._cal(args["calendarId"])
            if route == "calendar.events.list":
                return self._events_list(cal, query)
            if route == "calendar.events.get":
                return _copy(self._events_get(cal, args["eventId"]))
            if route == "calendar.events.patch":
                return _copy(self._events_patch(cal, args["eventId"], query, body))
            if route == "calendar.events.insert":
                return _copy(self._events_insert(cal, query, body))
            if route == "calendar.events.update":
                return _copy(self._events_update(cal, args["eventId"], query, body))
            if route == "calendar.events.delete":
                self._events_delete(cal, args["eventId"], query)
                return None
        if route == "calendar.calendars.insert":
            return self._calendars_insert(body)
        if route == "calendar.calendars.get":
            return self._calendar_resource(self._cal(args["calendarId"]))
        if route == "calendar.calendars.delete":
            self._calendars_delete(self._cal(args["calendarId"]))
            return None
        if route == "calendar.freebusy.query":
            return self._freebusy(body)
        if route == "calendar.calendarList.list":
            return self._calendar_list(query)
        if route == "calendar.calendarList.get":
            return self._calendar_entry(self._cal(args["calendarId"]))
        if route.startswith("gmail."):
            self._user(args["userId"])
            if route == "gmail.users.getProfile":
                return self._profile()
            if route == "gmail.drafts.create":
                return self._drafts_create(body)
            if route == "gmail.drafts.update":
                return self._drafts_update(args["id"], body)
            if route == "gmail.drafts.get":
                return self._drafts_get(args["id"], query)
            if route == "gmail.drafts.list":
                return self._drafts_list(query)
            if route == "gmail.drafts.delete":
                self._drafts_delete(args["id"])
                return None
        raise ApiError(501, "notImplemented", route)


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    path.chmod(0o600)


def _parse_body(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    if "x-www-form-urlencoded" in content_type:
        return {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
    try:
        return json.loads(raw)
    except ValueError:
        return raw


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # quiet: a client that hung up is not news


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        fake: FakeGoogle = self.server.fake  # type: ignore[attr-defined]
        with fake._lock:
            fake._in_flight += 1
        try:
            reply = fake._handle(self.command, self.path, headers, raw)
        finally:
            with fake._lock:
                fake._in_flight -= 1
        if reply is None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if isinstance(reply.body, dict | list):
            data = json.dumps(reply.body).encode()
            ctype = "application/json; charset=UTF-8"
        else:
            data = reply.body or b""
            ctype = reply.headers.pop("Content-Type", "text/plain")
        self.send_response(reply.status)
        for k, v in reply.headers.items():
            self.send_header(k, v)
        if data or reply.status != 204:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        # One write for head and body: two small writes on a kept-alive connection meet
        # Nagle's algorithm and the client's delayed ACK, ~40 ms a request.
        self._headers_buffer.append(b"\r\n" + data)  # type: ignore[attr-defined]
        self.flush_headers()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
