"""One throw-away PostgreSQL cluster shared by a whole test session, and a fresh database
per test on it (`CREATE DATABASE` takes milliseconds; `initdb` takes seconds). Missing
binaries skip naming the `apt-get install`, or fail under CI=true."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from servers.postgres_server import APT, PostgresServer, find_pg_bin

_names = itertools.count(1)


def start_session_postgres() -> Iterator[PostgresServer]:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        message = f"PostgreSQL (initdb, pg_ctl) not found — {APT}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
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


def fresh_database(server: PostgresServer) -> str:
    """The URL of a new, empty database on `server`."""
    import psycopg

    name = f"t{os.getpid()}_{next(_names)}"
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.url.rsplit("/", 1)[0] + "/" + name
