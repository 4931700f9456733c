"""Free slots to offer when asking to move a meeting."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from calbot.core.model import Slot, TimeRange
from calbot.core.settings import UserSettings
from calbot.core.workload import Interval, free_gaps, merge, working_window

# Without the client's own working hours, never propose their local night.
CLIENT_DAY = TimeRange(time(8), time(20))
STEP = timedelta(minutes=30)
DAYS_LOOKED_AT = 5  # the first qualifying days; the lightest of them are offered
SEARCH_DAYS = 21  # nobody wants to be offered a slot months away


@dataclass(frozen=True, slots=True)
class SlotQuery:
    duration: timedelta
    earliest: datetime  # now + minimum notice
    latest: datetime  # the end of the scan horizon
    client_tz: ZoneInfo
    client_hours: TimeRange | None
    exclude_day: date | None = None  # the overloaded day the meeting is moving away from
    freed: Interval | None = None  # the meeting's own time, free once it moves


def _round_up(moment: datetime, step: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    steps = -(-(moment - epoch) // step)
    return epoch + steps * step


def _inside_client_day(start: datetime, end: datetime, tz: ZoneInfo, hours: TimeRange) -> bool:
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    if local_start.date() != (local_end - timedelta(microseconds=1)).date():
        return False
    return hours.start <= local_start.time() and (
        local_end.time() <= hours.end or (hours.end == time(0) and local_end.time() == time(0))
    )


def first_fit(gaps: Sequence[Interval], query: SlotQuery, user_tz: ZoneInfo) -> Slot | None:
    hours = query.client_hours or CLIENT_DAY
    for gap_start, gap_end in gaps:
        start = _round_up(max(gap_start, query.earliest.astimezone(UTC)), STEP)
        while start + query.duration <= min(gap_end, query.latest.astimezone(UTC)):
            end = start + query.duration
            if _inside_client_day(start, end, query.client_tz, hours):
                return Slot(start.astimezone(user_tz), end.astimezone(user_tz))
            start += STEP
    return None


def find_slots(
    busy_on: Callable[[date], Sequence[Interval]],
    user: UserSettings,
    query: SlotQuery,
    load_after_move: Callable[[date], float | None],
    *,
    want: int = 3,
) -> list[Slot]:
    """Up to `want` slots, one per day, on the lightest of the first qualifying days.

    A slot lies inside the user's working hours (and the client's), after the notice
    period, before the horizon, overlaps no busy time (`busy_on(day)`: the busy intervals
    touching that local day), and sits on a day that stays under its limits with the
    meeting added: `load_after_move(day)` gives that day's meeting minutes with the
    meeting added, or None when the day would go over a limit.
    """
    tz = ZoneInfo(user.timezone)
    candidates: list[tuple[float, date, Slot]] = []
    day = query.earliest.astimezone(tz).date()
    last = min(query.latest.astimezone(tz).date(), day + timedelta(days=SEARCH_DAYS))
    while day <= last and len(candidates) < DAYS_LOOKED_AT:
        window = working_window(day, user, tz)
        load = None if window is None or day == query.exclude_day else load_after_move(day)
        if window is not None and load is not None:
            # only the meeting itself is freed by the move, not what overlaps it
            blocked = merge(i for i in busy_on(day) if i != query.freed)
            slot = first_fit(free_gaps(window, blocked), query, tz)
            if slot is not None:
                candidates.append((load, day, slot))
        day += timedelta(days=1)
    lightest = sorted(candidates, key=lambda c: (c[0], c[1]))[:want]
    return sorted((c[2] for c in lightest), key=lambda slot: slot.start)
