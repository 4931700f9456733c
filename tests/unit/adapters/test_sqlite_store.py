"""The SQLite store beyond the contract: files and modes, WAL, migrations, read-only opens,
two processes' worth of connections, the column formats, and a store written by calbot
0.1.0 read back by this one."""

from __future__ import annotations

import json
import shutil
import sqlite3
import stat
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from store_records import (
    T0,
    assert_holds_sample,
    decision,
    goodwill,
    item,
    review,
    run,
    sink_record,
)

from calbot.adapters.sqlite import DB_NAME, SqliteStore, schema
from calbot.adapters.sqlite.schema import MIGRATIONS
from calbot.core.records import DayLoadRecord, RunRecord
from calbot.core.vocab import RunOutcome
from calbot.errors import CalbotError
from calbot.ports.store import EventCache, ReadOnlyStoreError, StateStore

RELEASE_STORE = Path(__file__).parents[2] / "data" / "state-0.1.0.sqlite3"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def fill(store: StateStore) -> None:
    with store.transaction():
        store.put_decision(decision())
        store.add_goodwill(goodwill())
        store.put_sink_record(sink_record())


def test_sqlite_persists_across_reopen(tmp_path: Path) -> None:
    state = tmp_path / "state"
    store = SqliteStore.open(state)
    fill(store)
    store.close()
    again = SqliteStore.open(state)
    assert again.decisions() == {"primary/evt-1": decision()}
    assert again.goodwill(T0) == [goodwill()]
    assert again.sink_records("outbox") == {"primary/evt-1": sink_record()}
    again.close()


def test_sqlite_files_are_private(tmp_path: Path) -> None:
    state = tmp_path / "deep" / "state"
    store = SqliteStore.open(state)
    fill(store)
    assert mode(state) == 0o700
    assert mode(state / DB_NAME) == 0o600
    for extra in state.iterdir():  # the -wal / -shm files SQLite adds
        assert mode(extra) == 0o600, extra.name
    store.close()


def test_sqlite_schema_version_recorded_and_wal(tmp_path: Path) -> None:
    SqliteStore.open(tmp_path).close()
    conn = sqlite3.connect(tmp_path / DB_NAME)
    try:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(len(MIGRATIONS),)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"decisions", "goodwill", "sink_records", "schema_version"} <= tables
        assert {"sync_tokens", "event_cache"} <= tables
        assert {"runs", "reviews", "week_load", "meta"} <= tables
    finally:
        conn.close()
    # reopening does not re-run migrations (they would fail: CREATE TABLE without IF NOT EXISTS)
    SqliteStore.open(tmp_path).close()


def test_sqlite_applies_new_migrations_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqliteStore.open(tmp_path)
    fill(store)
    store.close()
    ran: list[int] = []

    def add_column(conn: sqlite3.Connection) -> None:
        ran.append(len(MIGRATIONS))
        conn.execute("ALTER TABLE decisions ADD COLUMN note TEXT NOT NULL DEFAULT ''")

    monkeypatch.setattr(schema, "MIGRATIONS", [*MIGRATIONS, add_column])
    again = SqliteStore.open(tmp_path)
    assert ran == [len(MIGRATIONS)]
    assert again.decisions() == {"primary/evt-1": decision()}
    again.close()
    conn = sqlite3.connect(tmp_path / DB_NAME)
    assert conn.execute("SELECT version FROM schema_version").fetchone() == (len(MIGRATIONS) + 1,)
    conn.close()


def test_sqlite_version_1_store_migrates_to_the_event_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store written by the calbot before the Google source keeps its data and gains the
    event cache tables."""
    assert len(MIGRATIONS) >= 2
    with monkeypatch.context() as m:
        m.setattr(schema, "MIGRATIONS", MIGRATIONS[:1])
        old = SqliteStore.open(tmp_path)
        fill(old)
        old.close()
    conn = sqlite3.connect(tmp_path / DB_NAME)
    assert conn.execute("SELECT version FROM schema_version").fetchone() == (1,)
    assert (
        conn.execute("SELECT name FROM sqlite_master WHERE name='event_cache'").fetchone() is None
    )
    conn.close()
    with pytest.raises(CalbotError, match="run once without --dry-run"):
        SqliteStore.open(tmp_path, readonly=True)
    store = SqliteStore.open(tmp_path)
    assert store.decisions() == {"primary/evt-1": decision()}
    cache: EventCache = store
    assert cache.cached_events("primary") == []
    with store.transaction():
        cache.put_events("primary", [item("a")])
        cache.put_sync_token("primary", "tok")
    store.close()
    again: EventCache = SqliteStore.open(tmp_path, readonly=True)
    assert again.cached_events("primary") == [item("a")]
    assert again.sync_token("primary") == "tok"
    conn = sqlite3.connect(tmp_path / DB_NAME)
    assert conn.execute("SELECT version FROM schema_version").fetchone() == (len(MIGRATIONS),)
    (text,) = conn.execute("SELECT item FROM event_cache").fetchone()
    conn.close()
    assert text == json.dumps(item("a"), ensure_ascii=False, separators=(",", ":"))  # compact


def test_sqlite_version_2_store_migrates_to_the_review_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store written by the calbot before the digest keeps its decisions, ledger and event
    cache, and gains the runs log, review items, week load and meta."""
    assert len(MIGRATIONS) >= 3
    with monkeypatch.context() as m:
        m.setattr(schema, "MIGRATIONS", MIGRATIONS[:2])
        old = SqliteStore.open(tmp_path)
        fill(old)
        with old.transaction():
            old.put_sync_token("primary", "tok")
        old.close()
    conn = sqlite3.connect(tmp_path / DB_NAME)
    with conn:  # as the calbot of version 2 cached it (no window columns)
        conn.execute(
            "INSERT INTO event_cache (calendar_id, event_id, item) VALUES (?, ?, ?)",
            ("primary", "a", json.dumps(item("a"), separators=(",", ":"))),
        )
    assert conn.execute("SELECT version FROM schema_version").fetchone() == (2,)
    assert conn.execute("SELECT name FROM sqlite_master WHERE name='reviews'").fetchone() is None
    conn.close()
    with pytest.raises(CalbotError, match="run once without --dry-run"):
        SqliteStore.open(tmp_path, readonly=True)
    store = SqliteStore.open(tmp_path)
    assert store.decisions() == {"primary/evt-1": decision()}
    assert store.goodwill(T0) == [goodwill()]
    assert store.sink_records("outbox") == {"primary/evt-1": sink_record()}
    assert store.cached_events("primary") == [item("a")]
    assert store.sync_token("primary") == "tok"
    assert store.reviews() == [] and store.runs(T0 - timedelta(days=1)) == []
    with store.transaction():
        store.add_run(run())
        store.put_review(review())
        store.put_week_load([DayLoadRecord(date(2025, 3, 4), 60.0, 1)])
        store.put_meta("last_digest_at", T0.isoformat())
    store.close()
    again = SqliteStore.open(tmp_path, readonly=True)
    assert again.runs(T0 - timedelta(days=1)) == [run()]
    assert again.reviews() == [review()]
    assert again.week_load() == [DayLoadRecord(date(2025, 3, 4), 60.0, 1)]
    assert again.get_meta("last_digest_at") == T0.isoformat()
    again.close()


def test_sqlite_review_columns_are_plain_text(tmp_path: Path) -> None:
    """UTC ISO text for datetimes, sorted compact JSON for drafts, NULL until reported."""
    store = SqliteStore.open(tmp_path)
    with store.transaction():
        store.put_review(review(drafts={"outbox": "o.eml", "gmail": "r-1"}))
        store.add_run(run(warnings=("w ✎",)))
    store.close()
    conn = sqlite3.connect(tmp_path / DB_NAME)
    row = conn.execute('SELECT start, "end", drafts, reported_at FROM reviews').fetchone()
    runs_row = conn.execute("SELECT finished_at, counts, warnings FROM runs").fetchone()
    conn.close()
    assert row == (
        (T0 + timedelta(days=1)).astimezone(UTC).isoformat(timespec="microseconds"),
        (T0 + timedelta(days=1, minutes=90)).astimezone(UTC).isoformat(timespec="microseconds"),
        '{"gmail":"r-1","outbox":"o.eml"}',
        None,
    )
    assert runs_row == (
        T0.astimezone(UTC).isoformat(timespec="microseconds"),
        '{"drafted":1,"events":12,"meetings":4}',
        '["w ✎"]',
    )


def test_sqlite_failed_migration_rolls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    SqliteStore.open(tmp_path).close()

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x TEXT)")
        raise RuntimeError("migration bug")

    monkeypatch.setattr(schema, "MIGRATIONS", [*MIGRATIONS, broken])
    with pytest.raises(RuntimeError, match="migration bug"):
        SqliteStore.open(tmp_path)
    conn = sqlite3.connect(tmp_path / DB_NAME)
    assert conn.execute("SELECT version FROM schema_version").fetchone() == (len(MIGRATIONS),)
    assert conn.execute("SELECT name FROM sqlite_master WHERE name='half_done'").fetchone() is None
    conn.close()


@pytest.mark.parametrize("readonly", [False, True])
def test_sqlite_too_new_schema_is_a_one_line_error(tmp_path: Path, readonly: bool) -> None:
    SqliteStore.open(tmp_path).close()
    conn = sqlite3.connect(tmp_path / DB_NAME)
    with conn:
        conn.execute("UPDATE schema_version SET version = 99")
    conn.close()
    with pytest.raises(CalbotError) as info:
        SqliteStore.open(tmp_path, readonly=readonly)
    message = str(info.value)
    assert "\n" not in message
    assert message == (
        f"state store at {tmp_path / DB_NAME} is version 99, this calbot understands up to"
        f" {len(MIGRATIONS)} — upgrade calbot"
    )


def test_sqlite_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / DB_NAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CalbotError, match=r"cannot be read .* move it aside") as caught:
        SqliteStore.open(tmp_path)
    assert caught.value.exit_code == 2  # SPEC §2: a store that cannot be read


def test_readonly_missing_store_creates_nothing(tmp_path: Path) -> None:
    state = tmp_path / "never" / "state"
    store = SqliteStore.open(state, readonly=True)
    assert store.decisions() == {}
    assert store.goodwill(T0) == []
    assert store.sink_records("outbox") == {}
    with store.transaction(), pytest.raises(ReadOnlyStoreError):
        store.put_decision(decision())
    store.close()
    assert not (tmp_path / "never").exists()


def test_readonly_existing_store_reads_and_refuses_writes(tmp_path: Path) -> None:
    writer = SqliteStore.open(tmp_path)
    fill(writer)
    writer.close()
    before = (tmp_path / DB_NAME).read_bytes()
    reader = SqliteStore.open(tmp_path, readonly=True)
    assert reader.decisions() == {"primary/evt-1": decision()}
    assert reader.sink_records("outbox") == {"primary/evt-1": sink_record()}
    with reader.transaction():
        with pytest.raises(ReadOnlyStoreError, match="read-only"):
            reader.put_decision(decision("other"))
        with pytest.raises(ReadOnlyStoreError):
            reader.add_goodwill(goodwill())
        with pytest.raises(ReadOnlyStoreError):
            reader.put_sink_record(sink_record())
        with pytest.raises(ReadOnlyStoreError):
            reader.delete_sink_record("outbox", "primary/evt-1")
        with pytest.raises(ReadOnlyStoreError):
            reader.put_events("primary", [item("a")])
        with pytest.raises(ReadOnlyStoreError):
            reader.put_sync_token("primary", "tok")
        with pytest.raises(ReadOnlyStoreError):
            reader.drop_calendar("primary")
        writes: list[Callable[[], None]] = [
            lambda: reader.add_run(run()),
            lambda: reader.put_review(review()),
            lambda: reader.delete_review("primary/evt-1"),
            lambda: reader.mark_reported(["primary/evt-1"], T0),
            lambda: reader.put_week_load([]),
            lambda: reader.put_meta("m", "1"),
        ]
        for write in writes:
            with pytest.raises(ReadOnlyStoreError):
                write()
    with pytest.raises(ReadOnlyStoreError):  # read-only wins over "outside a transaction"
        reader.put_decision(decision("other"))
    reader.close()
    assert (tmp_path / DB_NAME).read_bytes() == before


def test_readonly_sees_a_concurrent_writer(tmp_path: Path) -> None:
    writer = SqliteStore.open(tmp_path)
    fill(writer)
    reader = SqliteStore.open(tmp_path, readonly=True)
    with writer.transaction():
        writer.put_decision(decision("second"))
        assert set(reader.decisions()) == {"primary/evt-1"}  # WAL: the reader is not blocked
    assert set(reader.decisions()) == {"primary/evt-1", "second"}
    reader.close()
    writer.close()


def test_two_writers_serialise_and_both_commit(tmp_path: Path) -> None:
    a = SqliteStore.open(tmp_path)
    b = SqliteStore.open(tmp_path)
    with a.transaction():
        a.put_decision(decision("from-a"))
    with b.transaction():
        b.put_decision(decision("from-b"))
    assert set(a.decisions()) == {"from-a", "from-b"}
    a.close()
    b.close()


def test_stored_datetimes_are_utc_text(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path)
    fill(store)
    store.close()
    conn = sqlite3.connect(tmp_path / DB_NAME)
    (text,) = conn.execute("SELECT decided_at FROM decisions").fetchone()
    conn.close()
    assert text == T0.astimezone(UTC).isoformat(timespec="microseconds")
    assert text.endswith("+00:00")


def test_a_store_written_by_calbot_0_1_0_reads_back(tmp_path: Path) -> None:
    """tests/data/state-0.1.0.sqlite3 was written by calbot 0.1.0 (`store_records.write_sample`
    on the SqliteStore of that release, schema version 3). A dry run (read-only) leaves it
    untouched and says how to upgrade it; a real run migrates it, every table reads back the
    same and the new holds table starts empty."""
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    db = state / DB_NAME
    shutil.copyfile(RELEASE_STORE, db)
    before = db.read_bytes()
    with pytest.raises(CalbotError, match="run once without --dry-run"):
        SqliteStore.open(state, readonly=True)
    assert db.read_bytes() == before
    store = SqliteStore.open(state)
    assert_holds_sample(store)
    assert store.holds() == []
    with store.transaction():
        store.add_run(run(60, "locked"))
        store.put_events("primary", [{"id": "a", "status": "cancelled"}])
    store.close()
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(len(MIGRATIONS),)]
    conn.close()
    again = SqliteStore.open(state, readonly=True)
    assert again.runs(T0 + timedelta(minutes=1)) == [run(60, "locked")]
    assert [e["id"] for e in again.iter_cached_events("primary")] == ["b"]
    again.close()


def test_an_unknown_stored_outcome_reads_as_a_failed_run(tmp_path: Path) -> None:
    """A run row whose outcome this version does not know (written by a newer calbot)
    reads back as a failed run with its error, which the digest reports with its fix
    (tests/unit/test_digest_model.py: the "failed" case)."""
    now = datetime.now(UTC)
    store = SqliteStore.open(tmp_path)
    with store.transaction():
        store.add_run(RunRecord(now, now, RunOutcome.FAILED, error="KeyError: 'x'"))
    store.close()
    conn = sqlite3.connect(tmp_path / DB_NAME)
    with conn:
        conn.execute("UPDATE runs SET outcome = 'crashed-oddly'")
    conn.close()
    store = SqliteStore.open(tmp_path)
    (run,) = store.runs(now - timedelta(minutes=1))
    store.close()
    assert run.outcome == RunOutcome.FAILED
    assert run.error == "KeyError: 'x'"
