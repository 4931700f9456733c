"""The state store as small protocols, one per job: a use case asks for the ones it needs,
and a store (SQLite, in memory, later PostgreSQL) provides them all (`StateStore`).

The rules every store follows (`tests/contracts/store/` checks them):
- every write happens inside `Transactions.transaction()`; a write outside one raises
  `StateUsageError` (a programming error), and transactions do not nest;
- an exception inside `transaction()` rolls every write of that transaction back;
- a read-only store refuses every write with `ReadOnlyStoreError`;
- datetimes must be timezone-aware (ValueError otherwise) and come back aware.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from calbot.core.records import (
    DayLoadRecord,
    DecisionRecord,
    GoodwillEntry,
    HoldRecord,
    ReviewItem,
    RunRecord,
    SinkRecord,
)
from calbot.errors import CalbotError

#: How much of the runs log a store keeps (the digest reads "since the last digest").
RUNS_KEPT = timedelta(days=90)


class ReadOnlyStoreError(CalbotError):
    """A write reached a store opened read-only (a dry run must write nothing)."""


class StateUsageError(RuntimeError):
    """A bug in the caller: a write outside `transaction()`, nested transactions, use after
    `close()`."""


class Transactions(Protocol):
    def transaction(self) -> AbstractContextManager[None]:
        """Writes inside commit together at the end, or not at all on an exception."""
        ...


class Decisions(Protocol):
    """The latest decision per draft key."""

    def decisions(self) -> dict[str, DecisionRecord]: ...

    def put_decision(self, record: DecisionRecord) -> None: ...


class Goodwill(Protocol):
    """The asks calbot drafted per client, for the goodwill window."""

    def goodwill(self, since: datetime) -> list[GoodwillEntry]:
        """Entries asked at or after `since`, oldest first."""
        ...

    def add_goodwill(self, entry: GoodwillEntry) -> None:
        """The same ask again (client, key, action) keeps the earliest `asked_at` — when
        calbot first drafted it — and takes the new `meeting_start`."""
        ...


@dataclass(frozen=True, slots=True)
class PendingCreate:
    """A draft create calbot started (`started_at`, aware) whose outcome is not yet known:
    Gmail may have made the draft although calbot never heard back. Until the draft is found
    by its Message-ID (or calbot's own header), no second create is made for `key`."""

    sink: str
    key: str
    message_id: str
    started_at: datetime


class Ledger(Protocol):
    """What calbot last wrote into each sink, per draft key."""

    def sink_records(self, sink: str) -> dict[str, SinkRecord]: ...

    def put_sink_record(self, record: SinkRecord) -> None: ...

    def delete_sink_record(self, sink: str, key: str) -> None: ...

    def pending_creates(self, sink: str) -> dict[str, PendingCreate]:
        """Creates started and not yet known to have landed or failed, by draft key."""
        ...

    def put_pending_create(self, pending: PendingCreate) -> None:
        """Recorded before a create that is not safe to repeat; one per (sink, key)."""
        ...

    def delete_pending_create(self, sink: str, key: str) -> None: ...


class EventCache(Protocol):
    """Per-calendar sync state a remote source keeps in the state store. Each item is kept
    as compact JSON text: what comes back is a fresh copy."""

    def sync_token(self, calendar_id: str) -> str | None: ...

    def put_sync_token(self, calendar_id: str, token: str | None) -> None:
        """None forgets the token."""
        ...

    def cached_events(self, calendar_id: str) -> list[dict[str, object]]:
        """The calendar's cached events as the API returned them, ordered by id."""
        ...

    def put_events(
        self,
        calendar_id: str,
        items: Sequence[dict[str, object]],
        texts: Sequence[str | None] | None = None,
    ) -> None:
        """Upsert by `id`, in order (the last one wins); an item with status "cancelled"
        removes it from the cache. An item that is not JSON fails here. `texts`, one per
        item when given: an item's JSON text as the API sent it (its value is the item),
        kept as it is instead of encoding the item again; None where not known."""
        ...

    def iter_cached_events(self, calendar_id: str) -> Iterator[dict[str, object]]:
        """`cached_events`, streamed (memory stays flat however big the cache)."""
        ...

    def move_events(self, from_calendar: str, to_calendar: str) -> None:
        """Give one calendar's cached events to another (a staged full sync swapped in)."""
        ...

    # --- window read (issue 12) ---
    def cached_events_between(
        self, calendar_id: str, start: datetime, end: datetime
    ) -> Iterator[dict[str, object]]:
        """The cached events that may overlap [start, end), streamed: every one that does,
        plus any whose times cannot be bracketed (`cache_items.item_bounds`), read with an
        index rather than by decoding the whole cache. The reader still checks each."""
        ...

    def drop_calendar(self, calendar_id: str) -> None:
        """Forget the calendar's token and events (a 410: sync from scratch)."""
        ...


class SyncCache(EventCache, Transactions, Protocol):
    """The event cache as a syncing source uses it: written inside `transaction()`."""


class RunLog(Protocol):
    """One record per scan, kept for `RUNS_KEPT`."""

    def add_run(self, run: RunRecord) -> None:
        """Log a run; runs that finished more than `RUNS_KEPT` before it are forgotten."""
        ...

    def runs(self, since: datetime) -> list[RunRecord]:
        """Runs that finished at or after `since`, oldest first (ties in logging order)."""
        ...


class ReviewLog(Protocol):
    """What the morning digest lists: drafted replies waiting for review, and the latest
    scan's load per day."""

    def put_review(self, item: ReviewItem) -> None:
        """Upsert by key. A changed item (`records.review_is_news`) is unreported again; an
        unchanged one keeps its `reported_at`."""
        ...

    def delete_review(self, key: str) -> None: ...

    def reviews(self) -> list[ReviewItem]:
        """Ordered by start, then key."""
        ...

    def mark_reported(self, keys: Sequence[str], at: datetime) -> None: ...

    def put_week_load(self, days: Sequence[DayLoadRecord]) -> None:
        """The latest scan's load per day (replaces what was there)."""
        ...

    def week_load(self) -> list[DayLoadRecord]:
        """Ordered by day."""
        ...


class Holds(Protocol):
    """Slots offered in pending drafts (SPEC §1.7), per draft key."""

    def holds(self) -> list[HoldRecord]:
        """Every hold, ordered by start, then key."""
        ...

    def put_holds(self, key: str, holds: Sequence[HoldRecord]) -> None:
        """Replace the key's holds with `holds` (none: the key holds nothing). Each hold's
        `key` must be `key`, its times aware, its end after its start (ValueError)."""
        ...


class Meta(Protocol):
    """Small named values: last digest time, the review calendar's id, ..."""

    def get_meta(self, name: str) -> str | None: ...

    def put_meta(self, name: str, value: str) -> None: ...


class StateStore(
    Decisions, Goodwill, Ledger, SyncCache, RunLog, ReviewLog, Holds, Meta, Transactions, Protocol
):
    """A whole store: every small protocol, and `close()` for whoever opened it."""

    def close(self) -> None: ...


class Lock(Protocol):
    def __enter__(self) -> Lock: ...

    def __exit__(self, *exc: object) -> None: ...
