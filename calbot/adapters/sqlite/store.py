"""The embedded state store: one SQLite file, `state.sqlite3`, in the state dir.

It follows the rules in `calbot.ports.store`: writes only inside `transaction()`
(BEGIN IMMEDIATE ... COMMIT, ROLLBACK on any exception), read-only stores refuse writes,
datetimes in and out are timezone-aware. The file is in WAL mode, so a dry run reads while
a scan writes; writers wait up to `BUSY_TIMEOUT_SECONDS` for each other. Commits are not
fsynced one by one (`synchronous=NORMAL`): durable against a killed process, not a power cut.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from urllib.parse import quote

from calbot.adapters.sqlite.cache import CacheTables
from calbot.adapters.sqlite.holds import HoldTables
from calbot.adapters.sqlite.ledger import LedgerTables
from calbot.adapters.sqlite.pending import PendingTables
from calbot.adapters.sqlite.review import ReviewTables
from calbot.adapters.sqlite.schema import migrate, schema_version
from calbot.adapters.state_dir import make_state_dir
from calbot.errors import CalbotError
from calbot.ports.store import StateStore, StateUsageError

DB_NAME = "state.sqlite3"
BUSY_TIMEOUT_SECONDS = 30.0


class SqliteStore(LedgerTables, CacheTables, ReviewTables, HoldTables, PendingTables):
    """`StateStore` in one SQLite file. Open it with `SqliteStore.open`."""

    @classmethod
    def open(cls, state_dir: Path, *, readonly: bool = False) -> StateStore:
        """The store in `state_dir`, migrated to the current schema.

        Read-only (dry runs): nothing is created; a missing store reads as an empty one
        (a read-only `MemoryStore`), an existing one is opened with SQLite's `mode=ro`.
        Otherwise the dir is created 0700 and the file 0600 when missing.
        """
        state_dir = Path(state_dir).expanduser()
        path = state_dir / DB_NAME
        if readonly and not path.exists() and not path.is_symlink():
            return _empty_store()
        check_store_file(path)
        try:
            if readonly:
                uri = f"file:{quote(str(path.resolve()))}?mode=ro"
                conn = _connect(uri, uri=True)
            else:
                _prepare_files(state_dir, path)
                conn = _connect(str(path), uri=False)
                conn.execute("PRAGMA journal_mode=WAL")
                # A commit reaches the WAL file (the OS's page cache) before it returns, so
                # a killed process (kill -9, a crash) loses nothing committed; only a power
                # cut can undo the last commits, and fsync on every commit cost a drafting
                # scan more than its requests did (issue 12).
                conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            raise _open_error(path, exc) from exc
        try:
            if readonly and schema_version(conn) == 0:  # a file calbot never set up
                conn.close()
                return _empty_store()
            migrate(conn, path, readonly=readonly)
        except sqlite3.Error as exc:
            conn.close()
            raise _open_error(path, exc) from exc
        except BaseException:
            conn.close()
            raise
        return cls(conn, path, readonly=readonly)

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

    def close(self) -> None:
        self._conn.close()


class StoreUnreadable(CalbotError):
    """The state store file is not a database calbot can read: exit 2 (SPEC §2), with the
    fix. Losing the store is safe — drafts are found again and adopted — so the fix is to
    move the file aside, never to repair it by hand."""

    exit_code = 2

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        super().__init__(
            f"the state store {path} cannot be read ({problem}) — move it aside "
            f"(mv {path} {path}.broken) and run again; a lost store is safe: calbot finds "
            "and adopts its drafts again"
        )


_HEADER = b"SQLite format 3\x00"


def check_store_file(path: Path) -> None:
    """StoreUnreadable when `path` is there but cannot be calbot's store: not a regular
    file (a directory, a FIFO — never opened), not an SQLite file, or shorter than its own
    header says (truncated). Cheap (one 100-byte read), so it runs at every open; damage
    inside the pages is SQLite's to find."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreUnreadable(path, exc.strerror or type(exc).__name__) from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise StoreUnreadable(path, f"it is {kind}")
    if info.st_size == 0:  # a store being created
        return
    try:
        with open(path, "rb") as f:
            head = f.read(100)
    except OSError as exc:
        raise StoreUnreadable(path, exc.strerror or type(exc).__name__) from None
    if len(head) < 100 or not head.startswith(_HEADER):
        raise StoreUnreadable(path, "not an SQLite database")
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    # The page count is valid only when "version-valid-for" matches the change counter;
    # while a WAL file is beside it a checkpoint may be under way: SQLite decides then.
    counted = head[92:96] == head[24:28]
    wal = path.with_name(path.name + "-wal")
    if counted and info.st_size < page_size * pages and not _nonempty(wal):
        raise StoreUnreadable(path, f"truncated: {info.st_size} of {page_size * pages} bytes")


def _nonempty(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def _open_error(path: Path, exc: sqlite3.Error) -> CalbotError:
    """A damaged file is the user's to move aside (exit 2); a busy or unopenable one is
    not (OperationalError: locked, no permission, disk full...)."""
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
        return StoreUnreadable(path, str(exc))
    return CalbotError(f"cannot open the state store at {path}: {exc}")


def _empty_store() -> StateStore:
    """What a dry run reads when there is no store yet. Imported only then: a scan of an
    existing store never builds one (start-up time)."""
    from calbot.adapters.memory_state import MemoryStore

    return MemoryStore(readonly=True)


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
    make_state_dir(state_dir)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)
    path.chmod(0o600)
