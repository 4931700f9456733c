"""`DailyAt`: an APScheduler 3 trigger firing once a day at a wall-clock time in a time zone,
correct across DST changes.

Why not `CronTrigger(hour=0, minute=0)`: APScheduler 3.11's cron trigger skips the run on the
day after clocks go forward (in America/Los_Angeles it goes from 03-09 00:00 to 03-12 00:00
in 2024; upstream issue #606; `tests/unit/test_triggers.py` shows it). `DailyAt` computes each
fire time from the local date with `zoneinfo` instead:

- the time exists once that day → that instant;
- it does not exist (clocks spring forward over it, e.g. 02:30 in Berlin on the last Sunday
  of March) → the first valid instant after the gap (03:00 local, the moment of the change);
- it exists twice (clocks fall back over it) → once, at the first occurrence.

Every local date gets exactly one fire time, in date order.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger

__all__ = ["DailyAt", "fire_time_on"]

_TICK = timedelta(microseconds=1)


def fire_time_on(day: date, at: time, tz: tzinfo) -> datetime:
    """The instant, aware in `tz`, at which a daily `at` job fires on the local date `day`."""
    naive = datetime.combine(day, at.replace(tzinfo=None))
    first = naive.replace(tzinfo=tz, fold=0)  # ambiguous: the first occurrence
    instant = first.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == naive:
        return instant.astimezone(tz)
    # In a gap: fold=0 reads the wall time with the offset before the change (an instant
    # after the change), fold=1 with the offset after it (an instant before the change).
    # The change itself lies between them: find it, to the second.
    hi = instant
    lo = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if lo > hi:
        lo, hi = hi, lo
    after = hi.astimezone(tz).utcoffset()
    while hi - lo > timedelta(seconds=1):
        mid = lo + timedelta(seconds=int((hi - lo).total_seconds()) // 2)
        if mid.astimezone(tz).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return hi.astimezone(tz)


class DailyAt(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 ships no type hints
    """Fires once per local date at `at` (wall clock) in `tz`; see the module docstring."""

    def __init__(self, at: time | str, tz: tzinfo | str) -> None:
        if isinstance(at, str):
            hh, _, mm = at.strip().partition(":")
            at = time(int(hh), int(mm))
        self.at = at.replace(tzinfo=None)
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """The first fire time strictly after `previous_fire_time`, or at or after `now`
        when there was none (the APScheduler 3 trigger contract)."""
        start = previous_fire_time + _TICK if previous_fire_time is not None else now
        day = start.astimezone(self.tz).date() - timedelta(days=1)
        for _ in range(5):
            candidate = fire_time_on(day, self.at, self.tz)
            if candidate >= start:
                return candidate
            day += timedelta(days=1)
        raise AssertionError(f"no fire time found after {start}")  # unreachable

    def __getstate__(self) -> dict[str, object]:
        return {"version": 1, "at": self.at, "tz": self.tz}

    def __setstate__(self, state: dict[str, object]) -> None:
        at, tz = state["at"], state["tz"]
        assert isinstance(at, time) and isinstance(tz, tzinfo)
        self.at, self.tz = at, tz

    def __str__(self) -> str:
        return f"daily at {self.at:%H:%M} ({self.tz})"

    def __repr__(self) -> str:
        return f"<DailyAt at='{self.at:%H:%M}' tz='{self.tz}'>"
