"""`slot_fits`: when a slot a pending draft already offers may be kept (no churn), and
holds in the scene: busy for other draft keys, kept by their own."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from builders import at, block, client, event, settings

from calbot.core.classify import classify
from calbot.core.decide import Scene, Scored, decide_all
from calbot.core.model import Action, Slot
from calbot.core.records import HoldRecord
from calbot.core.scoring import score
from calbot.core.slots import SlotQuery, find_slots, slot_fits
from calbot.core.workload import measure

LONDON = ZoneInfo("Europe/London")
NOW = at("2026-11-25 10:00")
QUERY = SlotQuery(
    duration=timedelta(minutes=60),
    earliest=NOW + timedelta(hours=24),
    latest=NOW + timedelta(days=14),
    client_tz=LONDON,
    original_day=date(2026, 12, 1),
)


def fits(slot: Slot, busy=(), load=lambda day: 0.0) -> bool:
    user = settings().user
    w = measure(list(busy), user, date(2026, 11, 23), date(2026, 12, 13))
    return slot_fits(slot, w.busy_on, user, QUERY, load)


def slot(start: str, minutes: int = 60) -> Slot:
    begin = at(start)
    return Slot(begin, begin + timedelta(minutes=minutes))


def test_what_find_slots_offers_fits() -> None:
    user = settings().user
    w = measure([], user, date(2026, 11, 23), date(2026, 12, 13))
    found = find_slots(w.busy_on, user, QUERY, lambda day: 0.0)
    assert found and all(fits(s) for s in found)


def test_a_slot_that_no_longer_fits_is_not_kept() -> None:
    assert fits(slot("2026-12-02 13:00"))
    assert not fits(slot("2026-12-02 13:00", 30))  # the meeting's length changed
    assert not fits(slot("2026-11-26 09:30"))  # inside the notice period
    assert not fits(slot("2026-12-01 13:00"))  # the day it moves away from
    assert not fits(slot("2026-12-05 13:00"))  # a Saturday
    assert not fits(slot("2026-12-02 09:00"))  # 08:00 in London
    assert not fits(slot("2026-12-02 17:00"))  # after the user's day
    assert not fits(slot("2026-12-02 13:00"), busy=[block("2026-12-02 13:30", 30)])
    assert not fits(slot("2026-12-02 13:00"), load=lambda day: None)  # day over its limits
    assert not fits(slot("2026-12-10 13:00"))  # past the horizon


TUESDAY = [event(f"2026-12-01 {h:02d}:00", 60) for h in (9, 10, 11, 13, 14)]  # over limits


def scene_with(holds: tuple[HoldRecord, ...]):
    s = settings(client(timezone="Europe/London"))
    day = TUESDAY
    w = measure(day, s.user, date(2026, 11, 16), date(2026, 12, 13))
    m = classify(day[-1], s)
    assert m is not None
    scene = Scene(NOW, NOW + timedelta(days=14), w, s, holds=holds)
    d = decide_all([Scored(m, score(m, w, 1, s), 1)], scene)[day[-1].id]
    assert d.action == Action.RESCHEDULE and d.proposal is not None
    return m.event.draft_key, [(x.start, x.end) for x in d.proposal.slots]


def test_another_keys_hold_is_busy_and_an_own_hold_is_kept() -> None:
    key, free = scene_with(())
    taken = tuple(HoldRecord("other", "o", "Other", s, e) for s, e in free)
    _, avoided = scene_with(taken)
    assert not set(avoided) & set(free)
    own = (slot("2026-12-07 14:00"), slot("2026-12-08 11:00"))
    _, kept = scene_with(tuple(HoldRecord(key, "x", "Acme", s.start, s.end) for s in own))
    assert kept == [(s.start, s.end) for s in own]
