"""Decisions and goodwill, and the rules every store keeps: aware datetimes, text kept
verbatim, rollback, writes only inside a transaction, no nesting, a read-only store
refusing writes, and every table round-tripping."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from store_records import (
    BERLIN_WINTER,
    T0,
    assert_holds_sample,
    decision,
    goodwill,
    hold,
    item,
    sink_record,
    write_sample,
)

from calbot.ports.store import ReadOnlyStoreError, StateStore, StateUsageError


class TestStoreContract:
    """What every StateStore must do; the fixture runs it on every store in `OPENERS`."""

    def test_starts_empty(self, store: StateStore) -> None:
        assert store.decisions() == {}
        assert store.goodwill(T0 - timedelta(days=365)) == []
        assert store.sink_records("outbox") == {}

    def test_decision_round_trip_and_overwrite(self, store: StateStore) -> None:
        a, b = decision(), decision("primary/series-9", event_id="evt-9_2025", score=0)
        with store.transaction():
            store.put_decision(a)
            store.put_decision(b)
        assert store.decisions() == {a.key: a, b.key: b}
        changed = decision(
            action="shorten", score=55, fingerprint="fp-2", decided_at=T0 + timedelta(hours=1)
        )
        with store.transaction():
            store.put_decision(changed)
        assert store.decisions() == {a.key: changed, b.key: b}

    def test_datetimes_come_back_aware_and_equal(self, store: StateStore) -> None:
        with store.transaction():
            store.put_decision(decision())
        got = store.decisions()["primary/evt-1"].decided_at
        assert got.tzinfo is not None
        assert got == T0
        assert got.microsecond == T0.microsecond

    def test_naive_datetimes_are_refused(self, store: StateStore) -> None:
        with store.transaction():
            with pytest.raises(ValueError, match="timezone-aware"):
                store.put_decision(decision(decided_at=datetime(2025, 1, 1)))
            with pytest.raises(ValueError, match="timezone-aware"):
                store.add_goodwill(goodwill(meeting_start=datetime(2025, 1, 1)))
        with pytest.raises(ValueError, match="timezone-aware"):
            store.goodwill(datetime(2025, 1, 1))

    def test_goodwill_since_filters_across_offsets(self, store: StateStore) -> None:
        old = goodwill("Acme", "k-old", asked_at=T0 - timedelta(days=20))
        edge = goodwill("Beta", "k-edge", asked_at=T0)
        new = goodwill("Beta", "k-new", action="email", asked_at=T0 + timedelta(days=1))
        with store.transaction():
            for entry in (new, old, edge):
                store.add_goodwill(entry)
        # `since` in another offset: the same instant as T0, an hour later on the wall clock
        # in Hanoi than in Berlin; text comparison of unnormalised ISO strings would fail.
        since = T0.astimezone(BERLIN_WINTER)
        assert store.goodwill(since) == [edge, new]
        assert store.goodwill(since + timedelta(microseconds=1)) == [new]
        assert store.goodwill(T0 - timedelta(days=30)) == [old, edge, new]

    def test_goodwill_same_ask_keeps_its_first_asked_at(self, store: StateStore) -> None:
        first = goodwill()
        again = goodwill(asked_at=T0 + timedelta(days=3), meeting_start=T0 + timedelta(days=9))
        other_action = goodwill(action="email", asked_at=T0 + timedelta(hours=1))
        with store.transaction():
            store.add_goodwill(first)
        with store.transaction():
            store.add_goodwill(again)  # the next scan records the same pending ask
            store.add_goodwill(other_action)
        kept = goodwill(meeting_start=again.meeting_start)
        assert store.goodwill(T0 - timedelta(days=1)) == [kept, other_action]
        assert store.goodwill(T0 + timedelta(days=1)) == []
        earlier = goodwill(asked_at=T0 - timedelta(days=2))
        with store.transaction():
            store.add_goodwill(earlier)  # an earlier time wins
        assert store.goodwill(T0 - timedelta(days=5))[0].asked_at == earlier.asked_at

    def test_untrusted_text_is_stored_verbatim(self, store: StateStore) -> None:
        odd = "x'); DROP TABLE decisions; -- \"\\ \x00 ✎ Dời lịch"
        rec = decision(odd, client=odd, fingerprint=odd)
        with store.transaction():
            store.put_decision(rec)
        assert store.decisions() == {odd: rec}

    def test_rollback_on_exception_leaves_nothing(self, store: StateStore) -> None:
        with store.transaction():
            store.put_decision(decision("kept"))
        with pytest.raises(RuntimeError, match="boom"), store.transaction():
            store.put_decision(decision("lost"))
            store.put_decision(decision("kept", score=1))
            store.add_goodwill(goodwill())
            store.put_sink_record(sink_record())
            store.delete_sink_record("outbox", "kept")
            raise RuntimeError("boom")
        assert store.decisions() == {"kept": decision("kept")}
        assert store.goodwill(T0 - timedelta(days=1)) == []
        assert store.sink_records("outbox") == {}
        with store.transaction():  # usable again after a rollback
            store.put_decision(decision("after"))
        assert set(store.decisions()) == {"kept", "after"}

    def test_writes_outside_a_transaction_raise(self, store: StateStore) -> None:
        with pytest.raises(StateUsageError):
            store.put_decision(decision())
        with pytest.raises(StateUsageError):
            store.add_goodwill(goodwill())
        with pytest.raises(StateUsageError):
            store.put_sink_record(sink_record())
        with pytest.raises(StateUsageError):
            store.delete_sink_record("outbox", "k")
        assert store.decisions() == {}

    def test_transactions_do_not_nest(self, store: StateStore) -> None:
        with store.transaction():
            store.put_decision(decision())
            with pytest.raises(StateUsageError), store.transaction():
                pass
        assert list(store.decisions()) == ["primary/evt-1"]


def test_every_table_round_trips(store: StateStore) -> None:
    write_sample(store)
    assert_holds_sample(store)


def test_readonly_refuses_writes(readonly_store: StateStore) -> None:
    store = readonly_store
    with store.transaction(), pytest.raises(ReadOnlyStoreError):
        store.add_goodwill(goodwill())
    with store.transaction(), pytest.raises(ReadOnlyStoreError):
        store.put_events("primary", [item("a")])
    with store.transaction(), pytest.raises(ReadOnlyStoreError):
        store.put_holds("primary/evt-1", [hold()])
    assert store.goodwill(T0 - timedelta(days=1)) == []
    assert store.cached_events("primary") == []
    assert store.holds() == []
