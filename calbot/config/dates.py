"""Dates typed by people, in English, Vietnamese and Malay.

`parse_when` reads `--from/--to WHEN` and `source.horizon`/`source.history` (durations and
clock times: `calbot.config.durations`). Its built-in grammar is in three modules: the words
(`date_words`), the regexes built from them (`date_grammar`), the reading (`date_phrases`).

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

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta

from calbot.config.date_grammar import grammar_for
from calbot.config.date_phrases import BadPhrase, NotBuiltIn, localize, read_phrase
from calbot.config.date_words import shown

__all__ = ["FIRST_YEAR", "LAST_YEAR", "MAX_WINDOW", "check_moment", "check_span", "parse_when"]

# A scan's window (`--from`/`--to`) stays inside these years and this length: calendars have
# nothing to say outside them, and every day of the window (and of its history and slot
# search) is walked, so the bounds also keep any date arithmetic far from year 1 and 9999.
FIRST_YEAR, LAST_YEAR = 1970, 2100
MAX_WINDOW = timedelta(days=366)

DEFAULT_LANGUAGES: tuple[str, ...] = ("en", "vi", "ms")


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


# The defaults of `source.horizon`/`history` ("in 14 days", "14 days ago") and their like,
# read without building the grammar (~166 regexes, compiled afresh in every process): what
# the grammar's offset rule gives for whole days and weeks (`date_phrases._shifted`).
_DAYS = re.compile(r"(in )?(\d{1,5}) (days?|weeks?)( ago)?")


def _whole_days(text: str, now: datetime, languages: Sequence[str]) -> datetime | None:
    m = _DAYS.fullmatch(text) if "en" in languages else None
    if m is None or bool(m[1]) == bool(m[4]):
        return None
    days = int(m[2]) * (7 if m[3][0] == "w" else 1)
    zone = now.tzinfo
    assert zone is not None
    try:
        return localize(now.replace(tzinfo=None) + timedelta(days=days if m[1] else -days), zone)
    except (ValueError, OverflowError):
        return None  # the grammar's way says what is wrong


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
        return localize(result, zone)
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
        return localize(value, zone)
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
    error = ValueError(f"cannot read '{shown(text)}' as a date or time")
    cleaned = unicodedata.normalize("NFC", text).strip()
    if not cleaned:
        raise error
    iso = _iso(cleaned, now)
    if iso is not None:
        return iso
    lowered = " ".join(cleaned.lower().split())
    simple = _whole_days(lowered, now, languages)
    if simple is not None:
        return simple
    try:
        return read_phrase(lowered, now, grammar_for(languages))
    except BadPhrase:
        raise error from None
    except NotBuiltIn:
        pass
    try:
        result = _dateparser(cleaned, now, languages)
    except (ValueError, OverflowError):  # dateparser's own complaints, e.g. a year 99999
        result = None
    if result is None:
        raise error
    return result


def check_moment(option: str, when: datetime) -> datetime:
    """`when` itself when its year is in FIRST_YEAR..LAST_YEAR; else ValueError naming
    `option` (e.g. "--to")."""
    if not FIRST_YEAR <= when.year <= LAST_YEAR:
        raise ValueError(f"{option}: {when:%Y-%m-%d} is outside the years {FIRST_YEAR}–{LAST_YEAR}")
    return when


def check_span(start: datetime, end: datetime, options: str = "--from/--to") -> None:
    """ValueError when `end` is more than MAX_WINDOW after `start`."""
    if end - start > MAX_WINDOW:
        raise ValueError(
            f"{options}: {start:%Y-%m-%d} to {end:%Y-%m-%d} is more than "
            f"{MAX_WINDOW.days} days; scan a shorter window"
        )
