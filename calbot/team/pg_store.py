"""Team mode's state store: PostgreSQL, one store object per user (`PgStore.open(conn_or_url,
user_id)`), every row keyed by that user.

It follows the rules in `calbot.ports.store`, like the SQLite store: writes only inside
`transaction()` (one PostgreSQL transaction, rolled back on any exception), transactions do
not nest, a read-only store refuses every write, datetimes in and out are timezone-aware.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from calbot.errors import CalbotError
from calbot.ports.store import StateUsageError
from calbot.team.pg_ledger import PgLedgerTables
from calbot.team.pg_review import PgReviewTables
from calbot.team.pg_schema import require_current
from calbot.team.pg_tables import nul_safe

CONNECT_TIMEOUT_SECONDS = 10


def connect(url: str) -> Any:
    """A new autocommit connection in UTC (so datetimes come back in UTC). The URL is never
    quoted in an error: it may hold a password."""
    import psycopg

    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)
    except psycopg.Error as exc:
        raise CalbotError(
            f"cannot reach the team database ({type(exc).__name__}) — check [team]"
            " database_url or $CALBOT_DATABASE_URL, and that PostgreSQL runs"
        ) from None
    conn.execute("SET TIME ZONE 'UTC'")
    nul_safe(conn)
    return conn


class PgStore(PgLedgerTables, PgReviewTables):
    """`StateStore` over one PostgreSQL connection, for one user."""

    @classmethod
    def open(
        cls,
        conn: Any,
        user_id: int,
        *,
        readonly: bool = False,
        label: str = "",
        owns: bool = True,
        guard: Callable[[], None] | None = None,
    ) -> PgStore:
        """The user's store on `conn` (a connection from `connect`); the schema must be
        current (`calbot team migrate`). `owns`: `close()` closes the connection. `guard`:
        called before every transaction; it raises to stop the writes (the scan lost its
        advisory lock)."""
        require_current(conn)
        store = cls(conn, user_id, readonly=readonly, label=label)
        store._owns, store._guard = owns, guard
        return store

    _owns = True
    _guard: Callable[[], None] | None = None

    def transaction(self) -> AbstractContextManager[None]:
        """Writes inside commit together at the end, or not at all on an exception."""
        return self._transaction()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        if self._closed:
            raise StateUsageError("the state store is closed")
        if self._in_transaction:
            raise StateUsageError("state store transactions do not nest")
        if self._guard is not None and not self.readonly:
            self._guard()
        self._in_transaction = True
        try:
            if self.readonly:  # nothing to commit; writes inside raise ReadOnlyStoreError
                yield
            else:
                with self._conn.transaction():
                    yield
        finally:
            self._in_transaction = False

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._owns:
                self._conn.close()
