"""State stores: one contract, run against the in-memory fake and the SQLite file store."""

from __future__ import annotations

import json
import sqlite3
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from calbot.adapters import sqlite_state
from calbot.adapters.memory_state import (
    RUNS_KEPT,
    MemoryStore,
    ReadOnlyStoreError,
    StateUsageError,
)
from calbot.adapters.sqlite_state import DB_NAME, MIGRATIONS, SqliteStore
from calbot.core.records import (
    DayLoadRecord,
    DecisionRecord,
    GoodwillEntry,
    ReviewItem,
    RunRecord,
    SinkRecord,
)
from calbot.errors import CalbotError
from calbot.ports.store import EventCache, StateStore

HANOI = timezone(timedelta(hours=7))
BERLIN_WINTER = timezone(timedelta(hours=1))
T0 = datetime(2025, 3, 4, 9, 30, 15, 123456, tzinfo=HANOI)


def decision(key: str = "primary/evt-1", **kw: object) -> DecisionRecord:
    fields: dict[str, object] = {
        "key": key,
        "event_id": "evt-1",
        "client": "Công ty Acme",
        "action": "reschedule",
        "score": 72,
        "fingerprint": "fp-1",
        "decided_at": T0,
    }
    fields.update(kw)
    return DecisionRecord(**fields)  # type: ignore[arg-type]


def goodwill(client: str = "Acme", key: str = "primary/evt-1", **kw: object) -> GoodwillEntry:
    fields: dict[str, object] = {
        "client": client,
        "key": key,
        "action": "reschedule",
        "asked_at": T0,
        "meeting_start": T0 + timedelta(days=2),
    }
    fields.update(kw)
    return GoodwillEntry(**fields)  # type: ignore[arg-type]


def sink_record(sink: str = "outbox", key: str = "primary/evt-1", **kw: object) -> SinkRecord:
    fields: dict[str, object] = {
        "key": key,
        "sink": sink,
        "action": "reschedule",
        "message_id": "<calbot.abc@example.com>",
        "ref": "calbot-abc.eml",
        "version": "v1",
        "fingerprint": "fp-1",
        "status": "new",
        "written_at": T0,
        "content_hash": "h1",
    }
    fields.update(kw)
    return SinkRecord(**fields)  # type: ignore[arg-type]


def run(minutes_after: float = 0, outcome: str = "ok", **kw: object) -> RunRecord:
    """A run that finished `minutes_after` T0, after 40 seconds."""
    end = T0 + timedelta(minutes=minutes_after)
    fields: dict[str, object] = {
        "started_at": end - timedelta(seconds=40),
        "finished_at": end,
        "outcome": outcome,
        "error": "",
        "counts": {"events": 12, "meetings": 4, "drafted": 1},
        "warnings": (),
    }
    fields.update(kw)
    return RunRecord(**fields)  # type: ignore[arg-type]


def review(key: str = "primary/evt-1", **kw: object) -> ReviewItem:
    fields: dict[str, object] = {
        "key": key,
        "client": "Công ty Acme",
        "summary": "Acme roadmap review",
        "start": T0 + timedelta(days=1),
        "end": T0 + timedelta(days=1, minutes=90),
        "action": "shorten",
        "reason": "90 min long, over 60 min",
        "event_link": "https://www.google.com/calendar/event?eid=abc",
        "drafts": {"gmail": "r-1", "outbox": "calbot-abc.eml"},
        "saved_minutes": 45,
        "status": "new",
        "drafted_at": T0,
        "reported_at": None,
    }
    fields.update(kw)
    return ReviewItem(**fields)  # type: ignore[arg-type]


def item(event_id: str, **kw: object) -> dict[str, object]:
    """A compact Calendar API event as the Google source caches it."""
    fields: dict[str, object] = {
        "id": event_id,
        "status": "confirmed",
        "summary": f"Meeting {event_id}",
        "start": {"dateTime": "2025-03-04T09:00:00+07:00", "timeZone": "Asia/Ho_Chi_Minh"},
        "end": {"dateTime": "2025-03-04T10:00:00+07:00"},
    }
    fields.update(kw)
    return fields


def as_cache(store: StateStore) -> EventCache:
    assert isinstance(store, MemoryStore | SqliteStore)
    return store


def open_sqlite(state_dir: Path, *, readonly: bool = False) -> StateStore:
    return SqliteStore.open(state_dir, readonly=readonly)


def open_memory(state_dir: Path, *, readonly: bool = False) -> StateStore:
    return MemoryStore(readonly=readonly)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    opener = open_memory if request.param == "memory" else open_sqlite
    s = opener(tmp_path / "state")
    yield s
    s.close()


class TestStoreContract:
    """What every StateStore must do; the fixture runs it on MemoryStore and SqliteStore."""

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

    # -- the event cache (ports.EventCache) ----------------------------------------------

    def test_cache_starts_empty(self, store: StateStore) -> None:
        cache = as_cache(store)
        assert cache.sync_token("primary") is None
        assert cache.cached_events("primary") == []

    def test_cache_round_trip_per_calendar(self, store: StateStore) -> None:
        cache = as_cache(store)
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
        cache = as_cache(store)
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

    def test_cache_items_need_an_id(self, store: StateStore) -> None:
        cache = as_cache(store)
        with store.transaction():
            with pytest.raises(ValueError, match="id"):
                cache.put_events("primary", [{"summary": "no id"}])
            with pytest.raises(ValueError, match="id"):
                cache.put_events("primary", [{"id": 7}])

    def test_cache_token_none_forgets_it(self, store: StateStore) -> None:
        cache = as_cache(store)
        with store.transaction():
            cache.put_sync_token("primary", "tok-1")
            cache.put_sync_token("primary", "tok-2")
        assert cache.sync_token("primary") == "tok-2"
        with store.transaction():
            cache.put_sync_token("primary", None)
        assert cache.sync_token("primary") is None

    def test_cache_drop_calendar_forgets_only_that_one(self, store: StateStore) -> None:
        cache = as_cache(store)
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
        cache = as_cache(store)
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

    # -- the morning review: runs log, review items, week load, meta -----------------------

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

    def test_transactions_do_not_nest(self, store: StateStore) -> None:
        with store.transaction():
            store.put_decision(decision())
            with pytest.raises(StateUsageError), store.transaction():
                pass
        assert list(store.decisions()) == ["primary/evt-1"]


# -- SQLite specifics ----------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def fill(store: StateStore) -> None:
    with store.transaction():
        store.put_decision(decision())
        store.add_goodwill(goodwill())
        store.put_sink_record(sink_record())


def test_sqlite_persists_across_reopen(tmp_path: Path) -> None:
    state = tmp_path / "state"
    store = SqliteStore.open(state)
    fill(store)
    store.close()
    again = SqliteStore.open(state)
    assert again.decisions() == {"primary/evt-1": decision()}
    assert again.goodwill(T0) == [goodwill()]
    assert again.sink_records("outbox") == {"primary/evt-1": sink_record()}
    again.close()


def test_sqlite_files_are_private(tmp_path: Path) -> None:
    state = tmp_path / "deep" / "state"
    store = SqliteStore.open(state)
    fill(store)
    assert mode(state) == 0o700
    assert mode(state / DB_NAME) == 0o600
    for extra in state.iterdir():  # the -wal / -shm files SQLite adds
        assert mode(extra) == 0o600, extra.name
    store.close()


def test_sqlite_schema_version_recorded_and_wal(tmp_path: Path) -> None:
    SqliteStore.open(tmp_path).close()
    conn = sqlite3.connect(tmp_path / DB_NAME)
    try:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(len(MIGRATIONS),)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"decisions", "goodwill", "sink_records", "schema_version"} <= tables
        assert {"sync_tokens", "event_cache"} <= tables
        assert {"runs", "reviews", "week_load", "meta"} <= tables
    finally:
        conn.close()
    # reopening does not re-run migrations (they would fail: CREATE TABLE without IF NOT EXISTS)
    SqliteStore.open(tmp_path).close()


def test_sqlite_applies_new_migrations_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqliteStore.open(tmp_path)
    fill(store)
    store.close()
    ran: list[int] = []

    def add_column(conn: sqlite3.Connection) -> None:
        ran.append(len(MIGRATIONS))
        conn.execute("ALTER TABLE decisions ADD COLUMN note TEXT NOT NULL DEFAULT ''")

    monkeypatch.setattr(sqlite_state, "MIGRATIONS", [*MIGRATIONS, add_column])
    again = SqliteStore.open(tmp_path)
    assert ran == [len(MIGRATIONS)]
    assert again.decisions() == {"primary/evt-1": decision()}
    again.close()
    conn = sqlite3.connect(tmp_path / DB_NAME)
    assert conn.execute("SELECT version FROM schema_version").fetchone() == (len(MIGRATIONS) + 1,)
    conn.close()


def test_sqlite_version_1_store_migrates_to_the_event_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store written by the calbot before the Google source keeps its data and gains the
    event cache tables."""
    assert len(MIGRATIONS) >= 2
    with monkeypatch.context() as m:
        m.setattr(sqlite_state, "MIGRATIONS", MIGRATIONS[:1])
        old = SqliteStore.open(tmp_path)
        fill(old)
        old.close()
    conn = sqlite3.connect(tmp_path / DB_NAME)
    assert conn.execute("SELECT version FROM schema_version").fetchone() == (1,)
    assert (
        conn.execute("SELECT name FROM sqlite_master WHERE name='event_cache'").fetchone() is None
    )
    conn.close()
    with pytest.raises(CalbotError, match="run once without --dry-run"):
        SqliteStore.open(tmp_path, readonly=True)
    store = SqliteStore.open(tmp_path)
    assert store.decisions() == {"primary/evt-1": decision()}
    cache = as_cache(store)
    assert cache.cached_events("primary") == []
    with store.transaction():
        cache.put_events("primary", [item("a")])
        cache.put_sync_token("primary", "tok")
    store.close()
    again = as_cache(SqliteStore.open(tmp_path, readonly=True))
    assert again.cached_events("primary") == [item("a")]
    assert again.sync_token("primary") == "tok"
    conn = sqlite3.connect(tmp_path / DB_NAME)
    assert conn.execute("SELECT version FROM schema_version").fetchone() == (len(MIGRATIONS),)
    (text,) = conn.execute("SELECT item FROM event_cache").fetchone()
    conn.close()
    assert text == json.dumps(item("a"), ensure_ascii=False, separators=(",", ":"))  # compact


def test_sqlite_version_2_store_migrates_to_the_review_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store written by the calbot before the digest keeps its decisions, ledger and event
    cache, and gains the runs log, review items, week load and meta."""
    assert len(MIGRATIONS) >= 3
    with monkeypatch.context() as m:
        m.setattr(sqlite_state, "MIGRATIONS", MIGRATIONS[:2])
        old = SqliteStore.open(tmp_path)
        fill(old)
        with old.transaction():
            as_cache(old).put_events("primary", [item("a")])
            as_cache(old).put_sync_token("primary", "tok")
        old.close()
    conn = sqlite3.connect(tmp_path / DB_NAME)
    assert conn.execute("SELECT version FROM schema_version").fetchone() == (2,)
    assert conn.execute("SELECT name FROM sqlite_master WHERE name='reviews'").fetchone() is None
    conn.close()
    with pytest.raises(CalbotError, match="run once without --dry-run"):
        SqliteStore.open(tmp_path, readonly=True)
    store = SqliteStore.open(tmp_path)
    assert store.decisions() == {"primary/evt-1": decision()}
    assert store.goodwill(T0) == [goodwill()]
    assert store.sink_records("outbox") == {"primary/evt-1": sink_record()}
    assert as_cache(store).cached_events("primary") == [item("a")]
    assert as_cache(store).sync_token("primary") == "tok"
    assert store.reviews() == [] and store.runs(T0 - timedelta(days=1)) == []
    with store.transaction():
        store.add_run(run())
        store.put_review(review())
        store.put_week_load([DayLoadRecord(date(2025, 3, 4), 60.0, 1)])
        store.put_meta("last_digest_at", T0.isoformat())
    store.close()
    again = SqliteStore.open(tmp_path, readonly=True)
    assert again.runs(T0 - timedelta(days=1)) == [run()]
    assert again.reviews() == [review()]
    assert again.week_load() == [DayLoadRecord(date(2025, 3, 4), 60.0, 1)]
    assert again.get_meta("last_digest_at") == T0.isoformat()
    again.close()


def test_sqlite_review_columns_are_plain_text(tmp_path: Path) -> None:
    """UTC ISO text for datetimes, sorted compact JSON for drafts, NULL until reported."""
    store = SqliteStore.open(tmp_path)
    with store.transaction():
        store.put_review(review(drafts={"outbox": "o.eml", "gmail": "r-1"}))
        store.add_run(run(warnings=("w ✎",)))
    store.close()
    conn = sqlite3.connect(tmp_path / DB_NAME)
    row = conn.execute('SELECT start, "end", drafts, reported_at FROM reviews').fetchone()
    runs_row = conn.execute("SELECT finished_at, counts, warnings FROM runs").fetchone()
    conn.close()
    assert row == (
        (T0 + timedelta(days=1)).astimezone(UTC).isoformat(timespec="microseconds"),
        (T0 + timedelta(days=1, minutes=90)).astimezone(UTC).isoformat(timespec="microseconds"),
        '{"gmail":"r-1","outbox":"o.eml"}',
        None,
    )
    assert runs_row == (
        T0.astimezone(UTC).isoformat(timespec="microseconds"),
        '{"drafted":1,"events":12,"meetings":4}',
        '["w ✎"]',
    )


def test_sqlite_failed_migration_rolls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    SqliteStore.open(tmp_path).close()

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x TEXT)")
        raise RuntimeError("migration bug")

    monkeypatch.setattr(sqlite_state, "MIGRATIONS", [*MIGRATIONS, broken])
    with pytest.raises(RuntimeError, match="migration bug"):
        SqliteStore.open(tmp_path)
    conn = sqlite3.connect(tmp_path / DB_NAME)
    assert conn.execute("SELECT version FROM schema_version").fetchone() == (len(MIGRATIONS),)
    assert conn.execute("SELECT name FROM sqlite_master WHERE name='half_done'").fetchone() is None
    conn.close()


@pytest.mark.parametrize("readonly", [False, True])
def test_sqlite_too_new_schema_is_a_one_line_error(tmp_path: Path, readonly: bool) -> None:
    SqliteStore.open(tmp_path).close()
    conn = sqlite3.connect(tmp_path / DB_NAME)
    with conn:
        conn.execute("UPDATE schema_version SET version = 99")
    conn.close()
    with pytest.raises(CalbotError) as info:
        SqliteStore.open(tmp_path, readonly=readonly)
    message = str(info.value)
    assert "\n" not in message
    assert message == (
        f"state store at {tmp_path / DB_NAME} is version 99, this calbot understands up to"
        f" {len(MIGRATIONS)} — upgrade calbot"
    )


def test_sqlite_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / DB_NAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CalbotError, match="cannot open the state store at"):
        SqliteStore.open(tmp_path)


def test_readonly_missing_store_creates_nothing(tmp_path: Path) -> None:
    state = tmp_path / "never" / "state"
    store = SqliteStore.open(state, readonly=True)
    assert store.decisions() == {}
    assert store.goodwill(T0) == []
    assert store.sink_records("outbox") == {}
    with store.transaction(), pytest.raises(ReadOnlyStoreError):
        store.put_decision(decision())
    store.close()
    assert not (tmp_path / "never").exists()


def test_readonly_existing_store_reads_and_refuses_writes(tmp_path: Path) -> None:
    writer = SqliteStore.open(tmp_path)
    fill(writer)
    writer.close()
    before = (tmp_path / DB_NAME).read_bytes()
    reader = SqliteStore.open(tmp_path, readonly=True)
    assert reader.decisions() == {"primary/evt-1": decision()}
    assert reader.sink_records("outbox") == {"primary/evt-1": sink_record()}
    with reader.transaction():
        with pytest.raises(ReadOnlyStoreError, match="read-only"):
            reader.put_decision(decision("other"))
        with pytest.raises(ReadOnlyStoreError):
            reader.add_goodwill(goodwill())
        with pytest.raises(ReadOnlyStoreError):
            reader.put_sink_record(sink_record())
        with pytest.raises(ReadOnlyStoreError):
            reader.delete_sink_record("outbox", "primary/evt-1")
        with pytest.raises(ReadOnlyStoreError):
            as_cache(reader).put_events("primary", [item("a")])
        with pytest.raises(ReadOnlyStoreError):
            as_cache(reader).put_sync_token("primary", "tok")
        with pytest.raises(ReadOnlyStoreError):
            as_cache(reader).drop_calendar("primary")
        writes: list[Callable[[], None]] = [
            lambda: reader.add_run(run()),
            lambda: reader.put_review(review()),
            lambda: reader.delete_review("primary/evt-1"),
            lambda: reader.mark_reported(["primary/evt-1"], T0),
            lambda: reader.put_week_load([]),
            lambda: reader.put_meta("m", "1"),
        ]
        for write in writes:
            with pytest.raises(ReadOnlyStoreError):
                write()
    with pytest.raises(ReadOnlyStoreError):  # read-only wins over "outside a transaction"
        reader.put_decision(decision("other"))
    reader.close()
    assert (tmp_path / DB_NAME).read_bytes() == before


def test_readonly_sees_a_concurrent_writer(tmp_path: Path) -> None:
    writer = SqliteStore.open(tmp_path)
    fill(writer)
    reader = SqliteStore.open(tmp_path, readonly=True)
    with writer.transaction():
        writer.put_decision(decision("second"))
        assert set(reader.decisions()) == {"primary/evt-1"}  # WAL: the reader is not blocked
    assert set(reader.decisions()) == {"primary/evt-1", "second"}
    reader.close()
    writer.close()


def test_two_writers_serialise_and_both_commit(tmp_path: Path) -> None:
    a = SqliteStore.open(tmp_path)
    b = SqliteStore.open(tmp_path)
    with a.transaction():
        a.put_decision(decision("from-a"))
    with b.transaction():
        b.put_decision(decision("from-b"))
    assert set(a.decisions()) == {"from-a", "from-b"}
    a.close()
    b.close()


def test_memory_readonly_refuses_writes() -> None:
    store = MemoryStore(readonly=True)
    with store.transaction(), pytest.raises(ReadOnlyStoreError):
        store.add_goodwill(goodwill())
    with store.transaction(), pytest.raises(ReadOnlyStoreError):
        store.put_events("primary", [item("a")])
    assert store.goodwill(T0 - timedelta(days=1)) == []
    assert store.cached_events("primary") == []


def test_stored_datetimes_are_utc_text(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path)
    fill(store)
    store.close()
    conn = sqlite3.connect(tmp_path / DB_NAME)
    (text,) = conn.execute("SELECT decided_at FROM decisions").fetchone()
    conn.close()
    assert text == T0.astimezone(UTC).isoformat(timespec="microseconds")
    assert text.endswith("+00:00")
