"""Reading a phrase with the built-in grammar: weekdays, this/next/last week, today and
tomorrow, "in N units", "N units ago", clock times with a part of the day (see
`calbot.config.dates` for what each means)."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from calbot.config.date_grammar import Grammar
from calbot.config.date_words import (
    AM,
    DAY,
    EVENING,
    HOUR,
    LAST,
    MINUTE,
    MONTH,
    NIGHT,
    NOON,
    PM,
    SECOND,
    THIS,
    WEEK,
    YEAR,
    lookup,
    phrase_key,
)


class NotBuiltIn(Exception):
    """The phrase is not one the built-in grammar reads; dateparser gets a try."""


class BadPhrase(Exception):
    """The grammar reads every word, but they contradict each other or are out of range
    ("tomorrow 25:00", "monday tomorrow"): an error, not a guess by dateparser."""


@dataclass
class _Parts:
    day: date | None = None  # a calendar date ("tomorrow", "2026-12-01")
    weekday: tuple[int, str | None] | None = None  # (0 = Monday, modifier)
    week: int | None = None  # ISO weeks from this one
    instant: datetime | None = None  # "in 2 weeks", "now": keeps its own time
    clock: time | None = None

    def set(self, name: str, value: object) -> None:
        if getattr(self, name) is not None:
            raise BadPhrase
        setattr(self, name, value)


def _hour(hour: int, period: str | None) -> int:
    if period is None or hour > 12:
        return hour
    if period == AM:
        return 0 if hour == 12 else hour
    if period == PM:
        return hour if hour == 12 else hour + 12
    if period == NOON:
        return hour + 12 if hour < 6 else hour
    if period == EVENING:
        return 0 if hour == 12 else hour + 12
    if period == NIGHT:
        return 0 if hour == 12 else hour + 12 if hour >= 6 else hour
    return 0 if hour == 12 else hour  # midnight


def _clock(match: re.Match[str], tables: Mapping[str, Mapping[str, Any]]) -> time | None:
    """The time of day a clock match names, or None when it is only a bare number."""
    g = match.groupdict()
    if not (g["m"] or g["mark"] or g["period"] or g["pre"]):
        return None
    period = lookup(tables["periods"], g["period"]) if g["period"] else None
    minute = 30 if g["half"] else int(g["m"] or g["m2"] or 0)
    second = int(g["s"] or 0)
    hour = _hour(int(g["h"]), period)
    if period is not None and int(g["h"]) == 0 and period != AM:
        raise BadPhrase  # "0 pm"
    if not (0 <= hour <= 23 and 0 <= minute <= 59 and 0 <= second <= 59):
        raise BadPhrase
    return time(hour, minute, second)


def _number(text: str, tables: Mapping[str, Mapping[str, Any]]) -> float:
    if text[0].isdigit():
        return float(text.replace(",", "."))
    return float(lookup(tables["numbers"], text))


def _add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def localize(naive: datetime, zone: tzinfo) -> datetime:
    """Local wall time -> aware, right on DST days (gaps move forward, overlaps pick first)."""
    localize = getattr(zone, "localize", None)
    if callable(localize):  # a pytz zone
        aware: datetime = localize(naive)
        normalized: datetime = getattr(zone, "normalize")(aware)  # noqa: B009
        return normalized
    return naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)


def _shifted(now: datetime, amount: float, unit: str) -> datetime:
    zone = now.tzinfo
    assert zone is not None
    wall = now.replace(tzinfo=None)
    if unit in (MONTH, YEAR):
        if amount != int(amount):
            raise NotBuiltIn
        months = int(amount) * (12 if unit == YEAR else 1)
        return localize(datetime.combine(_add_months(wall.date(), months), wall.time()), zone)
    if unit in (DAY, WEEK) and amount == int(amount):
        days = int(amount) * (7 if unit == WEEK else 1)
        return localize(wall + timedelta(days=days), zone)
    seconds = {SECOND: 1, MINUTE: 60, HOUR: 3600, DAY: 86400, WEEK: 604800}[unit]
    return (now.astimezone(UTC) + timedelta(seconds=amount * seconds)).astimezone(zone)


def _consume(text: str, pattern: re.Pattern[str], handle: Callable[[re.Match[str]], bool]) -> str:
    """Feed every match to `handle`; blank out those it took (it returns True)."""
    pieces: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        if handle(match):
            pieces.append(text[last : match.start()] + " ")
            last = match.end()
    pieces.append(text[last:])
    return "".join(pieces)


_ISO_DAY = re.compile(r"(?<![\w.:/-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\w.:/-])")


def read_phrase(text: str, now: datetime, grammar: Grammar) -> datetime:
    tables = grammar.tables
    parts = _Parts()
    today = now.date()

    def iso_day(m: re.Match[str]) -> bool:
        try:
            parts.set("day", date(int(m[1]), int(m[2]), int(m[3])))
        except ValueError:
            raise BadPhrase from None
        return True

    def weekday(m: re.Match[str]) -> bool:
        modifier = m["pre"] or m["suf"]
        kind = None
        if modifier:
            table = tables["weekday_prefix"] if m["pre"] else tables["weekday_suffix"]
            kind = lookup(table, modifier)
        parts.set("weekday", (lookup(tables["weekdays"], m["wd"]), kind))
        return True

    def offset(m: re.Match[str]) -> bool:
        signs = []
        for word in (m["pre"], m["suf"]):
            if word:
                key = phrase_key(word)
                future = key in tables["future_prefix"] or key in tables["future_suffix"]
                past = key in tables["past_prefix"] or key in tables["past_suffix"]
                signs.append(1 if future and not past else -1 if past and not future else 0)
        if not signs:
            return False  # "2 weeks" alone says neither in nor ago
        if m["pre"] and not m["suf"]:
            before = m.string[: m.start()].split()
            if before and grammar.week.fullmatch(f"{before[-1]} {m['pre']}"):
                return False  # "tuần sau 9 giờ" is next week at 9, not "after 9 hours"
        if len(set(signs)) != 1 or signs[0] == 0:
            raise BadPhrase  # "in 2 weeks ago"
        amount = _number(m["n"], tables) * signs[0]
        try:
            shifted = _shifted(now, amount, lookup(tables["units"], m["unit"]))
        except (ValueError, OverflowError):
            raise BadPhrase from None  # "in 99999 years"
        parts.set("instant", shifted)
        return True

    def week(m: re.Match[str]) -> bool:
        parts.set("week", lookup(tables["weeks"], m[0]))
        return True

    def day(m: re.Match[str]) -> bool:
        parts.set("day", today + timedelta(days=lookup(tables["days"], m[0])))
        return True

    def now_word(m: re.Match[str]) -> bool:
        parts.set("instant", now)
        return True

    def clock(m: re.Match[str]) -> bool:
        value = _clock(m, tables)
        if value is None:
            return False
        parts.set("clock", value)
        return True

    def clock_word(m: re.Match[str]) -> bool:
        parts.set("clock", lookup(tables["clock_words"], m[0]))
        return True

    if grammar.glued_one is not None:
        text = grammar.glued_one.sub(r"1 \1", text)
    invalid = False

    def guarded(handle: Callable[[re.Match[str]], bool]) -> Callable[[re.Match[str]], bool]:
        def run(m: re.Match[str]) -> bool:
            nonlocal invalid
            try:
                return handle(m)
            except BadPhrase:
                invalid = True
                return True

        return run

    rest = text
    for pattern, handle in [
        (_ISO_DAY, iso_day),
        (grammar.weekday, weekday),
        (grammar.offset, offset),
        (grammar.week, week),
        (grammar.day, day),
        (grammar.now, now_word),
        (grammar.period_first, clock),
        (grammar.clock, clock),
        (grammar.clock_word, clock_word),
    ]:
        rest = _consume(rest, pattern, guarded(handle))
    rest = grammar.filler.sub(" ", rest).strip()
    if re.search(r"[^\W\d_]|[/.:-]", rest):
        raise NotBuiltIn  # unknown words or a date like 1/12/2026: dateparser's turn
    if rest or invalid:
        raise BadPhrase  # stray numbers ("monday 3") or contradictions

    monday = today - timedelta(days=today.weekday())
    dated = [p for p in (parts.day, parts.instant) if p is not None]
    if parts.weekday is not None or parts.week is not None:
        if dated:
            raise BadPhrase
        if parts.weekday is None:
            assert parts.week is not None
            dated.append(monday + timedelta(weeks=parts.week))
        else:
            number, kind = parts.weekday
            if parts.week is not None:
                if kind in (THIS, LAST):
                    raise BadPhrase  # "last monday next week"
                dated.append(monday + timedelta(weeks=parts.week, days=number))
            elif kind == THIS:
                dated.append(monday + timedelta(days=number))
            elif kind == LAST:
                dated.append(today - timedelta(days=(today.weekday() - number) % 7 or 7))
            else:
                dated.append(today + timedelta(days=(number - today.weekday()) % 7 or 7))
    if len(dated) > 1:
        raise BadPhrase
    zone = now.tzinfo
    assert zone is not None
    if not dated:
        if parts.clock is None:
            raise NotBuiltIn
        dated.append(today)
    when = dated[0]
    if isinstance(when, datetime):  # an offset: keeps its time unless one is given
        if parts.clock is None:
            return when
        when = when.date()
    return localize(datetime.combine(when, parts.clock or time(0)), zone)
