"""What every group of tables in the SQLite store shares: the connection, the write check,
and how values are written as columns.

Datetimes are stored as ISO-8601 text normalised to UTC with microseconds
(`2025-01-07T09:30:00.000000+00:00`), so text order is time order and `since` filters run in
SQL; they come back as aware UTC datetimes (equal to what was written). JSON goes in TEXT
columns, compact with sorted keys.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from calbot.core.records import require_aware
from calbot.ports.store import ReadOnlyStoreError, StateUsageError


class Tables:
    """One connection to the store's file. `SqliteStore` owns the transactions; the groups
    of tables (`LedgerTables`, `CacheTables`, `ReviewTables`) read and write through it."""

    def __init__(self, conn: sqlite3.Connection, path: Path, *, readonly: bool) -> None:
        self._conn = conn
        self.path = path
        self.readonly = readonly
        self._in_transaction = False

    def _check_write(self) -> None:
        if self.readonly:
            raise ReadOnlyStoreError(
                f"the state store at {self.path} is open read-only; nothing is written"
            )
        if not self._in_transaction:
            raise StateUsageError("state store writes must happen inside transaction()")


def dt_out(value: datetime, what: str) -> str:
    require_aware(value, what)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def dt_in(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def json_text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
