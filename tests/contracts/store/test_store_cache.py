"""The event cache (`ports.EventCache`): events and sync tokens per calendar, cancelled
events removed, one calendar dropped alone, rollback, and the read of a time window."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from store_records import item

from calbot.ports.store import EventCache, StateStore, StateUsageError


class TestStoreContract:
    """What every StateStore must do; the fixture runs it on every store in `OPENERS`."""

    def test_cache_starts_empty(self, store: StateStore) -> None:
        cache: EventCache = store
        assert cache.sync_token("primary") is None
        assert cache.cached_events("primary") == []

    def test_cache_round_trip_per_calendar(self, store: StateStore) -> None:
        cache: EventCache = store
        a, b = item("a", summary="Họp với Acme ✎"), item("b", attendees=[{"email": "x@y.z"}])
        other = item("a", summary="same id, other calendar")
        with store.transaction():
            cache.put_events("primary", [b, a])
            cache.put_events("team@group.calendar.google.com", [other])
            cache.put_sync_token("primary", "tok-1")
        assert cache.cached_events("primary") == [a, b]  # ordered by id
        assert cache.cached_events("team@group.calendar.google.com") == [other]
        assert cache.sync_token("primary") == "tok-1"
        assert cache.sync_token("team@group.calendar.google.com") is None
        got = cache.cached_events("primary")
        got[0]["summary"] = "mutated by a caller"
        assert cache.cached_events("primary") == [a, b]  # a copy comes back

    def test_cache_upsert_and_cancelled_removes(self, store: StateStore) -> None:
        cache: EventCache = store
        with store.transaction():
            cache.put_events("primary", [item("a"), item("b"), item("c")])
        changed = item("a", summary="moved", start={"dateTime": "2025-03-05T10:00:00Z"})
        with store.transaction():
            cache.put_events(
                "primary",
                [
                    changed,
                    {"id": "b", "status": "cancelled"},
                    {"id": "never-cached", "status": "cancelled"},
                    item("d"),
                    item("d2"),
                    {"id": "d2", "status": "cancelled"},  # in order: the last one wins
                    {"id": "c", "status": "cancelled"},
                    item("c", summary="back"),
                ],
            )
            cache.put_sync_token("primary", "tok-2")
        assert cache.cached_events("primary") == [changed, item("c", summary="back"), item("d")]
        assert cache.sync_token("primary") == "tok-2"

    def test_cache_keeps_the_text_an_item_came_as(self, store: StateStore) -> None:
        # a full sync hands over the JSON Google sent beside each item it is the value of
        cache: EventCache = store
        a, b = item("a", summary="Họp"), item("b")
        sent = json.dumps(a, indent=1, ensure_ascii=True)  # not how a store would write it
        with store.transaction():
            cache.put_events("primary", [a, b], [sent, None])
        assert cache.cached_events("primary") == [a, b]
        with store.transaction():
            cache.put_events("primary", [{"id": "a", "status": "cancelled"}], ['{"id": "a"}'])
            with pytest.raises(ValueError):
                cache.put_events("primary", [item("c"), item("d")], [None])
        assert cache.cached_events("primary") == [b]

    def test_cache_items_need_an_id(self, store: StateStore) -> None:
        cache: EventCache = store
        with store.transaction():
            with pytest.raises(ValueError, match="id"):
                cache.put_events("primary", [{"summary": "no id"}])
            with pytest.raises(ValueError, match="id"):
                cache.put_events("primary", [{"id": 7}])

    def test_cache_token_none_forgets_it(self, store: StateStore) -> None:
        cache: EventCache = store
        with store.transaction():
            cache.put_sync_token("primary", "tok-1")
            cache.put_sync_token("primary", "tok-2")
        assert cache.sync_token("primary") == "tok-2"
        with store.transaction():
            cache.put_sync_token("primary", None)
        assert cache.sync_token("primary") is None

    def test_cache_drop_calendar_forgets_only_that_one(self, store: StateStore) -> None:
        cache: EventCache = store
        with store.transaction():
            cache.put_events("primary", [item("a")])
            cache.put_events("other", [item("z")])
            cache.put_sync_token("primary", "tok-p")
            cache.put_sync_token("other", "tok-o")
        with store.transaction():
            cache.drop_calendar("primary")
            cache.drop_calendar("never-seen")
        assert cache.cached_events("primary") == []
        assert cache.sync_token("primary") is None
        assert cache.cached_events("other") == [item("z")]
        assert cache.sync_token("other") == "tok-o"

    def test_cache_writes_roll_back_and_need_a_transaction(self, store: StateStore) -> None:
        cache: EventCache = store
        with store.transaction():
            cache.put_events("primary", [item("a")])
            cache.put_sync_token("primary", "tok-1")
        with pytest.raises(RuntimeError, match="boom"), store.transaction():
            cache.drop_calendar("primary")
            cache.put_events("primary", [item("b")])
            cache.put_sync_token("primary", "tok-2")
            raise RuntimeError("boom")
        assert cache.cached_events("primary") == [item("a")]
        assert cache.sync_token("primary") == "tok-1"
        with pytest.raises(StateUsageError):
            cache.put_events("primary", [item("c")])
        with pytest.raises(StateUsageError):
            cache.put_sync_token("primary", "x")
        with pytest.raises(StateUsageError):
            cache.drop_calendar("primary")
        assert cache.cached_events("primary") == [item("a")]

    # -- the cache's window read (issue 12) -------------------------------------------------
    def test_cache_window_read_selects_by_time(self, store: StateStore) -> None:
        cache: EventCache = store

        def at(
            event_id: str, start: str, end: str | None, key: str = "dateTime"
        ) -> dict[str, object]:
            times: dict[str, object] = {"start": {key: start}}
            if end is not None:
                times["end"] = {key: end}
            return item(event_id, **times)

        inside = at("in", "2025-03-04T09:00:00+07:00", "2025-03-04T10:00:00+07:00")
        across = at("across", "2025-03-01T09:00:00Z", "2025-03-04T03:00:00Z")
        before = at("before", "2025-03-01T09:00:00Z", "2025-03-01T10:00:00Z")
        after = at("after", "2025-03-09T09:00:00Z", "2025-03-09T10:00:00Z")
        all_day = at("day", "2025-03-05", "2025-03-06", key="date")
        no_end = at("open", "2025-03-02T09:00:00Z", None)
        unreadable = item("weird", start={"dateTime": "not a time"})
        with store.transaction():
            cache.put_events(
                "primary", [inside, across, before, after, all_day, no_end, unreadable]
            )
            cache.put_events("other", [at("x", "2025-03-04T09:00:00Z", "2025-03-04T10:00:00Z")])
        start, end = datetime(2025, 3, 4, tzinfo=UTC), datetime(2025, 3, 6, tzinfo=UTC)
        got = {str(i["id"]) for i in cache.cached_events_between("primary", start, end)}
        assert got == {"in", "across", "day", "open", "weird"}
        with store.transaction():  # a moved event moves in the index too
            cache.put_events("primary", [{**after, "start": inside["start"], "end": inside["end"]}])
        got = {str(i["id"]) for i in cache.cached_events_between("primary", start, end)}
        assert "after" in got
