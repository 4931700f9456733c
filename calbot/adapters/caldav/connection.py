"""Talking to a CalDAV server: the password (from `$CALBOT_CALDAV_PASSWORD`, else a 0600
file), the `caldav` library's `DAVClient` (its auth, its TLS, its errors) with every request
counted, and one table from what went wrong to calbot's errors:

- 401 → `CaldavAuthError` (exit 3) naming where the password came from — after one retry
  that lets the library answer the server's own challenge (`WWW-Authenticate: Digest`
  from a server that refuses Basic), once per connection;
- a certificate that does not verify → `CaldavTlsError` (exit 2: the fix is `ca_file`),
  raised at once and never retried without verification;
- 5xx, 429, a refused or dropped connection, a timeout → retried with exponential back-off
  within `limits.retry_budget_seconds`, then `ServiceError` (exit 4).

The password never appears in a message, a log line or an exception."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import niquests
from caldav.davclient import DAVClient
from caldav.lib import error as dav_error

from calbot.config.settings import Settings
from calbot.errors import CalbotError, OpenSecretFileError, PasswordRefused, ServiceError

__all__ = [
    "PASSWORD_ENV",
    "CaldavAuthError",
    "CaldavTlsError",
    "Dav",
    "Reply",
    "connect",
    "read_password",
]

PASSWORD_ENV = "CALBOT_CALDAV_PASSWORD"  # noqa: S105 (the variable's name, not a password)
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class CaldavAuthError(PasswordRefused):
    """No CalDAV password, or the server refused it; the fix is the password, not `calbot
    auth` (`fix`, appended to the message: the CLI, the worker and the digest say so)."""

    service = "caldav"


class CaldavTlsError(CalbotError):
    """The server's certificate does not verify against the system's CAs or `ca_file`."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    headers: Mapping[str, str]


def read_password(settings: Settings, env: Mapping[str, str]) -> tuple[str, str]:
    """(password, where it came from). The environment wins over the file."""
    if env.get(PASSWORD_ENV):
        return env[PASSWORD_ENV], f"${PASSWORD_ENV}"
    name = settings.caldav.password_file
    if not name:
        raise CaldavAuthError(
            f"{settings.path}: caldav.password_file: no CalDAV password (a file of mode 0600)"
        )
    path = Path(name).expanduser()
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CaldavAuthError(
            f"{path}: cannot read the CalDAV password file ({exc.strerror or exc}; "
            "write it with mode 0600)"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise OpenSecretFileError(
            f"{path}: the CalDAV password file is open to others — run `chmod 600 {path}`", path
        )
    password = text.strip("\r\n")
    if not password:
        raise CaldavAuthError(f"{path}: the CalDAV password file is empty")
    return password, str(path)


class _CountingClient(DAVClient):
    """`DAVClient` counting every HTTP request it sends (the library's own discovery too)."""

    sent = 0

    def _sync_request(self, *args: Any, **kwargs: Any) -> Any:
        self.sent += 1
        return super()._sync_request(*args, **kwargs)


class Dav:
    """One server, one login. `request()` sends one WebDAV request with retries;
    `call()` runs a `caldav` library step (discovery) under the same error table."""

    def __init__(
        self,
        settings: Settings,
        password: str,
        password_source: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        c = settings.caldav
        self.url = c.url
        self.username = c.username
        self.password_source = password_source
        self._budget = settings.limits.retry_budget_seconds
        self._sleep = sleep
        self._negotiated = False  # Basic was refused and the server's challenge answered
        verify: bool | str = str(Path(c.ca_file).expanduser()) if c.ca_file else True
        # Basic auth from the first request (not a 401 round trip first): https only, or a
        # loopback test server (the config refuses plain http elsewhere). This is what
        # keeps an unchanged calendar at one request per scan.
        self.client = _CountingClient(
            url=c.url,
            username=c.username,
            password=password,
            auth_type="basic",
            timeout=int(max(1, settings.limits.http_timeout_seconds)),
            ssl_verify_cert=verify,
            enable_rfc6764=False,
        )

    @property
    def requests(self) -> int:
        return int(self.client.sent)

    def request(
        self, url: str, method: str, body: str = "", headers: Mapping[str, str] | None = None
    ) -> Reply:
        """One request; 207/2xx/3xx/4xx come back as a `Reply` (404 and 403 are answers
        the caller reads), 401 and still-failing servers raise."""

        def once() -> Reply:
            try:
                r = self.client.request(url, method, body, dict(headers or {}))
            except dav_error.AuthorizationError as exc:
                if exc.status == 401:
                    raise
                return Reply(int(exc.status or 403), _bytes(exc.body), {})
            return Reply(int(r.status), _bytes(getattr(r, "_raw", b"")), dict(r.headers or {}))

        reply: Reply = self.call(once, what=f"{method} {url}")
        return reply

    def call(self, step: Callable[[], Any], *, what: str) -> Any:
        """`step()` with retries on server trouble; errors mapped (module docstring)."""
        deadline = time.monotonic() + self._budget
        delay = 0.2
        while True:
            try:
                result = step()
                status = getattr(result, "status", 200)
                if status not in _RETRY_STATUSES:
                    return result
                trouble = f"HTTP {status}"
            except dav_error.AuthorizationError as exc:
                if exc.status == 401 and not self._negotiated:
                    # Basic refused: once, let the library answer the server's challenge
                    # (a Digest-only server); a wrong password is refused again
                    self._negotiated = True
                    self.client.auth, self.client.auth_type = None, None
                    continue
                if exc.status == 401 or exc.status is None:
                    raise self._auth_error() from None
                raise ServiceError(f"{self.url}: {what}: refused ({exc.status})") from None
            except dav_error.RateLimitError:
                trouble = "HTTP 429/503"
            except niquests.exceptions.SSLError as exc:
                raise CaldavTlsError(
                    f"{self.url}: the server's certificate does not verify ({_short(exc)}) — "
                    "set caldav.ca_file to the CA that signed it; calbot never connects "
                    "without verifying"
                ) from None
            except (niquests.exceptions.ConnectionError, niquests.exceptions.Timeout) as exc:
                trouble = _short(exc)
            except dav_error.DAVError as exc:
                if exc.status is not None and exc.status not in _RETRY_STATUSES:
                    raise ServiceError(f"{self.url}: {what}: HTTP {exc.status}") from None
                trouble = _short(exc)
            if time.monotonic() + delay > deadline:
                raise ServiceError(
                    f"{self.url}: the CalDAV server is still failing after retries ({trouble})"
                )
            self._sleep(delay)
            delay = min(delay * 2, 10.0)

    def _auth_error(self) -> CaldavAuthError:
        return CaldavAuthError(
            f"{self.url}: the CalDAV server refused the login of "
            f"{self.username!r} with the password from {self.password_source} "
            "(Fastmail and iCloud need an app password)"
        )


def connect(
    settings: Settings,
    env: Mapping[str, str] | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Dav:
    password, source = read_password(settings, os.environ if env is None else env)
    return Dav(settings, password, source, sleep=sleep)


def _bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return b""


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."
