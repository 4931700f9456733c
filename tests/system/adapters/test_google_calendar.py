"""GoogleCalendarSource against the fake Google server: real googleapiclient over HTTP, the
real state stores, no sleeps (the GoogleApi's back-off sleep is a no-op)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest

from calbot.adapters.google.api import ApiError, connect
from calbot.adapters.google.calendar import GoogleCalendarSource
from calbot.adapters.google.scopes import scopes_for
from calbot.adapters.memory_state import MemoryStore
from calbot.adapters.sqlite import DB_NAME, SqliteStore
from calbot.config.loader import parse_settings
from calbot.config.settings import Settings
from calbot.core.classify import classify, dedupe
from calbot.core.model import Event, EventType, Response, Slot
from calbot.ports.store import SyncCache
from calbot.present.messages import say

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2025, 3, 3, 8, 0, tzinfo=BERLIN)  # a Monday
HISTORY = timedelta(days=14)
HORIZON = timedelta(days=14)
TEAM = "team@group.calendar.google.com"
ACME = "minh@acme.example"


def at(day: int, hour: int, minute: int = 0) -> dict[str, str]:
    """A Calendar API start/end on March `day` 2025, Berlin time."""
    moment = datetime(2025, 3, day, hour, minute, tzinfo=BERLIN)
    return {"dateTime": moment.isoformat(), "timeZone": "Europe/Berlin"}


def people(me: str, *others: str, **mine: Any) -> list[dict[str, Any]]:
    return [{"email": me, "responseStatus": "accepted", **mine}] + [
        {"email": o, "responseStatus": "accepted"} for o in others
    ]


@pytest.fixture
def make_settings(google: Any, tmp_path: Path) -> Any:
    def build(calendars: tuple[str, ...] = ("primary",), busy: tuple[str, ...] = ()) -> Settings:
        token = tmp_path / "token.json"
        data = {
            "user": {
                "email": google.user_email,
                "timezone": "Europe/Berlin",
                "own_domains": [google.user_email.rpartition("@")[2]],
            },
            "source": {
                "kind": "google",
                "calendars": list(calendars),
                "busy_calendars": list(busy),
            },
            "google": {"api_root": google.root, "token_file": str(token)},
            "clients": [{"name": "Acme", "domains": ["acme.example"]}],
            "outputs": {"outbox": ""},
        }
        settings = parse_settings(data, path="calbot.toml", now=NOW, check_templates=False)
        google.write_token(token, scopes_for(settings))
        return settings

    return build


@pytest.fixture
def settings(make_settings: Any) -> Settings:
    return make_settings()  # type: ignore[no-any-return]


def source(
    settings: Settings, cache: SyncCache, *, writable: bool = True, now: datetime = NOW
) -> GoogleCalendarSource:
    api = connect(settings, sleep=lambda s: None)
    return GoogleCalendarSource(api, settings, cache, writable=writable, now=now)


def scan(
    settings: Settings, cache: SyncCache, *, writable: bool = True, now: datetime = NOW
) -> tuple[list[Event], GoogleCalendarSource]:
    src = source(settings, cache, writable=writable, now=now)
    return list(src.events(now - HISTORY, now + HORIZON)), src


def lists(google: Any) -> list[Any]:
    return [r for r in google.requests if r.route == "calendar.events.list"]


def by_summary(events: list[Event]) -> dict[str, Event]:
    return {e.summary: e for e in events}


# -- full and incremental sync ------------------------------------------------------------


def test_a_token_stored_with_other_fields_starts_one_full_sync(
    google: Any, settings: Settings, store: SqliteStore
) -> None:
    """A sync token an older calbot stored (its cache holds items fetched with other
    `fields`, e.g. without the organizer's name) is not used: one full sync refetches every
    item, then scans are incremental again."""
    google.add_event(summary="Acme kickoff", start=at(4, 14), end=at(4, 15))
    scan(settings, store)
    stored = store.sync_token("primary")
    assert stored is not None
    older = json.loads(stored)
    del older["fields"]
    with store.transaction():
        store.put_sync_token("primary", json.dumps(older))
    google.requests.clear()
    scan(settings, store)
    assert ["syncToken" in r.query for r in lists(google)] == [False]
    google.requests.clear()
    scan(settings, store)
    assert ["syncToken" in r.query for r in lists(google)] == [True]


def test_full_sync_pages_then_an_unchanged_rescan_is_one_request(
    google: Any, settings: Settings, store: SqliteStore
) -> None:
    me = google.user_email
    google.add_event(
        summary="Hourly ping",  # in UTC: no DST day in the series
        start={"dateTime": "2025-03-01T08:00:00Z", "timeZone": "UTC"},
        end={"dateTime": "2025-03-01T08:15:00Z", "timeZone": "UTC"},
        recurrence=["RRULE:FREQ=HOURLY;COUNT=2600"],
        attendees=people(me, ACME),
    )
    google.add_event(summary="Acme kickoff", start=at(4, 14), end=at(4, 15))

    events, src = scan(settings, store)
    first = lists(google)
    assert len(first) == 2  # 2,600 instances + 1 in pages of 2,500
    for request in first:
        assert request.query["maxResults"] == ["2500"]
        assert request.query["singleEvents"] == ["true"]
        assert "items(id,status,summary" in request.query["fields"][0]
        assert "syncToken" not in request.query
    assert "timeMin" in first[0].query
    assert "pageToken" in first[1].query
    time_min = datetime.fromisoformat(first[0].query["timeMin"][0])
    assert time_min <= NOW - HISTORY - timedelta(days=14)
    assert src.requests == 2
    assert src.warnings == []
    assert len(store.cached_events("primary")) == 2601
    window = [e for e in events if e.summary == "Hourly ping"]
    # from March 1 09:00 hourly, up to the horizon's end on March 17 08:00
    assert len(window) == 16 * 24 - 1
    assert {e.series_id for e in window} == {store.cached_events("primary")[0]["recurringEventId"]}
    assert "Acme kickoff" in by_summary(events)

    again, src2 = scan(settings, store)
    second = lists(google)[len(first) :]
    assert len(second) == 1
    assert "syncToken" in second[0].query
    for forbidden in ("timeMin", "timeMax", "orderBy", "q", "pageToken"):
        assert forbidden not in second[0].query
    assert second[0].query["singleEvents"] == ["true"]
    assert src2.requests == 1
    assert again == events


def test_changes_moves_and_deletions_arrive_incrementally(
    google: Any, settings: Settings, store: SqliteStore
) -> None:
    me = google.user_email
    moved = google.add_event(
        summary="Acme review", start=at(4, 10), end=at(4, 11), attendees=people(me, ACME)
    )
    renamed = google.add_event(summary="Old title", start=at(5, 10), end=at(5, 11))
    deleted = google.add_event(summary="To be deleted", start=at(6, 10), end=at(6, 11))
    google.add_event(summary="Steady", start=at(7, 10), end=at(7, 11))
    scan(settings, store)

    google.update_event("primary", moved["id"], start=at(11, 15), end=at(11, 16, 30))
    google.update_event("primary", renamed["id"], summary="New title")
    google.delete_event("primary", deleted["id"])
    google.add_event(summary="Brand new", start=at(8, 9), end=at(8, 10))
    n = len(lists(google))
    events, src = scan(settings, store)
    assert len(lists(google)) == n + 1
    assert src.requests == 1
    found = by_summary(events)
    assert set(found) == {"Acme review", "New title", "Steady", "Brand new"}
    assert found["Acme review"].start == datetime(2025, 3, 11, 15, tzinfo=BERLIN)
    assert found["Acme review"].duration == timedelta(minutes=90)
    cached = {item["id"] for item in store.cached_events("primary")}
    assert deleted["id"] not in cached
    assert len(cached) == 4

    # the store kept the result: a third scan sees the same without any change coming back
    again, _ = scan(settings, store)
    assert again == events
    assert len(lists(google)) == n + 2


def test_a_page_that_fails_midway_leaves_no_token_and_the_next_scan_starts_over(
    google: Any, settings: Settings, store: SqliteStore
) -> None:
    """The next page is fetched while this one is converted: its failure still reaches the
    scan, and the rows already written (without a token) are never read as a cache."""
    me = google.user_email
    google.add_event(
        summary="Hourly ping",
        start={"dateTime": "2025-03-01T08:00:00Z", "timeZone": "UTC"},
        end={"dateTime": "2025-03-01T08:15:00Z", "timeZone": "UTC"},
        recurrence=["RRULE:FREQ=HOURLY;COUNT=2600"],
        attendees=people(me, ACME),
    )
    google.fail("calendar.events.list", 200, 403, reason="forbidden")
    with pytest.raises(ApiError) as failed:
        scan(settings, store)
    assert failed.value.status == 403
    assert [r.status for r in lists(google)] == [200, 403]
    assert store.sync_token("primary") is None
    written = store.cached_events("primary")
    assert len(written) == 2500  # the first page, kept only until the next full sync

    doomed = str(written[0]["id"])
    google.delete_event("primary", doomed)  # an instance cancelled meanwhile
    events, src = scan(settings, store)
    again = lists(google)[2:]
    assert [("timeMin" in r.query, "syncToken" in r.query) for r in again] == [
        (True, False),
        (True, False),
    ]
    cached = {i["id"] for i in store.cached_events("primary")}
    assert doomed not in cached and len(cached) == 2599
    assert store.sync_token("primary") is not None
    window = [e.id for e in events if e.summary == "Hourly ping"]
    assert doomed not in window and len(window) == 16 * 24 - 2  # the first one cancelled
    assert src.warnings == []


def test_expired_sync_token_means_exactly_one_full_resync(
    google: Any, settings: Settings, store: SqliteStore
) -> None:
    google.add_event(summary="Kept", start=at(4, 10), end=at(4, 11))
    gone = google.add_event(summary="Deleted while expired", start=at(4, 12), end=at(4, 13))
    scan(settings, store)
    google.expire_sync_tokens("primary")
    google.delete_event("primary", gone["id"])
    n = len(lists(google))

    events, _ = scan(settings, store)
    after = lists(google)[n:]
    assert [("syncToken" in r.query, "timeMin" in r.query) for r in after] == [
        (True, False),  # answered 410
        (False, True),  # one full sync
    ]
    assert after[0].status == 410
    assert [e.summary for e in events] == ["Kept"]
    assert [i["summary"] for i in store.cached_events("primary")] == ["Kept"]

    scan(settings, store)
    assert len(lists(google)) == n + 3  # back to one request


def test_rate_limits_and_server_errors_are_survived(
    google: Any, settings: Settings, store: SqliteStore
) -> None:
    google.add_event(summary="Acme sync", start=at(4, 10), end=at(4, 11))
    google.fail("calendar.events.list", 429, 503, retry_after=7)
    events, src = scan(settings, store)
    assert [e.summary for e in events] == ["Acme sync"]
    assert [r.status for r in lists(google)] == [429, 503, 200]
    assert src.requests == 3
    assert store.sync_token("primary") is not None


# -- what the events say ---------------------------------------------------------------------


def test_recurring_series_instances_carry_the_series(
    google: Any, settings: Settings, store: SqliteStore
) -> None:
    me = google.user_email
    master = google.add_event(
        summary="Weekly Acme",
        start=at(4, 10),
        end=at(4, 11),
        recurrence=["RRULE:FREQ=WEEKLY;COUNT=4"],
        attendees=people(me, ACME),
    )
    events, _ = scan(settings, store)
    weekly = [e for e in events if e.summary == "Weekly Acme"]
    assert [e.start.day for e in weekly] == [4, 11]  # the horizon ends on the 17th
    assert {e.series_id for e in weekly} == {master["id"]}
    assert len({e.id for e in weekly}) == 2
    assert len({e.draft_key for e in weekly}) == 1
    assert all(classify(e, settings) is not None for e in weekly)

    # one instance cancelled, then the whole series
    google.delete_event("primary", weekly[1].id)
    events, _ = scan(settings, store)
    assert [e.start.day for e in events if e.summary == "Weekly Acme"] == [4]
    google.delete_event("primary", master["id"])
    events, _ = scan(settings, store)
    assert events == []
    assert store.cached_events("primary") == []


def test_status_types_are_never_client_meetings(
    google: Any, settings: Settings, store: SqliteStore
) -> None:
    me = google.user_email
    for kind in ("focusTime", "outOfOffice", "workingLocation", "default"):
        google.add_event(
            summary=kind,
            eventType=kind,
            start=at(4, 10),
            end=at(4, 11),
            attendees=people(me, ACME),
        )
    events, _ = scan(settings, store)
    found = by_summary(events)
    assert found["focusTime"].event_type == EventType.FOCUS
    assert found["outOfOffice"].event_type == EventType.OUT_OF_OFFICE
    assert found["workingLocation"].event_type == EventType.WORKING_LOCATION
    meetings = [e.summary for e in events if classify(e, settings) is not None]
    assert meetings == ["default"]


def test_all_day_declined_optional_transparent(
    google: Any, settings: Settings, store: SqliteStore
) -> None:
    me = google.user_email
    google.add_event(summary="Conference", start={"date": "2025-03-05"}, end={"date": "2025-03-07"})
    google.add_event(
        summary="Declined",
        start=at(4, 10),
        end=at(4, 11),
        attendees=people(me, ACME, responseStatus="declined"),
    )
    google.add_event(
        summary="Optional",
        start=at(4, 12),
        end=at(4, 13),
        attendees=people(me, ACME, optional=True),
    )
    google.add_event(
        summary="Free",
        start=at(4, 14),
        end=at(4, 15),
        transparency="transparent",
        hangoutLink="https://meet.google.com/abc-defg-hij",
    )
    events, _ = scan(settings, store)
    found = by_summary(events)
    conf = found["Conference"]
    assert conf.all_day
    assert (conf.start, conf.end) == (
        datetime(2025, 3, 5, tzinfo=BERLIN),
        datetime(2025, 3, 7, tzinfo=BERLIN),
    )
    declined = found["Declined"]
    assert [a.response for a in declined.attendees if a.is_self] == [Response.DECLINED]
    assert classify(declined, settings) is None
    meeting = classify(found["Optional"], settings)
    assert meeting is not None
    assert meeting.user_optional
    assert found["Free"].transparent
    assert found["Free"].video_link == "https://meet.google.com/abc-defg-hij"
    assert found["Optional"].organizer == me.lower()


def test_two_calendars_one_request_each_and_shared_meetings_count_once(
    google: Any, make_settings: Any, store: SqliteStore
) -> None:
    google.add_calendar(TEAM)
    settings = make_settings(calendars=("primary", TEAM))
    me = google.user_email
    google.add_event(summary="Mine", start=at(4, 9), end=at(4, 10))
    google.add_event(TEAM, summary="Team offsite", start=at(5, 9), end=at(5, 17))
    google.add_event(
        summary="Acme on both",
        id="shared1",
        iCalUID="shared-uid@acme.example",
        start=at(6, 9),
        end=at(6, 10),
        attendees=people(me, ACME),
    )
    google.add_event(
        TEAM,
        summary="Acme on both",
        id="shared2",
        iCalUID="shared-uid@acme.example",
        start=at(6, 9),
        end=at(6, 10),
        attendees=people(me, ACME),
    )
    events, _ = scan(settings, store)
    assert {e.calendar_id for e in events} == {"primary", TEAM}
    once = dedupe(events)
    assert [e.summary for e in once] == ["Mine", "Team offsite", "Acme on both"]
    assert [e.calendar_id for e in once if e.summary == "Acme on both"] == ["primary"]
    n = len(lists(google))
    scan(settings, store)
    rescans = [unquote(r.path) for r in lists(google)[n:]]
    assert sorted(rescans) == sorted(
        f"/calendar/v3/calendars/{cal}/events" for cal in ("primary", TEAM)
    )


def test_missing_calendar_is_a_warning_not_a_failure(
    google: Any, make_settings: Any, store: SqliteStore
) -> None:
    settings = make_settings(calendars=("primary", "gone@group.calendar.google.com"))
    google.add_event(summary="Mine", start=at(4, 9), end=at(4, 10))
    events, src = scan(settings, store)
    assert [e.summary for e in events] == ["Mine"]
    assert [say(w, "en") for w in src.warnings] == [
        "gone@group.calendar.google.com: calendar not found or not shared with you — skipped"
    ]


def test_a_broken_cached_item_is_skipped_with_a_warning(
    google: Any, settings: Settings, store: SqliteStore
) -> None:
    google.add_event(summary="Fine", start=at(4, 9), end=at(4, 10))
    scan(settings, store)
    with store.transaction():
        store.put_events("primary", [{"id": "bad1", "summary": "No start\nat all"}])
    events, src = scan(settings, store)
    assert [e.summary for e in events] == ["Fine"]
    assert [say(w, "en") for w in src.warnings] == [
        "primary: skipped 'No start at all' (id bad1): no start"
    ]


# -- dry runs write nothing ----------------------------------------------------------------


def test_not_writable_reads_and_syncs_but_writes_nothing(
    google: Any, settings: Settings, tmp_path: Path
) -> None:
    google.add_event(summary="First", start=at(4, 9), end=at(4, 10))
    state = tmp_path / "state"
    db = state / DB_NAME
    # a dry run before any real scan: the missing store stays missing
    empty = SqliteStore.open(state, readonly=True)
    events, _ = scan(settings, empty, writable=False)
    assert [e.summary for e in events] == ["First"]
    empty.close()
    assert not db.exists()

    writer = SqliteStore.open(state)
    assert isinstance(writer, SqliteStore)
    scan(settings, writer)
    token = writer.sync_token("primary")
    writer.close()
    files = {p.name: p.read_bytes() for p in state.iterdir()}
    assert list(files) == [DB_NAME]

    google.add_event(summary="Second", start=at(5, 9), end=at(5, 10))
    n = len(lists(google))
    reader = SqliteStore.open(state, readonly=True)
    events, src = scan(settings, reader, writable=False)
    assert [e.summary for e in events] == ["First", "Second"]
    assert len(lists(google)) == n + 1  # incremental, from the stored token
    assert "syncToken" in lists(google)[-1].query
    # the same source asked again: no request, still nothing written
    assert [e.summary for e in src.events(NOW - HISTORY, NOW + HORIZON)] == ["First", "Second"]
    assert len(lists(google)) == n + 1
    reader.close()
    assert db.read_bytes() == files[DB_NAME]
    assert not any(p.name.endswith("-wal") and p.stat().st_size for p in state.iterdir())

    # a writable store with writable=False is not written either (explain)
    live = SqliteStore.open(state)
    assert isinstance(live, SqliteStore)
    scan(settings, live, writable=False)
    assert live.sync_token("primary") == token
    assert {i["summary"] for i in live.cached_events("primary")} == {"First"}
    # the next real scan replays the change from the old token
    events, _ = scan(settings, live)
    assert [e.summary for e in events] == ["First", "Second"]
    assert live.sync_token("primary") != token
    live.close()


def test_not_writable_survives_a_410_without_writing(google: Any, settings: Settings) -> None:
    google.add_event(summary="First", start=at(4, 9), end=at(4, 10))
    memory = MemoryStore()
    scan(settings, memory)
    google.expire_sync_tokens("primary")
    token = memory.sync_token("primary")
    n = len(lists(google))
    events, _ = scan(settings, memory, writable=False)
    assert [e.summary for e in events] == ["First"]
    assert [r.status for r in lists(google)[n:]] == [410, 200]
    assert memory.sync_token("primary") == token  # nothing written: not even the new token


# -- the cache's reach in time -----------------------------------------------------------------


def test_an_earlier_window_than_the_cache_covers_resyncs_once(
    google: Any, settings: Settings
) -> None:
    google.add_event(summary="Long ago", start=at(1, 9), end=at(1, 10))
    memory = MemoryStore()
    scan(settings, memory)
    n = len(lists(google))
    src = source(settings, memory)
    early = NOW - timedelta(days=120)
    list(src.events(early, NOW + HORIZON))
    after = lists(google)[n:]
    assert len(after) == 1 and "timeMin" in after[0].query
    assert datetime.fromisoformat(after[0].query["timeMin"][0]) <= early
    scan(settings, memory)  # the cache now reaches back: incremental again
    assert "syncToken" in lists(google)[-1].query


def test_old_events_are_pruned_as_the_window_moves(google: Any, settings: Settings) -> None:
    google.add_event(summary="Early", start=at(1, 9), end=at(1, 10))
    google.add_event(summary="Later", start=at(20, 9), end=at(20, 10))
    memory = MemoryStore()
    scan(settings, memory)
    assert len(memory.cached_events("primary")) == 2
    scan(settings, memory, now=NOW + timedelta(days=3))
    assert len(memory.cached_events("primary")) == 2  # not yet a week on
    events, _ = scan(settings, memory, now=NOW + timedelta(days=60))
    assert [e.summary for e in events] == []  # "Later" left the window too
    assert [i["summary"] for i in memory.cached_events("primary")] == ["Later"]
    assert "syncToken" in lists(google)[-1].query  # pruning needs no full sync


# -- free/busy ---------------------------------------------------------------------------------


def test_busy_calendars_cost_one_free_busy_query(google: Any, make_settings: Any) -> None:
    busy_cal = "partner@example.org"
    google.add_calendar(busy_cal)
    google.add_event(busy_cal, summary="secret", start=at(4, 9), end=at(4, 11))
    google.add_event(busy_cal, summary="secret 2", start=at(4, 10), end=at(4, 12))
    google.add_event(
        busy_cal, summary="free", start=at(5, 9), end=at(5, 10), transparency="transparent"
    )
    settings = make_settings(busy=(busy_cal,))
    src = source(settings, MemoryStore())
    start, end = NOW, NOW + HORIZON
    slots = src.extra_busy(start, end)
    assert slots == [
        Slot(datetime(2025, 3, 4, 9, tzinfo=BERLIN), datetime(2025, 3, 4, 12, tzinfo=BERLIN))
    ]
    assert slots[0].start.tzinfo == BERLIN
    assert src.extra_busy(start, end) == slots  # asked twice: still one query
    queries = [r for r in google.requests if r.route == "calendar.freebusy.query"]
    assert len(queries) == 1
    assert queries[0].body["items"] == [{"id": busy_cal}]
    assert datetime.fromisoformat(queries[0].body["timeMin"]) == start
    assert src.warnings == []


def test_no_busy_calendars_no_request(google: Any, settings: Settings) -> None:
    src = source(settings, MemoryStore())
    assert src.extra_busy(NOW, NOW + HORIZON) == []
    assert google.requests == []
    assert src.requests == 0


def test_a_window_google_refuses_as_too_long_is_split(google: Any, make_settings: Any) -> None:
    busy_cal = "partner@example.org"
    google.add_calendar(busy_cal)
    google.add_event(busy_cal, summary="x", start=at(4, 9), end=at(4, 10))
    settings = make_settings(busy=(busy_cal, "nobody@example.org"))
    src = source(settings, MemoryStore())
    slots = src.extra_busy(NOW, NOW + timedelta(days=200))
    queries = [r for r in google.requests if r.route == "calendar.freebusy.query"]
    assert [q.status for q in queries] == [400, 200, 200, 200]  # refused, then 90+90+20 days
    assert len(slots) == 1
    assert [say(w, "en") for w in src.warnings] == [
        "nobody@example.org: busy times unavailable (notFound) — not counted"
    ]


def test_more_than_fifty_busy_calendars_take_one_query_per_fifty(
    google: Any, make_settings: Any
) -> None:
    ids = tuple(f"busy{i:02d}@example.org" for i in range(60))
    for cal in ids:
        google.add_calendar(cal)
    google.add_event(ids[55], summary="x", start=at(4, 9), end=at(4, 10))
    settings = make_settings(busy=ids)
    src = source(settings, MemoryStore())
    slots = src.extra_busy(NOW, NOW + HORIZON)
    queries = [r for r in google.requests if r.route == "calendar.freebusy.query"]
    assert [len(q.body["items"]) for q in queries] == [50, 10]
    assert [(s.start.day, s.start.hour) for s in slots] == [(4, 9)]
    assert slots[0].end.astimezone(UTC).hour == 9  # 10:00 Berlin
