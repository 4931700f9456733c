"""The digest's load chart as data (SPEC §7): the meeting load per day for the coming two
weeks, against the day's limits, before and after the pending drafts are accepted.

Pure: the day loads the last scan stored, the pending review items and their holds come in;
`ChartDay`s come out. "After" applies each pending draft to its meeting's day:
- `reschedule`: the meeting leaves its day and lands on the day of its first held slot
  (the digest cannot know which slot the client picks; the issue settled on the first);
- `email`, `delegate`: the meeting leaves its day;
- `shorten`, `boundary`: the meeting stays, shorter (`savings.minutes_left` reads the new
  length back from what the draft saves);
- `call`: the meeting stays whole — a call saves the trip, not meeting time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from calbot.core.records import DayLoadRecord, HoldRecord, ReviewItem
from calbot.core.savings import minutes_left
from calbot.core.settings import CoreSettings

#: How far ahead the chart looks, from the digest's day (SPEC §7: the coming two weeks).
CHART_DAYS = 14


@dataclass(frozen=True, slots=True)
class DayBar:
    day: date
    minutes: float
    count: int
    limit_minutes: float
    limit_count: int
    is_today: bool = False

    @property
    def over_hours(self) -> bool:
        return self.minutes > self.limit_minutes

    @property
    def over_count(self) -> bool:
        return self.count > self.limit_count

    @property
    def over(self) -> bool:
        return self.over_hours or self.over_count


@dataclass(frozen=True, slots=True)
class ChartDay:
    """One day of the chart: its load now, and once every pending draft is accepted."""

    before: DayBar
    after: DayBar

    @property
    def day(self) -> date:
        return self.before.day

    @property
    def changes(self) -> bool:
        """Some pending draft moves meeting time or a meeting onto or off this day."""
        b, a = self.before, self.after
        return (b.minutes, b.count) != (a.minutes, a.count)


def load_chart(
    day_loads: Iterable[DayLoadRecord],
    pending: Iterable[ReviewItem],
    holds: Iterable[HoldRecord],
    settings: CoreSettings,
    now: datetime,
) -> list[ChartDay]:
    """Today and the next `CHART_DAYS - 1` days: every working day, and any other day with
    meetings before or after. `pending`: the review items still waiting (their meetings not
    over, their drafts not deleted); `holds`: the store's, any key."""
    tz = ZoneInfo(settings.user.timezone)
    today = now.astimezone(tz).date()
    before = {d.day: (float(d.meeting_minutes), int(d.meeting_count)) for d in day_loads}
    delta: dict[date, list[float]] = defaultdict(lambda: [0.0, 0])
    first_hold: dict[str, HoldRecord] = {}
    for hold in sorted(holds, key=lambda h: h.start):
        first_hold.setdefault(hold.key, hold)
    for item in pending:
        start = item.start.astimezone(tz)
        booked = round((item.end - item.start).total_seconds() / 60)
        left = minutes_left(item.action, booked, max(item.saved_minutes, 0))
        home = delta[start.date()]
        if left is not None:
            home[0] -= booked - left
            continue
        target = first_hold.get(item.key)
        if item.action == "reschedule" and target is None:
            continue  # a move with no slot known: where it lands is unknown, so it stays
        home[0] -= booked
        home[1] -= 1
        if target is not None:
            landing = delta[target.start.astimezone(tz).date()]
            landing[0] += (target.end - target.start).total_seconds() / 60
            landing[1] += 1
    out = []
    for offset in range(CHART_DAYS):
        day = today + timedelta(days=offset)
        minutes, count = before.get(day, (0.0, 0))
        change = delta.get(day, [0.0, 0])
        # a stale day load may hold less than the drafts take away: never below nothing
        after = (max(minutes + change[0], 0.0), max(count + int(change[1]), 0))
        if day.weekday() not in settings.user.working_days and not (
            minutes or count or after[0] or after[1]
        ):
            continue
        out.append(
            ChartDay(_bar(day, minutes, count, settings, today), _bar(day, *after, settings, today))
        )
    return out


def _bar(day: date, minutes: float, count: int, settings: CoreSettings, today: date) -> DayBar:
    t = settings.thresholds
    return DayBar(
        day=day,
        minutes=minutes,
        count=count,
        limit_minutes=t.max_meeting_hours_per_day * 60,
        limit_count=t.max_meetings_per_day,
        is_today=day == today,
    )
