"""The HTTP transport of the Google clients: an `httplib2.Http` that sends a POST once.

httplib2 (0.32, `Http._conn_request`) sends a request a second time, silently and whatever
its method, when reading the answer fails on the first try (BadStatusLine /
RemoteDisconnected: "the connection went stale"). For a POST that Google carried out before
the connection dropped — `drafts.create`, `events.insert` — that second send makes a second
draft or event, and calbot never hears of the first. So a POST is sent once: its failure
reaches `GoogleApi.call`, which sorts it as "connection reset"/"connection broken" (maybe
done) and runs the request's `recheck` before any retry. Other methods (GET, and PUT, PATCH,
DELETE, idempotent in Google's APIs) keep httplib2's resend. The price: a POST on a
kept-alive connection the server had already closed fails once and goes through calbot's
back-off and recheck instead of being resent at once.

tests/adapters/test_google_api.py (`test_post_is_sent_once...`) fails if a newer httplib2
stops calling `_conn_request` or resends in a way this does not catch.
"""

from __future__ import annotations

import http.client
from functools import cache
from typing import Any

__all__ = ["SEND_ONCE_METHODS", "new_http"]

SEND_ONCE_METHODS = frozenset({"POST"})


def new_http(timeout: float | None) -> Any:
    """An `httplib2.Http` with this socket timeout that never sends a POST twice."""
    return _send_once_http_class()(timeout=timeout)


@cache
def _send_once_http_class() -> type:
    import httplib2  # type: ignore[import-untyped]  # here: `calbot --help` stays fast

    class SendOnceHttp(httplib2.Http):  # type: ignore[misc]
        def _conn_request(
            self, conn: Any, request_uri: str, method: str, body: Any, headers: Any
        ) -> Any:
            if str(method).upper() in SEND_ONCE_METHODS:
                conn = _SendOnce(conn)
            return super()._conn_request(conn, request_uri, method, body, headers)

    return SendOnceHttp


class _SendOnce:
    """Wraps httplib2's `http.client` connection for one request: once the request was
    sent, a reconnect or a second send (httplib2's silent retry) raises the first failure
    instead. Everything else goes to the real connection."""

    def __init__(self, conn: Any) -> None:
        object.__setattr__(self, "_conn", conn)
        object.__setattr__(self, "_sent", False)
        object.__setattr__(self, "_failure", None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._conn, name, value)

    def _not_again(self) -> None:
        if not self._sent:
            return
        if self._failure is not None:
            raise self._failure
        raise http.client.RemoteDisconnected("the request was sent once; not sending it again")

    def connect(self) -> None:
        self._not_again()
        self._conn.connect()

    def request(self, *args: Any, **kwargs: Any) -> None:
        self._not_again()
        object.__setattr__(self, "_sent", True)
        try:
            self._conn.request(*args, **kwargs)
        except BaseException as exc:
            object.__setattr__(self, "_failure", exc)
            raise

    def getresponse(self) -> Any:
        try:
            return self._conn.getresponse()
        except BaseException as exc:
            object.__setattr__(self, "_failure", exc)
            raise
