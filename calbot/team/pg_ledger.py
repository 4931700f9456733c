"""`Decisions`, `Goodwill`, `Ledger` and `EventCache` in PostgreSQL, per user: the
decisions, goodwill, sink_records, sync_tokens and event_cache tables."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from calbot.adapters.cache_items import (
    CACHE_BATCH,
    cache_rows,
    load_items,
    utc_text,
)
from calbot.core.records import DecisionRecord, GoodwillEntry, SinkRecord
from calbot.core.vocab import DraftStatus
from calbot.ports.store import PendingCreate
from calbot.team.pg_tables import PgTables, dt_out


class PgLedgerTables(PgTables):
    def decisions(self) -> dict[str, DecisionRecord]:
        rows = self._rows(
            "SELECT key, event_id, client, action, score, fingerprint, decided_at"
            " FROM decisions WHERE user_id = %s"
        )
        return {row[0]: DecisionRecord(*row) for row in rows}

    def put_decision(self, record: DecisionRecord) -> None:
        self._write(
            "INSERT INTO decisions (user_id, key, event_id, client, action, score, fingerprint,"
            " decided_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (user_id, key) DO UPDATE SET event_id = excluded.event_id,"
            " client = excluded.client, action = excluded.action, score = excluded.score,"
            " fingerprint = excluded.fingerprint, decided_at = excluded.decided_at",
            (
                record.key,
                record.event_id,
                record.client,
                record.action,
                record.score,
                record.fingerprint,
                dt_out(record.decided_at, "decided_at"),
            ),
        )

    def goodwill(self, since: datetime) -> list[GoodwillEntry]:
        rows = self._rows(
            "SELECT client, key, action, asked_at, meeting_start FROM goodwill"
            " WHERE user_id = %s AND asked_at >= %s ORDER BY asked_at, client, key, action",
            (dt_out(since, "since"),),
        )
        return [GoodwillEntry(*row) for row in rows]

    def add_goodwill(self, entry: GoodwillEntry) -> None:
        """Record an ask; the same ask again keeps its first `asked_at`."""
        self._write(
            "INSERT INTO goodwill (user_id, client, key, action, asked_at, meeting_start)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (user_id, client, key, action)"
            " DO UPDATE SET asked_at = LEAST(goodwill.asked_at, excluded.asked_at),"
            " meeting_start = excluded.meeting_start",
            (
                entry.client,
                entry.key,
                entry.action,
                dt_out(entry.asked_at, "asked_at"),
                dt_out(entry.meeting_start, "meeting_start"),
            ),
        )

    def sink_records(self, sink: str) -> dict[str, SinkRecord]:
        rows = self._rows(
            "SELECT key, action, message_id, ref, version, fingerprint, status, written_at,"
            " content_hash FROM sink_records WHERE user_id = %s AND sink = %s",
            (sink,),
        )
        return {
            key: SinkRecord(
                key=key,
                sink=sink,
                action=action,
                message_id=message_id,
                ref=ref,
                version=version,
                fingerprint=fingerprint,
                status=DraftStatus(status),
                written_at=written_at,
                content_hash=content_hash,
            )
            for (
                key,
                action,
                message_id,
                ref,
                version,
                fingerprint,
                status,
                written_at,
                content_hash,
            ) in rows
        }

    def put_sink_record(self, record: SinkRecord) -> None:
        self._write(
            "INSERT INTO sink_records (user_id, sink, key, action, message_id, ref, version,"
            " fingerprint, status, written_at, content_hash)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (user_id, sink, key) DO UPDATE SET"
            " action = excluded.action, message_id = excluded.message_id,"
            " ref = excluded.ref, version = excluded.version,"
            " fingerprint = excluded.fingerprint, status = excluded.status,"
            " written_at = excluded.written_at, content_hash = excluded.content_hash",
            (
                record.sink,
                record.key,
                record.action,
                record.message_id,
                record.ref,
                record.version,
                record.fingerprint,
                str(record.status),
                dt_out(record.written_at, "written_at"),
                record.content_hash,
            ),
        )

    def delete_sink_record(self, sink: str, key: str) -> None:
        self._write(
            "DELETE FROM sink_records WHERE user_id = %s AND sink = %s AND key = %s", (sink, key)
        )

    def pending_creates(self, sink: str) -> dict[str, PendingCreate]:
        rows = self._rows(
            "SELECT key, message_id, started_at FROM pending_creates"
            " WHERE user_id = %s AND sink = %s",
            (sink,),
        )
        return {key: PendingCreate(sink, key, mid, at) for key, mid, at in rows}

    def put_pending_create(self, pending: PendingCreate) -> None:
        self._write(
            "INSERT INTO pending_creates (user_id, sink, key, message_id, started_at)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (user_id, sink, key) DO UPDATE SET"
            " message_id = excluded.message_id, started_at = excluded.started_at",
            (
                pending.sink,
                pending.key,
                pending.message_id,
                dt_out(pending.started_at, "started_at"),
            ),
        )

    def delete_pending_create(self, sink: str, key: str) -> None:
        self._write(
            "DELETE FROM pending_creates WHERE user_id = %s AND sink = %s AND key = %s",
            (sink, key),
        )

    # --- EventCache ----------------------------------------------------------------------

    def sync_token(self, calendar_id: str) -> str | None:
        row = self._one(
            "SELECT token FROM sync_tokens WHERE user_id = %s AND calendar_id = %s",
            (calendar_id,),
        )
        return None if row is None else str(row[0])

    def put_sync_token(self, calendar_id: str, token: str | None) -> None:
        if token is None:
            self._write(
                "DELETE FROM sync_tokens WHERE user_id = %s AND calendar_id = %s", (calendar_id,)
            )
            return
        self._write(
            "INSERT INTO sync_tokens (user_id, calendar_id, token) VALUES (%s, %s, %s)"
            " ON CONFLICT (user_id, calendar_id) DO UPDATE SET token = excluded.token",
            (calendar_id, token),
        )

    def cached_events(self, calendar_id: str) -> list[dict[str, object]]:
        rows = self._rows(
            "SELECT item FROM event_cache WHERE user_id = %s AND calendar_id = %s"
            " ORDER BY event_id",
            (calendar_id,),
        )
        return load_items(text for (text,) in rows)

    def iter_cached_events(self, calendar_id: str) -> Iterator[dict[str, object]]:
        """`cached_events` in pages by event id (keyset): memory stays flat, and the
        connection stays free for writes between pages."""
        after = ""
        while True:
            rows = self._rows(
                "SELECT event_id, item FROM event_cache WHERE user_id = %s"
                " AND calendar_id = %s AND event_id > %s ORDER BY event_id LIMIT %s",
                (calendar_id, after, CACHE_BATCH),
            )
            if not rows:
                return
            after = rows[-1][0]
            yield from load_items(text for (_, text) in rows)
            if len(rows) < CACHE_BATCH:
                return

    # --- window read (issue 12) ---
    def cached_events_between(
        self, calendar_id: str, start: datetime, end: datetime
    ) -> Iterator[dict[str, object]]:
        """The rows whose bounds may overlap [start, end) (the SQLite store's selection, by
        the event_cache_window index), in keyset pages by event id."""
        after = ""
        while True:
            rows = self._rows(
                "SELECT event_id, item FROM event_cache WHERE user_id = %s"
                " AND calendar_id = %s AND start_utc <= %s AND end_utc >= %s"
                " AND event_id > %s ORDER BY event_id LIMIT %s",
                (calendar_id, utc_text(end), utc_text(start), after, CACHE_BATCH),
            )
            if not rows:
                return
            after = rows[-1][0]
            yield from load_items(text for (_, text) in rows)
            if len(rows) < CACHE_BATCH:
                return

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
            self._write(
                "DELETE FROM event_cache WHERE user_id = %s AND calendar_id = %s"
                " AND event_id = ANY(%s)",
                (calendar_id, sorted(deletes)),
            )
        self._write_many(
            "INSERT INTO event_cache (user_id, calendar_id, event_id, item, start_utc, end_utc)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (user_id, calendar_id, event_id)"
            " DO UPDATE SET item = excluded.item, start_utc = excluded.start_utc,"
            " end_utc = excluded.end_utc",
            [(calendar_id, event_id, *row) for event_id, row in upserts.items()],
        )

    def move_events(self, from_calendar: str, to_calendar: str) -> None:
        """Give `from_calendar`'s cached events to `to_calendar` (whose own go first)."""
        self._write(
            "DELETE FROM event_cache WHERE user_id = %s AND calendar_id = %s", (to_calendar,)
        )
        # user_id comes first in `_write`'s parameters, so this one is spelled out
        self._conn.execute(
            "UPDATE event_cache SET calendar_id = %s WHERE user_id = %s AND calendar_id = %s",
            (to_calendar, self._user, from_calendar),
        )

    def drop_calendar(self, calendar_id: str) -> None:
        self._write(
            "DELETE FROM sync_tokens WHERE user_id = %s AND calendar_id = %s", (calendar_id,)
        )
        self._write(
            "DELETE FROM event_cache WHERE user_id = %s AND calendar_id = %s", (calendar_id,)
        )
