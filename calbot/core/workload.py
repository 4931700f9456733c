"""How full the user's days and weeks are.

All interval arithmetic is done in UTC: subtracting two aware datetimes that share a
ZoneInfo compares wall clocks, which is wrong across a DST change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from calbot.core.classify import is_busy, is_meeting
from calbot.core.model import Event, EventType, Slot
from calbot.core.settings import UserSettings

Interval = tuple[datetime, datetime]  # UTC, start < end


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping union of the intervals (touching ones joined)."""
    out: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[0] < i[1]):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def local_days(start: datetime, end: datetime, tz: ZoneInfo) -> Iterator[date]:
    """The local dates that [start, end) touches."""
    day = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date() if end > start else day
    while day <= last:
        yield day
        day += timedelta(days=1)


@lru_cache(maxsize=4096)
def working_window(day: date, user: UserSettings, tz: ZoneInfo) -> Interval | None:
    """The user's working hours on that day in UTC, or None on a day off."""
    if day.weekday() not in user.working_days or user.working_hours is None:
        return None
    hours = user.working_hours
    return (
        datetime.combine(day, hours.start, tzinfo=tz).astimezone(UTC),
        datetime.combine(day, hours.end, tzinfo=tz).astimezone(UTC),
    )


def free_gaps(window: Interval, busy: list[Interval]) -> list[Interval]:
    """`window` minus the (merged, sorted) busy intervals."""
    gaps: list[Interval] = []
    cursor, stop = window
    for start, end in busy:
        if end <= cursor:
            continue
        if start >= stop:
            break
        if start > cursor:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < stop:
        gaps.append((cursor, stop))
    return gaps


def clip(interval: Interval, window: Interval) -> Interval | None:
    start, end = max(interval[0], window[0]), min(interval[1], window[1])
    return (start, end) if start < end else None


@dataclass(frozen=True, slots=True)
class DayLoad:
    day: date
    meeting_minutes: float = 0.0
    meeting_count: int = 0
    # the longest stretch of working hours with no meeting or other busy time; focus time
    # the user blocked counts as free here (it *is* a focus block). None on days off.
    longest_free_minutes: float | None = None

    @property
    def meeting_hours(self) -> float:
        return self.meeting_minutes / 60


@lru_cache(maxsize=4096)
def iso_week(day: date) -> tuple[int, int]:
    year, week, _ = day.isocalendar()
    return year, week


@dataclass(frozen=True, slots=True)
class Workload:
    tz: ZoneInfo
    days: Mapping[date, DayLoad]
    weeks: Mapping[tuple[int, int], float]  # meeting minutes per ISO week
    busy: tuple[Interval, ...] = field(default=())  # one per busy event, sorted, UTC
    # the same intervals by each local day they touch, so a slot search reads one day's few
    busy_by_day: Mapping[date, tuple[Interval, ...]] = field(default_factory=dict)

    def busy_on(self, day: date) -> tuple[Interval, ...]:
        return self.busy_by_day.get(day, ())

    def day(self, day: date) -> DayLoad:
        return self.days.get(day) or DayLoad(day)

    def week_minutes(self, day: date) -> float:
        return self.weeks.get(iso_week(day), 0.0)


def _utc(event: Event) -> Interval:
    return event.start.astimezone(UTC), event.end.astimezone(UTC)


def measure(
    events: Iterable[Event],
    user: UserSettings,
    first_day: date,
    last_day: date,
    extra_busy: Iterable[Slot] = (),
) -> Workload:
    """Day and week load for every local day in [first_day, last_day].

    `extra_busy` is busy time from calendars whose events are not read: it blocks slots
    and focus blocks but is not counted as meetings.

    Meeting time is the union of meeting intervals (double-booked time counts once: the
    user can sit in one meeting at a time); a meeting counts on the day it starts.
    """
    tz = ZoneInfo(user.timezone)
    meetings: dict[date, list[Interval]] = defaultdict(list)
    counts: dict[date, int] = defaultdict(int)
    blocking: dict[date, list[Interval]] = defaultdict(list)  # busy, focus time excluded
    busy: list[Interval] = []
    busy_days: dict[date, list[Interval]] = defaultdict(list)
    for event in events:
        if not is_busy(event, user):
            continue
        span = _utc(event)
        if event.all_day:  # an all-day out-of-office blocks its whole local days
            away = list(local_days(event.start, event.end, tz))
            span = (local_midnight(away[0], tz), local_midnight(away[-1] + timedelta(1), tz))
        busy.append(span)
        meeting = is_meeting(event, user)
        if meeting:
            counts[event.start.astimezone(tz).date()] += 1
        for day in local_days(span[0], span[1], tz):
            busy_days[day].append(span)
            if meeting:
                meetings[day].append(span)
            if event.event_type != EventType.FOCUS:
                blocking[day].append(span)

    days: dict[date, DayLoad] = {}
    weeks: dict[tuple[int, int], float] = defaultdict(float)
    for slot in extra_busy:
        span = (slot.start.astimezone(UTC), slot.end.astimezone(UTC))
        busy.append(span)
        for day in local_days(span[0], span[1], tz):
            busy_days[day].append(span)
            blocking[day].append(span)
    day = first_day
    while day <= last_day:
        bounds = (local_midnight(day, tz), local_midnight(day + timedelta(1), tz))
        minutes = 0.0
        for start, end in merge(c for i in meetings.get(day, ()) if (c := clip(i, bounds))):
            minutes += (end - start).total_seconds() / 60
        window = working_window(day, user, tz)
        longest: float | None = None
        if window is not None:
            gaps = free_gaps(window, merge(blocking.get(day, ())))
            longest = max(((e - s).total_seconds() / 60 for s, e in gaps), default=0.0)
        days[day] = DayLoad(day, minutes, counts.get(day, 0), longest)
        weeks[iso_week(day)] += minutes
        day += timedelta(days=1)
    return Workload(
        tz=tz,
        days=days,
        weeks=dict(weeks),
        busy=tuple(sorted(busy)),
        busy_by_day={day: tuple(spans) for day, spans in busy_days.items()},
    )
