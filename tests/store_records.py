"""Builders for the records the state store keeps, shared by the store contract and the
SQLite tests, and one sample that fills every table (what the release store fixture holds)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from calbot.core.records import (
    DayLoadRecord,
    DecisionRecord,
    GoodwillEntry,
    HoldRecord,
    ReviewItem,
    RunRecord,
    SinkRecord,
)
from calbot.ports.store import StateStore

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


def hold(key: str = "primary/evt-1", days: int = 2, **kw: object) -> HoldRecord:
    """A one-hour slot `days` after T0, offered in the draft of `key`."""
    start = T0 + timedelta(days=days)
    fields: dict[str, object] = {
        "key": key,
        "event_id": "evt-1",
        "client": "Công ty Acme",
        "start": start,
        "end": start + timedelta(hours=1),
    }
    fields.update(kw)
    return HoldRecord(**fields)  # type: ignore[arg-type]


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


# -- one sample in every table: what tests/data/release-1.sqlite3 holds --------------------

SAMPLE_DECISIONS = (decision(), decision("primary/series-9", event_id="evt-9_2025", score=0))
SAMPLE_GOODWILL = (
    goodwill(),
    goodwill("Beta", "k-new", action="email", asked_at=T0.astimezone(BERLIN_WINTER)),
)
SAMPLE_LEDGER = (
    sink_record(),
    sink_record("gmail", ref="r-123", version="msg-1", status="user_edited", content_hash=""),
)
SAMPLE_EVENTS = (item("a", summary="Họp với Acme ✎"), item("b", attendees=[{"email": "x@y.z"}]))
SAMPLE_RUNS = (
    run(-30, "auth", error="Google access expired or was revoked"),
    run(warnings=("primary: skipped Họp: no start",)),
)
SAMPLE_REVIEWS = (
    review(),
    review("b", drafts={}, status="unchanged", reported_at=T0 + timedelta(hours=2)),
)
SAMPLE_WEEK = (DayLoadRecord(date(2025, 3, 3), 150.5, 3), DayLoadRecord(date(2025, 3, 4), 390.0, 6))
SAMPLE_META = {"last_digest_at": T0.isoformat(), "review_calendar_id": "abc@group.calendar"}


def write_sample(store: StateStore) -> None:
    with store.transaction():
        for d in SAMPLE_DECISIONS:
            store.put_decision(d)
        for g in SAMPLE_GOODWILL:
            store.add_goodwill(g)
        for r in SAMPLE_LEDGER:
            store.put_sink_record(r)
        store.put_events("primary", list(SAMPLE_EVENTS))
        store.put_sync_token("primary", "tok-1")
        for one in SAMPLE_RUNS:
            store.add_run(one)
        for it in SAMPLE_REVIEWS:
            store.put_review(it)
        store.put_week_load(SAMPLE_WEEK)
        for name, value in SAMPLE_META.items():
            store.put_meta(name, value)


def assert_holds_sample(store: StateStore) -> None:
    """Every read of `store` shows exactly what `write_sample` wrote."""
    assert store.decisions() == {d.key: d for d in SAMPLE_DECISIONS}
    assert store.goodwill(T0 - timedelta(days=1)) == list(SAMPLE_GOODWILL)
    assert store.sink_records("outbox") == {SAMPLE_LEDGER[0].key: SAMPLE_LEDGER[0]}
    assert store.sink_records("gmail") == {SAMPLE_LEDGER[1].key: SAMPLE_LEDGER[1]}
    assert store.cached_events("primary") == list(SAMPLE_EVENTS)
    assert list(store.iter_cached_events("primary")) == list(SAMPLE_EVENTS)
    assert store.sync_token("primary") == "tok-1"
    assert store.runs(T0 - timedelta(days=1)) == list(SAMPLE_RUNS)
    assert store.reviews() == sorted(SAMPLE_REVIEWS, key=lambda r: (r.start, r.key))
    assert store.week_load() == list(SAMPLE_WEEK)
    for name, value in SAMPLE_META.items():
        assert store.get_meta(name) == value
