"""Value checks for the config: each returns the clean value or raises `BadValue`, whose
message is phrased for the user and names the value (quoted, never a screenful)."""

from __future__ import annotations

import difflib
import math
import re
import zoneinfo
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from calbot.config.dates import parse_when
from calbot.config.durations import parse_clock, parse_duration
from calbot.core.model import Action, TimeRange
from calbot.core.settings import WEEKDAYS

_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_T = TypeVar("_T")


class BadValue(ValueError):
    """A value's problem, phrased for the user."""


def quoted(value: Any) -> str:
    """A user's value quoted for a message: repr (no raw newlines), never a screenful."""
    text = repr(value)
    return text if len(text) <= 60 else text[:56] + "…" + text[-1]


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return quoted(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"a TOML {type(value).__name__} (put it in quotes)"


def string(value: Any) -> str:
    if not isinstance(value, str):
        raise BadValue(f"expected a string, got {describe(value)}")
    return value


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadValue(f"expected true or false, got {describe(value)}")
    return value


def number(whole: bool, low: float, high: float | None, strict: bool) -> Callable[[Any], Any]:
    def check(value: Any) -> float:
        ok = isinstance(value, int) if whole else isinstance(value, int | float)
        if isinstance(value, bool) or not ok or not math.isfinite(value):
            raise BadValue(
                f"expected a {'whole number' if whole else 'number'}, got {describe(value)}"
            )
        if (value <= low if strict else value < low) or (high is not None and value > high):
            if high is not None:
                raise BadValue(f"{value} is out of range: use {low:g} to {high:g}")
            raise BadValue(f"{value} must be {'above' if strict else 'at least'} {low:g}")
        return value  # type: ignore[no-any-return]

    return check


def list_of(item: Callable[[Any], _T], allow_empty: bool = True) -> Callable[[Any], tuple[_T, ...]]:
    def check(value: Any) -> tuple[_T, ...]:
        if not isinstance(value, list):
            raise BadValue(f"expected a list, got {describe(value)}")
        if not value and not allow_empty:
            raise BadValue("must not be empty")
        return tuple(item(v) for v in value)

    return check


def choice(choices: tuple[str, ...], what: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = string(value).strip().lower()
        if text not in choices:
            close = difflib.get_close_matches(text, choices, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise BadValue(
                f"unknown {what} {quoted(value)}{hint} — use one of {', '.join(choices)}"
            )
        return text

    return check


def email(value: Any) -> str:
    text = string(value).strip().lower()
    local, at, host = text.partition("@")
    if not at or not local or not host or "@" in host or any(c.isspace() for c in text):
        raise BadValue(f"{quoted(value)} is not an e-mail address")
    return text


def domain(value: Any) -> str:
    text = string(value).strip().lower()
    if not text or "@" in text or any(c.isspace() for c in text) or "." not in text.strip("."):
        raise BadValue(f'{quoted(value)} is not a domain like "acme.example"')
    return text


def timezone(value: Any) -> str:
    name = string(value).strip()
    if not name:
        raise BadValue('must not be empty: an IANA timezone like "Europe/Berlin"')
    try:
        ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        known = {z.lower(): z for z in zoneinfo.available_timezones()}
        close = difflib.get_close_matches(name.lower(), known, n=1)
        hint = f"did you mean {known[close[0]]!r}?" if close else 'like "Europe/Berlin"'
        raise BadValue(f"unknown timezone {quoted(name)} ({hint})") from None
    return name


def timezone_or_empty(value: Any) -> str:
    return "" if string(value).strip() == "" else timezone(value)


def hours(value: Any) -> TimeRange:
    m = _HOURS.match(string(value))
    bad = f'{quoted(value)} is not a range like "09:00-17:30"'
    if not m:
        raise BadValue(bad)
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise BadValue(bad)
    start, end = time(h1, m1), time(h2, m2)
    if start >= end:
        raise BadValue(f"start {start:%H:%M} is not before end {end:%H:%M}")
    return TimeRange(start, end)


def weekdays(value: Any) -> tuple[int, ...]:
    names = list_of(choice(WEEKDAYS, "day"), allow_empty=False)(value)
    return tuple(sorted({WEEKDAYS.index(n) for n in names}))


def _is_url(text: str) -> bool:
    return urlsplit(text).scheme.lower() in ("http", "https", "webcal")


def expand(text: str) -> str:
    return str(Path(text).expanduser()) if text else ""


def path(value: Any) -> str:
    return expand(string(value).strip())


def path_or_url(value: Any) -> str:
    text = string(value).strip()
    return text if _is_url(text) else expand(text)


def existing_dir(value: Any) -> str:
    folder = path(value)
    if folder and not Path(folder).is_dir():
        raise BadValue(f'{quoted(folder)} is not a folder ("" uses the built-in templates)')
    return folder


def api_root(value: Any) -> str:
    text = string(value).strip()
    parts = urlsplit(text)
    if text and (parts.scheme not in ("http", "https") or not parts.netloc):
        raise BadValue(f'{quoted(value)} is not an http(s) URL like "http://127.0.0.1:8080/"')
    return text if not text or text.endswith("/") else text + "/"


def action_order(value: Any) -> tuple[Action, ...]:
    names = list_of(string, allow_empty=False)(value)
    choices = tuple(a.value for a in Action if a is not Action.NONE)
    order: list[Action] = []
    for name in names:
        action = Action(choice(choices, "action")(name))
        if action in order:
            raise BadValue(f"{action.value!r} is listed twice")
        order.append(action)
    return tuple(order)


def when(now: datetime, *, after: bool) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = string(value).strip()
        example = '"in 14 days"' if after else '"14 days ago"'
        try:
            moment = parse_when(text, now)
        except ValueError:
            raise BadValue(f"cannot read {quoted(text)} as a date — try {example}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=now.tzinfo)
        if (moment <= now) if after else (moment >= now):
            side = "after" if after else "before"
            raise BadValue(
                f"{quoted(text)} lands on {moment:%Y-%m-%d %H:%M}, not {side} now — try {example}"
            )
        return text

    return check


def duration(value: Any) -> timedelta:
    text = string(value).strip()
    try:
        every = parse_duration(text)
    except ValueError:
        raise BadValue(
            f'{quoted(text)} is not a duration — use e.g. "30 minutes" or "1 hour"'
        ) from None
    if every.total_seconds() <= 0:
        raise BadValue(f"{quoted(text)} must be longer than zero")
    return every


def clock(value: Any) -> str:
    text = string(value).strip()
    try:
        at = parse_clock(text)
    except ValueError:
        raise BadValue(f'{quoted(text)} is not a time of day like "07:30"') from None
    return f"{at:%H:%M}"


_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def caldav_url(value: Any) -> str:
    """An https:// URL; plain http:// only to this machine (a test server), never over a
    network where the password and the calendar would travel in clear."""
    text = string(value).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadValue(f'{quoted(value)} is not a URL like "https://caldav.example.net/"')
    host = parts.hostname
    if parts.scheme == "http" and not (host in _LOOPBACK_HOSTS or host.startswith("127.")):
        raise BadValue(f"{quoted(value)} is plain http: use https:// (http only for 127.0.0.1)")
    return text
