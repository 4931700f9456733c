"""The fake Google's Calendar events: listing (pages, sync tokens, expanded series) and
patches, driven by the real googleapiclient + google-auth over HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fakes import FakeGoogle
from google_clients import reason, signed_in, timed
from googleapiclient.errors import HttpError


@pytest.fixture
def apis(google: FakeGoogle, tmp_path: Path) -> Any:
    return signed_in(google, tmp_path)


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
