"""Dates, durations and clock times typed by people, in English, Vietnamese and Malay.

`parse_when` reads `--from/--to WHEN` and `source.horizon`/`source.history`;
`parse_duration` reads `schedule.scan_every`; `parse_clock` reads `schedule.digest_at`.

dateparser 1.5 returns nothing for many everyday Vietnamese and Malay phrases ("thứ hai tuần
sau", "esok pukul 3 petang"), drops the time from some ("besok pukul 15.00") and reads
"3 giờ" as now + 3 hours. So `parse_when` first reads the common shapes itself — weekdays,
this/next/last week, today/tomorrow/the day after, "in N units", "N units ago", clock times
with am/pm or a Vietnamese/Malay part of the day — and hands anything else (month names,
"1/12/2026", "next month", ...) to dateparser, imported only then, always with explicit
`languages` (never auto-detection, which loads every locale: ~1.5 s) and the zone of `now`
(never the machine's).

Semantics (identical in the three languages):

- A weekday alone ("monday", "thứ hai", "isnin") is its next occurrence strictly after today:
  1 to 7 days ahead, so on a Monday, "monday" is a week away. "next monday", "coming
  monday", "thứ hai tới", "isnin depan", "isnin akan datang" mean the same: the coming one.
- "this monday"/"thứ hai này"/"isnin ini" is the Monday of the current ISO week (it may be
  today or past); "last monday"/"thứ hai trước"/"isnin lepas" the latest one strictly before
  today.
- "<weekday> next week"/"next week <weekday>"/"thứ hai tuần sau"/"isnin minggu depan" is that
  weekday in the next ISO week (weeks start on Monday); likewise with this/last week.
- "next week"/"tuần sau"/"tuần tới"/"minggu depan" alone is Monday 00:00 of the next ISO week
  ("this week", "last week", "the week after next"/"tuần sau nữa" likewise).
- A date without a time is the start of that day (00:00). A relative offset keeps now's
  time: "in 2 weeks" is now + 14 days on the wall clock (the same local time even across a
  DST change), "14 days ago" likewise; "in 3 hours" is an exact 3 hours later.
- A time without a date is today at that time, even if it has passed.
- Hours are 24-hour unless a part of the day says otherwise: am/pm; Vietnamese sáng
  (morning), trưa (noon: "12 giờ trưa" 12:00, "1 giờ trưa" 13:00), chiều (afternoon, +12),
  tối (evening, +12; "12 giờ tối" 00:00), đêm (night: 6-11 +12, 12 → 00:00, 1-5 as is);
  Malay pagi, tengah hari, petang (+12), malam (as đêm: "8 malam" 20:00, "12 malam" 00:00).
  "at 3"/"pukul 3"/"lúc 3"/"3 giờ" without a part of the day is 03:00. The part of the day
  may also come first: "chiều mai lúc 3 giờ", "petang esok pukul 3" (15:00 tomorrow).
- "12 malam", "12 giờ tối", "midnight", "tengah malam" on a date are 00:00 at the start of
  that date.
- Results are aware datetimes in `now`'s tzinfo, built from the local date and time so they
  are right on DST days: a wall time that does not exist (spring forward) moves forward by
  the gap, an ambiguous one (fall back) is its first occurrence.

Input is NFC-normalized and case-insensitive, and Vietnamese words are also accepted with
their diacritics missing ("thu hai tuan sau"); there "toi" is read as "tới" (next) after a
weekday or "tuần" and as "tối" (evening) after a time.

When every word is understood but they contradict each other or are out of range ("monday
tomorrow", "tomorrow 25:00", "in 2 weeks ago", "monday 3") the answer is a ValueError, not
dateparser's guess; dateparser only sees phrases with words (or date forms like 1/12/2026)
the built-in grammar does not know. Its results are converted to `now`'s tzinfo.
"""

from __future__ import annotations

import calendar
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

__all__ = ["parse_clock", "parse_duration", "parse_when"]

DEFAULT_LANGUAGES: tuple[str, ...] = ("en", "vi", "ms")

# --------------------------------------------------------------------------------------------
# Text helpers

_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def _fold(text: str) -> str:
    """Without any diacritics: "thứ hai" -> "thu hai", "đêm" -> "dem"."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.replace("đ", "d").replace("Đ", "D")


def _untone(char: str) -> str:
    """Without the Vietnamese tone mark only: "ứ" -> "ư"."""
    decomposed = unicodedata.normalize("NFD", char)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))


def _key(text: str) -> str:
    return " ".join(_fold(text).lower().split())


def _loose(phrase: str) -> str:
    """A regex for `phrase` that also matches it with diacritics (partly) left out."""
    parts: list[str] = []
    for char in unicodedata.normalize("NFC", phrase.lower()):
        if char == " ":
            parts.append(r"\s+")
            continue
        variants = dict.fromkeys([char, _untone(char), _fold(char)])
        if len(variants) == 1:
            parts.append(re.escape(char))
        else:
            parts.append("[" + "".join(re.escape(v) for v in variants) + "]")
    return "".join(parts)


def _alt(words: Iterable[str]) -> str:
    """Alternation, longest first so that "thứ hai" wins over "thu" and "days" over "d"."""
    unique = sorted(set(words), key=lambda w: (-len(w), w))
    if not unique:
        return "(?!)"  # matches nothing
    return "(?:" + "|".join(_loose(w) for w in unique) + ")"


def _lookup(table: Mapping[str, Any], text: str) -> Any:
    return table[_key(text)]


def _shown(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------------------------
# Vocabulary. Every table maps a phrase (as people write it, diacritics included) to a value.

_NEXT, _THIS, _LAST = "next", "this", "last"
# parts of the day
_AM, _NOON, _PM, _EVENING, _NIGHT, _MIDNIGHT = "am", "noon", "pm", "evening", "night", "midnight"

_SECOND, _MINUTE, _HOUR, _DAY, _WEEK, _MONTH, _YEAR = (
    "second",
    "minute",
    "hour",
    "day",
    "week",
    "month",
    "year",
)


@dataclass(frozen=True)
class _Vocab:
    weekdays: Mapping[str, int]
    weekday_prefix: Mapping[str, str]  # "next monday"
    weekday_suffix: Mapping[str, str]  # "thứ hai tới", "isnin depan"
    weeks: Mapping[str, int]  # "next week" -> +1
    days: Mapping[str, int]  # "tomorrow" -> +1
    now: Sequence[str]
    units: Mapping[str, str]  # offsets: "weeks" -> week
    numbers: Mapping[str, int]  # "two" -> 2
    future_prefix: Sequence[str]  # "in 2 weeks"
    future_suffix: Sequence[str]  # "2 tuần nữa"
    past_prefix: Sequence[str]  # "cách đây 2 tuần"
    past_suffix: Sequence[str]  # "2 weeks ago"
    time_prefix: Sequence[str]  # "at 3pm", "pukul 3 petang"
    hour_marks: Sequence[str]  # "3 giờ", "3 o'clock"
    minute_marks: Sequence[str]  # "3 giờ 15 phút"
    half: Sequence[str]  # "3 giờ rưỡi"
    periods: Mapping[str, str]  # "chiều" -> pm
    clock_words: Mapping[str, time]  # "noon" -> 12:00
    fillers: Sequence[str]  # ignored words: "on", "vào", "pada"


def _weekdays(*names: Sequence[str]) -> dict[str, int]:
    return {name: number for number, group in enumerate(names) for name in group}


_EN = _Vocab(
    weekdays=_weekdays(
        ["monday", "mon"],
        ["tuesday", "tues", "tue"],
        ["wednesday", "wed"],
        ["thursday", "thurs", "thur", "thu"],
        ["friday", "fri"],
        ["saturday", "sat"],
        ["sunday", "sun"],
    ),
    weekday_prefix={
        "next": _NEXT,
        "coming": _NEXT,
        "this coming": _NEXT,
        "the coming": _NEXT,
        "this": _THIS,
        "last": _LAST,
        "past": _LAST,
        "previous": _LAST,
    },
    weekday_suffix={},
    weeks={
        "next week": 1,
        "coming week": 1,
        "the coming week": 1,
        "week after next": 2,
        "the week after next": 2,
        "this week": 0,
        "last week": -1,
        "previous week": -1,
    },
    days={
        "today": 0,
        "tomorrow": 1,
        "tmr": 1,
        "tmrw": 1,
        "day after tomorrow": 2,
        "the day after tomorrow": 2,
        "yesterday": -1,
        "day before yesterday": -2,
        "the day before yesterday": -2,
    },
    now=["now", "right now"],
    units={
        **dict.fromkeys(["second", "seconds", "sec", "secs"], _SECOND),
        **dict.fromkeys(["minute", "minutes", "min", "mins"], _MINUTE),
        **dict.fromkeys(["hour", "hours", "hr", "hrs", "h"], _HOUR),
        **dict.fromkeys(["day", "days", "d"], _DAY),
        **dict.fromkeys(["week", "weeks", "wk", "wks", "w"], _WEEK),
        **dict.fromkeys(["month", "months"], _MONTH),
        **dict.fromkeys(["year", "years", "yr", "yrs"], _YEAR),
    },
    numbers={
        "a": 1,
        "an": 1,
        "one": 1,
        "two": 2,
        "three": 3,
        "four": 4,
        "five": 5,
        "six": 6,
        "seven": 7,
        "eight": 8,
        "nine": 9,
        "ten": 10,
        "eleven": 11,
        "twelve": 12,
    },
    future_prefix=["in", "after"],
    future_suffix=["from now", "later", "hence"],
    past_prefix=[],
    past_suffix=["ago", "back"],
    time_prefix=["at", "@", "around"],
    hour_marks=["o'clock", "oclock"],
    minute_marks=[],
    half=[],
    periods={"am": _AM, "a.m.": _AM, "pm": _PM, "p.m.": _PM},
    clock_words={"noon": time(12), "midday": time(12), "midnight": time(0)},
    fillers=["on", "the", "of", "at", "around"],
)

_VI = _Vocab(
    weekdays=_weekdays(
        ["thứ hai", "thứ 2", "t2"],
        ["thứ ba", "thứ 3", "t3"],
        ["thứ tư", "thứ 4", "t4"],
        ["thứ năm", "thứ 5", "t5"],
        ["thứ sáu", "thứ 6", "t6"],
        ["thứ bảy", "thứ bẩy", "thứ 7", "t7"],
        ["chủ nhật", "cn"],
    ),
    weekday_prefix={},
    weekday_suffix={"tới": _NEXT, "sắp tới": _NEXT, "này": _THIS, "trước": _LAST, "rồi": _LAST},
    weeks={
        "tuần sau": 1,
        "tuần tới": 1,
        "tuần sau nữa": 2,
        "tuần này": 0,
        "tuần trước": -1,
        "tuần rồi": -1,
    },
    days={
        "hôm nay": 0,
        "nay": 0,
        "ngày mai": 1,
        "mai": 1,
        "ngày kia": 2,
        "ngày mốt": 2,
        "hôm qua": -1,
        "hôm kia": -2,
    },
    now=["bây giờ", "ngay bây giờ"],
    units={
        "giây": _SECOND,
        "phút": _MINUTE,
        "giờ": _HOUR,
        "tiếng": _HOUR,
        "ngày": _DAY,
        "tuần": _WEEK,
        "tháng": _MONTH,
        "năm": _YEAR,
    },
    numbers={
        "một": 1,
        "hai": 2,
        "ba": 3,
        "bốn": 4,
        "năm": 5,
        "sáu": 6,
        "bảy": 7,
        "tám": 8,
        "chín": 9,
        "mười": 10,
    },
    future_prefix=["trong", "sau"],
    future_suffix=["nữa", "sau"],
    past_prefix=["cách đây"],
    past_suffix=["trước", "về trước"],
    time_prefix=["lúc"],
    hour_marks=["giờ", "h"],
    minute_marks=["phút"],
    half=["rưỡi"],
    periods={"sáng": _AM, "trưa": _NOON, "chiều": _PM, "tối": _EVENING, "đêm": _NIGHT},
    clock_words={"nửa đêm": time(0)},
    fillers=["lúc", "vào", "ngày"],
)

_MS = _Vocab(
    weekdays=_weekdays(
        ["isnin"],
        ["selasa"],
        ["rabu"],
        ["khamis"],
        ["jumaat", "jumat"],
        ["sabtu"],
        ["ahad"],
    ),
    weekday_prefix={},
    weekday_suffix={
        "depan": _NEXT,
        "hadapan": _NEXT,
        "akan datang": _NEXT,
        "ini": _THIS,
        "lepas": _LAST,
        "lalu": _LAST,
        "yang lepas": _LAST,
        "yang lalu": _LAST,
    },
    weeks={
        "minggu depan": 1,
        "minggu hadapan": 1,
        "minggu ini": 0,
        "minggu lepas": -1,
        "minggu lalu": -1,
        "minggu yang lepas": -1,
        "minggu yang lalu": -1,
    },
    days={
        "hari ini": 0,
        "harini": 0,
        "esok": 1,
        "besok": 1,
        "lusa": 2,
        "semalam": -1,
        "kelmarin": -2,
    },
    now=["sekarang"],
    units={
        "saat": _SECOND,
        "minit": _MINUTE,
        "jam": _HOUR,
        "hari": _DAY,
        "minggu": _WEEK,
        "bulan": _MONTH,
        "tahun": _YEAR,
    },
    numbers={
        "satu": 1,
        "dua": 2,
        "tiga": 3,
        "empat": 4,
        "lima": 5,
        "enam": 6,
        "tujuh": 7,
        "lapan": 8,
        "sembilan": 9,
        "sepuluh": 10,
    },
    future_prefix=["dalam"],
    future_suffix=["lagi", "dari sekarang", "kemudian", "akan datang"],
    past_prefix=[],
    past_suffix=["lalu", "yang lalu", "lepas", "yang lepas"],
    time_prefix=["pukul", "jam", "pada pukul", "pada jam"],
    hour_marks=[],
    minute_marks=[],
    half=[],
    periods={
        "pagi": _AM,
        "tengah hari": _NOON,
        "tengahari": _NOON,
        "petang": _PM,
        "malam": _NIGHT,
        "tengah malam": _MIDNIGHT,
    },
    clock_words={"tengah hari": time(12), "tengahari": time(12), "tengah malam": time(0)},
    fillers=["pada", "hari", "pukul"],
)

_VOCABS: Mapping[str, _Vocab] = {"en": _EN, "vi": _VI, "ms": _MS}


def _merged(vocabs: Sequence[_Vocab], field: str) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for vocab in vocabs:
        entries = getattr(vocab, field)
        items = entries.items() if isinstance(entries, Mapping) else ((e, e) for e in entries)
        for phrase, value in items:
            key = _key(phrase)
            if table.get(key, value) != value:  # pragma: no cover - a vocabulary bug
                raise AssertionError(f"{field}: {phrase!r} means two things")
            table[key] = value
    return table


def _phrases(vocabs: Sequence[_Vocab], field: str) -> list[str]:
    return [phrase for vocab in vocabs for phrase in getattr(vocab, field)]


# --------------------------------------------------------------------------------------------
# The grammar for a set of languages


_B = r"(?<![\w@])"  # a word starts here
_E = r"(?![^\W\d_])"  # no letter follows
_EW = r"(?!\w)"  # no letter or digit follows
_NUMBER = r"\d+(?:[.,]\d+)?"


@dataclass(frozen=True)
class _Grammar:
    tables: Mapping[str, Mapping[str, Any]]
    weekday: re.Pattern[str]
    offset: re.Pattern[str]
    week: re.Pattern[str]
    day: re.Pattern[str]
    now: re.Pattern[str]
    clock: re.Pattern[str]
    period_first: re.Pattern[str]
    clock_word: re.Pattern[str]
    filler: re.Pattern[str]
    glued_one: re.Pattern[str] | None  # Malay "seminggu" = "1 minggu"


@functools.lru_cache(maxsize=16)
def _grammar(languages: tuple[str, ...]) -> _Grammar:
    vocabs = [_VOCABS[lang] for lang in dict.fromkeys(languages) if lang in _VOCABS]
    fields = [
        "weekdays",
        "weekday_prefix",
        "weekday_suffix",
        "weeks",
        "days",
        "now",
        "units",
        "numbers",
        "future_prefix",
        "future_suffix",
        "past_prefix",
        "past_suffix",
        "time_prefix",
        "hour_marks",
        "minute_marks",
        "half",
        "periods",
        "clock_words",
        "fillers",
    ]
    t = {field: _merged(vocabs, field) for field in fields}
    phrases = {field: _phrases(vocabs, field) for field in fields}

    def alt(field: str) -> str:
        return _alt(phrases[field])

    number = f"(?:{_NUMBER}|{alt('numbers')}{_EW})"
    weekday = re.compile(
        rf"{_B}(?:(?P<pre>{alt('weekday_prefix')})\s+)?(?:hari\s+)?(?P<wd>{alt('weekdays')}){_EW}"
        rf"(?:\s+(?P<suf>{alt('weekday_suffix')}){_EW})?"
    )
    offset = re.compile(
        rf"{_B}(?:(?P<pre>{alt('future_prefix')}|{alt('past_prefix')})\s+)?"
        rf"(?<![\d.,])(?P<n>{number})\s*(?P<unit>{alt('units')}){_EW}"
        rf"(?:\s+(?P<suf>{alt('future_suffix')}|{alt('past_suffix')}){_EW})?"
    )
    hour_and_minutes = (
        r"(?<![\d:.])(?P<h>\d{1,2})"
        r"(?:[:.](?P<m>\d{2})(?::(?P<s>\d{2}))?"
        rf"|\s*(?P<mark>{alt('hour_marks')}){_E}"
        rf"(?:\s*(?P<m2>\d{{1,2}})(?:\s*{alt('minute_marks')}{_EW})?|\s+(?P<half>{alt('half')}))?)?"
    )
    clock = re.compile(  # "3pm", "at 15:00", "3 giờ rưỡi chiều", "pukul 10.30 pagi"
        rf"(?<![\w:.@])(?:(?P<pre>{alt('time_prefix')})\s*)?{hour_and_minutes}"
        rf"(?:\s*(?P<period>{alt('periods')}))?(?![\w:])"
    )
    period_first = re.compile(  # "chiều (mai) 3 giờ", "petang (esok) pukul 3"
        rf"{_B}(?P<period>{alt('periods')})\s+(?:(?P<pre>{alt('time_prefix')})\s*)?"
        rf"{hour_and_minutes}(?![\w:])"
    )
    return _Grammar(
        tables=t,
        weekday=weekday,
        offset=offset,
        week=re.compile(rf"{_B}{alt('weeks')}{_EW}"),
        day=re.compile(rf"{_B}{alt('days')}{_EW}"),
        now=re.compile(rf"{_B}{alt('now')}{_EW}"),
        clock=clock,
        period_first=period_first,
        clock_word=re.compile(rf"{_B}{alt('clock_words')}{_EW}"),
        filler=re.compile(rf"{_B}{alt('fillers')}{_EW}|(?<!\d)[.,;!?](?!\d)"),
        glued_one=(
            re.compile(r"(?<!\w)se(minit|jam|hari|minggu|bulan|tahun)(?!\w)")
            if _MS in vocabs
            else None
        ),
    )


# --------------------------------------------------------------------------------------------
# Reading a phrase


class _NotMine(Exception):
    """The phrase is not one the built-in grammar reads; dateparser gets a try."""


class _Invalid(Exception):
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
            raise _Invalid
        setattr(self, name, value)


def _hour(hour: int, period: str | None) -> int:
    if period is None or hour > 12:
        return hour
    if period == _AM:
        return 0 if hour == 12 else hour
    if period == _PM:
        return hour if hour == 12 else hour + 12
    if period == _NOON:
        return hour + 12 if hour < 6 else hour
    if period == _EVENING:
        return 0 if hour == 12 else hour + 12
    if period == _NIGHT:
        return 0 if hour == 12 else hour + 12 if hour >= 6 else hour
    return 0 if hour == 12 else hour  # midnight


def _clock(match: re.Match[str], tables: Mapping[str, Mapping[str, Any]]) -> time | None:
    """The time of day a clock match names, or None when it is only a bare number."""
    g = match.groupdict()
    if not (g["m"] or g["mark"] or g["period"] or g["pre"]):
        return None
    period = _lookup(tables["periods"], g["period"]) if g["period"] else None
    minute = 30 if g["half"] else int(g["m"] or g["m2"] or 0)
    second = int(g["s"] or 0)
    hour = _hour(int(g["h"]), period)
    if period is not None and int(g["h"]) == 0 and period != _AM:
        raise _Invalid  # "0 pm"
    if not (0 <= hour <= 23 and 0 <= minute <= 59 and 0 <= second <= 59):
        raise _Invalid
    return time(hour, minute, second)


def _number(text: str, tables: Mapping[str, Mapping[str, Any]]) -> float:
    if text[0].isdigit():
        return float(text.replace(",", "."))
    return float(_lookup(tables["numbers"], text))


def _add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _localize(naive: datetime, zone: tzinfo) -> datetime:
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
    if unit in (_MONTH, _YEAR):
        if amount != int(amount):
            raise _NotMine
        months = int(amount) * (12 if unit == _YEAR else 1)
        return _localize(datetime.combine(_add_months(wall.date(), months), wall.time()), zone)
    if unit in (_DAY, _WEEK) and amount == int(amount):
        days = int(amount) * (7 if unit == _WEEK else 1)
        return _localize(wall + timedelta(days=days), zone)
    seconds = {_SECOND: 1, _MINUTE: 60, _HOUR: 3600, _DAY: 86400, _WEEK: 604800}[unit]
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


def _structured(text: str, now: datetime, grammar: _Grammar) -> datetime:
    tables = grammar.tables
    parts = _Parts()
    today = now.date()

    def iso_day(m: re.Match[str]) -> bool:
        try:
            parts.set("day", date(int(m[1]), int(m[2]), int(m[3])))
        except ValueError:
            raise _Invalid from None
        return True

    def weekday(m: re.Match[str]) -> bool:
        modifier = m["pre"] or m["suf"]
        kind = None
        if modifier:
            table = tables["weekday_prefix"] if m["pre"] else tables["weekday_suffix"]
            kind = _lookup(table, modifier)
        parts.set("weekday", (_lookup(tables["weekdays"], m["wd"]), kind))
        return True

    def offset(m: re.Match[str]) -> bool:
        signs = []
        for word in (m["pre"], m["suf"]):
            if word:
                key = _key(word)
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
            raise _Invalid  # "in 2 weeks ago"
        amount = _number(m["n"], tables) * signs[0]
        try:
            shifted = _shifted(now, amount, _lookup(tables["units"], m["unit"]))
        except (ValueError, OverflowError):
            raise _Invalid from None  # "in 99999 years"
        parts.set("instant", shifted)
        return True

    def week(m: re.Match[str]) -> bool:
        parts.set("week", _lookup(tables["weeks"], m[0]))
        return True

    def day(m: re.Match[str]) -> bool:
        parts.set("day", today + timedelta(days=_lookup(tables["days"], m[0])))
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
        parts.set("clock", _lookup(tables["clock_words"], m[0]))
        return True

    if grammar.glued_one is not None:
        text = grammar.glued_one.sub(r"1 \1", text)
    invalid = False

    def guarded(handle: Callable[[re.Match[str]], bool]) -> Callable[[re.Match[str]], bool]:
        def run(m: re.Match[str]) -> bool:
            nonlocal invalid
            try:
                return handle(m)
            except _Invalid:
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
        raise _NotMine  # unknown words or a date like 1/12/2026: dateparser's turn
    if rest or invalid:
        raise _Invalid  # stray numbers ("monday 3") or contradictions

    monday = today - timedelta(days=today.weekday())
    dated = [p for p in (parts.day, parts.instant) if p is not None]
    if parts.weekday is not None or parts.week is not None:
        if dated:
            raise _Invalid
        if parts.weekday is None:
            assert parts.week is not None
            dated.append(monday + timedelta(weeks=parts.week))
        else:
            number, kind = parts.weekday
            if parts.week is not None:
                if kind in (_THIS, _LAST):
                    raise _Invalid  # "last monday next week"
                dated.append(monday + timedelta(weeks=parts.week, days=number))
            elif kind == _THIS:
                dated.append(monday + timedelta(days=number))
            elif kind == _LAST:
                dated.append(today - timedelta(days=(today.weekday() - number) % 7 or 7))
            else:
                dated.append(today + timedelta(days=(number - today.weekday()) % 7 or 7))
    if len(dated) > 1:
        raise _Invalid
    zone = now.tzinfo
    assert zone is not None
    if not dated:
        if parts.clock is None:
            raise _NotMine
        dated.append(today)
    when = dated[0]
    if isinstance(when, datetime):  # an offset: keeps its time unless one is given
        if parts.clock is None:
            return when
        when = when.date()
    return _localize(datetime.combine(when, parts.clock or time(0)), zone)


def _zone_name(now: datetime) -> str:
    zone = now.tzinfo
    name = getattr(zone, "key", None) or getattr(zone, "zone", None)
    if isinstance(name, str):
        return name
    offset = now.utcoffset() or timedelta(0)
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _dateparser(text: str, now: datetime, languages: Sequence[str]) -> datetime | None:
    import dateparser  # lazily: ~70 ms, and `calbot --help` must stay fast

    settings = {
        "TIMEZONE": _zone_name(now),
        "RETURN_AS_TIMEZONE_AWARE": True,
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "PREFER_DATES_FROM": "future",
    }
    result = dateparser.parse(text, languages=list(languages), settings=settings)
    if not isinstance(result, datetime):
        return None
    zone = now.tzinfo
    assert zone is not None
    if result.tzinfo is None:
        return _localize(result, zone)
    return result.astimezone(zone)


def _iso(text: str, now: datetime) -> datetime | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\S*", text):
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    zone = now.tzinfo
    assert zone is not None
    if value.tzinfo is None:
        return _localize(value, zone)
    return value.astimezone(zone)


def parse_when(text: str, now: datetime, languages: Sequence[str] = DEFAULT_LANGUAGES) -> datetime:
    """A point in time from a phrase, relative to the aware `now`, in `now`'s tzinfo.

    English, Vietnamese and Malay weekday, week, day, offset and clock phrases are read here
    (see the module docstring for what they mean); anything else goes to dateparser with
    `languages`. Raises ValueError("cannot read '...' as a date or time").
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("parse_when needs a timezone-aware 'now'")
    languages = tuple(languages) or DEFAULT_LANGUAGES
    error = ValueError(f"cannot read '{_shown(text)}' as a date or time")
    cleaned = unicodedata.normalize("NFC", text).strip()
    if not cleaned:
        raise error
    iso = _iso(cleaned, now)
    if iso is not None:
        return iso
    lowered = " ".join(cleaned.lower().split())
    try:
        return _structured(lowered, now, _grammar(languages))
    except _Invalid:
        raise error from None
    except _NotMine:
        pass
    try:
        result = _dateparser(cleaned, now, languages)
    except (ValueError, OverflowError):  # dateparser's own complaints, e.g. a year 99999
        result = None
    if result is None:
        raise error
    return result


# --------------------------------------------------------------------------------------------
# Durations and clock times

_DURATION_UNITS: Mapping[str, float] = {
    **dict.fromkeys(["s", "sec", "secs", "second", "seconds", "giây", "saat"], 1),
    **dict.fromkeys(["m", "min", "mins", "minute", "minutes", "phút", "minit"], 60),
    **dict.fromkeys(["h", "hr", "hrs", "hour", "hours", "giờ", "tiếng", "jam"], 3600),
    **dict.fromkeys(["d", "day", "days", "ngày", "hari"], 86400),
    **dict.fromkeys(["w", "wk", "wks", "week", "weeks", "tuần", "minggu"], 604800),
}
_DURATION_KEYS = {_key(unit): seconds for unit, seconds in _DURATION_UNITS.items()}
_HALVES = {_key(p) for p in ("half an hour", "nửa tiếng", "nửa giờ", "setengah jam", "separuh jam")}


@functools.lru_cache(maxsize=1)
def _duration_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    part = re.compile(
        rf"\s*(?P<n>{_NUMBER}|an?(?=\s)|một|mot|satu)\s*(?P<unit>{_alt(_DURATION_UNITS)}){_E}"
        r"\s*(?:,|\band\b|\bvà\b|\bva\b|\bdan\b)?"
    )
    prefix = re.compile(r"\s*(?:every|each|mỗi|moi|setiap|tiap)\s+")
    return part, prefix


def parse_duration(text: str) -> timedelta:
    """A positive length of time: "30 minutes", "1h30m", "1.5 hours", "2 giờ", "90 minit".

    Never a date: "tomorrow" is rejected. Raises ValueError naming the text.
    """
    error = ValueError(f"cannot read '{_shown(text)}' as a duration (e.g. '30 minutes', '1h30m')")
    cleaned = " ".join(unicodedata.normalize("NFC", text).lower().split())
    part, prefix = _duration_patterns()
    if match := prefix.match(cleaned):
        cleaned = cleaned[match.end() :]
    if _key(cleaned) in _HALVES:
        return timedelta(minutes=30)
    total = 0.0
    position = 0
    while position < len(cleaned):
        match = part.match(cleaned, position)
        if match is None or match.end() == position:
            raise error
        number = match["n"]
        amount = float(number.replace(",", ".")) if number[0].isdigit() else 1.0
        total += amount * _DURATION_KEYS[_key(match["unit"])]
        position = match.end()
    if not cleaned or total <= 0:
        raise error
    return timedelta(seconds=total)


def parse_clock(text: str) -> time:
    """A time of day written as H:MM or HH:MM (24-hour): "07:30" -> 07:30."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", text)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"cannot read '{_shown(text)}' as a time of day like '07:30'")
    return time(int(match[1]), int(match[2]))
