"""Reading iCalendar property values, and how messages name a VEVENT, a failure and a
location (`calbot.core.redact`: never a secret address whole)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from calbot.core.untrusted import shortened


def first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def every(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def text_of(value: Any) -> str:
    value = first(value)
    if value is None:
        return ""
    return str(value).replace("\x00", "")


def upper_of(value: Any) -> str:
    return text_of(value).strip().upper()


def email_of(address: Any) -> str:
    text = text_of(address).strip()
    if text[:7].lower() == "mailto:":
        text = text[7:]
    return text.strip().lower()


def to_aware(value: date, zone: ZoneInfo) -> tuple[datetime, bool]:
    """(aware datetime, is a DATE). Floating times and dates are in the user's zone."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=zone), False
        if isinstance(value.tzinfo, ZoneInfo):
            return value, False
        if value.utcoffset() is None:
            return value.replace(tzinfo=zone), False
        return value.astimezone(zone), False
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=zone), True
    raise TypeError(f"not a date: {type(value).__name__}")


def label(component: icalendar.Component) -> str:
    """How a warning names a VEVENT: its UID and title, each shortened and quoted with
    `repr()` (which escapes control characters)."""
    uid = shortened(text_of(component.get("UID")), 80) or "(no UID)"
    summary = shortened(text_of(component.get("SUMMARY")), 80)
    return f"event {uid!r}" + (f" {summary!r}" if summary else "")


def reason(exc: object) -> str:
    return shortened(str(exc) or type(exc).__name__, 160)
