"""Slot choice: inside both sides' hours and days, at hours comfortable for both."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from builders import at, client, event, settings
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from calbot.core.classify import classify
from calbot.core.decide import Scene, Scored, decide_all
from calbot.core.model import Action, TimeRange
from calbot.core.scoring import score
from calbot.core.slots import SlotQuery, at_lunch, find_slots, inside_client_day
from calbot.core.workload import measure, merge

BERLIN = ZoneInfo("Europe/Berlin")
LONDON, HCMC, KL = (ZoneInfo(z) for z in ("Europe/London", "Asia/Ho_Chi_Minh", "Asia/Kuala_Lumpur"))
NOW = at("2026-11-25 10:00")  # a Wednesday; the busy Tuesday is 1 December


def hm(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%a %d %H:%M")


def days(slots) -> list[str]:
    return [s.start.astimezone(BERLIN).strftime("%m-%d") for s in slots]


def query(tz: ZoneInfo, minutes: int = 60, **kw: object) -> SlotQuery:
    base: dict[str, object] = {
        "duration": timedelta(minutes=minutes),
        "earliest": NOW + timedelta(hours=24),
        "latest": NOW + timedelta(days=14),
        "client_tz": tz,
        "original_day": date(2026, 12, 1),
    }
    base.update(kw)
    return SlotQuery(**base)  # type: ignore[arg-type]


def slots_for(tz: ZoneInfo, busy=(), minutes: int = 60, **kw: object):
    user = settings().user
    w = measure(list(busy), user, date(2026, 11, 23), date(2026, 12, 13))
    return find_slots(w.busy_on, user, query(tz, minutes, **kw), lambda day: 0.0)


def decide_reschedule(c):
    """A Berlin user's overloaded Tuesday, the last meeting with client `c` to move."""
    s = settings(c)
    day = [event(f"2026-12-01 {h:02d}:00", 60) for h in (9, 10, 11, 13, 14)]
    w = measure(day, s.user, date(2026, 11, 16), date(2026, 12, 13))
    m = classify(day[-1], s)
    assert m is not None
    scene = Scene(now=NOW, horizon_end=NOW + timedelta(days=14), workload=w, settings=s)
    d = decide_all([Scored(m, score(m, w, 1, s), 1)], scene)[day[-1].id]
    assert d.action == Action.RESCHEDULE and d.proposal is not None
    return d.proposal.slots


# --- example clients of a Berlin user (09:00-17:30) ------------------------------------------


def test_a_london_client_gets_the_middle_of_the_shared_day_not_8_am_nor_lunch():
    slots = decide_reschedule(client(timezone="Europe/London"))
    # shared: 10:00-17:30 Berlin (09:00-16:30 London); its middle is 13:45, but 13:00 Berlin
    # is noon in London and 12:30 is lunch in Berlin: the nearest hour clear of both
    assert [hm(s.start, LONDON) for s in slots] == ["Wed 02 13:00", "Thu 03 13:00", "Fri 04 13:00"]
    assert [hm(s.start, BERLIN) for s in slots] == ["Wed 02 14:00", "Thu 03 14:00", "Fri 04 14:00"]


def test_lunch_on_either_side_only_when_nothing_else_is_free():
    # the Berlin user's Wednesday is free only 12:00-14:00 Berlin: every hour in it is lunch
    # on one side or the other, so the one nearest the middle of the shared day is offered
    busy = [event("2026-12-02 09:00", 180), event("2026-12-02 14:00", 210)]
    wednesday = [s for s in slots_for(LONDON, busy) if s.start.date() == date(2026, 12, 2)]
    assert [hm(s.start, BERLIN) for s in wednesday] == ["Wed 02 13:00"]
    # and a free day never gets one
    assert all(not at_lunch(s.start, s.end, BERLIN, LONDON) for s in slots_for(LONDON))


def test_a_vietnamese_client_gets_the_afternoon_not_the_evening():
    slots = decide_reschedule(client(timezone="Asia/Ho_Chi_Minh", language="vi"))
    # shared: 09:00-12:00 Berlin = 15:00-18:00 Hanoi; 17:00-18:00 there is their last hour
    assert [hm(s.start, HCMC) for s in slots] == ["Wed 02 16:00", "Thu 03 16:00", "Fri 04 16:00"]
    assert all(s.end.astimezone(HCMC).time() <= time(17) for s in slots)


def test_a_malaysian_client_never_gets_their_last_hour_or_night():
    slots = decide_reschedule(client(timezone="Asia/Kuala_Lumpur", language="ms"))
    # shared: 09:00-11:00 Berlin = 16:00-18:00 KL; only 16:00-17:00 stays out of the last hour
    assert [hm(s.start, KL) for s in slots] == ["Wed 02 16:00", "Thu 03 16:00", "Fri 04 16:00"]
    assert [hm(s.start, BERLIN) for s in slots] == ["Wed 02 09:00", "Thu 03 09:00", "Fri 04 09:00"]


def test_a_slot_ending_at_the_clients_midnight_is_outside_their_day():
    hours = TimeRange(time(9), time(18))
    assert not inside_client_day(
        datetime(2026, 12, 2, 23, tzinfo=KL), datetime(2026, 12, 3, tzinfo=KL), KL, hours
    )
    assert inside_client_day(
        datetime(2026, 12, 2, 17, tzinfo=KL), datetime(2026, 12, 2, 18, tzinfo=KL), KL, hours
    )
    # the user free only at 16:00-17:30 Berlin (23:00-00:30 in Kuala Lumpur): no slot at all
    busy = [event(f"2026-{d} 09:00", 7 * 60) for d in ("11-26", "11-27", "11-30")]
    busy += [event(f"2026-12-{d:02d} 09:00", 7 * 60) for d in range(1, 12)]
    assert slots_for(KL, busy) == []


# --- ranking ---------------------------------------------------------------------------------


def test_days_after_the_original_date_first_then_the_nearest_before():
    slots = slots_for(LONDON, original_day=date(2026, 12, 3))
    assert days(slots) == ["12-04", "12-07", "12-08"]
    # the original day near the end of the horizon: what is left after it, then before it
    slots = slots_for(LONDON, original_day=date(2026, 12, 8), latest=at("2026-12-09 23:00"))
    assert days(slots) == ["12-04", "12-07", "12-09"]


def test_never_the_last_hour_while_another_slot_is_free():
    # Hanoi shares 09:00-12:00 Berlin; busy 09:30-11:00 leaves 09:00 (far from the middle)
    # and 11:00/11:30 (nearer, but in the client's last hour)
    busy = [event(f"2026-12-{d:02d} 09:30", 90) for d in range(2, 12)]
    slots = slots_for(HCMC, busy, minutes=30)
    assert {hm(s.start, BERLIN)[-5:] for s in slots} == {"09:00"}


def test_a_day_with_only_last_hour_slots_comes_after_comfortable_days():
    # after the original day only 11:00-12:00 Berlin (Hanoi's last hour) is free
    busy = [event(f"2026-12-{d:02d} 09:00", 120) for d in range(2, 12)]
    slots = slots_for(HCMC, busy, minutes=30)
    assert days(slots) == ["11-26", "11-27", "11-30"]
    # and fill in when nothing comfortable is left
    busy += [event(f"2026-11-{d:02d} 09:00", 8 * 60) for d in (26, 27, 30)]
    slots = slots_for(HCMC, busy, minutes=30)
    assert [hm(s.start, BERLIN) for s in slots] == ["Wed 02 11:00", "Thu 03 11:00", "Fri 04 11:00"]


def test_client_working_days_are_respected():
    # an Israeli client works Sunday to Thursday: never their Friday
    il = ZoneInfo("Asia/Jerusalem")
    slots = slots_for(il, client_days=(6, 0, 1, 2, 3), original_day=date(2026, 12, 3))
    assert all(s.start.astimezone(il).weekday() in (6, 0, 1, 2, 3) for s in slots)
    assert date(2026, 12, 4) not in {s.start.date() for s in slots}
    assert slots


# --- properties over random weeks, zones and hours ----------------------------------------

ZONES = [
    "Europe/Berlin",
    "Europe/London",
    "Asia/Ho_Chi_Minh",
    "Asia/Kuala_Lumpur",
    "Asia/Kolkata",
    "America/New_York",
    "Australia/Sydney",
    "Pacific/Auckland",
]
FIRST, LAST = date(2026, 3, 23), date(2026, 4, 12)  # spans the March and April DST changes
BASE = datetime(2026, 3, 23, tzinfo=UTC)

busy_spans = st.lists(
    st.tuples(st.integers(0, 18 * 24 * 4), st.integers(1, 16)), max_size=30
)  # (quarter hours into the window, length in quarter hours)
hour_ranges = st.tuples(st.integers(0, 22), st.integers(1, 12)).map(
    lambda p: TimeRange(time(p[0]), time(min(23, p[0] + p[1]), 59 if p[0] + p[1] > 23 else 0))
)
day_sets = st.sets(st.integers(0, 6), min_size=1).map(lambda s: tuple(sorted(s)))


@hsettings(max_examples=150, deadline=None)
@given(
    busy_spans,
    st.sampled_from(ZONES),
    st.sampled_from(ZONES),
    hour_ranges,
    day_sets,
    hour_ranges,
    day_sets,
    st.sampled_from([15, 30, 60, 90, 120]),
    st.integers(0, 6 * 24),
    st.integers(0, 14),
)
def test_slots_stay_inside_both_sides_hours_and_days_and_never_cross_a_day_end(
    spans,
    user_zone,
    client_zone,
    user_hours,
    user_days,
    client_hours,
    client_days,
    minutes,
    notice_h,
    original_offset,
):
    user_tz, client_tz = ZoneInfo(user_zone), ZoneInfo(client_zone)
    s = settings(timezone=user_zone, working_hours=user_hours, working_days=user_days)
    events = [event(BASE + timedelta(minutes=15 * q), 15 * n, tz=user_zone) for q, n in spans]
    w = measure(events, s.user, FIRST, LAST)
    earliest = BASE + timedelta(hours=notice_h)
    latest = BASE + timedelta(days=18)
    original = FIRST + timedelta(days=original_offset)
    q = SlotQuery(
        duration=timedelta(minutes=minutes),
        earliest=earliest,
        latest=latest,
        client_tz=client_tz,
        client_hours=client_hours,
        client_days=client_days,
        original_day=original,
    )
    slots = find_slots(w.busy_on, s.user, q, lambda day: 0.0)
    busy = merge(w.busy)
    assert len(slots) <= 3
    for slot in slots:
        start, end = slot.start.astimezone(UTC), slot.end.astimezone(UTC)
        assert end - start == timedelta(minutes=minutes)
        assert earliest <= start and end <= latest
        assert all(end <= b0 or start >= b1 for b0, b1 in busy)
        # the user's side: one working day, inside working hours, never across midnight
        us, ue = start.astimezone(user_tz), end.astimezone(user_tz)
        assert us.weekday() in user_days and us.date() == ue.date() != original
        assert user_hours.start <= us.time() and ue.time() <= user_hours.end
        # the client's side, the same, with their midnight as a hard end
        cs, ce = start.astimezone(client_tz), end.astimezone(client_tz)
        assert cs.weekday() in client_days and cs.date() == ce.date()
        assert client_hours.start <= cs.time() and ce.time() <= client_hours.end
    assert len({s.start.astimezone(user_tz).date() for s in slots}) == len(slots)
    assert len({s.start.astimezone(client_tz).date() for s in slots}) == len(slots)
    assert slots == sorted(slots, key=lambda slot: slot.start)


@hsettings(max_examples=60, deadline=None)
@given(st.sampled_from(ZONES), st.sampled_from([30, 60]), st.integers(0, 14))
def test_on_an_empty_calendar_no_slot_touches_either_sides_last_hour(
    client_zone, minutes, original_offset
):
    # an empty calendar always has a slot outside both last hours when the shared day is
    # long enough; then that one must be taken
    client_tz = ZoneInfo(client_zone)
    s = settings()
    w = measure([], s.user, FIRST, LAST)
    q = SlotQuery(
        duration=timedelta(minutes=minutes),
        earliest=BASE,
        latest=BASE + timedelta(days=18),
        client_tz=client_tz,
        original_day=FIRST + timedelta(days=original_offset),
    )
    for slot in find_slots(w.busy_on, s.user, q, lambda day: 0.0):
        us = slot.start.astimezone(BERLIN)
        user_end = datetime.combine(us.date(), time(17, 30), tzinfo=BERLIN)
        cs = slot.start.astimezone(client_tz)
        client_end = datetime.combine(cs.date(), time(18), tzinfo=client_tz)
        shared_end = min(user_end, client_end)
        shared_start = max(
            datetime.combine(us.date(), time(9), tzinfo=BERLIN),
            datetime.combine(cs.date(), time(9), tzinfo=client_tz),
        )
        if shared_end - shared_start >= timedelta(minutes=minutes) + timedelta(hours=1):
            assert slot.end <= shared_end - timedelta(hours=1)


def test_a_zero_length_entry_gets_no_slots_and_no_reschedule():
    """An empty slot would be an empty hold (the store refuses one): nothing to offer."""
    assert slots_for(BERLIN, minutes=0) == []
    s = settings(client())
    day = [event(f"2026-12-01 {h:02d}:00", 60) for h in (9, 10, 11, 13, 14)]
    empty = event("2026-12-01 16:00", 0)
    w = measure([*day, empty], s.user, date(2026, 11, 16), date(2026, 12, 13))
    m = classify(empty, s)
    assert m is not None
    scene = Scene(now=NOW, horizon_end=NOW + timedelta(days=14), workload=w, settings=s)
    d = decide_all([Scored(m, score(m, w, 1, s), 1)], scene)[empty.id]
    assert d.action != Action.RESCHEDULE
