"""`Decisions`, `Goodwill` and `Ledger` in SQLite: the decisions, goodwill and sink_records
tables."""

from __future__ import annotations

from datetime import datetime

from calbot.adapters.sqlite.tables import Tables, dt_in, dt_out
from calbot.core.records import DecisionRecord, GoodwillEntry, SinkRecord
from calbot.core.vocab import DraftStatus


class LedgerTables(Tables):
    def decisions(self) -> dict[str, DecisionRecord]:
        rows = self._conn.execute(
            "SELECT key, event_id, client, action, score, fingerprint, decided_at FROM decisions"
        )
        return {
            key: DecisionRecord(key, event_id, client, action, score, fingerprint, dt_in(at))
            for key, event_id, client, action, score, fingerprint, at in rows
        }

    def put_decision(self, record: DecisionRecord) -> None:
        self._check_write()
        self._conn.execute(
            "INSERT INTO decisions (key, event_id, client, action, score, fingerprint,"
            " decided_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET event_id = excluded.event_id,"
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
        rows = self._conn.execute(
            "SELECT client, key, action, asked_at, meeting_start FROM goodwill"
            " WHERE asked_at >= ? ORDER BY asked_at, client, key, action",
            (dt_out(since, "since"),),
        )
        return [
            GoodwillEntry(client, key, action, dt_in(asked), dt_in(start))
            for client, key, action, asked, start in rows
        ]

    def add_goodwill(self, entry: GoodwillEntry) -> None:
        """Record an ask; the same ask again keeps its first `asked_at`."""
        self._check_write()
        self._conn.execute(
            "INSERT INTO goodwill (client, key, action, asked_at, meeting_start)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (client, key, action) DO UPDATE SET"
            " asked_at = CASE WHEN excluded.asked_at < goodwill.asked_at"
            " THEN excluded.asked_at ELSE goodwill.asked_at END,"
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
        rows = self._conn.execute(
            "SELECT key, action, message_id, ref, version, fingerprint, status, written_at,"
            " content_hash FROM sink_records WHERE sink = ?",
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
                written_at=dt_in(written_at),
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
        self._check_write()
        self._conn.execute(
            "INSERT INTO sink_records (sink, key, action, message_id, ref, version,"
            " fingerprint, status, written_at, content_hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sink, key) DO UPDATE SET"
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
                record.status,
                dt_out(record.written_at, "written_at"),
                record.content_hash,
            ),
        )

    def delete_sink_record(self, sink: str, key: str) -> None:
        self._check_write()
        self._conn.execute("DELETE FROM sink_records WHERE sink = ? AND key = ?", (sink, key))
