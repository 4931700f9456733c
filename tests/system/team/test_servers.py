"""The server fixtures themselves: PostgreSQL answers and its advisory locks keep two
sessions apart (what team mode's per-user scan lock relies on); Redis keeps its data
across a restart (appendonly)."""

from __future__ import annotations

import time

import psycopg
import redis
from servers.postgres_server import PostgresServer
from servers.redis_server import RedisServer

USER_KEY = 4242  # an advisory lock key, as a user's scan will take one


def test_postgres_advisory_lock_refuses_a_second_session(postgres: PostgresServer) -> None:
    with (
        psycopg.connect(postgres.url, autocommit=True) as one,
        psycopg.connect(postgres.url, autocommit=True) as two,
    ):
        assert one.execute("SELECT pg_try_advisory_lock(%s)", (USER_KEY,)).fetchone() == (True,)
        assert two.execute("SELECT pg_try_advisory_lock(%s)", (USER_KEY,)).fetchone() == (False,)
        # A session-level lock dies with its connection: a killed worker frees it, a
        # moment later (the server's backend ends after the client has gone).
        one.close()
        deadline = time.monotonic() + 10
        take = "SELECT pg_try_advisory_lock(%s)"
        while two.execute(take, (USER_KEY,)).fetchone() != (True,):
            assert time.monotonic() < deadline, "the lock outlived its connection"
            time.sleep(0.01)


def test_redis_keeps_its_data_across_a_restart(redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url)
    client.set("calbot:probe", "kept")
    client.close()
    redis_server.restart()
    client = redis.Redis.from_url(redis_server.url)
    try:
        assert client.get("calbot:probe") == b"kept"
    finally:
        client.close()
