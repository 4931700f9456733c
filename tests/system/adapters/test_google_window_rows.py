"""An unchanged rescan reads only the window's rows of the event cache (issue 12): the
rows are counted as the store hands them out, against a calendar much longer than the
window. Real googleapiclient against the fake Google, the real SQLite store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from builders import plain_google_settings
from window_rows import HISTORY, HORIZON, HOURS, NOW, CountingCache, hourly, lists

from calbot.adapters.google.api import connect
from calbot.adapters.google.calendar import GoogleCalendarSource
from calbot.adapters.sqlite import SqliteStore
from calbot.config.settings import Settings
from calbot.core.model import Event
from calbot.ports.store import SyncCache


@pytest.fixture
def settings(google: Any, tmp_path: Path) -> Settings:
    return plain_google_settings(google, tmp_path, NOW)


def scan(
    settings: Settings, cache: SyncCache, *, writable: bool = True
) -> tuple[list[Event], GoogleCalendarSource]:
    api = connect(settings, sleep=lambda s: None)
    src = GoogleCalendarSource(api, settings, cache, writable=writable, now=NOW)
    return list(src.events(NOW - HISTORY, NOW + HORIZON)), src


@pytest.mark.parametrize("writable", [True, False])
def test_an_unchanged_rescan_reads_only_the_windows_rows(
    google: Any, settings: Settings, store: SqliteStore, writable: bool
) -> None:
    hourly(google)
    first, _ = scan(settings, store)
    assert len(store.cached_events("primary")) == HOURS
    counting = CountingCache(store)
    google.requests.clear()
    again, src = scan(settings, cast(SyncCache, counting), writable=writable)
    assert again == first
    assert src.requests == 1 and "syncToken" in lists(google)[0].query
    first_start = datetime(2025, 2, 10, 8, tzinfo=UTC)
    starts = [first_start + timedelta(hours=i) for i in range(HOURS)]
    in_window = sum(  # the store's test: bounds overlap the window, edges included
        1 for s in starts if s + timedelta(minutes=15) >= NOW - HISTORY and s <= NOW + HORIZON
    )
    assert counting.whole_reads == 0
    assert counting.rows == in_window
    assert counting.rows < HOURS / 3


def test_a_cancelled_series_still_drops_instances_outside_the_window(
    google: Any, settings: Settings, store: SqliteStore
) -> None:
    """Dropping a series' instances must see every row, not just the window's."""
    series = hourly(google)
    scan(settings, store)
    google.delete_event("primary", series)
    counting = CountingCache(store)
    events, _ = scan(settings, cast(SyncCache, counting))
    assert events == []
    assert counting.whole_reads == 1
    assert store.cached_events("primary") == []


def test_a_full_sync_keeps_each_items_text_as_google_sent_it(
    google: Any, settings: Settings, store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # encoding every item again for the cache was a full sync's largest cost per event:
    # the rows hold the text of the answer instead, and nothing is encoded
    import calbot.adapters.cache_items as cache_items

    hourly(google)
    encoded: list[dict[str, object]] = []
    encode = cache_items.item_json

    def counted(item: dict[str, object]) -> tuple[str, str | None]:
        encoded.append(item)
        return encode(item)

    monkeypatch.setattr(cache_items, "item_json", counted)
    first, _ = scan(settings, store)
    assert len(first) > 0 and encoded == []
    rows = store._conn.execute("SELECT item FROM event_cache").fetchall()
    assert len(rows) == HOURS
    for (text,) in rows:  # the fake writes ", " and ": " between values, calbot would not
        assert '", "' in text and encode(json.loads(text))[1] != text
    again, _ = scan(settings, store)
    assert again == first
