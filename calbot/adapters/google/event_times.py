"""When a Calendar API event item happens: its `start`/`end` objects read as aware
datetimes (the rules are in `calbot.adapters.google.events`' docstring)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_EDGE_YEARS = (1, 9999)
# `isinstance(x, MAPPING)`: true at once for a dict (what JSON gives), before the slower
# abstract-class test that other mappings need
MAPPING = (dict, Mapping)  # the years whose times may not convert to UTC


def item_end(item: Mapping[str, Any], zone: tzinfo) -> datetime | None:
    """When a cached item ends (for pruning the cache), None when unreadable."""
    raw = item.get("end") or item.get("start")
    if not isinstance(raw, MAPPING):
        return None
    try:
        return when(raw, zone, "end")[0]
    except Broken:
        return None


class Broken(ValueError):
    """Why an item's times cannot be read (BadEvent adds the item's name)."""


def span(item: Mapping[str, Any], zone: tzinfo) -> tuple[datetime, datetime, bool, str]:
    """(start, end, all-day?, tz name) of an item."""
    raw_start, raw_end = item.get("start"), item.get("end")
    if not isinstance(raw_start, MAPPING) or not (
        raw_start.get("dateTime") or raw_start.get("date")
    ):
        raise Broken("no start")
    start, all_day, tz_name = when(raw_start, zone, "start")
    end_map = isinstance(raw_end, MAPPING)
    if isinstance(raw_end, MAPPING) and (raw_end.get("dateTime") or raw_end.get("date")):
        end, end_all_day, _ = when(raw_end, zone, "end")
        if end_all_day != all_day:
            raise Broken("start and end mix a date and a date-time")
    elif raw_end is None or end_map:
        end = start
    else:
        raise Broken("unreadable end")
    try:  # year 1 or 9999 in a far zone: not comparable, not convertible
        if end < start:
            raise Broken("ends before it starts")
        if all_day and end == start:
            end = midnight(start.date() + timedelta(days=1), zone)
        # Offsets stay within a day, so only the first and last year can fall out of range.
        if start.year in _EDGE_YEARS or end.year in _EDGE_YEARS:
            start.astimezone(UTC), end.astimezone(UTC)
    except OverflowError:
        raise Broken("a date out of range") from None
    return start, end, all_day, tz_name


def days_around(lo: datetime, hi: datetime) -> tuple[str, str]:
    """The "YYYY-MM-DD" days two days either side of [lo, hi) in UTC, for `outside_days`:
    wider than any offset (±14 h), a local time read in some zone, or an all-day date
    read at the user's midnight can move an event's day."""
    margin = timedelta(days=2)
    first = (lo.astimezone(UTC) - margin).date().isoformat()
    last = (hi.astimezone(UTC) + margin).date().isoformat()
    return first, last


def outside_days(item: Mapping[str, Any], first: str, last: str) -> bool:
    """Whether an item surely lies outside the days [first, last] (from `days_around`), by
    the day its start and end text name, without parsing them: a full sync meets every
    event of the calendar, most of them outside the scan's window. False when unsure
    (odd shapes, an end before the start, a date mixed with a date-time): `span` reads
    those and says what is wrong."""
    raw_start, raw_end = item.get("start"), item.get("end")
    start_day, start_kind = _day(raw_start)
    if start_day is None:
        return False
    end_day = start_day
    if raw_end is not None:
        read, end_kind = _day(raw_end)
        if read is None or end_kind != start_kind or read < start_day:
            return False
        end_day = read
    return start_day > last or end_day < first


def _day(raw: object) -> tuple[str | None, str]:
    """("YYYY-MM-DD" as written, "dateTime" or "date") of a start/end object, or None."""
    if not isinstance(raw, MAPPING):
        return None, ""
    kind = "dateTime"
    value = raw.get(kind)
    if not value:
        kind = "date"
        value = raw.get(kind)
    if (
        isinstance(value, str)
        and len(value) >= 10
        and value[4] == "-"
        and value[7] == "-"
        and value[:4].isdigit()
        and "01" <= value[5:7] <= "12"
        and "01" <= value[8:10] <= "31"
    ):
        return value[:10], kind
    return None, kind


def overlaps(start: datetime, end: datetime, lo: datetime, hi: datetime) -> bool:
    """[start, end) overlaps [lo, hi); a zero-length event counts when it lies inside."""
    if start >= hi:
        return False
    return end > lo or (end == start and start >= lo)


def when(raw: Mapping[str, Any], zone: tzinfo, which: str) -> tuple[datetime, bool, str]:
    """(aware datetime, all-day?, tz name) for a `start`/`end` object."""
    tz_name = raw.get("timeZone")
    event_zone = _zone(tz_name) if isinstance(tz_name, str) and tz_name else None
    value = raw.get("dateTime")
    if value:
        if not isinstance(value, str):
            raise Broken(f"unreadable {which} {value!r}")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise Broken(f"unreadable {which} {value[:40]!r}") from None
        try:
            if moment.tzinfo is None:  # fromisoformat: no offset, or a fixed one
                moment = moment.replace(tzinfo=event_zone or zone)
            elif event_zone is not None:
                moment = moment.astimezone(event_zone)
        except OverflowError:
            raise Broken(f"{which} {value[:40]!r} is out of range") from None
        return moment, False, str(event_zone.key) if event_zone is not None else ""
    value = raw.get("date")
    if not isinstance(value, str):
        raise Broken(f"unreadable {which} {value!r}")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise Broken(f"unreadable {which} {value[:40]!r}") from None
    return midnight(day, zone), True, ""


# Zones by name as read (None: unknown): two lookups per event converted, and ZoneInfo's
# own cache is slower to ask than a dict. Names come from untrusted items: the dict is
# bounded (emptied when full).
_ZONES: dict[str, ZoneInfo | None] = {}
_ZONES_MAX = 1000


def _zone(name: str) -> ZoneInfo | None:
    try:
        return _ZONES[name]
    except KeyError:
        pass
    try:
        found: ZoneInfo | None = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        found = None  # an unknown zone name: keep the offset Google gave
    if len(_ZONES) >= _ZONES_MAX:
        _ZONES.clear()
    _ZONES[name] = found
    return found


def midnight(day: date, zone: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)
