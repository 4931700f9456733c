"""`DailyAt` fires once per local date at the wall time, across DST changes, unlike
APScheduler 3.11's CronTrigger (which skips the midnight run after clocks go forward)."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from calbot.usecases.triggers import DailyAt, fire_time_on

LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
STEP = timedelta(minutes=5)


def reference(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The first instant, walking forward in 5-minute steps from well before the local day,
    whose local date is `day` and whose wall time is at or past `at`: the time itself, the
    end of a spring-forward gap, or the first of two fall-back occurrences."""
    u = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=16)
    while True:
        local = u.astimezone(tz)
        if local.date() > day:
            raise AssertionError(f"no instant for {day} {at}")
        if local.date() == day and local.time() >= at:
            return local
        u += STEP


def fires(trigger: DailyAt, start: datetime, count: int) -> list[datetime]:
    out: list[datetime] = []
    previous = None
    for _ in range(count):
        nxt = trigger.get_next_fire_time(previous, start if previous is None else previous)
        assert nxt is not None
        out.append(nxt)
        previous = nxt
    return out


@pytest.mark.parametrize("tz", [LA, BERLIN], ids=str)
@pytest.mark.parametrize("at", [time(0, 0), time(2, 30), time(7, 30)], ids=str)
def test_daily_at_matches_a_reference_over_400_days(tz: ZoneInfo, at: time) -> None:
    first_day = date(2024, 1, 10)  # 400 days cover both changes of 2024 and March 2025
    start = datetime(2024, 1, 9, 23, 59, tzinfo=tz)
    got = fires(DailyAt(at, tz), start, 400)
    want = [reference(first_day + timedelta(days=n), at, tz) for n in range(400)]
    assert [g.astimezone(UTC) for g in got] == [w.astimezone(UTC) for w in want]
    # one fire per local date, in order, never two at one instant
    assert [g.astimezone(tz).date() for g in got] == [
        first_day + timedelta(days=n) for n in range(400)
    ]


@pytest.mark.parametrize(
    ("tz", "day", "at", "expected_local", "expected_utc"),
    [
        # spring forward: 02:30 does not exist → the first instant after the gap (03:00)
        (LA, date(2024, 3, 10), time(2, 30), "03:00-07:00", "10:00"),
        (BERLIN, date(2024, 3, 31), time(2, 30), "03:00+02:00", "01:00"),
        # fall back: 02:30 happens twice in Berlin → the first one (summer time)
        (BERLIN, date(2024, 10, 27), time(2, 30), "02:30+02:00", "00:30"),
        # 01:30 happens twice in Los Angeles → the first one (PDT)
        (LA, date(2024, 11, 3), time(1, 30), "01:30-07:00", "08:30"),
        # midnight the day after spring forward: an ordinary day
        (LA, date(2024, 3, 11), time(0, 0), "00:00-07:00", "07:00"),
    ],
)
def test_gap_and_fold(
    tz: ZoneInfo, day: date, at: time, expected_local: str, expected_utc: str
) -> None:
    fire = fire_time_on(day, at, tz)
    assert fire.isoformat()[11:16] + fire.isoformat()[-6:] == expected_local
    assert fire.astimezone(UTC).strftime("%H:%M") == expected_utc
    assert fire.astimezone(tz).date() == day


def test_fall_back_runs_once() -> None:
    trigger = DailyAt("02:30", BERLIN)
    got = fires(trigger, datetime(2024, 10, 26, 12, 0, tzinfo=BERLIN), 3)
    assert [g.astimezone(BERLIN).date().day for g in got] == [27, 28, 29]
    # asked again just after the first 02:30, it does not fire at the second one
    after_first = got[0] + timedelta(minutes=1)
    assert trigger.get_next_fire_time(None, after_first) == got[1]


def test_apscheduler_cron_skips_the_day_after_spring_forward_but_daily_at_does_not() -> None:
    """Why DailyAt exists (upstream apscheduler#606). If this starts failing because
    APScheduler fixed it, DailyAt is still correct — the reference test above holds."""
    start = datetime(2024, 3, 8, 12, 0, tzinfo=LA)
    cron = CronTrigger(hour=0, minute=0, timezone=LA)
    cron_days: list[date] = []
    previous = None
    for _ in range(4):
        previous = cron.get_next_fire_time(previous, start if previous is None else previous)
        cron_days.append(previous.astimezone(LA).date())
    assert date(2024, 3, 11) not in cron_days  # the bug: the run after the change is lost
    assert cron_days[:3] == [date(2024, 3, 9), date(2024, 3, 10), date(2024, 3, 12)]

    daily = [d.astimezone(LA).date() for d in fires(DailyAt("00:00", LA), start, 4)]
    assert daily == [date(2024, 3, 9), date(2024, 3, 10), date(2024, 3, 11), date(2024, 3, 12)]


def test_first_fire_at_or_after_now() -> None:
    trigger = DailyAt("07:30", BERLIN)
    exactly = datetime(2024, 5, 2, 7, 30, tzinfo=BERLIN)
    assert trigger.get_next_fire_time(None, exactly) == exactly
    later = exactly + timedelta(seconds=1)
    assert trigger.get_next_fire_time(None, later) == exactly + timedelta(days=1)
    # a "now" in another zone is fine
    assert trigger.get_next_fire_time(None, exactly.astimezone(UTC)) == exactly


def test_pickles_and_reads_well() -> None:
    trigger = DailyAt("07:30", "Europe/Berlin")
    copy = pickle.loads(pickle.dumps(trigger))
    now = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
    assert copy.get_next_fire_time(None, now) == trigger.get_next_fire_time(None, now)
    assert str(trigger) == "daily at 07:30 (Europe/Berlin)"
