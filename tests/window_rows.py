"""What the Google window tests share (`test_google_window_rows`, `test_google_converted`):
an hourly series much longer than the window, and a store that counts the cached rows it
hands out (each would be decoded and converted)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from calbot.adapters.sqlite import SqliteStore

NOW = datetime(2025, 3, 3, 7, 0, tzinfo=UTC)
HISTORY = timedelta(days=14)
HORIZON = timedelta(days=14)
HOURS = 2600  # an hourly series of 108 days; the window is 28 days of it


class CountingCache:
    """The store, counting the cached rows it hands out."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.rows = 0
        self.whole_reads = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def iter_cached_events(self, calendar_id: str) -> Iterator[dict[str, object]]:
        self.whole_reads += 1
        for item in self.store.iter_cached_events(calendar_id):
            self.rows += 1
            yield item

    def cached_events_between(
        self, calendar_id: str, start: datetime, end: datetime
    ) -> Iterator[dict[str, object]]:
        for item in self.store.cached_events_between(calendar_id, start, end):
            self.rows += 1
            yield item


def lists(google: Any) -> list[Any]:
    """The `events.list` requests the fake Google got."""
    return [r for r in google.requests if r.route == "calendar.events.list"]


def hourly(google: Any) -> str:
    """Add the hourly series (`HOURS` occurrences from 10 Feb 2025); its id."""
    return str(
        google.add_event(
            summary="Hourly ping",
            start={"dateTime": "2025-02-10T08:00:00Z", "timeZone": "UTC"},
            end={"dateTime": "2025-02-10T08:15:00Z", "timeZone": "UTC"},
            recurrence=[f"RRULE:FREQ=HOURLY;COUNT={HOURS}"],
        )["id"]
    )
