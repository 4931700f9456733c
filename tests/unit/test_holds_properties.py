"""Held slots over random weeks (SPEC §1.7): several clients in several zones, random busy
time, overloaded days; one scan, then another later with some meetings moved, cancelled or
added. No two pending proposals ever share a slot, in one scan or across scans; no proposal
lands on a busy event or another draft's hold; an unchanged rescan keeps every slot.

The scan use case runs whole: the memory store, a list source and an outbox in a temp dir.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from builders import ME, ListSource, at, block, client, event, settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from calbot.adapters.memory_state import MemoryStore
from calbot.adapters.outbox import OutboxSink
from calbot.config.templates import load_templates
from calbot.core.model import Action, Event
from calbot.core.records import HoldRecord
from calbot.core.scan_result import ScanResult
from calbot.core.vocab import DraftStatus
from calbot.usecases.scan import Ports, Window, run_scan

NOW = at("2026-11-27 10:00")  # a Friday: the next two weeks lie ahead
ZONES = ("Europe/London", "Asia/Ho_Chi_Minh", "Asia/Kuala_Lumpur", "America/New_York")
TEMPLATES = load_templates()
Span = tuple[datetime, datetime]

meeting = st.tuples(
    st.integers(0, 3),  # client
    st.integers(3, 14),  # day after NOW
    st.integers(16, 34),  # half hour of the day (08:00-17:00)
    st.sampled_from((30, 60, 60, 90)),  # minutes
)
busy = st.tuples(st.integers(3, 14), st.integers(16, 34), st.sampled_from((30, 60, 120)))


@st.composite
def weeks(draw: st.DrawFn) -> dict:
    zones = draw(st.lists(st.sampled_from(ZONES), min_size=2, max_size=4))
    heavy = draw(st.lists(st.integers(3, 11), min_size=1, max_size=3))  # overloaded days
    return {
        "zones": zones,
        "meetings": draw(st.lists(meeting, min_size=3, max_size=14)),
        # each heavy day gets five one-hour meetings, one client after another
        "heavy": [(i % len(zones), day, 18 + 2 * i, 60) for day in heavy for i in range(5)],
        "busy": draw(st.lists(busy, max_size=6)),
        "later": draw(st.integers(0, 30)),  # hours until the second scan
        "moved": draw(st.lists(st.integers(0, 40), max_size=3)),
        "gone": draw(st.lists(st.integers(0, 40), max_size=3)),
        "added": draw(st.lists(busy, max_size=3)),
    }


def day_at(day: int, half_hours: int) -> datetime:
    return (
        NOW.replace(hour=0, minute=0) + timedelta(days=day, minutes=30 * half_hours)
    ).astimezone(NOW.tzinfo)


def calendar(week: dict) -> list[Event]:
    events = []
    for n, (who, day, half, minutes) in enumerate(week["meetings"] + week["heavy"]):
        who %= len(week["zones"])
        events.append(
            event(
                day_at(day, half),
                minutes,
                id=f"m{n}",
                ical_uid=f"m{n}",
                guests=(f"x@c{who}.example",),
            )
        )
    for n, (day, half, minutes) in enumerate(week["busy"]):
        events.append(block(f"{day_at(day, half):%Y-%m-%d %H:%M}", minutes, id=f"b{n}"))
    return events


def later_calendar(week: dict, events: list[Event]) -> list[Event]:
    out = list(events)
    for i in week["moved"]:
        e = out[i % len(out)]
        out[i % len(out)] = replace(
            e, start=e.start + timedelta(hours=3), end=e.end + timedelta(hours=3)
        )
    for i in week["gone"]:
        if out:
            out.pop(i % len(out))
    for n, (day, half, minutes) in enumerate(week["added"]):
        out.append(block(f"{day_at(day, half):%Y-%m-%d %H:%M}", minutes, id=f"a{n}"))
    return out


def spans(result: ScanResult) -> dict[str, list[Span]]:
    """The slots of every pending reschedule draft, by draft key."""
    out: dict[str, list[Span]] = {}
    for o in result.outcomes:
        d = o.decision
        if o.draft is None or d.action != Action.RESCHEDULE or d.proposal is None:
            continue
        if o.status in (DraftStatus.USER_DELETED, DraftStatus.SENT):
            continue
        key = o.meeting.event.draft_key
        out.setdefault(
            key, [(s.start.astimezone(UTC), s.end.astimezone(UTC)) for s in d.proposal.slots]
        )
    return out


def held(holds: list[HoldRecord]) -> dict[str, list[Span]]:
    out: dict[str, list[Span]] = {}
    for h in holds:
        out.setdefault(h.key, []).append((h.start.astimezone(UTC), h.end.astimezone(UTC)))
    return {k: sorted(v) for k, v in out.items()}


def overlap(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def check(result: ScanResult, events: list[Event], before: dict[str, list[Span]]) -> None:
    offered = spans(result)
    keys = sorted(offered)
    for i, k in enumerate(keys):
        for other in keys[i + 1 :]:
            assert not any(overlap(a, b) for a in offered[k] for b in offered[other]), (k, other)
        # only busy events: a meeting moved away from frees its own time
        mine = {e.id for e in events if e.draft_key == k}
        for e in events:
            if e.id not in mine:
                span = (e.start.astimezone(UTC), e.end.astimezone(UTC))
                assert not any(overlap(a, span) for a in offered[k]), (k, e.id)
        for other, slots in before.items():
            if other != k:
                assert not any(overlap(a, b) for a in offered[k] for b in slots), (k, other)
    # what is held after the scan is what the pending drafts offer, and never shared
    after = held(result.holds)
    assert after == {k: sorted(v) for k, v in offered.items()}


@hsettings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(weeks())
def test_no_slot_is_ever_offered_twice(week: dict) -> None:
    clients = [client(f"C{i}", f"c{i}.example", timezone=z) for i, z in enumerate(week["zones"])]
    s = settings(*clients)
    with tempfile.TemporaryDirectory() as tmp:
        store = MemoryStore()
        outbox = OutboxSink(Path(tmp) / "outbox", from_addr=ME, from_name="Me", clock=lambda: NOW)
        source = ListSource(calendar(week))

        def scan(now: datetime) -> ScanResult:
            window = Window(now, now + timedelta(days=14), now - timedelta(days=14))
            return run_scan(s, Ports(source, store, [outbox]), TEMPLATES, now=now, window=window)

        first = scan(NOW)
        check(first, source.items, {})
        again = scan(NOW)  # unchanged: every slot stays
        assert spans(again) == spans(first)
        assert held(store.holds()) == held(first.holds)

        later = NOW + timedelta(hours=week["later"])
        old = {e.id: e for e in source.items}
        source.items = later_calendar(week, source.items)
        # a meeting moved or cancelled frees what it held; every other hold stays busy
        kept = {e.draft_key for e in source.items if old.get(e.id) == e}
        before = held([h for h in store.holds() if h.start > later and h.key in kept])
        second = scan(later)
        check(second, source.items, before)
        assert held(store.holds()) == held(second.holds)
        assert spans(scan(later)) == spans(second)
