"""The PostgreSQL schema of team mode: numbered migrations applied in order, the version in
`calbot_schema_version`.

Migration 1 makes the team's own table, `users`. Migrations 2 to 6 mirror the SQLite
store's migrations 1 to 5 (`calbot/adapters/sqlite/schema.py`) with two differences:
every state table carries `user_id` (first in its primary key, deleted with the user) and
columns have PostgreSQL types (`timestamptz`, `date`, identity). Text columns that order
results use `COLLATE "C"`, so they sort byte-wise like SQLite whatever the cluster's locale.

To mirror a new SQLite migration N: append `Migration("sqlite N: what", (SQL, ...))` to
`MIGRATIONS`. Append only; never edit an applied one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from calbot.errors import CalbotError

#: advisory lock (two-int form) classes: one for migrations, one per user for scans
MIGRATE_LOCK_CLASS = 7_341_001
USER_LOCK_CLASS = 7_341_002

T = 'TEXT COLLATE "C"'  # byte order, as SQLite sorts
USER = "user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE"


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    statements: tuple[str, ...]


MIGRATIONS: list[Migration] = [
    Migration(
        "team: users (config, encrypted token, schedule, last outcome, digest)",
        (
            f"""CREATE TABLE users (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                email {T} NOT NULL UNIQUE,
                config TEXT NOT NULL,
                token BYTEA NULL,
                created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                next_scan_at TIMESTAMPTZ NULL,
                next_digest_at TIMESTAMPTZ NULL,
                last_scan_at TIMESTAMPTZ NULL,
                last_outcome TEXT NULL,
                last_error TEXT NULL,
                last_fix TEXT NULL,
                drafts_pending INTEGER NOT NULL DEFAULT 0,
                digest_html TEXT NULL,
                digest_at TIMESTAMPTZ NULL
            )""",
            "CREATE INDEX users_next_scan_at ON users (next_scan_at)",
        ),
    ),
    Migration(
        "sqlite 1: decisions, goodwill, sink_records",
        (
            f"""CREATE TABLE decisions (
                {USER},
                key {T} NOT NULL,
                event_id TEXT NOT NULL,
                client TEXT NOT NULL,
                action TEXT NOT NULL,
                score INTEGER NOT NULL,
                fingerprint TEXT NOT NULL,
                decided_at TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (user_id, key)
            )""",
            f"""CREATE TABLE goodwill (
                {USER},
                client {T} NOT NULL,
                key {T} NOT NULL,
                action {T} NOT NULL,
                asked_at TIMESTAMPTZ NOT NULL,
                meeting_start TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (user_id, client, key, action)
            )""",
            "CREATE INDEX goodwill_asked_at ON goodwill (user_id, asked_at)",
            f"""CREATE TABLE sink_records (
                {USER},
                sink {T} NOT NULL,
                key {T} NOT NULL,
                action TEXT NOT NULL,
                message_id TEXT NOT NULL,
                ref TEXT NOT NULL,
                version TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                status TEXT NOT NULL,
                written_at TIMESTAMPTZ NOT NULL,
                content_hash TEXT NOT NULL DEFAULT '',
                PRIMARY KEY (user_id, sink, key)
            )""",
        ),
    ),
    Migration(
        "sqlite 2: sync_tokens, event_cache",
        (
            f"""CREATE TABLE sync_tokens (
                {USER},
                calendar_id {T} NOT NULL,
                token TEXT NOT NULL,
                PRIMARY KEY (user_id, calendar_id)
            )""",
            f"""CREATE TABLE event_cache (
                {USER},
                calendar_id {T} NOT NULL,
                event_id {T} NOT NULL,
                item TEXT NOT NULL,
                PRIMARY KEY (user_id, calendar_id, event_id)
            )""",
        ),
    ),
    Migration(
        "sqlite 3: runs, reviews, week_load, meta",
        (
            f"""CREATE TABLE runs (
                {USER},
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                started_at TIMESTAMPTZ NOT NULL,
                finished_at TIMESTAMPTZ NOT NULL,
                outcome TEXT NOT NULL,
                error TEXT NOT NULL,
                counts TEXT NOT NULL,
                warnings TEXT NOT NULL
            )""",
            "CREATE INDEX runs_finished_at ON runs (user_id, finished_at)",
            f"""CREATE TABLE reviews (
                {USER},
                key {T} NOT NULL,
                client TEXT NOT NULL,
                summary TEXT NOT NULL,
                start TIMESTAMPTZ NOT NULL,
                "end" TIMESTAMPTZ NOT NULL,
                action TEXT NOT NULL,
                reason TEXT NOT NULL,
                event_link TEXT NOT NULL,
                drafts TEXT NOT NULL,
                saved_minutes INTEGER NOT NULL,
                status TEXT NOT NULL,
                drafted_at TIMESTAMPTZ NOT NULL,
                reported_at TIMESTAMPTZ NULL,
                PRIMARY KEY (user_id, key)
            )""",
            f"""CREATE TABLE week_load (
                {USER},
                day DATE NOT NULL,
                meeting_minutes DOUBLE PRECISION NOT NULL,
                meeting_count INTEGER NOT NULL,
                PRIMARY KEY (user_id, day)
            )""",
            f"""CREATE TABLE meta (
                {USER},
                name {T} NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (user_id, name)
            )""",
        ),
    ),
    Migration(
        "sqlite 4: holds",
        (
            f"""CREATE TABLE holds (
                {USER},
                key {T} NOT NULL,
                start TIMESTAMPTZ NOT NULL,
                "end" TIMESTAMPTZ NOT NULL,
                event_id TEXT NOT NULL,
                client TEXT NOT NULL,
                PRIMARY KEY (user_id, key, start)
            )""",
            "CREATE INDEX holds_start ON holds (user_id, start)",
        ),
    ),
    Migration(
        "sqlite 5: pending creates",
        (
            f"""CREATE TABLE pending_creates (
                {USER},
                sink {T} NOT NULL,
                key {T} NOT NULL,
                message_id TEXT NOT NULL,
                started_at TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (user_id, sink, key)
            )""",
        ),
    ),
    # --- issue 12: the event cache's window index (rows cached before keep the widest
    # bounds, so every window reads them, until their next write) ---
    Migration(
        "sqlite 6: event_cache start_utc/end_utc and its window index",
        (
            f"ALTER TABLE event_cache ADD COLUMN start_utc {T} NOT NULL DEFAULT ''",
            f"ALTER TABLE event_cache ADD COLUMN end_utc {T} NOT NULL DEFAULT '~'",
            "CREATE INDEX event_cache_window ON event_cache (user_id, calendar_id, start_utc)",
        ),
    ),
    # --- issue 15: the review calendar's id, the source of truth (a file for a single
    # user; team mode keeps no local files) ---
    Migration(
        "team: users.review_calendar_id",
        ("ALTER TABLE users ADD COLUMN review_calendar_id TEXT NULL",),
    ),
]

LATEST = len(MIGRATIONS)


def schema_version(conn: Any) -> int:
    """Migrations applied to this database (0 for one calbot never set up)."""
    row = conn.execute("SELECT to_regclass('calbot_schema_version')").fetchone()
    if row is None or row[0] is None:
        return 0
    row = conn.execute("SELECT MAX(version) FROM calbot_schema_version").fetchone()
    return int(row[0]) if row is not None and row[0] is not None else 0


def migrate(conn: Any) -> tuple[int, int]:
    """Bring the database to the latest schema in one transaction; (from, to) versions.
    A transaction-scoped advisory lock keeps two `migrate` runs from racing."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (MIGRATE_LOCK_CLASS,))
        conn.execute("CREATE TABLE IF NOT EXISTS calbot_schema_version (version INTEGER NOT NULL)")
        current = schema_version(conn)
        if current > LATEST:
            raise CalbotError(
                f"the team database is at schema version {current}, this calbot understands"
                f" up to {LATEST} — upgrade calbot"
            )
        for step in MIGRATIONS[current:]:
            for sql in step.statements:
                conn.execute(sql)
        conn.execute("DELETE FROM calbot_schema_version")
        conn.execute("INSERT INTO calbot_schema_version (version) VALUES (%s)", (LATEST,))
    return current, LATEST


def require_current(conn: Any) -> None:
    """Refuse a database whose schema is not this calbot's (exit 2 names the fix)."""
    from calbot.errors import UsageError

    current = schema_version(conn)
    if current < LATEST:
        raise UsageError(
            f"the team database is at schema version {current}, this calbot needs {LATEST}"
            " — run `calbot team migrate`"
        )
    if current > LATEST:
        raise CalbotError(
            f"the team database is at schema version {current}, this calbot understands"
            f" up to {LATEST} — upgrade calbot"
        )
