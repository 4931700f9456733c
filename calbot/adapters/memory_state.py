"""The state store in memory: a real fake of `SqliteStore` (same rules, same errors).

Used by dry runs before any store exists (read-only), by the demo and by tests. It follows
every rule in `calbot.ports.store`, and keeps the event cache as JSON text like the SQLite
store, so an item that is not JSON-serialisable fails at `put_events` in both.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from calbot.adapters.cache_items import (
    CACHE_BATCH,
    cache_rows,
    item_bounds,
    load_items,
    utc_text,
)
from calbot.core.records import (
    DayLoadRecord,
    DecisionRecord,
    GoodwillEntry,
    HoldRecord,
    ReviewItem,
    RunRecord,
    SinkRecord,
    check_holds,
    check_review,
    check_run,
    merge_review,
    require_aware,
)
from calbot.ports.store import RUNS_KEPT, PendingCreate, ReadOnlyStoreError, StateUsageError


@dataclass
class _Tables:
    decisions: dict[str, DecisionRecord] = field(default_factory=dict)
    goodwill: dict[tuple[str, str, str], GoodwillEntry] = field(default_factory=dict)
    sink_records: dict[tuple[str, str], SinkRecord] = field(default_factory=dict)
    sync_tokens: dict[str, str] = field(default_factory=dict)
    event_cache: dict[str, dict[str, str]] = field(default_factory=dict)  # cal → id → JSON
    runs: list[RunRecord] = field(default_factory=list)  # in insertion order
    reviews: dict[str, ReviewItem] = field(default_factory=dict)
    week_load: dict[date, DayLoadRecord] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    holds: dict[str, list[HoldRecord]] = field(default_factory=dict)  # key → its holds
    pending: dict[tuple[str, str], PendingCreate] = field(default_factory=dict)

    def copy(self) -> _Tables:
        return _Tables(
            dict(self.decisions),
            dict(self.goodwill),
            dict(self.sink_records),
            dict(self.sync_tokens),
            {cal: dict(items) for cal, items in self.event_cache.items()},
            list(self.runs),
            dict(self.reviews),
            dict(self.week_load),
            dict(self.meta),
            {key: list(held) for key, held in self.holds.items()},
            dict(self.pending),
        )


class MemoryStore:
    """`StateStore` kept in a few dicts. Records are frozen, so sharing them is safe."""

    def __init__(self, *, readonly: bool = False) -> None:
        self.readonly = readonly
        self._tables = _Tables()
        self._in_transaction = False
        self._closed = False

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._check_open()
        if self._in_transaction:
            raise StateUsageError("state store transactions do not nest")
        saved = self._tables.copy()
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self._tables = saved
            raise
        finally:
            self._in_transaction = False

    def transaction(self) -> AbstractContextManager[None]:
        """Writes inside commit together at the end, or not at all on an exception."""
        return self._transaction()

    # -- reads -----------------------------------------------------------------------------

    def decisions(self) -> dict[str, DecisionRecord]:
        self._check_open()
        return dict(self._tables.decisions)

    def goodwill(self, since: datetime) -> list[GoodwillEntry]:
        self._check_open()
        require_aware(since, "since")
        entries = [e for e in self._tables.goodwill.values() if e.asked_at >= since]
        return sorted(entries, key=lambda e: (e.asked_at, e.client, e.key, e.action))

    def sink_records(self, sink: str) -> dict[str, SinkRecord]:
        self._check_open()
        return {key: r for (name, key), r in self._tables.sink_records.items() if name == sink}

    def sync_token(self, calendar_id: str) -> str | None:
        self._check_open()
        return self._tables.sync_tokens.get(calendar_id)

    def cached_events(self, calendar_id: str) -> list[dict[str, object]]:
        self._check_open()
        items = self._tables.event_cache.get(calendar_id, {})
        return load_items(items[event_id] for event_id in sorted(items))

    def iter_cached_events(self, calendar_id: str) -> Iterator[dict[str, object]]:
        """`cached_events` streamed in batches (the SQLite store's shape)."""
        self._check_open()
        items = self._tables.event_cache.get(calendar_id, {})
        ids = sorted(items)
        for i in range(0, len(ids), CACHE_BATCH):
            yield from load_items(items[event_id] for event_id in ids[i : i + CACHE_BATCH])

    # --- window read (issue 12) ---
    def cached_events_between(
        self, calendar_id: str, start: datetime, end: datetime
    ) -> Iterator[dict[str, object]]:
        """The SQLite store's selection (by `item_bounds`), without its index."""
        low, high = utc_text(start), utc_text(end)
        for item in self.iter_cached_events(calendar_id):
            first, last = item_bounds(item)
            if first <= high and last >= low:
                yield item

    # -- writes ----------------------------------------------------------------------------

    def put_sync_token(self, calendar_id: str, token: str | None) -> None:
        self._check_write()
        if token is None:
            self._tables.sync_tokens.pop(calendar_id, None)
        else:
            self._tables.sync_tokens[calendar_id] = token

    def put_events(
        self,
        calendar_id: str,
        items: Sequence[dict[str, object]],
        texts: Sequence[str | None] | None = None,
    ) -> None:
        self._check_write()
        upserts, deletes = cache_rows(items, texts)
        cached = self._tables.event_cache.setdefault(calendar_id, {})
        for event_id in deletes:
            cached.pop(event_id, None)
        cached.update((event_id, text) for event_id, (text, _, _) in upserts.items())
        if not cached:
            del self._tables.event_cache[calendar_id]

    def drop_calendar(self, calendar_id: str) -> None:
        self._check_write()
        self._tables.sync_tokens.pop(calendar_id, None)
        self._tables.event_cache.pop(calendar_id, None)

    def move_events(self, from_calendar: str, to_calendar: str) -> None:
        """Give `from_calendar`'s cached events to `to_calendar` (whose own go first)."""
        self._check_write()
        self._tables.event_cache.pop(to_calendar, None)
        moved = self._tables.event_cache.pop(from_calendar, None)
        if moved:
            self._tables.event_cache[to_calendar] = moved

    def put_decision(self, record: DecisionRecord) -> None:
        self._check_write()
        require_aware(record.decided_at, "decided_at")
        self._tables.decisions[record.key] = record

    def add_goodwill(self, entry: GoodwillEntry) -> None:
        self._check_write()
        require_aware(entry.asked_at, "asked_at")
        require_aware(entry.meeting_start, "meeting_start")
        ident = (entry.client, entry.key, entry.action)
        known = self._tables.goodwill.get(ident)
        if known is not None and known.asked_at < entry.asked_at:
            entry = replace(entry, asked_at=known.asked_at)
        self._tables.goodwill[ident] = entry

    def put_sink_record(self, record: SinkRecord) -> None:
        self._check_write()
        require_aware(record.written_at, "written_at")
        self._tables.sink_records[(record.sink, record.key)] = record

    def delete_sink_record(self, sink: str, key: str) -> None:
        self._check_write()
        self._tables.sink_records.pop((sink, key), None)

    def pending_creates(self, sink: str) -> dict[str, PendingCreate]:
        self._check_open()
        return {key: p for (name, key), p in self._tables.pending.items() if name == sink}

    def put_pending_create(self, pending: PendingCreate) -> None:
        self._check_write()
        require_aware(pending.started_at, "started_at")
        self._tables.pending[(pending.sink, pending.key)] = pending

    def delete_pending_create(self, sink: str, key: str) -> None:
        self._check_write()
        self._tables.pending.pop((sink, key), None)

    # -- the morning review -----------------------------------------------------------------

    def add_run(self, run: RunRecord) -> None:
        self._check_write()
        run = check_run(run)
        cutoff = run.finished_at - RUNS_KEPT
        self._tables.runs = [r for r in self._tables.runs if r.finished_at >= cutoff]
        self._tables.runs.append(run)

    def runs(self, since: datetime) -> list[RunRecord]:
        self._check_open()
        require_aware(since, "since")
        indexed = [(r.finished_at, i, r) for i, r in enumerate(self._tables.runs)]
        return [r for at, _, r in sorted(indexed, key=lambda x: (x[0], x[1])) if at >= since]

    def put_review(self, item: ReviewItem) -> None:
        self._check_write()
        item = check_review(item)
        self._tables.reviews[item.key] = merge_review(self._tables.reviews.get(item.key), item)

    def delete_review(self, key: str) -> None:
        self._check_write()
        self._tables.reviews.pop(key, None)

    def reviews(self) -> list[ReviewItem]:
        self._check_open()
        return sorted(self._tables.reviews.values(), key=lambda r: (r.start, r.key))

    def mark_reported(self, keys: Sequence[str], at: datetime) -> None:
        self._check_write()
        require_aware(at, "at")
        for key in keys:
            known = self._tables.reviews.get(key)
            if known is not None:
                self._tables.reviews[key] = replace(known, reported_at=at)

    def put_week_load(self, days: Sequence[DayLoadRecord]) -> None:
        self._check_write()
        self._tables.week_load = {d.day: d for d in days}

    def week_load(self) -> list[DayLoadRecord]:
        self._check_open()
        return [self._tables.week_load[d] for d in sorted(self._tables.week_load)]

    def holds(self) -> list[HoldRecord]:
        self._check_open()
        every = [h for held in self._tables.holds.values() for h in held]
        return sorted(every, key=lambda h: (h.start, h.key))

    def put_holds(self, key: str, holds: Sequence[HoldRecord]) -> None:
        self._check_write()
        checked = check_holds(key, holds)
        if checked:
            self._tables.holds[key] = checked
        else:
            self._tables.holds.pop(key, None)

    def get_meta(self, name: str) -> str | None:
        self._check_open()
        return self._tables.meta.get(name)

    def put_meta(self, name: str, value: str) -> None:
        self._check_write()
        self._tables.meta[name] = value

    def close(self) -> None:
        self._closed = True

    # -- helpers ---------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StateUsageError("the state store is closed")

    def _check_write(self) -> None:
        self._check_open()
        if self.readonly:
            raise ReadOnlyStoreError("the state store is open read-only; nothing is written")
        if not self._in_transaction:
            raise StateUsageError("state store writes must happen inside transaction()")
