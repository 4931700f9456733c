"""The fake Google server, driven by the real googleapiclient + google-auth over HTTP."""

from __future__ import annotations

import base64
import http.client
import json
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import google_auth_httplib2
import httplib2
import pytest
from fakes import FakeGoogle
from google.auth.exceptions import RefreshError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

EVENTS = "https://www.googleapis.com/auth/calendar.events"
FREEBUSY = "https://www.googleapis.com/auth/calendar.freebusy"
COMPOSE = "https://www.googleapis.com/auth/gmail.compose"


def services(fake: FakeGoogle, scopes: list[str], refresh_token: str = "refresh-1") -> Any:
    """Exactly what calbot does with api_root: its own Credentials, two endpoints."""
    creds = Credentials(
        token=None,
        refresh_token=refresh_token,
        token_uri=fake.token_uri,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        scopes=scopes,
    )
    http = google_auth_httplib2.AuthorizedHttp(creds, http=httplib2.Http(timeout=5))
    cal = build(
        "calendar",
        "v3",
        http=http,
        client_options={"api_endpoint": fake.root + "calendar/v3/"},
        static_discovery=True,
    )
    gmail = build("gmail", "v1", http=http, client_options={"api_endpoint": fake.root})
    return cal, gmail


@pytest.fixture
def apis(google: FakeGoogle, tmp_path: Path) -> Any:
    google.write_token(tmp_path / "token.json", [EVENTS, COMPOSE])
    return services(google, [EVENTS, COMPOSE])


def timed(day: int, hour: int, minutes: int = 60, **fields: Any) -> dict[str, Any]:
    start = f"2030-03-{day:02d}T{hour:02d}:00:00+00:00"
    end_h, end_m = divmod(hour * 60 + minutes, 60)
    end = f"2030-03-{day:02d}T{end_h:02d}:{end_m:02d}:00+00:00"
    return {"start": {"dateTime": start}, "end": {"dateTime": end}, **fields}


def raw_message(msgid: str = "<calbot-1@calbot.local>", body: str = "Hello") -> str:
    msg = EmailMessage()
    msg["From"] = "me@example.com"
    msg["To"] = "minh@acme.example"
    msg["Subject"] = "About our Tuesday meeting"
    msg["Message-ID"] = msgid
    msg.set_content(body)
    return base64.urlsafe_b64encode(msg.as_bytes()).decode()


def reason(err: HttpError) -> str:
    return str(json.loads(err.content)["error"]["errors"][0]["reason"])


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


# --- Calendar events.list ----------------------------------------------------------------


def test_paging_with_sync_token_only_on_the_last_page(google: FakeGoogle, apis: Any) -> None:
    cal, _ = apis
    for day in range(1, 6):
        google.add_event(summary=f"e{day}", **timed(day, 9))
    pages = []
    request = cal.events().list(calendarId="primary", maxResults=2)
    while request is not None:
        page = request.execute()
        pages.append(page)
        request = cal.events().list_next(request, page)
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert ["nextSyncToken" in p for p in pages] == [False, False, True]
    assert ["nextPageToken" in p for p in pages] == [True, True, False]
    assert [i["summary"] for p in pages for i in p["items"]] == ["e1", "e2", "e3", "e4", "e5"]


def test_old_page_tokens_are_forgotten_as_google_lets_them_expire(
    google: FakeGoogle, apis: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # each token holds a copy of its listing: kept forever, a benchmark's server would grow
    # with every full sync
    monkeypatch.setattr("fakes.calendar.PAGES_KEPT", 2)
    cal, _ = apis
    for day in range(1, 6):
        google.add_event(summary=f"e{day}", **timed(day, 9))
    tokens = []
    for _ in range(3):
        tokens.append(cal.events().list(calendarId="primary", maxResults=2).execute())
    for page in tokens[1:]:
        again = cal.events().list(
            calendarId="primary", maxResults=2, pageToken=page["nextPageToken"]
        )
        assert [i["summary"] for i in again.execute()["items"]] == ["e3", "e4"]
    with pytest.raises(HttpError) as caught:
        cal.events().list(
            calendarId="primary", maxResults=2, pageToken=tokens[0]["nextPageToken"]
        ).execute()
    assert caught.value.resp.status == 400


def test_incremental_sync_returns_changed_and_deleted(google: FakeGoogle, apis: Any) -> None:
    cal, _ = apis
    a = google.add_event(summary="a", **timed(1, 9))
    b = google.add_event(summary="b", **timed(2, 9))
    google.add_event(summary="c", **timed(3, 9))
    token = cal.events().list(calendarId="primary").execute()["nextSyncToken"]
    assert cal.events().list(calendarId="primary", syncToken=token).execute()["items"] == []
    moved = google.update_event(
        "primary", a["id"], start=timed(4, 9)["start"], end=timed(4, 9)["end"]
    )
    assert moved["sequence"] == 1 and moved["etag"] != a["etag"]
    google.delete_event("primary", b["id"])
    page = cal.events().list(calendarId="primary", syncToken=token).execute()
    items = {i["id"]: i for i in page["items"]}
    assert set(items) == {a["id"], b["id"]}
    assert items[a["id"]]["start"]["dateTime"].startswith("2030-03-04")
    assert items[b["id"]]["status"] == "cancelled"
    # a full listing hides the deleted one unless showDeleted
    full = cal.events().list(calendarId="primary").execute()["items"]
    assert b["id"] not in {i["id"] for i in full}
    shown = cal.events().list(calendarId="primary", showDeleted=True).execute()["items"]
    assert b["id"] in {i["id"] for i in shown}
    nothing = cal.events().list(calendarId="primary", syncToken=page["nextSyncToken"]).execute()
    assert nothing["items"] == []


def test_expired_sync_token_answers_410(google: FakeGoogle, apis: Any) -> None:
    cal, _ = apis
    token = cal.events().list(calendarId="primary").execute()["nextSyncToken"]
    google.expire_sync_tokens()
    with pytest.raises(HttpError) as err:
        cal.events().list(calendarId="primary", syncToken=token).execute()
    assert err.value.status_code == 410 and reason(err.value) == "fullSyncRequired"
    fresh = cal.events().list(calendarId="primary").execute()["nextSyncToken"]
    cal.events().list(calendarId="primary", syncToken=fresh).execute()


@pytest.mark.parametrize(
    "extra", [{"timeMin": "2030-03-01T00:00:00Z"}, {"orderBy": "updated"}, {"q": "x"}]
)
def test_sync_token_with_forbidden_parameter_is_400_and_a_violation(
    google: FakeGoogle, apis: Any, extra: dict[str, str]
) -> None:
    cal, _ = apis
    token = cal.events().list(calendarId="primary").execute()["nextSyncToken"]
    with pytest.raises(HttpError) as err:
        cal.events().list(calendarId="primary", syncToken=token, **extra).execute()
    assert err.value.status_code == 400
    assert len(google.violations) == 1 and next(iter(extra)) in google.violations[0]
    google.violations.clear()


def test_single_events_expands_a_weekly_series_across_dst(google: FakeGoogle, apis: Any) -> None:
    cal, _ = apis
    master = google.add_event(
        summary="weekly",
        start={"dateTime": "2030-03-19T10:00:00", "timeZone": "Europe/Berlin"},
        end={"dateTime": "2030-03-19T11:00:00", "timeZone": "Europe/Berlin"},
        recurrence=["RRULE:FREQ=WEEKLY;COUNT=5", "EXDATE;TZID=Europe/Berlin:20030101T100000"],
    )
    items = (
        cal.events()
        .list(calendarId="primary", singleEvents=True, orderBy="startTime")
        .execute()["items"]
    )
    assert [i["id"] for i in items] == [
        f"{master['id']}_20300319T090000Z",
        f"{master['id']}_20300326T090000Z",
        f"{master['id']}_20300402T080000Z",  # after the switch to summer time: still 10:00 local
        f"{master['id']}_20300409T080000Z",
        f"{master['id']}_20300416T080000Z",
    ]
    assert all(i["recurringEventId"] == master["id"] for i in items)
    assert items[2]["start"]["dateTime"] == "2030-04-02T10:00:00+02:00"
    assert items[2]["originalStartTime"]["dateTime"] == "2030-04-02T10:00:00+02:00"
    assert "recurrence" not in items[0]
    window = (
        cal.events()
        .list(
            calendarId="primary",
            singleEvents=True,
            timeMin="2030-03-25T00:00:00Z",
            timeMax="2030-04-03T00:00:00Z",
        )
        .execute()["items"]
    )
    assert len(window) == 2
    plain = cal.events().list(calendarId="primary").execute()["items"]
    assert [i["id"] for i in plain] == [master["id"]] and plain[0]["recurrence"]
    one = cal.events().get(calendarId="primary", eventId=items[1]["id"]).execute()
    assert one["start"] == items[1]["start"]
    with pytest.raises(HttpError) as err:
        cal.events().get(calendarId="primary", eventId=f"{master['id']}_20300320T090000Z").execute()
    assert err.value.status_code == 404


def test_endless_series_expands_about_a_year(google: FakeGoogle, apis: Any) -> None:
    cal, _ = apis
    google.add_event(summary="daily", recurrence=["RRULE:FREQ=DAILY"], **timed(1, 9))
    items = (
        cal.events()
        .list(
            calendarId="primary", singleEvents=True, timeMin="2030-03-01T00:00:00Z", maxResults=2500
        )
        .execute()["items"]
    )
    assert 360 <= len(items) <= 370


# --- patch ------------------------------------------------------------------------------


def test_patch_private_properties_with_send_updates_none(google: FakeGoogle, apis: Any) -> None:
    cal, _ = apis
    ev = google.add_event(summary="client call", **timed(5, 14))
    token = cal.events().list(calendarId="primary").execute()["nextSyncToken"]
    body = {
        "extendedProperties": {"private": {"calbot.action": "shorten", "x": "1"}},
        "colorId": "5",
    }
    out = (
        cal.events()
        .patch(calendarId="primary", eventId=ev["id"], body=body, sendUpdates="none")
        .execute()
    )
    assert out["extendedProperties"]["private"] == {"calbot.action": "shorten", "x": "1"}
    assert out["colorId"] == "5" and out["summary"] == "client call"
    assert out["updated"] > ev["updated"]
    body2 = {"extendedProperties": {"private": {"x": None}}}
    cal.events().patch(
        calendarId="primary", eventId=ev["id"], body=body2, sendUpdates="none"
    ).execute()
    assert google.event("primary", ev["id"])["extendedProperties"]["private"] == {
        "calbot.action": "shorten"
    }
    changed = cal.events().list(calendarId="primary", syncToken=token).execute()["items"]
    assert [i["id"] for i in changed] == [ev["id"]]
    found = (
        cal.events()
        .list(calendarId="primary", privateExtendedProperty="calbot.action=shorten")
        .execute()["items"]
    )
    assert [i["id"] for i in found] == [ev["id"]]
    assert google.requests[-1].query["privateExtendedProperty"] == ["calbot.action=shorten"]
    assert google.violations == []


def test_patch_of_an_instance_creates_an_exception(google: FakeGoogle, apis: Any) -> None:
    cal, _ = apis
    master = google.add_event(summary="w", recurrence=["RRULE:FREQ=WEEKLY;COUNT=3"], **timed(4, 9))
    iid = f"{master['id']}_20300311T090000Z"
    body = {"extendedProperties": {"private": {"k": "v"}}}
    cal.events().patch(calendarId="primary", eventId=iid, body=body, sendUpdates="none").execute()
    items = cal.events().list(calendarId="primary", singleEvents=True).execute()["items"]
    assert [i.get("extendedProperties") for i in items] == [None, {"private": {"k": "v"}}, None]


def test_patch_touching_anything_else_is_a_violation(google: FakeGoogle, apis: Any) -> None:
    cal, _ = apis
    ev = google.add_event(**timed(5, 14))
    cal.events().patch(
        calendarId="primary", eventId=ev["id"], body={"summary": "x"}, sendUpdates="none"
    ).execute()
    cal.events().patch(calendarId="primary", eventId=ev["id"], body={"colorId": "1"}).execute()
    assert len(google.violations) == 2
    assert "summary" in google.violations[0] and "sendUpdates" in google.violations[1]
    google.violations.clear()
    with pytest.raises(HttpError) as err:
        cal.events().patch(
            calendarId="primary", eventId="nope", body={}, sendUpdates="none"
        ).execute()
    assert err.value.status_code == 404


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
