"""What a draft leaves in the store: sink records and pending creates per sink, and the
slots it holds (kept by start, replaced per key, bad ones refused)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from store_records import BERLIN_WINTER, T0, hold, sink_record

from calbot.ports.store import PendingCreate, StateStore, StateUsageError


class TestStoreContract:
    """What every StateStore must do; the fixture runs it on every store in `OPENERS`."""

    def test_sink_records_round_trip_per_sink(self, store: StateStore) -> None:
        out = sink_record()
        out2 = sink_record(key="primary/evt-2", ref="calbot-def.eml", status="user_edited")
        gmail = sink_record("gmail", ref="r-123", version="msg-1", content_hash="")
        with store.transaction():
            for r in (out, out2, gmail):
                store.put_sink_record(r)
        assert store.sink_records("outbox") == {out.key: out, out2.key: out2}
        assert store.sink_records("gmail") == {gmail.key: gmail}
        assert store.sink_records("review_calendar") == {}
        updated = sink_record(version="v2", status="updated", written_at=T0 + timedelta(hours=2))
        with store.transaction():
            store.put_sink_record(updated)
            store.delete_sink_record("outbox", out2.key)
            store.delete_sink_record("outbox", "never-there")
        assert store.sink_records("outbox") == {out.key: updated}
        assert store.sink_records("gmail") == {gmail.key: gmail}

    def test_pending_creates_round_trip_per_sink(self, store: StateStore) -> None:
        first = PendingCreate("gmail", "primary/evt-1", "<a@calbot>", T0)
        other = PendingCreate("outbox", "primary/evt-1", "<a@calbot>", T0)
        with store.transaction():
            store.put_pending_create(first)
            store.put_pending_create(other)
        assert store.pending_creates("gmail") == {first.key: first}
        again = PendingCreate("gmail", "primary/evt-1", "<b@calbot>", T0 + timedelta(hours=1))
        with store.transaction():
            store.put_pending_create(again)  # one per (sink, key): the newer replaces it
        assert store.pending_creates("gmail") == {again.key: again}
        with pytest.raises(RuntimeError), store.transaction():
            store.delete_pending_create("gmail", again.key)
            raise RuntimeError("rolled back")
        assert store.pending_creates("gmail") == {again.key: again}
        with store.transaction():
            store.delete_pending_create("gmail", again.key)
            store.delete_pending_create("gmail", "never-there")
        assert store.pending_creates("gmail") == {}
        assert store.pending_creates("outbox") == {other.key: other}
        with pytest.raises(StateUsageError):
            store.put_pending_create(first)  # outside a transaction

    def test_holds_start_empty_and_round_trip_by_start(self, store: StateStore) -> None:
        assert store.holds() == []
        a1, a2 = hold("a", 3), hold("a", 1, start=T0.astimezone(BERLIN_WINTER) + timedelta(days=1))
        b = hold("b", 2, event_id="evt-2", client="Beta ✎")
        with store.transaction():
            store.put_holds("a", [a1, a2])
            store.put_holds("b", [b])
        assert store.holds() == [a2, b, a1]
        for got in store.holds():
            assert got.start.utcoffset() is not None and got.end.utcoffset() is not None

    def test_put_holds_replaces_the_keys_set_and_none_clears_it(self, store: StateStore) -> None:
        with store.transaction():
            store.put_holds("a", [hold("a", 1), hold("a", 2)])
            store.put_holds("b", [hold("b", 5)])
        with store.transaction():
            store.put_holds("a", [hold("a", 4)])
        assert [(h.key, h.start) for h in store.holds()] == [
            ("a", hold("a", 4).start),
            ("b", hold("b", 5).start),
        ]
        with store.transaction():
            store.put_holds("a", [])
        assert [h.key for h in store.holds()] == ["b"]

    def test_bad_holds_are_refused_and_change_nothing(self, store: StateStore) -> None:
        naive = datetime(2025, 3, 4, 9, 0)
        bad = [
            [hold("other")],  # another key's hold
            [hold("a", start=naive)],
            [hold("a", end=hold("a").start)],  # empty
            [hold("a", 1), hold("a", 1)],  # the same slot twice
        ]
        for holds in bad:
            with store.transaction(), pytest.raises(ValueError):
                store.put_holds("a", holds)
        assert store.holds() == []

    def test_holds_roll_back_and_need_a_transaction(self, store: StateStore) -> None:
        with pytest.raises(RuntimeError), store.transaction():
            store.put_holds("a", [hold("a")])
            raise RuntimeError("boom")
        assert store.holds() == []
        with pytest.raises(StateUsageError):
            store.put_holds("a", [hold("a")])
