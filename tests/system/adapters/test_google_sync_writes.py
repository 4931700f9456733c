"""A full sync writes each page in its own transaction on a thread of its own, while the
next page is read and converted (issue 12): the pages still land in order, one at a time,
before the token; a write that fails stops the sync with its error; no write outlives the
sync. Real googleapiclient against the fake Google, the real SQLite store."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from builders import plain_google_settings
from window_rows import NOW, hourly

from calbot.adapters.google.api import connect
from calbot.adapters.google.sync import CalendarSync
from calbot.adapters.sqlite import SqliteStore

PAGE = 500  # HOURS = 2600 occurrences: six pages


class Recorder:
    """The store, each page write seen (and held at `hold` until released)."""

    def __init__(self, store: SqliteStore, hold: int = 0, fail: int = 0) -> None:
        self.store, self.hold, self.fail = store, hold, fail
        self.writes = 0
        self.held, self.release = threading.Event(), threading.Event()
        self.in_transaction = 0
        self.overlapped = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def put_events(self, calendar_id: str, items: Any, texts: Any = None) -> None:
        self.writes += 1
        if self.writes == self.fail:
            raise sqlite3.OperationalError("database or disk is full")
        if self.writes == self.hold:
            self.held.set()
            assert self.release.wait(10), "never released"
        self.store.put_events(calendar_id, items, texts)


def sync_of(google: Any, tmp_path: Path, cache: Any) -> CalendarSync:
    settings = plain_google_settings(google, tmp_path, NOW)
    api = connect(settings, sleep=lambda s: None)
    return CalendarSync(
        api, cache, writable=True, now=NOW, zone=ZoneInfo("UTC"), warn=lambda m: None
    )


def writers() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "calbot-cache")


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("calbot.adapters.google.pages.PAGE_SIZE", PAGE)


def test_the_next_page_is_read_while_a_page_is_written(
    google: Any, store: SqliteStore, tmp_path: Path
) -> None:
    hourly(google)
    cache = Recorder(store, hold=1)
    stream = iter(sync_of(google, tmp_path, cache).items("primary", NOW))
    got = 0
    while not cache.held.is_set() or got <= PAGE:  # page 2's items while page 1 is held
        next(stream)
        got += 1
        assert got < 3 * PAGE, "the second page waited for the first one's write"
    assert store.cached_events("primary") == []  # page 1's transaction is still open
    cache.release.set()
    rest = sum(1 for _ in stream)
    assert got + rest == 2600 and cache.writes == 6
    assert len(store.cached_events("primary")) == 2600 and store.sync_token("primary")
    assert writers() == 0


def test_a_write_that_fails_stops_the_sync_with_its_error(
    google: Any, store: SqliteStore, tmp_path: Path
) -> None:
    hourly(google)
    cache = Recorder(store, fail=2)
    with pytest.raises(sqlite3.OperationalError, match="disk is full"):
        for _ in sync_of(google, tmp_path, cache).items("primary", NOW):
            pass
    assert cache.writes <= 3  # seen at the next page's write at the latest
    assert store.sync_token("primary") is None  # no token: the next scan syncs again
    assert writers() == 0


def test_a_sync_stopped_early_leaves_no_write_running(
    google: Any, store: SqliteStore, tmp_path: Path
) -> None:
    hourly(google)
    cache = Recorder(store)
    stream = sync_of(google, tmp_path, cache).items("primary", NOW)
    for _ in range(PAGE + 1):
        next(stream)
    stream.close()  # type: ignore[attr-defined]
    assert writers() == 0 and cache.writes == 1
    assert store.sync_token("primary") is None
