"""From bytes to checked VEVENTs: the calendar parsed (several VCALENDARs merged,
X-WR-TIMEZONE made standard), and for each VEVENT why it cannot be used, which of its
lines the parser dropped, and a UID when it has none."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import x_wr_timezone

from calbot.adapters.ics.values import reason, text_of, to_aware
from calbot.core.messages import Message, message
from calbot.core.untrusted import shortened
from calbot.errors import SourceError

# Properties whose garbage value makes the occurrence times unknowable.
_TIME_PROPERTIES = frozenset({"DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE"})
_TIME_PROPERTIES_WITH_RID = _TIME_PROPERTIES | {"RECURRENCE-ID"}
_PARSED_NAME = re.compile(r"parts: '([A-Za-z0-9-]{1,40})")


def parse(where: str, data: bytes) -> icalendar.Calendar:
    """The calendar in `data`; `where` (the location, redacted) names it in errors."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").upper()
    if not head.startswith(b"BEGIN:VCALENDAR"):
        raise SourceError(f"{where}: not an iCalendar file (no BEGIN:VCALENDAR)")
    try:
        calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except Exception as exc:  # any parser failure means unreadable
        raise SourceError(f"{where}: not valid iCalendar ({reason(exc)})") from exc
    if not calendars:
        raise SourceError(f"{where}: not valid iCalendar (no calendar in it)")
    standard = []
    for calendar in calendars:
        scale = str(calendar.get("CALSCALE", "GREGORIAN")).upper()
        if scale != "GREGORIAN":
            raise SourceError(f"{where}: unsupported calendar scale {scale}")
        try:
            converted = x_wr_timezone.to_standard(calendar)
        except (ZoneInfoNotFoundError, ValueError):  # a bogus X-WR-TIMEZONE: use as written
            converted = calendar
        if converted is not calendar:
            _keep_errors(calendar, converted)
        standard.append(converted)
    if len(standard) == 1:
        only: icalendar.Calendar = standard[0]
        return only
    merged = icalendar.Calendar()
    for calendar in standard:
        merged.subcomponents.extend(calendar.subcomponents)
    return merged


def _keep_errors(original: icalendar.Calendar, converted: icalendar.Calendar) -> None:
    """The lines the parser could not read, told on the X-WR-TIMEZONE copy too: the copy
    starts with no `errors`, and `problem`/`dropped_lines` must still see them."""
    before, after = original.walk("VEVENT"), converted.walk("VEVENT")
    if len(before) != len(after):
        return
    for old, new in zip(before, after, strict=True):
        if getattr(old, "errors", None) and not getattr(new, "errors", None):
            new.errors = list(old.errors)


def _value(component: icalendar.Component, name: str, attr: str = "dt") -> object:
    """The parsed value of property `name`, None when absent. Raises `_Broken` for a value
    the parser kept as broken (icalendar raises on reading it)."""
    prop = component.get(name)
    try:
        return getattr(prop, attr, None)
    except ValueError as exc:  # icalendar's BrokenCalendarProperty
        raise _Broken(name, exc) from None


class _Broken(Exception):
    def __init__(self, name: str, error: ValueError) -> None:
        super().__init__(name)
        self.name, self.error = name, error


def problem(component: icalendar.Component, zone: ZoneInfo) -> Message | None:
    """Why this VEVENT cannot be used, or None when it can."""
    for name, error in getattr(component, "errors", ()):
        if name in _TIME_PROPERTIES_WITH_RID:
            return message("warn.ics_bad_value", name=name, error=shortened(str(error), 80))
    try:
        return _time_problem(component, zone)
    except _Broken as broken:
        error = shortened(str(broken.error), 80)
        return message("warn.ics_bad_value", name=broken.name, error=error)


def _time_problem(component: icalendar.Component, zone: ZoneInfo) -> Message | None:
    for name in ("RECURRENCE-ID", "EXDATE", "RDATE", "RRULE"):
        if name in component:  # read each: a broken one raises `_Broken`
            for prop in _all(component[name]):
                _value_of(prop, name)
    raw_start = _value(component, "DTSTART")
    if raw_start is None:
        return message("warn.ics_no_start")
    if not isinstance(raw_start, date):
        return message("warn.ics_not_a_date", name="DTSTART")
    if "DTEND" in component:
        raw_end = _value(component, "DTEND")
        if not isinstance(raw_end, date):
            return message("warn.ics_not_a_date", name="DTEND")
    elif "DURATION" in component:
        duration = _value(component, "DURATION")
        if not isinstance(duration, timedelta):
            return message("warn.ics_not_a_duration")
        raw_end = raw_start + duration
    else:
        return None
    try:
        start, _ = to_aware(raw_start, zone)
        end, _ = to_aware(raw_end, zone)
    except (ValueError, OverflowError, TypeError) as exc:
        return message("warn.ics_unusable_date", error=reason(exc))
    if end < start:
        return message("warn.ends_before_start")
    return None


def _all(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else [value]


def _value_of(prop: object, name: str) -> None:
    try:
        for attr in ("dt", "dts"):
            getattr(prop, attr, None)
    except ValueError as exc:  # icalendar's BrokenCalendarProperty
        raise _Broken(name, exc) from None


def dropped_lines(component: icalendar.Component) -> list[str]:
    """The names of the lines the parser could not read (time properties excluded: those
    make `problem` skip the event)."""
    names: set[str] = set()
    for name, error in getattr(component, "errors", ()):
        if not name:
            m = _PARSED_NAME.search(str(error))
            name = m.group(1) if m else "(unnamed)"
        if str(name).upper() not in _TIME_PROPERTIES_WITH_RID:
            names.add(str(name).upper())
    return sorted(names)


def synthetic_uid(component: icalendar.Component) -> str:
    seed = f"{component['DTSTART'].to_ical()!r}|{text_of(component.get('SUMMARY'))}"
    return "calbot-" + hashlib.sha256(seed.encode()).hexdigest()[:24]
