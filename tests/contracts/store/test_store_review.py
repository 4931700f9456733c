"""The morning review's tables: the runs log, review items (and when one is news again), the
week load and meta; aware datetimes, rollback, writes only in a transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from store_records import BERLIN_WINTER, T0, review, run

from calbot.core.records import DayLoadRecord
from calbot.ports.store import RUNS_KEPT, StateStore, StateUsageError


class TestStoreContract:
    """What every StateStore must do; the fixture runs it on every store in `OPENERS`."""

    def test_review_tables_start_empty(self, store: StateStore) -> None:
        assert store.runs(T0 - timedelta(days=365)) == []
        assert store.reviews() == []
        assert store.week_load() == []
        assert store.get_meta("last_digest_at") is None

    def test_runs_round_trip_oldest_first_since_across_offsets(self, store: StateStore) -> None:
        late = run(30, "failed", error="calendar.ics: not found ✎", counts={})
        edge = run(0, warnings=("primary: skipped Họp: no start", "second"))
        early = run(-30, "auth", error="Google access expired or was revoked")
        tie = run(30, "locked")  # finished at the same instant as `late`, logged after it
        with store.transaction():
            for r in (late, edge, early, tie):
                store.add_run(r)
        assert store.runs(T0 - timedelta(hours=1)) == [early, edge, late, tie]
        assert store.runs(T0.astimezone(BERLIN_WINTER)) == [edge, late, tie]
        assert store.runs(T0 + timedelta(microseconds=1)) == [late, tie]
        got = store.runs(T0)[0]
        assert got.finished_at.tzinfo is not None and got.finished_at == T0
        assert got.warnings == ("primary: skipped Họp: no start", "second")
        assert dict(got.counts) == {"events": 12, "meetings": 4, "drafted": 1}
        with pytest.raises(ValueError, match="timezone-aware"):
            store.runs(datetime(2025, 1, 1))

    def test_runs_log_forgets_what_is_older_than_runs_kept(self, store: StateStore) -> None:
        old = run(-60 * 24 * 200)
        kept = run(-60 * 24 * 30)
        with store.transaction():
            store.add_run(old)
            store.add_run(kept)
        assert store.runs(T0 - timedelta(days=365)) == [kept]
        assert old.finished_at < kept.finished_at - RUNS_KEPT

    def test_review_round_trip_and_order(self, store: StateStore) -> None:
        later = review("b", start=T0 + timedelta(days=3), end=T0 + timedelta(days=3, hours=1))
        first = review("a", drafts={}, event_link="", status="user_edited")
        same_start = review("0-same-start")
        with store.transaction():
            for r in (later, first, same_start):
                store.put_review(r)
        assert store.reviews() == [same_start, first, later]  # by start, then key
        got = store.reviews()[0]
        assert got.start.tzinfo is not None and got.start == same_start.start
        assert dict(got.drafts) == {"gmail": "r-1", "outbox": "calbot-abc.eml"}

    def test_review_hostile_text_is_stored_verbatim(self, store: StateStore) -> None:
        odd = "x'); DROP TABLE reviews; -- \"\\ \x00 <script>alert(1)</script> ✎ Dời lịch"
        item_ = review(odd, client=odd, summary=odd, reason=odd, drafts={odd: odd})
        with store.transaction():
            store.put_review(item_)
        assert store.reviews() == [item_]

    def test_mark_reported_then_unchanged_upserts_keep_it(self, store: StateStore) -> None:
        with store.transaction():
            store.put_review(review("a"))
            store.put_review(review("b"))
        at = T0 + timedelta(hours=2)
        with store.transaction():
            store.mark_reported(["a", "never-there"], at)
        assert [(r.key, r.reported_at) for r in store.reviews()] == [("a", at), ("b", None)]
        # the next scans: same draft, status "unchanged", a new drafted_at or a new reason
        with store.transaction():
            store.put_review(review("a"))
            store.put_review(review("a", status="unchanged", drafted_at=T0 + timedelta(hours=3)))
            store.put_review(review("a", status="unchanged", reason="other words", client="X"))
        (a, _) = store.reviews()
        assert a.reported_at == at
        assert (a.status, a.reason, a.client) == ("unchanged", "other words", "X")

    @pytest.mark.parametrize(
        "change",
        [
            {"action": "reschedule"},
            {"start": T0 + timedelta(days=2)},
            {"drafts": {"gmail": "r-2", "outbox": "calbot-abc.eml"}},
            {"drafts": {"outbox": "calbot-abc.eml"}},
            {"status": "user_edited"},
            {"status": "user_deleted"},
            {"status": "updated", "drafted_at": T0 + timedelta(hours=5)},
        ],
        ids=lambda c: "+".join(c),
    )
    def test_a_changed_review_is_news_again(
        self, store: StateStore, change: dict[str, object]
    ) -> None:
        with store.transaction():
            store.put_review(review())
            store.mark_reported(["primary/evt-1"], T0 + timedelta(hours=1))
        with store.transaction():
            store.put_review(review("primary/evt-1", **change))
        (got,) = store.reviews()
        assert got.reported_at is None
        assert got == review("primary/evt-1", **change)

    def test_updated_twice_is_news_only_when_written_again(self, store: StateStore) -> None:
        written = T0 + timedelta(hours=5)
        with store.transaction():
            store.put_review(review(status="updated", drafted_at=written))
            store.mark_reported(["primary/evt-1"], T0 + timedelta(hours=6))
            store.put_review(review(status="updated", drafted_at=written))  # the same write
        assert store.reviews()[0].reported_at == T0 + timedelta(hours=6)
        with store.transaction():
            store.put_review(review(status="updated", drafted_at=written + timedelta(hours=1)))
        assert store.reviews()[0].reported_at is None

    def test_delete_review(self, store: StateStore) -> None:
        with store.transaction():
            store.put_review(review("a"))
            store.put_review(review("b"))
        with store.transaction():
            store.delete_review("a")
            store.delete_review("never-there")
        assert [r.key for r in store.reviews()] == ["b"]

    def test_review_datetimes_must_be_aware(self, store: StateStore) -> None:
        naive = datetime(2025, 1, 1)
        with store.transaction():
            for field in ("start", "end", "drafted_at", "reported_at"):
                with pytest.raises(ValueError, match="timezone-aware"):
                    store.put_review(review("k", **{field: naive}))
            with pytest.raises(ValueError, match="timezone-aware"):
                store.add_run(run(finished_at=naive))
            with pytest.raises(ValueError, match="timezone-aware"):
                store.mark_reported(["primary/evt-1"], naive)
        assert store.reviews() == []

    def test_week_load_is_replaced_whole(self, store: StateStore) -> None:
        mon, tue, wed = date(2025, 3, 3), date(2025, 3, 4), date(2025, 3, 5)
        first = [DayLoadRecord(tue, 390.0, 6), DayLoadRecord(mon, 150.5, 3)]
        with store.transaction():
            store.put_week_load(first)
        assert store.week_load() == [DayLoadRecord(mon, 150.5, 3), DayLoadRecord(tue, 390.0, 6)]
        with store.transaction():
            store.put_week_load([DayLoadRecord(wed, 0.0, 0)])
        assert store.week_load() == [DayLoadRecord(wed, 0.0, 0)]
        with store.transaction():
            store.put_week_load([])
        assert store.week_load() == []

    def test_meta_round_trip_and_overwrite(self, store: StateStore) -> None:
        with store.transaction():
            store.put_meta("last_digest_at", T0.isoformat())
            store.put_meta("review_calendar_id", "abc@group.calendar.google.com")
        with store.transaction():
            store.put_meta("last_digest_at", "2025-03-05T07:30:00+01:00")
        assert store.get_meta("last_digest_at") == "2025-03-05T07:30:00+01:00"
        assert store.get_meta("review_calendar_id") == "abc@group.calendar.google.com"
        assert store.get_meta("other") is None

    def test_review_writes_roll_back_and_need_a_transaction(self, store: StateStore) -> None:
        with store.transaction():
            store.put_review(review("kept"))
            store.put_meta("m", "1")
            store.put_week_load([DayLoadRecord(date(2025, 3, 4), 60.0, 1)])
        with pytest.raises(RuntimeError, match="boom"), store.transaction():
            store.add_run(run())
            store.put_review(review("lost"))
            store.delete_review("kept")
            store.mark_reported(["kept"], T0)
            store.put_week_load([])
            store.put_meta("m", "2")
            raise RuntimeError("boom")
        assert store.reviews() == [review("kept")]
        assert store.runs(T0 - timedelta(days=1)) == []
        assert store.get_meta("m") == "1"
        assert store.week_load() == [DayLoadRecord(date(2025, 3, 4), 60.0, 1)]
        writes: list[Callable[[], None]] = [
            lambda: store.add_run(run()),
            lambda: store.put_review(review()),
            lambda: store.delete_review("kept"),
            lambda: store.mark_reported(["kept"], T0),
            lambda: store.put_week_load([]),
            lambda: store.put_meta("m", "3"),
        ]
        for write in writes:
            with pytest.raises(StateUsageError):
                write()
        assert store.get_meta("m") == "1"
