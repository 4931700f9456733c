"""The SQLite store's schema: migrations applied in order, the version in its own table.

Portability: plain tables, TEXT/INTEGER columns, composite primary keys and
`INSERT ... ON CONFLICT (...) DO UPDATE`, all of which PostgreSQL speaks too. The schema
version lives in a `schema_version` table, not in `PRAGMA user_version`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from calbot.errors import CalbotError

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


@migration
def _holds(conn: sqlite3.Connection) -> None:
    """Slots offered in pending drafts (SPEC §1.7): busy for every other proposal. Times
    are UTC text like every other column, so `start` orders them."""
    conn.execute(
        """CREATE TABLE holds (
            key TEXT NOT NULL,
            start TEXT NOT NULL,
            "end" TEXT NOT NULL,
            event_id TEXT NOT NULL,
            client TEXT NOT NULL,
            PRIMARY KEY (key, start)
        )"""
    )
    conn.execute("CREATE INDEX holds_start ON holds (start)")


@migration
def _pending_creates(conn: sqlite3.Connection) -> None:
    """Creates started whose outcome is unknown (issue 11 #1): Gmail may make a draft that
    calbot never heard of, and its search index lags, so the intent is written first."""
    conn.execute(
        """CREATE TABLE pending_creates (
            sink TEXT NOT NULL,
            key TEXT NOT NULL,
            message_id TEXT NOT NULL,
            started_at TEXT NOT NULL,
            PRIMARY KEY (sink, key)
        )"""
    )


# --- issue 12: the event cache's window index ---------------------------------------------
@migration
def _event_cache_window(conn: sqlite3.Connection) -> None:
    """Each cached event's start and end (UTC text, `cache_items.item_bounds`) beside it,
    indexed, so a scan reads the window's rows, not the whole cache. Rows already cached
    get theirs here."""
    from calbot.adapters.cache_items import NO_END, NO_START, item_bounds

    conn.execute(f"ALTER TABLE event_cache ADD COLUMN start_utc TEXT NOT NULL DEFAULT '{NO_START}'")
    conn.execute(f"ALTER TABLE event_cache ADD COLUMN end_utc TEXT NOT NULL DEFAULT '{NO_END}'")
    rows = conn.execute("SELECT calendar_id, event_id, item FROM event_cache").fetchall()
    updates = []
    for calendar_id, event_id, text in rows:
        try:
            item = json.loads(text)
        except ValueError:
            continue  # left in every window: the reader reports it as before
        if isinstance(item, dict):
            updates.append((*item_bounds(item), calendar_id, event_id))
    conn.executemany(
        "UPDATE event_cache SET start_utc = ?, end_utc = ? WHERE calendar_id = ? AND event_id = ?",
        updates,
    )
    conn.execute("CREATE INDEX event_cache_window ON event_cache (calendar_id, start_utc)")


def schema_version(conn: sqlite3.Connection) -> int:
    """Migrations applied to this file (0 for a file calbot never set up)."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if exists is None:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0]) if row is not None and row[0] is not None else 0


def migrate(conn: sqlite3.Connection, path: Path, *, readonly: bool) -> None:
    """Bring the file at `path` to the latest schema, in one transaction."""
    latest = len(MIGRATIONS)
    current = schema_version(conn)
    if current > latest:
        raise CalbotError(
            f"state store at {path} is version {current}, this calbot understands"
            f" up to {latest} — upgrade calbot"
        )
    if current == latest:
        return
    if readonly:
        raise CalbotError(
            f"state store at {path} is version {current}, this calbot needs"
            f" {latest}; run once without --dry-run to upgrade it"
        )
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        current = schema_version(conn)  # another process may have migrated meanwhile
        for step in MIGRATIONS[current:]:
            step(conn)
        conn.execute("DELETE FROM schema_version")
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (latest,))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
