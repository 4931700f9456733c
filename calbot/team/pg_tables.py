"""What every group of tables in the PostgreSQL store shares: one connection, the user the
store is bound to (every query filters and every write stamps `user_id`), the write check,
and how values become columns.

Datetimes go in `timestamptz` columns (checked aware first: ValueError otherwise) and come
back aware, in UTC (the session's time zone). JSON goes in TEXT columns, compact with sorted
keys, as in SQLite.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from calbot.core.records import require_aware
from calbot.ports.store import ReadOnlyStoreError, StateUsageError


class PgTables:
    """One connection (autocommit: reads see committed data, `transaction()` opens the only
    explicit transactions) and the user every row belongs to."""

    def __init__(self, conn: Any, user_id: int, *, readonly: bool, label: str = "") -> None:
        self._conn = conn
        self._user = user_id
        self.readonly = readonly
        self.label = label or f"user {user_id}"
        self._in_transaction = False
        self._closed = False

    def _check_write(self) -> None:
        if self._closed:
            raise StateUsageError("the state store is closed")
        if self.readonly:
            raise ReadOnlyStoreError(
                f"the team state store of {self.label} is open read-only; nothing is written"
            )
        if not self._in_transaction:
            raise StateUsageError("state store writes must happen inside transaction()")

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        if self._closed:
            raise StateUsageError("the state store is closed")
        return list(self._conn.execute(sql, (self._user, *params)).fetchall())

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _write(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        self._check_write()
        self._conn.execute(sql, (self._user, *params))

    def _write_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self._check_write()
        if rows:
            with self._conn.cursor() as cur:
                cur.executemany(sql, [(self._user, *row) for row in rows])


def dt_out(value: datetime, what: str) -> datetime:
    require_aware(value, what)
    return value


def json_text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


# PostgreSQL text cannot hold NUL, and calendar text is untrusted: any character may come.
# Every string crosses the connection escaped — NUL as ESC "0", ESC itself as ESC "e" (ESC a
# private-use character) — so what is stored comes back verbatim. JSON columns need none of
# this (JSON writes NUL as \u0000) but go through it harmlessly.
_ESC = "\ue000"
_UNESCAPE = re.compile(_ESC + "(.)", re.DOTALL)
_BACK = {"e": _ESC, "0": "\x00"}


def escape_nul(text: str) -> str:
    if "\x00" not in text and _ESC not in text:
        return text
    return text.replace(_ESC, _ESC + "e").replace("\x00", _ESC + "0")


def unescape_nul(text: str) -> str:
    if _ESC not in text:
        return text
    return _UNESCAPE.sub(lambda m: _BACK.get(m.group(1), m.group(0)), text)


def nul_safe(conn: Any) -> None:
    """Make `conn` escape every string it sends and unescape every text it reads."""
    from psycopg.types.string import StrBinaryDumper, StrDumperUnknown, TextBinaryLoader, TextLoader

    class Dumper(StrDumperUnknown):
        def dump(self, obj: str) -> Any:
            return super().dump(escape_nul(obj))

    class BinaryDumper(StrBinaryDumper):
        def dump(self, obj: str) -> Any:
            return super().dump(escape_nul(obj))

    class Loader(TextLoader):
        def load(self, data: Any) -> Any:
            value = super().load(data)
            return unescape_nul(value) if isinstance(value, str) else value

    class BinaryLoader(TextBinaryLoader):
        def load(self, data: Any) -> Any:
            value = super().load(data)
            return unescape_nul(value) if isinstance(value, str) else value

    conn.adapters.register_dumper(str, BinaryDumper)
    conn.adapters.register_dumper(str, Dumper)
    conn.adapters.register_loader("text", Loader)
    conn.adapters.register_loader("text", BinaryLoader)
