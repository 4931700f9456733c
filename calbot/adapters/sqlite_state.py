"""The embedded state store: one SQLite file, `state.sqlite3`, in the state dir.

Same rules as `MemoryStore` (see `calbot.adapters.memory_state`): writes only inside
`transaction()` (BEGIN IMMEDIATE ... COMMIT, ROLLBACK on any exception), read-only stores
refuse writes, datetimes in and out are timezone-aware.

Portability (SPEC §11): plain tables, TEXT/INTEGER columns, composite primary keys and
`INSERT ... ON CONFLICT (...) DO UPDATE`, all of which PostgreSQL speaks too. The schema
version lives in a `schema_version` table, not in `PRAGMA user_version`. Datetimes are
stored as ISO-8601 text normalised to UTC with microseconds
(`2025-01-07T09:30:00.000000+00:00`), so text order is time order and `goodwill(since)`
filters in SQL; they come back as aware UTC datetimes (equal to what was written).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from calbot.adapters.memory_state import (
    CACHE_BATCH,
    RUNS_KEPT,
    MemoryStore,
    ReadOnlyStoreError,
    StateUsageError,
    check_review,
    check_run,
    item_json,
    load_items,
    merge_review,
    require_aware,
)
from calbot.core.records import (
    DayLoadRecord,
    DecisionRecord,
    GoodwillEntry,
    ReviewItem,
    RunRecord,
    SinkRecord,
)
from calbot.errors import CalbotError
from calbot.ports.store import StateStore

DB_NAME = "state.sqlite3"
BUSY_TIMEOUT_SECONDS = 30.0

Migration = Callable[[sqlite3.Connection], None]
#: Applied in order; the schema version is the number of migrations applied. Append only.
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


@migration
def _create_tables(conn: sqlite3.Connection) -> None:
    conn.execute(
        """CREATE TABLE decisions (
            key TEXT NOT NULL PRIMARY KEY,
            event_id TEXT NOT NULL,
            client TEXT NOT NULL,
            action TEXT NOT NULL,
            score INTEGER NOT NULL,
            fingerprint TEXT NOT NULL,
            decided_at TEXT NOT NULL
        )"""
    )
    conn.execute(
        """CREATE TABLE goodwill (
            client TEXT NOT NULL,
            key TEXT NOT NULL,
            action TEXT NOT NULL,
            asked_at TEXT NOT NULL,
            meeting_start TEXT NOT NULL,
            PRIMARY KEY (client, key, action)
        )"""
    )
    conn.execute("CREATE INDEX goodwill_asked_at ON goodwill (asked_at)")
    conn.execute(
        """CREATE TABLE sink_records (
            sink TEXT NOT NULL,
            key TEXT NOT NULL,
            action TEXT NOT NULL,
            message_id TEXT NOT NULL,
            ref TEXT NOT NULL,
            version TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            status TEXT NOT NULL,
            written_at TEXT NOT NULL,
            content_hash TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (sink, key)
        )"""
    )


@migration
def _event_cache(conn: sqlite3.Connection) -> None:
    """Google sync state per calendar: the `syncToken` and the cached events (compact JSON,
    only the fields the scan asks for)."""
    conn.execute(
        """CREATE TABLE sync_tokens (
            calendar_id TEXT NOT NULL PRIMARY KEY,
            token TEXT NOT NULL
        )"""
    )
    conn.execute(
        """CREATE TABLE event_cache (
            calendar_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            item TEXT NOT NULL,
            PRIMARY KEY (calendar_id, event_id)
        )"""
    )


@migration
def _review_tables(conn: sqlite3.Connection) -> None:
    """What the morning digest reads: the runs log, one review item per drafted reply, the
    latest scan's load per day, and small named values (`meta`). JSON goes in TEXT columns;
    `runs.id` orders runs that finished at the same instant (PostgreSQL: an identity
    column)."""
    conn.execute(
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            outcome TEXT NOT NULL,
            error TEXT NOT NULL,
            counts TEXT NOT NULL,
            warnings TEXT NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX runs_finished_at ON runs (finished_at)")
    conn.execute(
        """CREATE TABLE reviews (
            key TEXT NOT NULL PRIMARY KEY,
            client TEXT NOT NULL,
            summary TEXT NOT NULL,
            start TEXT NOT NULL,
            "end" TEXT NOT NULL,
            action TEXT NOT NULL,
            reason TEXT NOT NULL,
            event_link TEXT NOT NULL,
            drafts TEXT NOT NULL,
            saved_minutes INTEGER NOT NULL,
            status TEXT NOT NULL,
            drafted_at TEXT NOT NULL,
            reported_at TEXT NULL
        )"""
    )
    conn.execute(
        """CREATE TABLE week_load (
            day TEXT NOT NULL PRIMARY KEY,
            meeting_minutes REAL NOT NULL,
            meeting_count INTEGER NOT NULL
        )"""
    )
    conn.execute(
        """CREATE TABLE meta (
            name TEXT NOT NULL PRIMARY KEY,
            value TEXT NOT NULL
        )"""
    )


_REVIEW_COLUMNS = (
    'key, client, summary, start, "end", action, reason, event_link, drafts, saved_minutes,'
    " status, drafted_at, reported_at"
)
_SELECT_REVIEWS = f"SELECT {_REVIEW_COLUMNS} FROM reviews"  # noqa: S608 (constants only)
_MARKS = ", ".join("?" * 13)
_INSERT_REVIEW = f"INSERT INTO reviews ({_REVIEW_COLUMNS}) VALUES ({_MARKS})"  # noqa: S608
_UPSERT_REVIEW = _INSERT_REVIEW + (
    " ON CONFLICT (key) DO UPDATE SET client = excluded.client,"
    ' summary = excluded.summary, start = excluded.start, "end" = excluded."end",'
    " action = excluded.action, reason = excluded.reason, event_link = excluded.event_link,"
    " drafts = excluded.drafts, saved_minutes = excluded.saved_minutes,"
    " status = excluded.status, drafted_at = excluded.drafted_at,"
    " reported_at = excluded.reported_at"
)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _review_row(item: ReviewItem) -> tuple[object, ...]:
    return (
        item.key,
        item.client,
        item.summary,
        _dt_out(item.start, "start"),
        _dt_out(item.end, "end"),
        item.action,
        item.reason,
        item.event_link,
        _json(dict(item.drafts)),
        item.saved_minutes,
        item.status,
        _dt_out(item.drafted_at, "drafted_at"),
        None if item.reported_at is None else _dt_out(item.reported_at, "reported_at"),
    )


def _review_of(row: Sequence[Any]) -> ReviewItem:
    reported = row[12]
    return ReviewItem(
        key=row[0],
        client=row[1],
        summary=row[2],
        start=_dt_in(row[3]),
        end=_dt_in(row[4]),
        action=row[5],
        reason=row[6],
        event_link=row[7],
        drafts={str(k): str(v) for k, v in json.loads(row[8]).items()},
        saved_minutes=int(row[9]),
        status=row[10],
        drafted_at=_dt_in(row[11]),
        reported_at=None if reported is None else _dt_in(reported),
    )


def _dt_out(value: datetime, what: str) -> str:
    require_aware(value, what)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _dt_in(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class SqliteStore:
    """`StateStore` in one SQLite file. Open it with `SqliteStore.open`."""

    def __init__(self, conn: sqlite3.Connection, path: Path, *, readonly: bool) -> None:
        self._conn = conn
        self.path = path
        self.readonly = readonly
        self._in_transaction = False

    @classmethod
    def open(cls, state_dir: Path, *, readonly: bool = False) -> StateStore:
        """The store in `state_dir`, migrated to the current schema.

        Read-only (dry runs): nothing is created; a missing store reads as an empty one
        (a read-only `MemoryStore`), an existing one is opened with SQLite's `mode=ro`.
        Otherwise the dir is created 0700 and the file 0600 when missing.
        """
        state_dir = Path(state_dir).expanduser()
        path = state_dir / DB_NAME
        if readonly and not path.exists():
            return MemoryStore(readonly=True)
        try:
            if readonly:
                uri = f"file:{quote(str(path.resolve()))}?mode=ro"
                conn = _connect(uri, uri=True)
            else:
                _prepare_files(state_dir, path)
                conn = _connect(str(path), uri=False)
                conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.Error as exc:
            raise CalbotError(f"cannot open the state store at {path}: {exc}") from exc
        store = cls(conn, path, readonly=readonly)
        try:
            if readonly and store.schema_version() == 0:  # a file calbot never set up
                conn.close()
                return MemoryStore(readonly=True)
            store._migrate()
        except sqlite3.Error as exc:
            conn.close()
            raise CalbotError(f"cannot open the state store at {path}: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        return store

    # -- transactions ----------------------------------------------------------------------

    def transaction(self) -> AbstractContextManager[None]:
        """Writes inside commit together at the end, or not at all on an exception."""
        return self._transaction()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        if self._in_transaction:
            raise StateUsageError("state store transactions do not nest")
        if self.readonly:  # nothing to commit; writes inside raise ReadOnlyStoreError
            self._in_transaction = True
            try:
                yield
            finally:
                self._in_transaction = False
            return
        self._conn.execute("BEGIN IMMEDIATE")
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self._in_transaction = False
            self._conn.execute("ROLLBACK")
            raise
        self._in_transaction = False
        self._conn.execute("COMMIT")

    # -- reads -----------------------------------------------------------------------------

    def decisions(self) -> dict[str, DecisionRecord]:
        rows = self._conn.execute(
            "SELECT key, event_id, client, action, score, fingerprint, decided_at FROM decisions"
        )
        return {
            key: DecisionRecord(key, event_id, client, action, score, fingerprint, _dt_in(at))
            for key, event_id, client, action, score, fingerprint, at in rows
        }

    def goodwill(self, since: datetime) -> list[GoodwillEntry]:
        rows = self._conn.execute(
            "SELECT client, key, action, asked_at, meeting_start FROM goodwill"
            " WHERE asked_at >= ? ORDER BY asked_at, client, key, action",
            (_dt_out(since, "since"),),
        )
        return [
            GoodwillEntry(client, key, action, _dt_in(asked), _dt_in(start))
            for client, key, action, asked, start in rows
        ]

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
                status=status,
                written_at=_dt_in(written_at),
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

    def sync_token(self, calendar_id: str) -> str | None:
        row = self._conn.execute(
            "SELECT token FROM sync_tokens WHERE calendar_id = ?", (calendar_id,)
        ).fetchone()
        return str(row[0]) if row is not None else None

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

    # -- writes ----------------------------------------------------------------------------

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

    def put_events(self, calendar_id: str, items: Sequence[dict[str, object]]) -> None:
        """Upsert by id; a cancelled item deletes. Applied in order (the last one wins)."""
        self._check_write()
        upserts: dict[str, str] = {}
        deletes: set[str] = set()
        for item in items:
            event_id, text = item_json(item)
            if text is None:
                upserts.pop(event_id, None)
                deletes.add(event_id)
            else:
                deletes.discard(event_id)
                upserts[event_id] = text
        if deletes:
            self._conn.executemany(
                "DELETE FROM event_cache WHERE calendar_id = ? AND event_id = ?",
                ((calendar_id, event_id) for event_id in deletes),
            )
        if upserts:
            self._conn.executemany(
                "INSERT INTO event_cache (calendar_id, event_id, item) VALUES (?, ?, ?)"
                " ON CONFLICT (calendar_id, event_id) DO UPDATE SET item = excluded.item",
                ((calendar_id, event_id, text) for event_id, text in upserts.items()),
            )

    def drop_calendar(self, calendar_id: str) -> None:
        self._check_write()
        self._conn.execute("DELETE FROM sync_tokens WHERE calendar_id = ?", (calendar_id,))
        self._conn.execute("DELETE FROM event_cache WHERE calendar_id = ?", (calendar_id,))

    def move_events(self, from_calendar: str, to_calendar: str) -> None:
        """Give `from_calendar`'s cached events to `to_calendar` (whose own go first)."""
        self._check_write()
        self._conn.execute("DELETE FROM event_cache WHERE calendar_id = ?", (to_calendar,))
        self._conn.execute(
            "UPDATE event_cache SET calendar_id = ? WHERE calendar_id = ?",
            (to_calendar, from_calendar),
        )

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
                _dt_out(record.decided_at, "decided_at"),
            ),
        )

    def add_goodwill(self, entry: GoodwillEntry) -> None:
        """Record an ask; the same ask again keeps its first `asked_at` (see MemoryStore)."""
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
                _dt_out(entry.asked_at, "asked_at"),
                _dt_out(entry.meeting_start, "meeting_start"),
            ),
        )

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
                _dt_out(record.written_at, "written_at"),
                record.content_hash,
            ),
        )

    def delete_sink_record(self, sink: str, key: str) -> None:
        self._check_write()
        self._conn.execute("DELETE FROM sink_records WHERE sink = ? AND key = ?", (sink, key))

    # -- the morning review -----------------------------------------------------------------

    def add_run(self, run: RunRecord) -> None:
        """Log a run; runs that finished more than `RUNS_KEPT` before it are forgotten."""
        self._check_write()
        run = check_run(run)
        self._conn.execute(
            "DELETE FROM runs WHERE finished_at < ?",
            (_dt_out(run.finished_at - RUNS_KEPT, "finished_at"),),
        )
        self._conn.execute(
            "INSERT INTO runs (started_at, finished_at, outcome, error, counts, warnings)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                _dt_out(run.started_at, "started_at"),
                _dt_out(run.finished_at, "finished_at"),
                run.outcome,
                run.error,
                _json(dict(run.counts)),
                _json(list(run.warnings)),
            ),
        )

    def runs(self, since: datetime) -> list[RunRecord]:
        rows = self._conn.execute(
            "SELECT started_at, finished_at, outcome, error, counts, warnings FROM runs"
            " WHERE finished_at >= ? ORDER BY finished_at, id",
            (_dt_out(since, "since"),),
        )
        return [
            RunRecord(
                started_at=_dt_in(started),
                finished_at=_dt_in(finished),
                outcome=outcome,
                error=error,
                counts={str(k): int(v) for k, v in json.loads(counts).items()},
                warnings=tuple(str(w) for w in json.loads(warnings)),
            )
            for started, finished, outcome, error, counts, warnings in rows
        ]

    def put_review(self, item: ReviewItem) -> None:
        """Upsert; news again (see `memory_state.review_is_news`) loses `reported_at`."""
        self._check_write()
        item = check_review(item)
        row = self._conn.execute(_SELECT_REVIEWS + " WHERE key = ?", (item.key,)).fetchone()
        item = merge_review(None if row is None else _review_of(row), item)
        self._conn.execute(_UPSERT_REVIEW, _review_row(item))

    def delete_review(self, key: str) -> None:
        self._check_write()
        self._conn.execute("DELETE FROM reviews WHERE key = ?", (key,))

    def reviews(self) -> list[ReviewItem]:
        rows = self._conn.execute(_SELECT_REVIEWS + " ORDER BY start, key")
        return [_review_of(row) for row in rows]

    def mark_reported(self, keys: Sequence[str], at: datetime) -> None:
        self._check_write()
        when = _dt_out(at, "at")
        self._conn.executemany(
            "UPDATE reviews SET reported_at = ? WHERE key = ?", ((when, key) for key in keys)
        )

    def put_week_load(self, days: Sequence[DayLoadRecord]) -> None:
        self._check_write()
        self._conn.execute("DELETE FROM week_load")
        self._conn.executemany(
            "INSERT INTO week_load (day, meeting_minutes, meeting_count) VALUES (?, ?, ?)"
            " ON CONFLICT (day) DO UPDATE SET meeting_minutes = excluded.meeting_minutes,"
            " meeting_count = excluded.meeting_count",
            ((d.day.isoformat(), float(d.meeting_minutes), d.meeting_count) for d in days),
        )

    def week_load(self) -> list[DayLoadRecord]:
        rows = self._conn.execute(
            "SELECT day, meeting_minutes, meeting_count FROM week_load ORDER BY day"
        )
        return [
            DayLoadRecord(date.fromisoformat(day), float(minutes), int(count))
            for day, minutes, count in rows
        ]

    def get_meta(self, name: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def put_meta(self, name: str, value: str) -> None:
        self._check_write()
        self._conn.execute(
            "INSERT INTO meta (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    def close(self) -> None:
        self._conn.close()

    # -- schema ----------------------------------------------------------------------------

    def schema_version(self) -> int:
        """Migrations applied to this file (0 for a file calbot never set up)."""
        exists = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        ).fetchone()
        if exists is None:
            return 0
        row = self._conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return int(row[0]) if row is not None and row[0] is not None else 0

    def _migrate(self) -> None:
        latest = len(MIGRATIONS)
        current = self.schema_version()
        if current > latest:
            raise CalbotError(
                f"state store at {self.path} is version {current}, this calbot understands"
                f" up to {latest} — upgrade calbot"
            )
        if current == latest:
            return
        if self.readonly:
            raise CalbotError(
                f"state store at {self.path} is version {current}, this calbot needs"
                f" {latest}; run once without --dry-run to upgrade it"
            )
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
            )
            current = self.schema_version()  # another process may have migrated meanwhile
            for step in MIGRATIONS[current:]:
                step(self._conn)
            self._conn.execute("DELETE FROM schema_version")
            self._conn.execute("INSERT INTO schema_version (version) VALUES (?)", (latest,))
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _check_write(self) -> None:
        if self.readonly:
            raise ReadOnlyStoreError(
                f"the state store at {self.path} is open read-only; nothing is written"
            )
        if not self._in_transaction:
            raise StateUsageError("state store writes must happen inside transaction()")


def _connect(database: str, *, uri: bool) -> sqlite3.Connection:
    # isolation_level=None: no implicit BEGINs; `transaction()` issues them itself.
    # check_same_thread=False: the worker may open the store in one thread and scan in
    # another; scans never share a store concurrently (the state lock sees to that).
    return sqlite3.connect(
        database,
        uri=uri,
        isolation_level=None,
        timeout=BUSY_TIMEOUT_SECONDS,
        check_same_thread=False,
    )


def _prepare_files(state_dir: Path, path: Path) -> None:
    """Create the state dir (0700) and an empty db file (0600) when missing."""
    if not state_dir.is_dir():
        state_dir.parent.mkdir(parents=True, exist_ok=True)
        try:
            state_dir.mkdir(mode=0o700)
            state_dir.chmod(0o700)  # mkdir's mode is masked by the umask
        except FileExistsError:
            pass
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)
    path.chmod(0o600)
