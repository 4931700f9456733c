"""Free slots to offer when asking to move a meeting, picked as a considerate person would.

Every slot lies inside both sides' working hours and working days (the client's in the
client's zone), after the notice period, before the horizon, on a free stretch of a day that
stays under its limits. Among those, per day the one nearest the middle of the overlap of
both working days wins (not the first free minute of the user's morning, which is a
London client's 8 am), never one in the last hour of either side's day while the day has
another, and none over either side's lunch while the day has one clear of it (that middle
is often one side's noon); one slot per day; days after the original date first (the
client asked for that week for a reason), then the nearest days before it. A slot a
pending draft already offers is kept while it still fits (`slot_fits`), lunch or not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from calbot.core.model import CLIENT_HOURS, WEEKDAYS_MON_FRI, Slot, TimeRange
from calbot.core.settings import UserSettings
from calbot.core.workload import Interval, clip, free_gaps, local_days, merge, working_window

STEP = timedelta(minutes=30)  # slots start on the half hour
SEARCH_DAYS = 21  # nobody wants to be offered a slot months away
LAST_HOUR = timedelta(hours=1)  # a slot ending in it runs into someone's evening


@dataclass(frozen=True, slots=True)
class SlotQuery:
    duration: timedelta
    earliest: datetime  # now + minimum notice
    latest: datetime  # the end of the scan horizon
    client_tz: ZoneInfo
    client_hours: TimeRange = CLIENT_HOURS  # in client_tz
    client_days: tuple[int, ...] = WEEKDAYS_MON_FRI  # in client_tz; Monday = 0
    # the user's local day the meeting moves away from: never offered, and the days after
    # it come first
    original_day: date | None = None
    freed: Interval | None = None  # the meeting's own time, free once it moves


@dataclass(frozen=True, slots=True)
class DayPick:
    """The best slot of one day, and what ranks it against other days' best."""

    slot: Slot
    late: bool  # ends inside the last hour of either side's working day
    client_day: date


def _round_up(moment: datetime, step: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    steps = -(-(moment - epoch) // step)
    return epoch + steps * step


def client_day_bounds(day: date, hours: TimeRange, tz: ZoneInfo) -> Interval:
    """The client's working hours on their local `day`, in UTC. An end of 00:00 is the
    midnight that closes the day, never the one that opens it."""
    start = datetime.combine(day, hours.start, tzinfo=tz)
    end_day = day + timedelta(days=1) if hours.end <= hours.start else day
    end = datetime.combine(end_day, hours.end, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def inside_client_day(start: datetime, end: datetime, tz: ZoneInfo, hours: TimeRange) -> bool:
    """[start, end) lies inside the client's working hours of the local day it starts on.

    Compared as instants, not as clock times: a slot ending at the client's midnight ends at
    00:00, which as a clock time is "before 18:00" (the 11 pm slot once offered to a client
    working 09:00-18:00).
    """
    day_start, day_end = client_day_bounds(start.astimezone(tz).date(), hours, tz)
    return day_start <= start.astimezone(UTC) and end.astimezone(UTC) <= day_end


def overlaps(window: Interval, query: SlotQuery) -> list[tuple[Interval, datetime]]:
    """The parts of the user's working `window` inside the client's working hours and days,
    each with the end of that client working day (for the last-hour rule)."""
    out: list[tuple[Interval, datetime]] = []
    for day in local_days(window[0], window[1], query.client_tz):
        if day.weekday() not in query.client_days:
            continue
        bounds = client_day_bounds(day, query.client_hours, query.client_tz)
        part = clip(bounds, window)
        if part is not None:
            out.append((part, bounds[1]))
    return out


def best_in_day(
    window: Interval, blocked: list[Interval], query: SlotQuery, user_tz: ZoneInfo
) -> DayPick | None:
    """The free slot nearest the middle of both sides' shared working hours that day,
    preferring any over one in the last hour of either side's day, then any over one at
    either side's lunch (`at_lunch`); ties go to the earlier."""
    earliest, latest = query.earliest.astimezone(UTC), query.latest.astimezone(UTC)
    best: tuple[tuple[bool, bool, timedelta, datetime], DayPick] | None = None
    user_lunch = lunch_hours(window[0].astimezone(user_tz).date(), user_tz)
    for part, client_end in overlaps(window, query):
        # a part lies in one client day, as the window in one user day: two lunches to avoid
        client_day = part[0].astimezone(query.client_tz).date()
        lunches = (user_lunch, lunch_hours(client_day, query.client_tz))
        middle = part[0] + (part[1] - part[0]) / 2
        comfortable_end = min(window[1], client_end) - LAST_HOUR
        for gap_start, gap_end in free_gaps(part, blocked):
            start = _round_up(max(gap_start, earliest), STEP)
            while start + query.duration <= min(gap_end, latest):
                end = start + query.duration
                if inside_client_day(start, end, query.client_tz, query.client_hours):
                    late = end > comfortable_end
                    lunch = any(start < stop and end > noon for noon, stop in lunches)
                    key = (late, lunch, abs(start + query.duration / 2 - middle), start)
                    if best is None or key < best[0]:
                        best = (key, DayPick(Slot(start, end), late, client_day))
                start += STEP
    return best[1] if best else None


LUNCH = (time(12), time(13))  # local time, on each side


def lunch_hours(day: date, tz: ZoneInfo) -> Interval:
    """12:00-13:00 of that local day, in UTC."""
    return (
        datetime.combine(day, LUNCH[0], tzinfo=tz).astimezone(UTC),
        datetime.combine(day, LUNCH[1], tzinfo=tz).astimezone(UTC),
    )


def at_lunch(start: datetime, end: datetime, user_tz: ZoneInfo, client_tz: ZoneInfo) -> bool:
    """Whether [start, end) overlaps 12:00-13:00 on the user's or the client's clock."""
    return any(
        start < stop and end > noon
        for tz in (user_tz, client_tz)
        for noon, stop in (lunch_hours(start.astimezone(tz).date(), tz),)
    )


def slot_fits(
    slot: Slot,
    busy_on: Callable[[date], Sequence[Interval]],
    user: UserSettings,
    query: SlotQuery,
    load_after_move: Callable[[date], float | None],
) -> bool:
    """Whether `slot` (one a pending draft already offers) is still one `find_slots` could
    offer: the meeting's length, after the notice period, before the horizon, inside both
    sides' working hours and days, free, on a day that stays under the limits and is not the
    original one. Such a slot is kept rather than recomputed (no churn from scan to scan)."""
    tz = ZoneInfo(user.timezone)
    start, end = slot.start.astimezone(UTC), slot.end.astimezone(UTC)
    if end - start != query.duration or start < query.earliest or end > query.latest:
        return False
    day = start.astimezone(tz).date()
    window = working_window(day, user, tz)
    if window is None or day == query.original_day or load_after_move(day) is None:
        return False
    if not (window[0] <= start and end <= window[1]):
        return False
    if start.astimezone(query.client_tz).weekday() not in query.client_days:
        return False
    if not inside_client_day(start, end, query.client_tz, query.client_hours):
        return False
    blocked = (i for d in local_days(start, end, tz) for i in busy_on(d) if i != query.freed)
    return all(b_end <= start or b_start >= end for b_start, b_end in blocked)


def _search_days(query: SlotQuery, tz: ZoneInfo) -> tuple[date, date]:
    """The first and last of the user's local days a slot search walks."""
    first = query.earliest.astimezone(tz).date()
    return first, min(query.latest.astimezone(tz).date(), first + timedelta(days=SEARCH_DAYS))


def shared_hours(user: UserSettings, query: SlotQuery) -> bool:
    """Whether the user's working hours meet the client's on any day a search walks, busy
    or not (when they never do, that is why there is no slot)."""
    tz = ZoneInfo(user.timezone)
    day, last = _search_days(query, tz)
    while day <= last:
        window = working_window(day, user, tz)
        if window is not None and overlaps(window, query):
            return True
        day += timedelta(days=1)
    return False


def find_slots(
    busy_on: Callable[[date], Sequence[Interval]],
    user: UserSettings,
    query: SlotQuery,
    load_after_move: Callable[[date], float | None],
    *,
    want: int = 3,
) -> list[Slot]:
    """Up to `want` slots, one per day (the user's and the client's), ranked as the module
    says, in time order and in the user's zone.

    `busy_on(day)` gives the busy intervals touching the user's local day;
    `load_after_move(day)` that day's meeting minutes with the meeting added, or None when
    the day would go over a limit.
    """
    if query.duration <= timedelta(0):
        return []  # an empty slot holds nothing and offers nothing
    tz = ZoneInfo(user.timezone)
    picks: list[tuple[tuple[bool, bool, int], DayPick]] = []
    day, last = _search_days(query, tz)
    settled: set[date] = set()  # client days of comfortable picks after the original day
    while day <= last and len(settled) < want:
        window = working_window(day, user, tz)
        if window is not None and day != query.original_day and load_after_move(day) is not None:
            # only the meeting itself is freed by the move, not what overlaps it
            blocked = merge(i for i in busy_on(day) if i != query.freed)
            pick = best_in_day(window, blocked, query, tz)
            if pick is not None:
                pivot = query.original_day or query.earliest.astimezone(tz).date()
                before = day < pivot
                picks.append(((pick.late, before, abs((day - pivot).days)), pick))
                if not pick.late and not before:
                    # later days rank below these, so the search can stop once it has enough
                    settled.add(pick.client_day)
        day += timedelta(days=1)
    chosen: list[Slot] = []
    taken: set[date] = set()
    for _, pick in sorted(picks, key=lambda p: p[0]):
        if pick.client_day not in taken and len(chosen) < want:
            taken.add(pick.client_day)
            chosen.append(Slot(pick.slot.start.astimezone(tz), pick.slot.end.astimezone(tz)))
    return sorted(chosen, key=lambda slot: slot.start)
