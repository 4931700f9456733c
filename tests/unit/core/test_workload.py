from datetime import date

from builders import ME, at, block, event, person, settings

from calbot.core.classify import classify_all
from calbot.core.model import EventType, Response
from calbot.core.workload import measure


def load(events, first="2026-11-30", last="2026-12-06", **user_kw):
    s = settings(**user_kw)
    return measure(events, s.user, date.fromisoformat(first), date.fromisoformat(last))


def test_day_hours_count_and_week_sum():
    w = load(
        [
            event("2026-12-01 09:00", 60),
            event("2026-12-01 11:00", 90),
            event("2026-12-02 10:00", 30),
        ]
    )
    tue = w.day(date(2026, 12, 1))
    assert tue.meeting_minutes == 150 and tue.meeting_count == 2
    assert w.week_minutes(date(2026, 12, 1)) == 180


def test_overlapping_meetings_count_once_in_hours_but_twice_in_count():
    w = load([event("2026-12-01 10:00", 60), event("2026-12-01 10:30", 60)])
    tue = w.day(date(2026, 12, 1))
    assert tue.meeting_minutes == 90
    assert tue.meeting_count == 2


def test_declined_cancelled_and_solo_events_are_not_meetings():
    declined = event(
        "2026-12-01 10:00", 60, me=person(ME, is_self=True, response=Response.DECLINED)
    )
    cancelled = event("2026-12-01 12:00", 60, status="cancelled")
    solo = block("2026-12-01 14:00", 60)
    tue = load([declined, cancelled, solo]).day(date(2026, 12, 1))
    assert tue.meeting_minutes == 0 and tue.meeting_count == 0
    # the solo block is still busy: it cuts the free time
    assert tue.longest_free_minutes == 300  # 09:00-14:00; the declined 10:00 is free


def test_meeting_crossing_midnight_splits_its_hours_but_counts_on_its_start_day():
    w = load([event("2026-12-01 23:00", 120)])
    assert w.day(date(2026, 12, 1)).meeting_minutes == 60
    assert w.day(date(2026, 12, 2)).meeting_minutes == 60
    assert w.day(date(2026, 12, 1)).meeting_count == 1
    assert w.day(date(2026, 12, 2)).meeting_count == 0


def test_focus_time_is_a_focus_block_but_out_of_office_is_not():
    focus = block("2026-12-01 09:00", 8.5 * 60, EventType.FOCUS)
    assert load([focus]).day(date(2026, 12, 1)).longest_free_minutes == 8.5 * 60
    away = block("2026-12-01 00:00", 24 * 60, EventType.OUT_OF_OFFICE, all_day=True)
    w = load([away])
    assert w.day(date(2026, 12, 1)).longest_free_minutes == 0
    assert w.day(date(2026, 12, 1)).meeting_minutes == 0  # busy, not a meeting


def test_days_off_have_no_focus_figure():
    assert load([]).day(date(2026, 12, 5)).longest_free_minutes is None  # Saturday
    assert load([]).day(date(2026, 12, 4)).longest_free_minutes == 8.5 * 60


def test_dst_day_is_measured_in_real_time():
    # 2026-03-29: Berlin clocks jump 02:00 -> 03:00; a 01:00-04:00 meeting lasts 2 hours.
    w = load([event("2026-03-29 01:00", 120)], first="2026-03-23", last="2026-03-29")
    assert w.day(date(2026, 3, 29)).meeting_minutes == 120
    # and on the day clocks go back, 00:00-04:00 wall time is 5 real hours
    start = at("2026-10-25 00:00")
    w = load([event(start, 5 * 60)], first="2026-10-19", last="2026-10-25")
    assert w.day(date(2026, 10, 25)).meeting_minutes == 300


def test_client_in_another_timezone_counts_on_the_users_local_day():
    # 01:00 in Ho Chi Minh City on Dec 2 is 19:00 in Berlin on Dec 1
    w = load([event("2026-12-02 01:00", 60, tz="Asia/Ho_Chi_Minh")])
    assert w.day(date(2026, 12, 1)).meeting_count == 1
    assert w.day(date(2026, 12, 2)).meeting_count == 0


def test_busy_list_has_every_busy_event():
    w = load([event("2026-12-01 10:00", 60), block("2026-12-01 12:00", 30, EventType.FOCUS)])
    assert len(w.busy) == 2


def _mixed_week():
    return [
        event("2026-12-01 09:00", 60),
        event("2026-12-01 09:30", 90, guests=("sam@studio.example",)),
        event("2026-12-01 12:00", 30, me=person(ME, is_self=True, response=Response.DECLINED)),
        event("2026-12-01 13:00", 30, status="cancelled"),
        event("2026-12-01 14:00", 30, transparent=True),
        event("2026-12-01 15:00", 30, status="tentative"),
        block("2026-12-02 09:00", 120, EventType.FOCUS),
        block("2026-12-02 13:00", 60),
        block("2026-12-03 00:00", 24 * 60, EventType.OUT_OF_OFFICE, all_day=True),
        block("2026-12-04 08:00", 60, EventType.WORKING_LOCATION),
        event("2026-12-04 23:30", 90),
    ]


def test_the_meeting_flags_of_classify_all_give_the_same_load(monkeypatch):
    """A scan passes `classify_all`'s flags: the same load as asking each event, and the
    guest list of a flagged meeting is not walked again to learn it is busy."""
    import calbot.core.workload as workload

    events = _mixed_week()
    s = settings()
    first, last = date(2026, 11, 30), date(2026, 12, 6)
    _, flags = classify_all(events, s)
    assert measure(events, s.user, first, last, meeting_flags=flags) == measure(
        events, s.user, first, last
    )
    asked = []
    real = workload.is_busy
    monkeypatch.setattr(workload, "is_busy", lambda e, u: asked.append(e) or real(e, u))
    measure(events, s.user, first, last, meeting_flags=flags)
    assert asked == [e for e, meeting in zip(events, flags, strict=True) if not meeting]
    assert 0 < len(asked) < len(events)
