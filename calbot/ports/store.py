"""The state store: decisions, goodwill, the sinks' ledger, the event cache, runs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from calbot.core.records import (
    DayLoadRecord,
    DecisionRecord,
    GoodwillEntry,
    ReviewItem,
    RunRecord,
    SinkRecord,
)


class EventCache(Protocol):
    """Per-calendar sync state a remote source keeps in the state store."""

    def sync_token(self, calendar_id: str) -> str | None: ...

    def put_sync_token(self, calendar_id: str, token: str | None) -> None: ...

    def cached_events(self, calendar_id: str) -> list[dict[str, object]]:
        """The calendar's cached events as the API returned them (compact JSON)."""
        ...

    def put_events(self, calendar_id: str, items: Sequence[dict[str, object]]) -> None:
        """Upsert by `id`; an item with status "cancelled" removes it from the cache."""
        ...

    def iter_cached_events(self, calendar_id: str) -> Iterator[dict[str, object]]:
        """`cached_events`, streamed (memory stays flat however big the cache)."""
        ...

    def move_events(self, from_calendar: str, to_calendar: str) -> None:
        """Give one calendar's cached events to another (a staged full sync swapped in)."""
        ...

    def drop_calendar(self, calendar_id: str) -> None:
        """Forget the calendar's token and events (a 410: sync from scratch)."""
        ...


class StateStore(EventCache, Protocol):
    """Decisions, the goodwill ledger, the sinks' ledger and (for remote sources) the event
    cache. Writes happen in `transaction()`."""

    def transaction(self) -> AbstractContextManager[None]: ...

    def decisions(self) -> dict[str, DecisionRecord]: ...

    def put_decision(self, record: DecisionRecord) -> None: ...

    def goodwill(self, since: datetime) -> list[GoodwillEntry]: ...

    def add_goodwill(self, entry: GoodwillEntry) -> None: ...

    def sink_records(self, sink: str) -> dict[str, SinkRecord]: ...

    def put_sink_record(self, record: SinkRecord) -> None: ...

    def delete_sink_record(self, sink: str, key: str) -> None: ...

    # -- for the morning review (digest) --

    def add_run(self, run: RunRecord) -> None: ...

    def runs(self, since: datetime) -> list[RunRecord]: ...

    def put_review(self, item: ReviewItem) -> None:
        """Upsert by key. A changed item (action, start, status or drafts) is unreported
        again; an unchanged one keeps its `reported_at`."""
        ...

    def delete_review(self, key: str) -> None: ...

    def reviews(self) -> list[ReviewItem]: ...

    def mark_reported(self, keys: Sequence[str], at: datetime) -> None: ...

    def put_week_load(self, days: Sequence[DayLoadRecord]) -> None:
        """The latest scan's load per day (replaces what was there)."""
        ...

    def week_load(self) -> list[DayLoadRecord]: ...

    def get_meta(self, name: str) -> str | None: ...

    def put_meta(self, name: str, value: str) -> None:
        """Small named values: last digest time, the review calendar's id, ..."""
        ...

    def close(self) -> None: ...


class Lock(Protocol):
    def __enter__(self) -> Lock: ...

    def __exit__(self, *exc: object) -> None: ...
