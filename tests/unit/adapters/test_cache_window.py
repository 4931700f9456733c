"""The event cache's window columns (issue 12): the migration fills them for rows cached
before it, and `item_bounds` brackets every shape of Google time."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from store_records import item

from calbot.adapters.cache_items import NO_END, NO_START, item_bounds, item_json
from calbot.adapters.sqlite import DB_NAME, SqliteStore, schema


def test_rows_cached_before_the_migration_get_their_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = schema.MIGRATIONS.index(schema._event_cache_window)
    with monkeypatch.context() as m:
        m.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:mine])
        SqliteStore.open(tmp_path).close()
    conn = sqlite3.connect(tmp_path / DB_NAME)
    with conn:
        for event_id, day in (("march", "2025-03-04"), ("june", "2025-06-04")):
            times = {"dateTime": f"{day}T09:00:00+07:00"}
            conn.execute(
                "INSERT INTO event_cache (calendar_id, event_id, item) VALUES (?, ?, ?)",
                ("primary", event_id, json.dumps(item(event_id, start=times, end=times))),
            )
        conn.execute(
            "INSERT INTO event_cache (calendar_id, event_id, item) VALUES (?, ?, ?)",
            ("primary", "broken", "{not json"),
        )
    conn.close()
    SqliteStore.open(tmp_path).close()  # migrates
    conn = sqlite3.connect(tmp_path / DB_NAME)
    try:
        march = (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 10, tzinfo=UTC))
        rows = conn.execute(
            "SELECT event_id FROM event_cache WHERE calendar_id = 'primary'"
            " AND start_utc <= ? AND end_utc >= ? ORDER BY event_id",
            ("2025-03-10T00:00:00Z", "2025-03-01T00:00:00Z"),
        ).fetchall()
        assert rows == [("broken",), ("march",)]  # an unreadable row is in every window
        plan = " ".join(
            str(r[-1])
            for r in conn.execute(
                "EXPLAIN QUERY PLAN SELECT item FROM event_cache WHERE calendar_id = ?"
                " AND start_utc <= ? AND end_utc >= ? ORDER BY event_id",
                ("primary", "b", "a"),
            )
        )
        assert "event_cache_window" in plan
        with conn:
            conn.execute("DELETE FROM event_cache WHERE event_id = 'broken'")
    finally:
        conn.close()
    store = SqliteStore.open(tmp_path)
    assert isinstance(store, SqliteStore)
    try:
        assert [i["id"] for i in store.cached_events_between("primary", *march)] == ["march"]
    finally:
        store.close()


@pytest.mark.parametrize(
    ("times", "bounds"),
    [
        (
            {
                "start": {"dateTime": "2025-03-04T09:00:00+07:00"},
                "end": {"dateTime": "2025-03-04T10:00:00+07:00"},
            },
            ("2025-03-04T02:00:00Z", "2025-03-04T03:00:00Z"),
        ),
        (  # all day: a day wider each side, whatever the user's zone
            {"start": {"date": "2025-03-04"}, "end": {"date": "2025-03-05"}},
            ("2025-03-03T00:00:00Z", "2025-03-06T00:00:00Z"),
        ),
        (  # no offset: a day wider each side
            {
                "start": {"dateTime": "2025-03-04T09:00:00"},
                "end": {"dateTime": "2025-03-04T10:00:00"},
            },
            ("2025-03-03T09:00:00Z", "2025-03-05T10:00:00Z"),
        ),
        ({"start": {"dateTime": "2025-03-04T09:00:00Z"}}, ("2025-03-04T09:00:00Z", NO_END)),
        ({"start": {"dateTime": "yesterday"}}, (NO_START, NO_END)),
        (
            {"start": {"date": "9999-12-31"}, "end": {"date": "9999-12-31"}},
            ("9999-12-30T00:00:00Z", NO_END),
        ),
        ({"start": {"date": "0001-01-01"}, "end": {"date": "0001-01-02"}}, (NO_START, NO_END)),
        ({}, (NO_START, NO_END)),
    ],
)
def test_item_bounds(times: dict[str, object], bounds: tuple[str, str]) -> None:
    assert item_bounds({"id": "x", **times}) == bounds


def test_item_json_is_the_json_module_text() -> None:
    # made by a C encoder built once (not one per item): the same text as json.dumps
    item: dict[str, object] = {
        "id": "e1",
        "summary": 'Caf\u00e9 \u2603 "q" \\ \n',
        "n": [1, 2.5, 1e300, float("nan"), -0.0, True, None],
        "start": {"dateTime": "2025-03-04T10:00:00+01:00"},
        "nested": {"a": [{}, []]},
    }
    expected = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
    assert item_json(item) == ("e1", expected)
