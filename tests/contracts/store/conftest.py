"""The store contract (this directory): what every `StateStore` does, run against every store.

A new store joins by adding its opener to `OPENERS` in this file (a function from a fresh
state dir to an empty store, writable or read-only)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from calbot.adapters.memory_state import MemoryStore
from calbot.adapters.sqlite import SqliteStore
from calbot.ports.store import StateStore

Opener = Callable[[Path, bool], StateStore]


def open_memory(state_dir: Path, readonly: bool) -> StateStore:
    return MemoryStore(readonly=readonly)


def open_sqlite(state_dir: Path, readonly: bool) -> StateStore:
    if readonly:  # an existing, empty file: a missing one reads as a MemoryStore
        SqliteStore.open(state_dir).close()
    return SqliteStore.open(state_dir, readonly=readonly)


OPENERS: dict[str, Opener] = {"memory": open_memory, "sqlite": open_sqlite}


_PG_USERS = itertools.count(1)


def postgres_opener(url: str) -> Opener:
    """A new user per state dir: each test's store starts empty though all share one
    database (the store is bound to its user)."""
    from calbot.team.pg_store import PgStore, connect
    from calbot.team.pg_users import add_user

    users: dict[Path, int] = {}

    def open_postgres(state_dir: Path, readonly: bool) -> StateStore:
        conn = connect(url)
        if state_dir not in users:
            email = f"user-{next(_PG_USERS)}@contract.invalid"
            users[state_dir] = add_user(conn, email, "").user_id
        return PgStore.open(conn, users[state_dir], readonly=readonly)

    return open_postgres


#: Openers that need a server: a fixture yields what they connect to; the `system` mark
#: keeps them out of the fast set and in the full suite.
SERVER_OPENERS: dict[str, tuple[str, Callable[[str], Opener]]] = {
    "postgres": ("contract_postgres", postgres_opener),
}


@pytest.fixture(
    params=[*sorted(OPENERS), *(pytest.param(n, marks=pytest.mark.system) for n in SERVER_OPENERS)]
)
def opener(request: pytest.FixtureRequest) -> Opener:
    if request.param in SERVER_OPENERS:
        fixture, make = SERVER_OPENERS[request.param]
        return make(request.getfixturevalue(fixture))
    return OPENERS[request.param]


@pytest.fixture
def store(opener: Opener, tmp_path: Path) -> Iterator[StateStore]:
    s = opener(tmp_path / "state", False)
    yield s
    s.close()


@pytest.fixture
def readonly_store(opener: Opener, tmp_path: Path) -> Iterator[StateStore]:
    s = opener(tmp_path / "state", True)
    yield s
    s.close()
