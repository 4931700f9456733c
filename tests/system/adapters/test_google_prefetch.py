"""The first request sent ahead (issue 12): `GoogleCalendarSource.prefetch` sends the
calendar's first `events.list` on a thread while the scan goes on starting up; `events`
takes its answer. Same events and the same number of requests as without it. Real
googleapiclient against the fake Google, the real SQLite store."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from builders import plain_google_settings

from calbot.adapters.google.api import connect
from calbot.adapters.google.calendar import GoogleCalendarSource
from calbot.adapters.sqlite import SqliteStore
from calbot.config.settings import Settings
from calbot.core.model import Event

NOW = datetime(2025, 3, 3, 7, 0, tzinfo=UTC)
START, END = NOW - timedelta(days=14), NOW + timedelta(days=14)


@pytest.fixture
def settings(google: Any, tmp_path: Path) -> Settings:
    return plain_google_settings(google, tmp_path, NOW)


def add_events(google: Any) -> None:
    for day in range(-20, 20, 2):
        start = NOW + timedelta(days=day)
        google.add_event(
            summary=f"Call {day}",
            start={"dateTime": start.isoformat()},
            end={"dateTime": (start + timedelta(hours=1)).isoformat()},
        )


def source(settings: Settings, store: SqliteStore) -> GoogleCalendarSource:
    api = connect(settings, sleep=lambda s: None)
    return GoogleCalendarSource(api, settings, store, writable=True, now=NOW)


def lists(google: Any) -> list[Any]:
    return [r for r in google.requests if r.route == "calendar.events.list"]


def wait_for_lists(google: Any, n: int) -> None:
    deadline = time.monotonic() + 10
    while len(lists(google)) < n:
        assert time.monotonic() < deadline, "the request sent ahead never reached Google"
        time.sleep(0.01)


def scan(settings: Settings, store: SqliteStore, *, ahead: bool) -> list[Event]:
    src = source(settings, store)
    if ahead:
        src.prefetch(START)
    return list(src.events(START, END))


def test_the_first_request_goes_before_events_is_asked_and_is_not_repeated(
    google: Any, settings: Settings, store: SqliteStore, tmp_path: Path
) -> None:
    add_events(google)
    plain = SqliteStore.open(tmp_path / "plain")
    assert isinstance(plain, SqliteStore)
    try:
        expected = scan(settings, plain, ahead=False)  # the same scans without prefetch
        expected_again = scan(settings, plain, ahead=False)
    finally:
        plain.close()
    google.requests.clear()

    src = source(settings, store)
    src.prefetch(START)
    wait_for_lists(google, 1)  # sent before anyone asked for events
    assert "timeMin" in lists(google)[0].query  # a first scan: a full sync
    assert list(src.events(START, END)) == expected
    assert len(lists(google)) == 1 and src.requests == 1

    google.requests.clear()
    src = source(settings, store)
    src.prefetch(START)
    wait_for_lists(google, 1)
    assert "syncToken" in lists(google)[0].query  # an unchanged rescan
    assert list(src.events(START, END)) == expected_again == expected
    assert len(lists(google)) == 1 and src.requests == 1


def test_an_answer_not_wanted_is_waited_for_and_dropped(
    google: Any, settings: Settings, store: SqliteStore
) -> None:
    add_events(google)
    expected = scan(settings, store, ahead=False)
    google.requests.clear()
    src = source(settings, store)
    src.prefetch(START)  # an incremental request from the stored token...
    earlier = START - timedelta(days=60)  # ...but the scan reaches before the cache: full
    got = list(src.events(earlier, END))
    assert [e.id for e in got if e.start >= START] == [e.id for e in expected]
    assert len(got) > len(expected)
    queries = [r.query for r in lists(google)]
    assert len(queries) == 2
    assert "syncToken" in queries[0] and "timeMin" in queries[1]


def test_an_expired_token_met_ahead_means_a_full_sync(
    google: Any, settings: Settings, store: SqliteStore
) -> None:
    add_events(google)
    expected = scan(settings, store, ahead=False)
    google.expire_sync_tokens()
    google.requests.clear()
    assert scan(settings, store, ahead=True) == expected
    queries = [r.query for r in lists(google)]
    assert len(queries) == 2
    assert "syncToken" in queries[0] and "timeMin" in queries[1]
