"""Team mode's real servers, started per test in temp dirs on free 127.0.0.1 ports and
stopped after: PostgreSQL and Redis (Debian packages), and the many-user fake Google.

A missing server binary skips the test naming the `apt-get install` that brings it, except
under CI=true, where it fails: CI must run them all."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.team import TeamFakeGoogle
from servers.celery_procs import CeleryProcess
from servers.postgres_server import APT as PG_APT
from servers.postgres_server import PostgresServer, find_pg_bin
from servers.redis_server import APT as REDIS_APT
from servers.redis_server import RedisServer, find_redis

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.system)


def missing(what: str, apt: str) -> None:
    message = f"{what} not found — {apt}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    binary = find_redis()
    if binary is None:
        missing("redis-server", REDIS_APT)
        raise AssertionError("unreachable")
    server = RedisServer(binary, tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres() -> Iterator[PostgresServer]:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        missing("PostgreSQL (initdb, pg_ctl)", PG_APT)
        raise AssertionError("unreachable")
    server = PostgresServer(bin_dir)
    try:
        server.init()
        server.start()
        yield server
    finally:
        try:
            server.stop()
        finally:
            server.remove()


@pytest.fixture
def team_google() -> Iterator[TeamFakeGoogle]:
    fake = TeamFakeGoogle()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
    problems = [*fake.violations, *(f"fake bug: {e}" for e in fake.fake_errors)]
    if problems:
        pytest.fail("Google API misuse seen by the fake:\n  " + "\n  ".join(problems))


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the session; `team_db` makes a database per test."""
    from servers.pg_session import start_session_postgres

    yield from start_session_postgres()


@pytest.fixture
def team_db(pg_cluster: PostgresServer) -> str:
    """The URL of a fresh database, migrated to team mode's schema."""
    from servers.pg_session import fresh_database

    from calbot.team.pg_schema import migrate
    from calbot.team.pg_store import connect

    url = fresh_database(pg_cluster)
    conn = connect(url)
    try:
        migrate(conn)
    finally:
        conn.close()
    return url


@pytest.fixture
def calbot_database(pg_cluster: PostgresServer) -> tuple[str, str, int]:
    """A fresh database owned by a `calbot` role with a password (as in the deploy files):
    (name, host, port)."""
    import psycopg
    from servers.deploy_run import DB_PASSWORD
    from servers.pg_session import fresh_database

    name = fresh_database(pg_cluster).rsplit("/", 1)[1]
    with psycopg.connect(pg_cluster.url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'calbot'").fetchone()
        verb = "ALTER" if exists else "CREATE"  # the cluster lives for the whole session
        conn.execute(f"{verb} ROLE calbot LOGIN PASSWORD '{DB_PASSWORD}'")
        conn.execute(f'ALTER DATABASE "{name}" OWNER TO calbot')
    return name, "127.0.0.1", pg_cluster.port


@pytest.fixture
def procs() -> Iterator[list[CeleryProcess]]:
    started: list[CeleryProcess] = []
    yield started
    for proc in started:
        proc.stop()
