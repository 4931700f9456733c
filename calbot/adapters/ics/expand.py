"""Recurrences expanded only where the scan looks: the occurrence times of one series
between two instants, at most `MAX_OCCURRENCES`, in bounded time and memory, whatever the
RRULE says (`FREQ=MINUTELY;BYSECOND=0,...,59` with no end, `FREQ=MINUTELY` from 1970, a rule
no date can satisfy).

`recurring_ical_events` asks `dateutil` for `rule.between(start, stop)`, which walks every
occurrence from DTSTART (29 million for a minutely rule from 1970), keeps them all (the
rules are built with `cache=True`) and returns a list of everything in the span. Here:

- a rule with no COUNT starts its walk near the window: DTSTART moves forward by whole
  periods (FREQ × INTERVAL), which leaves the rule's occurrences after the new start
  exactly as they were (dateutil's periods, BY* defaults and BYSETPOS all count from
  DTSTART in whole periods). MONTHLY and YEARLY move only when the day exists in every
  target period (day ≤ 28; not 29 February);
- so does a rule with COUNT and no BY* part (one occurrence per period: the count goes
  down by the periods skipped); any other COUNT rule must count from DTSTART. A walk that
  passes more than `MAX_STEPS` occurrences before reaching the window (such a COUNT rule,
  a MONTHLY rule on the 31st with BYSECOND...) skips the series with a warning;
- occurrences are taken one at a time, never cached, and the walk stops at the window's end;
- a rule that no date satisfies (`BYMONTH=2;BYMONTHDAY=30`) makes dateutil search until
  year 9999 — 13 s for a minutely rule. `dateutil.rrule` reads that last year as
  `datetime.MAXYEAR` from its module global `datetime`; this module gives it a stand-in
  module whose `MAXYEAR` is, on the thread expanding a window and only while dateutil
  computes the next occurrence, the year after the window (everywhere else, and on every
  other thread, the real 9999). So the search ends a year past the window.
"""

from __future__ import annotations

import datetime as _datetime
import heapq
import threading
import types
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from dateutil import rrule as _dateutil_rrule  # type: ignore[import-untyped]
from dateutil.rrule import (  # type: ignore[import-untyped]
    DAILY,
    HOURLY,
    MINUTELY,
    MONTHLY,
    SECONDLY,
    WEEKLY,
    YEARLY,
    rruleset,
)
from recurring_ical_events.util import compare_greater, convert_to_datetime

__all__ = ["MAX_OCCURRENCES", "MAX_STEPS", "TooLong", "starts"]

MAX_OCCURRENCES = 1000  # per series inside the window (issue 11 #5)
MAX_STEPS = 50_000  # occurrences a rule may walk past before the window (~0.5 s)
_MARGIN = timedelta(hours=3)  # a DST change's wall-clock difference, with room to spare
_UNITS = {
    WEEKLY: timedelta(weeks=1),
    DAILY: timedelta(days=1),
    HOURLY: timedelta(hours=1),
    MINUTELY: timedelta(minutes=1),
    SECONDLY: timedelta(seconds=1),
}


class TooLong(Exception):
    """The rule needs too long a walk to reach the window."""


def starts(recurrence: Any, lo: Any, hi: Any) -> Iterator[datetime]:
    """The start times of `recurrence` (a `Series.RecurrenceRules`) from `lo` to `hi`
    inclusive, sorted, as `RecurrenceRules.rrule_between` gives them (same types, same
    UNTIL check), but lazily and bounded as the module docstring says."""
    tz = recurrence.tzinfo
    lo = convert_to_datetime(lo, tz)
    hi = convert_to_datetime(hi, tz)
    streams: list[Iterator[datetime]] = []
    for rule in recurrence.rrules:
        if isinstance(rule, rruleset):  # DTSTART and the RDATEs: a short list
            streams.append(iter(rule.between(lo, hi, inc=True)))
        else:
            streams.append(_until_checked(rule, _rule_starts(rule, lo, hi)))
    return heapq.merge(*streams)


def _until_checked(rule: Any, found: Iterator[datetime]) -> Iterator[datetime]:
    until = getattr(rule, "until", None)  # recurring_ical_events' own reading of UNTIL
    for start in found:
        if until is None or not compare_greater(start, until):
            yield start


def _rule_starts(rule: Any, lo: datetime, hi: datetime) -> Iterator[datetime]:
    dtstart: datetime = rule._dtstart
    if dtstart > hi or (rule._until is not None and rule._until < lo):
        return
    moved, periods = _moved_start(rule, dtstart, lo)
    if rule._count is None:
        walk = rule.replace(dtstart=moved, cache=False)
    elif periods and all(value is None for value in rule._original_rule.values()):
        # no BY* part: one occurrence per period, so the count moves with the start
        if rule._count <= periods:
            return
        walk = rule.replace(dtstart=moved, count=rule._count - periods, cache=False)
    else:
        walk = rule.replace(cache=False)
    passed = 0
    for start in _limited(iter(walk), hi.year + 1):
        if start < lo:
            passed += 1
            if passed > MAX_STEPS:
                raise TooLong(f"more than {MAX_STEPS:,} occurrences before the window")
            continue
        if start > hi:
            return
        yield start


def _moved_start(rule: Any, dtstart: datetime, lo: datetime) -> tuple[datetime, int]:
    """DTSTART moved forward by whole periods to shortly before `lo`, and by how many
    periods (0: left alone)."""
    freq, interval = rule._freq, max(1, int(rule._interval))
    start = dtstart.replace(tzinfo=None)
    target = (lo.astimezone(dtstart.tzinfo) if dtstart.tzinfo else lo).replace(tzinfo=None)
    target -= _MARGIN
    if target <= start:
        return dtstart, 0
    if freq in _UNITS:
        step = _UNITS[freq] * interval
        periods = (target - start) // step
        return dtstart + step * periods, periods
    if freq == MONTHLY and start.day <= 28:
        periods = ((target.year - start.year) * 12 + target.month - start.month) // interval
        index = start.month - 1 + periods * interval
        return dtstart.replace(year=start.year + index // 12, month=index % 12 + 1), periods
    if freq == YEARLY and (start.month, start.day) != (2, 29):
        periods = (target.year - start.year) // interval
        return dtstart.replace(year=start.year + periods * interval), periods
    return dtstart, 0


def _limited(walk: Iterator[datetime], last_year: int) -> Iterator[datetime]:
    """`walk`'s items; dateutil looks no further than `last_year` while computing each."""
    while True:
        _LIMIT.year = last_year
        try:
            item = next(walk)
        except StopIteration:
            return
        finally:
            _LIMIT.year = None
        yield item


class _Limit(threading.local):
    year: int | None = None


_LIMIT = _Limit()


class _DatetimeForDateutil(types.ModuleType):
    """The `datetime` module as `dateutil.rrule` sees it: all of it, with `MAXYEAR` the
    expanding thread's limit while `_limited` asks for an occurrence."""

    @property
    def MAXYEAR(self) -> int:  # the module constant's name
        year = _LIMIT.year
        return _datetime.MAXYEAR if year is None else year


def _install() -> None:
    if isinstance(_dateutil_rrule.datetime, _DatetimeForDateutil):
        return
    stand_in = _DatetimeForDateutil("datetime")
    for name, value in vars(_datetime).items():
        if name != "MAXYEAR":
            setattr(stand_in, name, value)
    _dateutil_rrule.datetime = stand_in


_install()
