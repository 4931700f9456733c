"""A fake Google for many users: one server, one mailbox (calendars, drafts) per user.

    fake = TeamFakeGoogle(); fake.start()
    fake.write_service_account(path)           # the domain's key (oauth.py)
    with fake.as_user("ana@example.com"):      # seed that user's own data
        fake.add_event(...)

An API request acts as the user its access token was issued for (`token_subjects`: the
service-account grant's `sub`, or a refresh token's owner) and sees only that user's
mailbox; `user_requests` logs (user, route, arrival) for every API request, the witness for
per-user budgets. A token with no user acts on the default mailbox (`user_email`), as the
single-user fake does. Mailboxes are swapped under the fake's lock, which every request
already holds while it is carried out.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import google_auth_httplib2
import httplib2
from googleapiclient.discovery import build

from . import discovery
from .errors import Reply
from .google import FakeGoogle


def _mailbox_attributes() -> tuple[str, ...]:
    """Whatever the Calendar and Gmail parts keep per mailbox, found by asking them."""
    probe = object.__new__(FakeGoogle)
    probe._lock = threading.RLock()
    probe._calendar_init()
    probe._gmail_init()
    return (*sorted(vars(probe).keys() - {"_lock"}), "user_email")


class TeamFakeGoogle(FakeGoogle):
    def __init__(self) -> None:
        super().__init__()
        self._mailbox_keys = _mailbox_attributes()
        self._mailboxes: dict[str, dict[str, Any]] = {}
        self._current = self.user_email
        self.user_requests: list[tuple[str, str, float]] = []  # (user, route, monotonic)

    @contextmanager
    def as_user(self, email: str) -> Iterator[None]:
        """Inside: every test-side helper (add_event, drafts, ...) works on `email`'s data."""
        with self._lock:
            before = self._current
            self._switch(email)
            try:
                yield
            finally:
                self._switch(before)

    def drafts_of(self, email: str) -> dict[str, dict[str, Any]]:
        with self.as_user(email):
            return dict(self.drafts)

    def requests_of(self, email: str) -> list[tuple[str, float]]:
        with self._lock:
            return [(route, at) for user, route, at in self.user_requests if user == email]

    def write_user_token(self, email: str, path: str | Path, scopes: Sequence[str]) -> None:
        """A per-user OAuth token file (a user outside the Workspace domain)."""
        refresh = f"refresh-{email}"
        with self.as_user(email):
            self.write_token(path, scopes, refresh_token=refresh)
        with self._lock:
            self.refresh_owners[refresh] = email
            self.token_subjects[json.loads(Path(path).read_text())["token"]] = email

    def _switch(self, email: str) -> None:
        if email == self._current:
            return
        self._mailboxes[self._current] = {k: getattr(self, k) for k in self._mailbox_keys}
        saved = self._mailboxes.get(email)
        if saved is None:
            self._calendar_init()
            self._gmail_init()
            self.user_email = email
        else:
            for key, value in saved.items():
                setattr(self, key, value)
        self._current = email

    def _api(
        self,
        m: discovery.Method,
        params: dict[str, str],
        method: str,
        query: dict[str, list[str]],
        body: Any,
        headers: dict[str, str],
    ) -> tuple[frozenset[str], Reply]:
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        with self._lock:
            user = self.token_subjects.get(token)
            self.user_requests.append((user or self._current, m.route, time.monotonic()))
            if user is None:
                return super()._api(m, params, method, query, body, headers)
            with self.as_user(user):
                return super()._api(m, params, method, query, body, headers)


# --- the real client libraries over this fake (test side) -------------------------------


def api_client(fake: FakeGoogle, creds: Any, api: str = "calendar") -> Any:
    """A real googleapiclient Calendar v3 / Gmail v1 client on `fake`, as `creds`."""
    http = google_auth_httplib2.AuthorizedHttp(creds, http=httplib2.Http(timeout=10))
    root = fake.root + ("calendar/v3/" if api == "calendar" else "")
    return build(
        api,
        "v3" if api == "calendar" else "v1",
        http=http,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": root},
    )


def event_summaries(fake: FakeGoogle, creds: Any) -> list[str]:
    """The summaries on the primary calendar that `creds` reach."""
    items = api_client(fake, creds).events().list(calendarId="primary").execute()["items"]
    return sorted(e["summary"] for e in items)


def at(hour: int) -> dict[str, str]:
    """An event time on a fixed day (Tuesday 8 December 2026, UTC)."""
    return {"dateTime": f"2026-12-08T{hour:02d}:00:00Z"}
