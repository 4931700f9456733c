"""The PostgreSQL store beyond the shared contract (tests/contracts/): users in one database
never see each other's rows, removing a user removes exactly their rows, migrations are
numbered, idempotent and refused when missing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from store_records import T0, assert_holds_sample, decision, hold, write_sample

from calbot.errors import UsageError
from calbot.team.pg_schema import LATEST, MIGRATIONS, migrate, schema_version
from calbot.team.pg_store import PgStore, connect
from calbot.team.pg_users import UserTokens, add_user, list_users, remove_user

STATE_TABLES = (
    "decisions",
    "goodwill",
    "sink_records",
    "sync_tokens",
    "event_cache",
    "runs",
    "reviews",
    "week_load",
    "meta",
    "holds",
)


def _empty(store: PgStore) -> None:
    far = T0 - timedelta(days=3650)
    assert store.decisions() == {}
    assert store.goodwill(far) == []
    assert store.sink_records("outbox") == {} and store.sink_records("gmail") == {}
    assert store.cached_events("primary") == []
    assert list(store.iter_cached_events("primary")) == []
    assert store.sync_token("primary") is None
    assert store.runs(far) == []
    assert store.reviews() == []
    assert store.week_load() == []
    assert store.holds() == []
    assert store.get_meta("last_digest") is None


def test_two_users_in_one_database_never_see_each_others_rows(team_db: str) -> None:
    conn = connect(team_db)
    ana = add_user(conn, "ana@agency.example", "")
    bo = add_user(conn, "bo@agency.example", "")
    a = PgStore.open(conn, ana.user_id, owns=False)
    b = PgStore.open(conn, bo.user_id, owns=False)
    write_sample(a)
    with a.transaction():
        a.put_holds("primary/evt-1", [hold()])
    _empty(b)
    # the same keys for bo: ana's rows stay as they were
    other = decision(client="Other", fingerprint="bo's")
    with b.transaction():
        b.put_decision(other)
        b.put_events("primary", [{"id": "evt-1", "summary": "bo's own"}])
        b.put_sync_token("primary", "tok-bo")
        b.put_meta("review_calendar_id", "bo-cal")
        b.put_holds("primary/evt-1", [])
        b.drop_calendar("primary")
    assert_holds_sample(a)
    assert a.holds() == [hold()]
    assert b.decisions() == {other.key: other}
    # removing ana deletes every state row of hers and none of bo's
    assert remove_user(conn, "ANA@agency.example")
    for table in STATE_TABLES:
        row = conn.execute(
            f"SELECT count(*) FROM {table} WHERE user_id = %s",
            (ana.user_id,),
        ).fetchone()
        assert row[0] == 0, table
    assert b.decisions() == {other.key: other}
    assert b.get_meta("review_calendar_id") == "bo-cal"
    assert [u.email for u in list_users(conn)] == ["bo@agency.example"]
    assert not remove_user(conn, "ana@agency.example")
    conn.close()


def test_the_users_table_is_the_token_vault(team_db: str) -> None:
    conn = connect(team_db)
    add_user(conn, "ana@agency.example", "x", token=b"sealed-1")
    add_user(conn, "bo@agency.example", "y")
    vault = UserTokens(conn)
    assert vault.load_token("ana@agency.example") == b"sealed-1"
    assert vault.load_token("bo@agency.example") is None
    vault.save_token("bo@agency.example", b"sealed-2")
    assert vault.load_token("bo@agency.example") == b"sealed-2"
    # add-user again without a token keeps the stored one, and replaces the config
    again = add_user(conn, "ana@agency.example", "x2")
    assert again.has_token and again.config == "x2"
    assert vault.load_token("ana@agency.example") == b"sealed-1"
    with pytest.raises(UsageError, match="no team user"):
        vault.save_token("cy@agency.example", b"sealed-3")
    conn.close()


def test_migrations_are_numbered_idempotent_and_required(pg_cluster: object) -> None:
    from servers.pg_session import fresh_database

    url = fresh_database(pg_cluster)  # type: ignore[arg-type]
    conn = connect(url)
    assert schema_version(conn) == 0
    with pytest.raises(UsageError, match="calbot team migrate"):
        PgStore.open(conn, 1, owns=False)
    assert migrate(conn) == (0, LATEST) and len(MIGRATIONS) == LATEST
    assert migrate(conn) == (LATEST, LATEST)
    assert schema_version(conn) == LATEST
    conn.close()


def test_a_scan_that_lost_its_lock_connection_stops_before_its_next_write(team_db: str) -> None:
    from calbot.errors import ServiceError
    from calbot.team.user_scan import acquire_user_lock, check_lock

    conn, lock_conn = connect(team_db), connect(team_db)
    ana = add_user(conn, "ana@agency.example", "")
    assert acquire_user_lock(lock_conn, ana.user_id, 0)
    store = PgStore.open(
        conn, ana.user_id, owns=False, guard=lambda: check_lock(lock_conn, "ana@agency.example")
    )
    with store.transaction():
        store.put_decision(decision())
    pid = lock_conn.info.backend_pid
    conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(ServiceError, match="lost the scan lock"), store.transaction():
        store.put_decision(decision("primary/evt-2"))
    assert list(store.decisions()) == ["primary/evt-1"]
    # the lock went with the connection: another scan may take it now
    other = connect(team_db)
    assert acquire_user_lock(other, ana.user_id, 5)
    other.close()
    lock_conn.close()
    conn.close()
