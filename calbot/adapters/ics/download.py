"""The bytes of a calendar: a local file, or a GET of an http(s)/webcal URL (at most
256 MiB, redirects followed only to http(s)). Every failure names the location as the
caller shows it (`calbot.core.redact.redact_location`: never a secret address whole).

A URL's download has two clocks: `[limits] http_timeout_seconds` bounds each read (and the
connect), `[limits] download_timeout_seconds` the whole download, headers and body, however
slowly a server dribbles it (a watchdog shuts the socket down at the deadline: a per-read
timeout alone never fires against one byte every half second). Answers a server may give
when busy (429, 500, 502, 503, 504) and failures to connect or read are retried with the
same back-off as Google's requests — `calbot.adapters.google.api`'s caps and its reading of
`Retry-After`, within `[limits] retry_budget_seconds` and the download deadline — then
`CalendarServerError` (exit 4). Any other HTTP answer (404, 401, 403, ...) is a `SourceError`
(exit 2: check `source.path`)."""

from __future__ import annotations

import contextlib
import http.client
import random
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calbot.adapters.ics.values import reason
from calbot.errors import CalendarServerError, SourceError

MAX_DOWNLOAD_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """How long a URL may take; the clock and the back-off's sleep and jitter, which tests
    replace (no real back-off waits)."""

    read_timeout: float = 30.0
    download_timeout: float = 120.0
    retry_budget: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    rand: Callable[[], float] = random.random
    monotonic: Callable[[], float] = time.monotonic


def is_url(location: str) -> bool:
    """Whether reading `location` is a request (http, https, webcal)."""
    return urllib.parse.urlsplit(location).scheme.lower() in ("http", "https", "webcal")


def read_file(location: str, where: str) -> bytes:
    """The file's bytes; `where` (the location, redacted) names it in errors."""
    if "://" in location:
        raise SourceError(f"{where}: only files and http(s)/webcal URLs can be read")
    path = Path(location).expanduser()
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise SourceError(f"{where}: no such file") from exc
    except IsADirectoryError as exc:
        raise SourceError(f"{where}: is a folder, not a calendar file") from exc
    except OSError as exc:
        raise SourceError(f"{where}: cannot read ({exc.strerror or exc})") from exc


class _Retry(Exception):
    """One try failed in a way worth another: `failure` names it for the final message."""

    def __init__(self, failure: str, retry_after: float | None = None) -> None:
        super().__init__(failure)
        self.failure, self.retry_after = failure, retry_after


@dataclass(frozen=True, slots=True)
class Validators:
    """What a server said identifies the version it sent (`ETag`, `Last-Modified`): asked
    back in a conditional GET, an unchanged calendar answers 304 with no body."""

    etag: str = ""
    last_modified: str = ""

    def headers(self) -> dict[str, str]:
        out = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out


@dataclass(frozen=True, slots=True)
class Fetched:
    """One conditional GET: `data` None means 304 Not Modified (the caller's copy holds)."""

    data: bytes | None
    validators: Validators


def fetch(location: str, where: str, limits: FetchLimits | None = None) -> bytes:
    """GET an `is_url` location (webcal:// as https://), retried as the module docstring
    says; `where` as for `read_file`. Raises `SourceError` or `CalendarServerError`."""
    data = fetch_if_changed(location, where, limits).data
    assert data is not None  # no validators sent: never a 304
    return data


def fetch_if_changed(
    location: str, where: str, limits: FetchLimits | None = None, known: Validators | None = None
) -> Fetched:
    """`fetch`, sending `known`'s validators: a 304 answer is `Fetched(None, known)`."""
    # Google's back-off caps, not a copy of them; imported only here, where an ICS user
    # needs them (Google's client libraries stay unloaded until a try fails).
    limits = limits or FetchLimits()
    url = location
    if url.lower().startswith("webcal://"):
        url = "https://" + url[len("webcal://") :]
    start = limits.monotonic()
    slept = 0.0
    tries = 0
    while True:
        tries += 1
        left = limits.download_timeout - (limits.monotonic() - start)
        try:
            if left <= 0:
                raise _Retry(_too_slow(limits))
            return _get(url, where, limits.read_timeout, left, _too_slow(limits), known)
        except _Retry as exc:
            failure, retry_after = exc.failure, exc.retry_after
        from calbot.adapters.google.api import BASE_DELAY, MAX_DELAY, MAX_TRIES

        elapsed = limits.monotonic() - start
        budget_left = limits.retry_budget - max(slept, elapsed)
        if retry_after is not None:
            delay = retry_after
        else:
            cap = min(MAX_DELAY, BASE_DELAY * 2 ** (tries - 1))
            delay = min(limits.rand() * cap, max(budget_left, 0.0))
        deadline_left = limits.download_timeout - elapsed
        if tries >= MAX_TRIES or budget_left <= 0 or delay > budget_left or delay >= deadline_left:
            plural = "try" if tries == 1 else "tries"
            raise CalendarServerError(
                f"{where}: still failing after {tries} {plural} ({failure}); try again later"
            )
        limits.sleep(delay)
        slept += delay


def _too_slow(limits: FetchLimits) -> str:
    return f"not downloaded within download_timeout_seconds = {limits.download_timeout:g}"


def _get(
    url: str,
    where: str,
    read_timeout: float,
    left: float,
    too_slow: str,
    known: Validators | None = None,
) -> Fetched:
    """One GET within `left` seconds; `_Retry` for what is worth another try."""
    headers = {"User-Agent": "calbot", "Accept": "text/calendar, */*"}
    if known is not None:
        headers.update(known.headers())
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - scheme checked
    watchdog = _Watchdog(left)
    try:
        with _opener(watchdog).open(request, timeout=min(read_timeout, left)) as response:
            data: bytes = response.read(MAX_DOWNLOAD_BYTES + 1)
            got = Validators(
                etag=response.headers.get("ETag", "") or "",
                last_modified=response.headers.get("Last-Modified", "") or "",
            )
    except urllib.error.HTTPError as exc:
        exc.close()
        if watchdog.expired:
            raise _Retry(too_slow) from None
        if exc.code == 304 and known is not None:  # unchanged since the copy we hold
            return Fetched(None, known)
        from calbot.adapters.google.api import RETRY_STATUSES, _retry_after

        if exc.code in RETRY_STATUSES:
            raise _Retry(f"HTTP {exc.code}", _retry_after(exc.headers)) from None
        raise SourceError(
            f"{where}: HTTP {exc.code} {exc.reason}".rstrip() + " — check source.path"
        ) from None
    except urllib.error.URLError as exc:
        if watchdog.expired:
            raise _Retry(too_slow) from None
        if isinstance(exc.reason, TimeoutError):
            raise _Retry(f"no answer within {read_timeout:g} s") from None
        if isinstance(exc.reason, OSError):
            raise _Retry(f"cannot connect: {reason(exc.reason)}") from None
        raise SourceError(f"{where}: cannot fetch ({reason(exc.reason)})") from None
    except (OSError, http.client.HTTPException) as exc:  # while reading the answer
        if watchdog.expired:
            raise _Retry(too_slow) from None
        if isinstance(exc, TimeoutError):
            raise _Retry(f"no answer within {read_timeout:g} s") from None
        raise _Retry(f"connection broken: {reason(exc)}") from None
    except ValueError as exc:
        raise SourceError(f"{where}: cannot fetch ({reason(exc)})") from None
    finally:
        watchdog.cancel()
    if watchdog.expired:  # cut short: an answer without Content-Length reads as complete
        raise _Retry(too_slow)
    if len(data) > MAX_DOWNLOAD_BYTES:
        raise SourceError(f"{where}: larger than {MAX_DOWNLOAD_BYTES // 2**20} MiB")
    return Fetched(data, got)


class _Watchdog:
    """Shuts down the sockets of one download when its deadline passes: a read blocked in
    the kernel (or a header line arriving a byte at a time) ends at once. It keeps the
    sockets themselves: urllib drops the connection's reference once the headers are in,
    while the body is still read through it."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(max(seconds, 0.0), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:  # connected just as the deadline passed
            self._shut(sock)

    def cancel(self) -> None:
        self._timer.cancel()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        # socket.socket's own shutdown, also for an SSLSocket (whose override would drop
        # the TLS state under the reading thread): the reader sees the end of the stream
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _WatchedHTTP(http.client.HTTPConnection):
    watchdog: _Watchdog

    def connect(self) -> None:
        super().connect()
        self.watchdog.watch(self.sock)


class _WatchedHTTPS(http.client.HTTPSConnection):
    watchdog: _Watchdog

    def connect(self) -> None:
        super().connect()
        self.watchdog.watch(self.sock)


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, watchdog: _Watchdog) -> None:
        super().__init__()
        self._watchdog = watchdog

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._connection, req)

    def _connection(self, host: str, **kwargs: Any) -> http.client.HTTPConnection:
        connection = _WatchedHTTP(host, **kwargs)
        connection.watchdog = self._watchdog
        return connection


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, watchdog: _Watchdog) -> None:
        super().__init__()
        self._watchdog = watchdog

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._connection, req)

    def _connection(self, host: str, **kwargs: Any) -> http.client.HTTPConnection:
        connection = _WatchedHTTPS(host, **kwargs)
        connection.watchdog = self._watchdog
        return connection


class _NoRedirectElsewhere(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s), never to file:// or anything else."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        if urllib.parse.urlsplit(newurl).scheme.lower() not in ("http", "https"):
            raise urllib.error.HTTPError(newurl, code, "redirect to a non-http URL", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener(watchdog: _Watchdog) -> urllib.request.OpenerDirector:
    """An opener for one download (cheap to build): its connections answer to `watchdog`."""
    opener = urllib.request.OpenerDirector()
    handlers: list[urllib.request.BaseHandler] = [
        urllib.request.ProxyHandler(),
        _HTTPHandler(watchdog),
        _HTTPSHandler(watchdog),
        urllib.request.HTTPDefaultErrorHandler(),
        _NoRedirectElsewhere(),
        urllib.request.HTTPErrorProcessor(),
    ]
    for handler in handlers:
        opener.add_handler(handler)
    return opener
