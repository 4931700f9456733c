"""One door to Google: builds the Calendar and Gmail clients and executes every request with
calbot's own retry loop.

`GoogleApi.call(request, what=...)` is the only place a `googleapiclient` request is executed.
It retries what Google asks clients to retry (429, 500, 502, 503, 504, the rate-limit 403s,
dropped connections and timeouts) with exponential back-off and full jitter, honours
`Retry-After` (which `googleapiclient`'s own `num_retries` never reads), and bounds the total
waiting by `[limits] retry_budget_seconds`; then it gives up with a `ServiceError` (exit 4).
Everything else becomes one of calbot's one-line errors:

- 403 `insufficientPermissions` → `MissingScope` (exit 3): the token lacks a scope;
- 401 after google-auth's own refresh-and-retry, or `invalid_grant` from the token
  endpoint → `AuthError` (exit 3): access expired or was revoked;
- any other status → `ApiError` (exit 4) carrying `status` and Google's `reason`
  (`notFound`, `fullSyncRequired`, `timeRangeTooLong`, ...), for callers that handle some.

A request that is not safe to repeat (Gmail `drafts.create`: a second one is a second draft)
passes `recheck`: after a failure that may hide a request Google carried out (a 5xx, a
dropped connection, no answer within the timeout), `call` asks `recheck` first — e.g. "is
there a draft with this Message-ID now?" — and returns what it finds instead of repeating
the request. After a timeout it waits at least one more `http_timeout` before asking, so a
request still running at Google has had that long to land.

No message ever carries a token, a refresh token or the client secret: Google's error text is
scrubbed of them and request URLs are never quoted.

Batch requests and media uploads ignore `api_endpoint` (they keep Google's hosts), so calbot
uses neither: tests could not see them.

`googleapiclient` is imported inside the functions that need it: `calbot --help` stays fast.
The scopes are in `scopes`, the POST-once HTTP transport in `transport`.
"""

from __future__ import annotations

import contextlib
import email.utils
import http.client
import json
import logging
import random
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from google.auth.exceptions import RefreshError, TransportError

from calbot.adapters.google.auth import load_credentials
from calbot.adapters.google.scopes import missing_scope
from calbot.adapters.google.transport import new_http
from calbot.errors import AuthError, ServiceError

if TYPE_CHECKING:
    from calbot.config.settings import Settings

__all__ = [
    "EXPIRED_OR_REVOKED",
    "ApiError",
    "GoogleApi",
    "MissingScope",
    "connect",
]

log = logging.getLogger("calbot.google")

EXPIRED_OR_REVOKED = "Google access expired or was revoked — run `calbot auth`"

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Transient failures after which Google may have carried the request out all the same.
_MAYBE_DONE = frozenset({"timed out", "connection reset", "connection broken", "TLS error"})
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
# How Google says "the token lacks a scope": the v1 `errors[].reason`, the newer
# `ErrorInfo.reason`, and the WWW-Authenticate error code.
SCOPE_REASONS = frozenset(
    {"insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "insufficient_scope"}
)
BASE_DELAY = 1.0  # seconds: the back-off cap before the first retry
MAX_DELAY = 32.0  # seconds: the back-off cap never grows past this
MAX_TRIES = 12  # a safety net; the budget normally ends the loop first


# --- errors --------------------------------------------------------------------------------


class ApiError(ServiceError):
    """A non-retryable HTTP error from Google (exit 4). `status` and `reason` (Google's
    `errors[].reason`, e.g. "notFound", "fullSyncRequired", "timeRangeTooLong") let callers
    handle the ones they expect."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        self.status, self.reason = status, reason
        super().__init__(message)


class MissingScope(AuthError):
    """403 insufficientPermissions: the token does not carry a scope the method needs."""

    def __init__(self, method: str, scope: str) -> None:
        self.method, self.scope = method, scope
        super().__init__(
            f"Google refused {method}: the token lacks scope {scope} — run `calbot auth`"
        )


# --- the client ----------------------------------------------------------------------------


@dataclass
class GoogleApi:
    """The Calendar v3 and Gmail v1 clients plus the retry loop every request goes through.
    Build it with `connect(settings)`; tests may build it around any request objects."""

    calendar: Any  # googleapiclient Resource, calendar v3
    gmail: Any | None  # gmail v1, None when Gmail drafts are off
    retry_budget_seconds: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    rand: Callable[[], float] = random.random
    monotonic: Callable[[], float] = time.monotonic
    credentials: Any = None  # google-auth credentials: their secrets are scrubbed from messages
    http_timeout: float = 30.0  # seconds: the socket timeout the clients were built with
    requests: int = 0  # HTTP requests made through call(), every attempt counted
    retries: int = 0  # attempts that were retries
    slept: float = 0.0  # seconds spent backing off, all calls together
    _secrets: tuple[str, ...] = field(default=(), repr=False)
    _events: Any = field(default=None, repr=False)
    _drafts: Any = field(default=None, repr=False)

    def events(self) -> Any:
        """`calendar.events()`, built once: googleapiclient builds a new Resource (methods,
        docstrings) every time it is asked, a third of the CPU of drafting."""
        if self._events is None:
            self._events = self.calendar.events()
        return self._events

    def drafts(self) -> Any:
        """`gmail.users().drafts()`, built once (see `events`)."""
        if self.gmail is None:  # connect() builds no Gmail client when gmail_drafts is off
            raise ServiceError("Gmail drafts are off in the config ([outputs] gmail_drafts)")
        if self._drafts is None:
            self._drafts = self.gmail.users().drafts()
        return self._drafts

    def call(
        self, request: Any, *, what: str, recheck: Callable[[], Any | None] | None = None
    ) -> Any:
        """Execute one `googleapiclient` HttpRequest (never with its own retries) and return
        the decoded response. `what` names the work for messages ("reading calendar
        primary"). `recheck`, for a request not safe to repeat: called before a retry that
        follows a failure which may hide a request Google carried out; a non-None answer is
        returned as the request's result. Raises ApiError, MissingScope, AuthError or
        ServiceError."""
        from googleapiclient.errors import HttpError  # here: `calbot --help` stays fast

        start = self.monotonic()
        slept = 0.0
        tries = 0
        while True:
            tries += 1
            self.requests += 1
            retry_after: float | None = None
            maybe_done = False  # the request may have been carried out all the same
            try:
                return request.execute(num_retries=0)
            except HttpError as exc:
                status = int(exc.resp.status)
                reason = _error_reason(exc)
                if not _retryable(status, reason):
                    raise self._final(exc, status, reason, request, what) from None
                failure = str(status)
                retry_after = _retry_after(exc.resp)
                maybe_done = status >= 500
            except Exception as exc:  # sorted by _transient, which re-raises the rest
                failure = self._transient(exc)  # raises when not transient
                maybe_done = failure in _MAYBE_DONE

            used = max(slept, self.monotonic() - start)
            remaining = self.retry_budget_seconds - used
            if retry_after is not None:
                delay = retry_after
            else:
                cap = min(MAX_DELAY, BASE_DELAY * 2 ** (tries - 1))
                delay = min(self.rand() * cap, max(remaining, 0.0))
            if recheck is not None and failure == "timed out":
                # Google may still be working on it: give it one more timeout to land.
                delay = max(delay, self.http_timeout)
            if tries >= MAX_TRIES or remaining <= 0 or delay > remaining:
                raise ServiceError(
                    f"Google still failing after {tries} {'try' if tries == 1 else 'tries'} "
                    f"({failure}) — {what}; try again later"
                )
            log.warning(
                "Google answered %s to %s; retrying in %.1f s (try %d)",
                failure,
                what,
                delay,
                tries + 1,
            )
            self.sleep(delay)
            slept += delay
            self.slept += delay
            self.retries += 1
            if recheck is not None and maybe_done:
                found = recheck()
                if found is not None:
                    log.warning("%s had been carried out after all; not repeating it", what)
                    return found

    # --- error sorting ---

    def _final(self, exc: Any, status: int, reason: str, request: Any, what: str) -> Exception:
        """The calbot error for a response that is not retried."""
        method = str(getattr(request, "methodId", "") or what)
        if status == 403 and (reason in SCOPE_REASONS or _www_authenticate_scope(exc.resp)):
            return MissingScope(method, missing_scope(method))
        if status == 401:
            return AuthError(
                f"Google rejected calbot's access (401) while {what} — run `calbot auth`"
            )
        detail = self._scrub(str(getattr(exc, "reason", "") or "")).strip()
        detail = " ".join(detail.split())[:200]
        label = f"{status} {reason}" if reason else str(status)
        return ApiError(
            status,
            reason,
            f"Google refused {what} ({label})" + (f": {detail}" if detail else ""),
        )

    def _transient(self, exc: Exception) -> str:
        """Name a transient failure, or raise the calbot error it stands for."""
        if isinstance(exc, RefreshError):
            if _mentions_invalid_grant(exc):
                raise AuthError(EXPIRED_OR_REVOKED) from None
            if getattr(exc, "retryable", False):
                return "token endpoint unavailable"
            raise AuthError(
                f"Google refused to renew calbot's access ({_refresh_error_code(exc)}) "
                "— run `calbot auth`"
            ) from None
        if isinstance(exc, TransportError):
            return "token endpoint unreachable"
        if isinstance(exc, socket.timeout | TimeoutError):
            return "timed out"
        if isinstance(exc, ConnectionResetError):
            return "connection reset"
        if isinstance(exc, ConnectionError):
            return "connection failed"
        if isinstance(exc, ssl.SSLError):
            return "TLS error"
        if isinstance(exc, http.client.HTTPException):
            return "connection broken"
        if type(exc).__name__ == "ServerNotFoundError":  # httplib2: DNS failed
            return "server not found"
        raise exc

    def _scrub(self, text: str) -> str:
        for secret in (*self._secrets, *_credential_secrets(self.credentials)):
            if secret and len(secret) >= 8:
                text = text.replace(secret, "[redacted]")
        return text


def _credential_secrets(creds: Any) -> Iterable[str]:
    if creds is None:
        return ()
    names = ("token", "refresh_token", "client_secret", "_refresh_token", "_client_secret")
    return tuple(v for v in (getattr(creds, n, None) for n in names) if isinstance(v, str))


# --- reading Google's errors ---------------------------------------------------------------


def _retryable(status: int, reason: str) -> bool:
    return status in RETRY_STATUSES or (status == 403 and reason in RATE_LIMIT_REASONS)


def _error_reason(exc: Any) -> str:
    """Google's machine-readable reason: `error.errors[0].reason` (Calendar, Gmail), else an
    `ErrorInfo` detail's reason, else `error.status`; "" when the body says nothing."""
    try:
        data = json.loads(exc.content.decode("utf-8"))
    except (ValueError, AttributeError, UnicodeDecodeError):
        return ""
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return error if isinstance(error, str) else ""
    for key in ("errors", "details"):
        items = error.get(key)
        if isinstance(items, list):
            for item in items:
                if isinstance(item, dict) and isinstance(item.get("reason"), str):
                    return str(item["reason"])
    status = error.get("status")
    return status if isinstance(status, str) else ""


def _www_authenticate_scope(resp: Any) -> bool:
    header = str(resp.get("www-authenticate", "")) if hasattr(resp, "get") else ""
    return "insufficient_scope" in header


def _retry_after(resp: Any) -> float | None:
    """`Retry-After` in seconds: a number, or an HTTP date (measured against the response's
    own `Date` header when present, so a skewed local clock does not matter)."""
    value = str(resp.get("retry-after", "")).strip() if hasattr(resp, "get") else ""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    base = time.time()
    date = str(resp.get("date", "")).strip()
    if date:
        with contextlib.suppress(TypeError, ValueError):
            base = email.utils.parsedate_to_datetime(date).timestamp()
    return max(0.0, when.timestamp() - base)


def _mentions_invalid_grant(exc: BaseException) -> bool:
    return any("invalid_grant" in str(arg) for arg in exc.args)


def _refresh_error_code(exc: BaseException) -> str:
    """The OAuth error code of a refresh failure ("invalid_client", ...), never its body."""
    for arg in exc.args:
        if isinstance(arg, dict) and isinstance(arg.get("error"), str):
            return str(arg["error"])
    text = str(exc.args[0]) if exc.args else ""
    code = text.split(":", 1)[0].strip()
    return code if code.replace("_", "").isalpha() and len(code) < 40 else "refresh failed"


# --- building the clients ------------------------------------------------------------------


def connect(
    settings: Settings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    rand: Callable[[], float] = random.random,
    monotonic: Callable[[], float] = time.monotonic,
) -> GoogleApi:
    """Credentials from the token file (refreshed and re-saved automatically) or the
    service account, and one client per API, each over its own HTTP connection with
    `[limits] http_timeout_seconds`. With `google.api_root` every request goes to that root
    (a test server): Calendar at ROOT/calendar/v3/, Gmail at ROOT/ (its paths carry
    gmail/v1/)."""
    # here, not at the top: `calbot --help` stays fast
    import google_auth_httplib2  # type: ignore[import-untyped]
    from googleapiclient.discovery import build

    creds = load_credentials(settings)
    timeout = settings.limits.http_timeout_seconds
    root = settings.google.api_root

    def client(api: str, version: str, endpoint: str) -> Any:
        http = google_auth_httplib2.AuthorizedHttp(creds, http=new_http(timeout))
        options = {"api_endpoint": endpoint} if root else None
        return build(
            api,
            version,
            http=http,
            static_discovery=True,
            cache_discovery=False,
            client_options=options,
        )

    calendar = client("calendar", "v3", root + "calendar/v3/")
    gmail = client("gmail", "v1", root) if settings.outputs.gmail_drafts else None
    return GoogleApi(
        calendar=calendar,
        gmail=gmail,
        retry_budget_seconds=settings.limits.retry_budget_seconds,
        sleep=sleep,
        rand=rand,
        monotonic=monotonic,
        credentials=creds,
        http_timeout=float(timeout),
    )
