"""How full the user's days and weeks are.

All interval arithmetic is done in UTC: subtracting two aware datetimes that share a
ZoneInfo compares wall clocks, which is wrong across a DST change.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from calbot.core.classify import is_busy, is_meeting_if_busy
from calbot.core.messages import Message, message
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


# How far past a scan's window an event keeps its own times. No real meeting is this long,
# so clipping changes nothing a user would see, while an event "ending in 9999" (or starting
# in year 1) no longer makes any walk over its days run for millennia or past year 9999.
CLIP_MARGIN = timedelta(days=7)


def clip_events(
    events: Iterable[Event], start: datetime, end: datetime
) -> tuple[list[Event], list[Message]]:
    """The events overlapping [start - CLIP_MARGIN, end + CLIP_MARGIN), each cut to that
    span, before any day arithmetic; and a warning naming each event whose times cannot be
    used at all (they do not convert to UTC: year 1 or 9999 in a far zone). A bad event is
    skipped, never the scan. `start`/`end` are aware and well inside years 1..9999."""
    lo = (start - CLIP_MARGIN).astimezone(UTC)
    hi = (end + CLIP_MARGIN).astimezone(UTC)
    kept: list[Event] = []
    warnings: list[Message] = []
    for event in events:
        try:
            first, last = _utc(event)
            if event.end.tzinfo is None or event.start.tzinfo is None:
                raise ValueError("no timezone")
        except (OverflowError, ValueError, TypeError) as exc:
            warnings.append(
                message("warn.event_unusable_times", event=event_label(event), problem=str(exc))
            )
            continue
        if last <= lo or first >= hi:
            if first == last and lo <= first < hi:  # an instant at the edge: keep it
                kept.append(event)
            continue
        if first >= lo and last <= hi:
            kept.append(event)
            continue
        zone = event.start.tzinfo
        kept.append(
            dataclasses.replace(
                event,
                start=max(first, lo).astimezone(zone),
                end=min(last, hi).astimezone(event.end.tzinfo or zone),
            )
        )
    return kept, warnings


def event_label(event: Event) -> str:
    """How a warning names an event: its title (one line, cut) and where it lives."""
    title = " ".join(event.summary.split())[:60]
    return f"{title!r} ({event.calendar_id}/{event.id})"


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


_TICK = timedelta(microseconds=1)


def _utc(event: Event) -> Interval:
    return event.start.astimezone(UTC), event.end.astimezone(UTC)


def measure(
    events: Iterable[Event],
    user: UserSettings,
    first_day: date,
    last_day: date,
    extra_busy: Iterable[Slot] = (),
    meeting_flags: Sequence[bool] | None = None,
) -> Workload:
    """Day and week load for every local day in [first_day, last_day].

    `meeting_flags`: whether each event is a meeting (`is_meeting`), when the caller knows
    (`classify_all`); asked here otherwise.

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
    # Only these days are measured: every span is cut to them (a day around, for the local
    # midnights) before its days are walked, so an event of any length costs a few days.
    outer = (
        local_midnight(first_day, tz) - timedelta(days=1),
        local_midnight(last_day, tz) + timedelta(days=2),
    )
    for index, event in enumerate(events):
        # a meeting is busy: `is_busy` (a walk of the guest list) only for the others
        flagged = meeting_flags is not None and meeting_flags[index]
        if not flagged and not is_busy(event, user):
            continue
        try:
            whole = _utc(event)
            local_start = event.start.astimezone(tz)
        except OverflowError:  # year 1 or 9999 in a far zone: nowhere near these days
            continue
        if not (outer[0] <= whole[0] < whole[1] <= outer[1]):  # else `clip` keeps it whole
            cut = clip(whole, outer) if whole[0] < whole[1] else whole
            if cut is None or not (outer[0] <= cut[0] <= outer[1]):
                continue
        else:
            cut = whole
        span = cut
        if event.all_day:  # an all-day out-of-office blocks its whole local days
            away = list(local_days(span[0], span[1], tz))
            span = (local_midnight(away[0], tz), local_midnight(away[-1] + timedelta(1), tz))
        busy.append(span)
        meeting = is_meeting_if_busy(event, user) if meeting_flags is None else flagged
        if meeting:
            counts[local_start.date()] += 1
        # most spans lie within one local day: that day without walking (`local_days`)
        first = (local_start if span[0] == whole[0] else span[0].astimezone(tz)).date()
        if span[1] > span[0] and (span[1] - _TICK).astimezone(tz).date() == first:
            touched: Iterable[date] = (first,)
        else:
            touched = local_days(span[0], span[1], tz)
        focus = event.event_type == EventType.FOCUS
        for day in touched:
            busy_days[day].append(span)
            if meeting:
                meetings[day].append(span)
            if not focus:
                blocking[day].append(span)

    days: dict[date, DayLoad] = {}
    weeks: dict[tuple[int, int], float] = defaultdict(float)
    for slot in extra_busy:
        cut = clip((slot.start.astimezone(UTC), slot.end.astimezone(UTC)), outer)
        if cut is None:
            continue
        span = cut
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
