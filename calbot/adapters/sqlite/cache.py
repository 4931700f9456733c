"""`EventCache` in SQLite: the sync_tokens and event_cache tables."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from calbot.adapters.cache_items import (
    CACHE_BATCH,
    cache_rows,
    load_items,
    utc_text,
)
from calbot.adapters.sqlite.tables import Tables


class CacheTables(Tables):
    def sync_token(self, calendar_id: str) -> str | None:
        row = self._conn.execute(
            "SELECT token FROM sync_tokens WHERE calendar_id = ?", (calendar_id,)
        ).fetchone()
        return str(row[0]) if row is not None else None

    def put_sync_token(self, calendar_id: str, token: str | None) -> None:
        self._check_write()
        if token is None:
            self._conn.execute("DELETE FROM sync_tokens WHERE calendar_id = ?", (calendar_id,))
            return
        self._conn.execute(
            "INSERT INTO sync_tokens (calendar_id, token) VALUES (?, ?)"
            " ON CONFLICT (calendar_id) DO UPDATE SET token = excluded.token",
            (calendar_id, token),
        )

    def cached_events(self, calendar_id: str) -> list[dict[str, object]]:
        rows = self._conn.execute(
            "SELECT item FROM event_cache WHERE calendar_id = ? ORDER BY event_id",
            (calendar_id,),
        )
        return load_items(text for (text,) in rows)

    def iter_cached_events(self, calendar_id: str) -> Iterator[dict[str, object]]:
        """`cached_events` streamed in batches: memory stays flat however big the cache.
        Inside a transaction it sees that transaction's own writes."""
        cursor = self._conn.execute(
            "SELECT item FROM event_cache WHERE calendar_id = ? ORDER BY event_id",
            (calendar_id,),
        )
        try:
            while batch := cursor.fetchmany(CACHE_BATCH):
                yield from load_items(text for (text,) in batch)
        finally:
            cursor.close()

    def cached_events_between(
        self, calendar_id: str, start: datetime, end: datetime
    ) -> Iterator[dict[str, object]]:
        """The rows whose bounds may overlap [start, end), by the (calendar_id, start_utc)
        index: a rescan decodes the window's rows, not the calendar's. Streamed in
        batches like `iter_cached_events`."""
        cursor = self._conn.execute(
            "SELECT item FROM event_cache WHERE calendar_id = ? AND start_utc <= ?"
            " AND end_utc >= ? ORDER BY event_id",
            (calendar_id, utc_text(end), utc_text(start)),
        )
        try:
            while batch := cursor.fetchmany(CACHE_BATCH):
                yield from load_items(text for (text,) in batch)
        finally:
            cursor.close()

    def put_events(
        self,
        calendar_id: str,
        items: Sequence[dict[str, object]],
        texts: Sequence[str | None] | None = None,
    ) -> None:
        """Upsert by id; a cancelled item deletes. Applied in order (the last one wins)."""
        self._check_write()
        upserts, deletes = cache_rows(items, texts)
        if deletes:
            self._conn.executemany(
                "DELETE FROM event_cache WHERE calendar_id = ? AND event_id = ?",
                ((calendar_id, event_id) for event_id in deletes),
            )
        if upserts:
            self._conn.executemany(
                "INSERT INTO event_cache (calendar_id, event_id, item, start_utc, end_utc)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (calendar_id, event_id) DO UPDATE SET"
                " item = excluded.item, start_utc = excluded.start_utc,"
                " end_utc = excluded.end_utc",
                ((calendar_id, event_id, *row) for event_id, row in upserts.items()),
            )

    def move_events(self, from_calendar: str, to_calendar: str) -> None:
        """Give `from_calendar`'s cached events to `to_calendar` (whose own go first)."""
        self._check_write()
        self._conn.execute("DELETE FROM event_cache WHERE calendar_id = ?", (to_calendar,))
        self._conn.execute(
            "UPDATE event_cache SET calendar_id = ? WHERE calendar_id = ?",
            (to_calendar, from_calendar),
        )

    def drop_calendar(self, calendar_id: str) -> None:
        self._check_write()
        self._conn.execute("DELETE FROM sync_tokens WHERE calendar_id = ?", (calendar_id,))
        self._conn.execute("DELETE FROM event_cache WHERE calendar_id = ?", (calendar_id,))
