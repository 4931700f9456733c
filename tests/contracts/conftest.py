"""Servers the contracts share: one migrated PostgreSQL database for the whole session
(team mode's store and keepers), started only when a test asks for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def contract_postgres() -> Iterator[str]:
    """One migrated PostgreSQL database for the whole session (team mode's store)."""
    from servers.pg_session import fresh_database, start_session_postgres

    from calbot.team.pg_schema import migrate
    from calbot.team.pg_store import connect

    for server in start_session_postgres():
        url = fresh_database(server)
        conn = connect(url)
        migrate(conn)
        conn.close()
        yield url
