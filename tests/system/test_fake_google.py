"""The fake Google server, driven by the real googleapiclient + google-auth over HTTP."""

from __future__ import annotations

import base64
import http.client
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import google_auth_httplib2
import httplib2
import pytest
from fakes import FakeGoogle
from google.auth.exceptions import RefreshError
from google.oauth2.credentials import Credentials
from google_clients import (
    COMPOSE,
    EVENTS,
    FREEBUSY,
    raw_message,
    reason,
    services,
    signed_in,
    timed,
)
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError


@pytest.fixture
def apis(google: FakeGoogle, tmp_path: Path) -> Any:
    return signed_in(google, tmp_path)


# --- OAuth and URLs --------------------------------------------------------------------


def test_refresh_goes_through_the_token_endpoint_and_urls_are_googles(
    google: FakeGoogle, apis: Any
) -> None:
    cal, gmail = apis
    cal.events().list(calendarId="primary").execute()
    profile = gmail.users().getProfile(userId="me").execute()
    assert profile["emailAddress"] == "me@example.com"
    assert [(r.route, r.method, r.path) for r in google.requests] == [
        ("oauth.token", "POST", "/token"),
        ("calendar.events.list", "GET", "/calendar/v3/calendars/primary/events"),
        ("gmail.users.getProfile", "GET", "/gmail/v1/users/me/profile"),
    ]
    assert google.refreshes == 1
    assert google.requests[1].scopes == frozenset({EVENTS, COMPOSE})


def test_token_file_is_private_and_google_auth_shaped(google: FakeGoogle, tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    google.write_token(path, ["calendar.events"], expired=True)
    assert path.stat().st_mode & 0o777 == 0o600
    data = json.loads(path.read_text())
    assert data["token_uri"] == google.token_uri and data["scopes"] == [EVENTS]
    creds = Credentials.from_authorized_user_info(data)
    assert creds.expired
    # an expired access token is refused, so google-auth refreshes and retries
    creds = Credentials(
        token=data["token"],
        refresh_token=data["refresh_token"],
        token_uri=data["token_uri"],
        client_id=data["client_id"],
        client_secret=data["client_secret"],
        scopes=data["scopes"],
    )
    http = google_auth_httplib2.AuthorizedHttp(creds, http=httplib2.Http(timeout=5))
    cal = build(
        "calendar", "v3", http=http, client_options={"api_endpoint": google.root + "calendar/v3/"}
    )
    cal.events().list(calendarId="primary").execute()
    assert [r.status for r in google.requests] == [401, 200, 200]
    assert google.refreshes == 1


def test_revoked_access_raises_refresh_error_invalid_grant(google: FakeGoogle, apis: Any) -> None:
    cal, _ = apis
    cal.events().list(calendarId="primary").execute()
    google.revoke()
    with pytest.raises(RefreshError, match="invalid_grant"):
        cal.events().list(calendarId="primary").execute()
    assert google.requests[-1].route == "oauth.token" and google.requests[-1].status == 400


def test_auth_endpoint_redirects_with_a_code_for_the_installed_app_flow(
    google: FakeGoogle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from google_auth_oauthlib.flow import InstalledAppFlow

    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    secret = tmp_path / "client_secret.json"
    google.write_client_secret(secret)
    flow = InstalledAppFlow.from_client_secrets_file(str(secret), scopes=[EVENTS])
    flow.redirect_uri = "http://localhost:8765/"
    url, state = flow.authorization_url(access_type="offline", prompt="consent")
    assert url.startswith(google.auth_uri)
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    conn.request("GET", f"{parts.path}?{parts.query}")
    resp = conn.getresponse()
    location = resp.getheader("Location") or ""
    conn.close()
    assert resp.status == 302 and location.startswith("http://localhost:8765/?")
    assert parse_qs(urlsplit(location).query)["state"] == [state]
    flow.fetch_token(authorization_response=location)
    creds = flow.credentials
    assert creds.refresh_token and creds.token in google.access_tokens
    assert google.access_tokens[creds.token] == frozenset({EVENTS})
    # a code works once
    bad = httplib2.Http(timeout=5).request(
        google.token_uri,
        "POST",
        body=urlencode({"grant_type": "authorization_code", "code": "4/nope"}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert bad[0].status in (400, 401)


# --- scopes, freeBusy, calendarList -----------------------------------------------------


def test_freebusy_needs_a_freebusy_scope(google: FakeGoogle, tmp_path: Path) -> None:
    google.write_token(tmp_path / "a.json", [EVENTS], refresh_token="r-events")
    google.write_token(tmp_path / "b.json", [EVENTS, FREEBUSY], refresh_token="r-fb")
    google.add_calendar("team@example.com", "Team")
    google.add_event("team@example.com", **timed(5, 9))
    google.add_event("team@example.com", **timed(5, 9, 90))
    google.add_event("team@example.com", transparency="transparent", **timed(5, 13))
    body = {
        "timeMin": "2030-03-05T00:00:00Z",
        "timeMax": "2030-03-06T00:00:00Z",
        "items": [{"id": "team@example.com"}, {"id": "nobody@example.com"}],
    }
    cal, _ = services(google, [EVENTS], "r-events")
    with pytest.raises(HttpError) as err:
        cal.freebusy().query(body=body).execute()
    assert err.value.status_code == 403 and reason(err.value) == "insufficientPermissions"
    with pytest.raises(HttpError):
        cal.calendarList().list().execute()
    assert len(google.violations) == 2
    google.violations.clear()
    cal, _ = services(google, [EVENTS, FREEBUSY], "r-fb")
    out = cal.freebusy().query(body=body).execute()
    assert out["calendars"]["team@example.com"]["busy"] == [
        {"start": "2030-03-05T09:00:00Z", "end": "2030-03-05T10:30:00Z"}
    ]
    assert out["calendars"]["nobody@example.com"]["errors"][0]["reason"] == "notFound"
    long = {**body, "timeMax": "2030-07-01T00:00:00Z"}
    with pytest.raises(HttpError) as err:
        cal.freebusy().query(body=long).execute()
    assert err.value.status_code == 400 and reason(err.value) == "timeRangeTooLong"


# --- Gmail ------------------------------------------------------------------------------


def test_drafts_lifecycle(google: FakeGoogle, apis: Any) -> None:
    _, gmail = apis
    drafts = gmail.users().drafts()
    assert drafts.list(userId="me").execute() == {"resultSizeEstimate": 0}
    d1 = drafts.create(userId="me", body={"message": {"raw": raw_message()}}).execute()
    assert d1["message"]["labelIds"] == ["DRAFT"] and set(d1) == {"id", "message"}
    drafts.create(userId="me", body={"message": {"raw": raw_message("<other@x>")}}).execute()
    for q in ("rfc822msgid:calbot-1@calbot.local", "rfc822msgid:<calbot-1@calbot.local>"):
        found = drafts.list(userId="me", q=q).execute()
        assert [d["id"] for d in found["drafts"]] == [d1["id"]]
    got = drafts.get(userId="me", id=d1["id"], format="raw").execute()
    assert base64.urlsafe_b64decode(got["message"]["raw"]).startswith(b"From: me@example.com")
    d1b = drafts.update(
        userId="me", id=d1["id"], body={"id": d1["id"], "message": {"raw": raw_message(body="v2")}}
    ).execute()
    assert d1b["id"] == d1["id"] and d1b["message"]["id"] != d1["message"]["id"]
    assert google.draft_message(d1["id"]).get_content().strip() == "v2"
    google.user_edits_draft(d1["id"], "My own words")
    edited = google.draft_message(d1["id"])
    assert edited.get_content().strip() == "My own words"
    assert edited["Message-ID"] == "<calbot-1@calbot.local>"
    assert google.drafts[d1["id"]]["message"]["id"] != d1b["message"]["id"]
    page = drafts.list(userId="me", maxResults=1).execute()
    assert len(page["drafts"]) == 1 and page["nextPageToken"]
    google.user_deletes_draft(d1["id"])
    with pytest.raises(HttpError) as err:
        drafts.get(userId="me", id=d1["id"]).execute()
    assert err.value.status_code == 404
    assert "drafts" not in drafts.list(userId="me", q="rfc822msgid:calbot-1@calbot.local").execute()
    other = next(iter(google.drafts))
    assert drafts.delete(userId="me", id=other).execute() == ""
    assert google.requests[-1].status == 204 and google.drafts == {}


def test_any_send_is_a_violation(google: FakeGoogle, apis: Any) -> None:
    _, gmail = apis
    d = (
        gmail.users()
        .drafts()
        .create(userId="me", body={"message": {"raw": raw_message()}})
        .execute()
    )
    with pytest.raises(HttpError) as err:
        gmail.users().drafts().send(userId="me", body={"id": d["id"]}).execute()
    assert err.value.status_code == 403
    with pytest.raises(HttpError):
        gmail.users().messages().send(userId="me", body={"raw": raw_message()}).execute()
    assert len(google.violations) == 2 and google.count("gmail.drafts.send") == 1
    google.violations.clear()


# --- faults and checks ------------------------------------------------------------------


def test_scripted_failures_in_order_with_retry_after(google: FakeGoogle, apis: Any) -> None:
    cal, _ = apis
    google.fail("calendar.events.list", 503, 429, retry_after=7)
    for status, why in ((503, "backendError"), (429, "rateLimitExceeded")):
        with pytest.raises(HttpError) as err:
            cal.events().list(calendarId="primary").execute()
        assert err.value.status_code == status and reason(err.value) == why
        assert err.value.resp["retry-after"] == "7"
    cal.events().list(calendarId="primary").execute()
    assert [r.status for r in google.requests if r.route == "calendar.events.list"] == [
        503,
        429,
        200,
    ]
    google.fail("calendar.events.list", 403, reason="quotaExceeded")
    with pytest.raises(HttpError) as err:
        cal.events().list(calendarId="primary").execute()
    assert reason(err.value) == "quotaExceeded"


def test_delay_and_reset(google: FakeGoogle, apis: Any) -> None:
    cal, _ = apis
    cal.events().list(calendarId="primary").execute()
    google.delay("calendar.events.list", 0.3)
    t0 = time.monotonic()
    cal.events().list(calendarId="primary").execute()
    assert time.monotonic() - t0 >= 0.3
    google.reset_connection("calendar.events.list", times=1)  # httplib2 retries once, silently
    cal.events().list(calendarId="primary").execute()
    assert [r.status for r in google.requests if r.route == "calendar.events.list"][-2:] == [0, 200]


def test_unknown_parameters_and_bad_bodies_are_violations(google: FakeGoogle, apis: Any) -> None:
    cal, gmail = apis
    ev = google.add_event(**timed(5, 14))
    request = cal.events().list(calendarId="primary")
    request.uri += "&bogus=1"
    request.execute()
    cal.events().patch(
        calendarId="primary",
        eventId=ev["id"],
        body={"extendedProperties": {"privat": {"a": "b"}}},
        sendUpdates="none",
    ).execute()
    gmail.users().drafts().create(
        userId="me", body={"message": {"raw": raw_message()}, "x": 1}
    ).execute()
    assert len(google.violations) == 3
    assert "bogus" in google.violations[0]
    assert "privat" in google.violations[1]
    assert "'x'" in google.violations[2]
    google.violations.clear()
    assert google.fake_errors == []


def test_fields_gives_a_partial_response(google: FakeGoogle, apis: Any) -> None:
    cal, _ = apis
    google.add_event(summary="a", location="Hanoi", **timed(1, 9))
    page = (
        cal.events().list(calendarId="primary", fields="items(id,summary),nextSyncToken").execute()
    )
    assert set(page) == {"items", "nextSyncToken"}
    assert set(page["items"][0]) == {"id", "summary"}
    assert google.requests[-1].query["fields"] == ["items(id,summary),nextSyncToken"]


def test_add_event_refuses_unknown_fields(google: FakeGoogle) -> None:
    with pytest.raises(ValueError, match="titel"):
        google.add_event(titel="x", **timed(1, 9))


def test_review_calendar_with_app_created_scope(google: FakeGoogle, tmp_path: Path) -> None:
    app = "https://www.googleapis.com/auth/calendar.app.created"
    google.write_token(tmp_path / "t.json", [app], refresh_token="r-app")
    cal, _ = services(google, [app], "r-app")
    made = (
        cal.calendars()
        .insert(body={"summary": "calbot review", "timeZone": "Asia/Ho_Chi_Minh"})
        .execute()
    )
    rid = made["id"]
    assert rid.endswith("@group.calendar.google.com") and made["summary"] == "calbot review"
    ev = cal.events().insert(calendarId=rid, body={"summary": "✎ shorten", **timed(5, 9)}).execute()
    assert ev["status"] == "confirmed" and google.event(rid, ev["id"])["summary"] == "✎ shorten"
    up = (
        cal.events()
        .update(calendarId=rid, eventId=ev["id"], body={"summary": "✎ call", **timed(5, 10)})
        .execute()
    )
    assert up["id"] == ev["id"] and up["sequence"] == 1 and up["summary"] == "✎ call"
    assert cal.events().delete(calendarId=rid, eventId=ev["id"]).execute() == ""
    with pytest.raises(HttpError) as err:
        cal.events().delete(calendarId=rid, eventId=ev["id"]).execute()
    assert err.value.status_code == 410
    assert [i["summary"] for i in cal.events().list(calendarId=rid).execute()["items"]] == []
    assert google.violations == []
    with pytest.raises(HttpError) as err:
        cal.events().list(calendarId="primary").execute()
    assert err.value.status_code == 403 and len(google.violations) == 1
    google.violations.clear()
    cal.events().insert(
        calendarId=rid, body={"attendees": [{"email": "x@acme.example"}], **timed(6, 9)}
    ).execute()
    assert "attendees" in google.violations[0]
    google.violations.clear()
    assert google.fake_errors == []


def test_scripted_invalid_grant_and_token_faults(google: FakeGoogle, apis: Any) -> None:
    cal, _ = apis
    google.fail("oauth.token", 400, reason="invalid_grant")
    with pytest.raises(RefreshError, match="invalid_grant"):
        cal.events().list(calendarId="primary").execute()
    google.fail("calendar.events.list", 500)
    google.fail("calendar.events.list", 502)  # queues behind the first
    assert [_status(cal) for _ in range(3)] == [500, 502, 200]


def _status(cal: Any) -> int:
    try:
        cal.events().list(calendarId="primary").execute()
    except HttpError as err:
        return int(err.status_code)
    return 200
