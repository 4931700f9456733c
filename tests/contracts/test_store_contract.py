"""The store contract: what every `StateStore` does, run against every store.

A new store joins by adding its opener to `OPENERS` (a function from a fresh state dir to an
empty store, writable or read-only)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from store_records import (
    BERLIN_WINTER,
    T0,
    assert_holds_sample,
    decision,
    goodwill,
    hold,
    item,
    review,
    run,
    sink_record,
    write_sample,
)

from calbot.adapters.memory_state import MemoryStore
from calbot.adapters.sqlite import SqliteStore
from calbot.core.records import DayLoadRecord
from calbot.ports.store import (
    RUNS_KEPT,
    EventCache,
    PendingCreate,
    ReadOnlyStoreError,
    StateStore,
    StateUsageError,
)

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
