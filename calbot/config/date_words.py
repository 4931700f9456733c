"""The words of dates and times in English, Vietnamese and Malay, and how a phrase is
matched: case-insensitive, NFC, with Vietnamese diacritics (partly) left out.

Every vocabulary table maps a phrase (as people write it, diacritics included) to a value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import time
from typing import Any

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


def phrase_key(text: str) -> str:
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


def alternation(words: Iterable[str]) -> str:
    """Alternation, longest first so that "thứ hai" wins over "thu" and "days" over "d"."""
    unique = sorted(set(words), key=lambda w: (-len(w), w))
    if not unique:
        return "(?!)"  # matches nothing
    return "(?:" + "|".join(_loose(w) for w in unique) + ")"


def lookup(table: Mapping[str, Any], text: str) -> Any:
    return table[phrase_key(text)]


def shown(text: str) -> str:
    return " ".join(text.split())


# What the tables map phrases to: weekday modifiers, parts of the day, offset units.
NEXT, THIS, LAST = "next", "this", "last"
AM, NOON, PM, EVENING, NIGHT, MIDNIGHT = "am", "noon", "pm", "evening", "night", "midnight"

SECOND, MINUTE, HOUR, DAY, WEEK, MONTH, YEAR = (
    "second",
    "minute",
    "hour",
    "day",
    "week",
    "month",
    "year",
)


@dataclass(frozen=True)
class Vocab:
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


_EN = Vocab(
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
        "next": NEXT,
        "coming": NEXT,
        "this coming": NEXT,
        "the coming": NEXT,
        "this": THIS,
        "last": LAST,
        "past": LAST,
        "previous": LAST,
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
        **dict.fromkeys(["second", "seconds", "sec", "secs"], SECOND),
        **dict.fromkeys(["minute", "minutes", "min", "mins"], MINUTE),
        **dict.fromkeys(["hour", "hours", "hr", "hrs", "h"], HOUR),
        **dict.fromkeys(["day", "days", "d"], DAY),
        **dict.fromkeys(["week", "weeks", "wk", "wks", "w"], WEEK),
        **dict.fromkeys(["month", "months"], MONTH),
        **dict.fromkeys(["year", "years", "yr", "yrs"], YEAR),
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
    periods={"am": AM, "a.m.": AM, "pm": PM, "p.m.": PM},
    clock_words={"noon": time(12), "midday": time(12), "midnight": time(0)},
    fillers=["on", "the", "of", "at", "around"],
)

_VI = Vocab(
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
    weekday_suffix={"tới": NEXT, "sắp tới": NEXT, "này": THIS, "trước": LAST, "rồi": LAST},
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
        "giây": SECOND,
        "phút": MINUTE,
        "giờ": HOUR,
        "tiếng": HOUR,
        "ngày": DAY,
        "tuần": WEEK,
        "tháng": MONTH,
        "năm": YEAR,
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
    periods={"sáng": AM, "trưa": NOON, "chiều": PM, "tối": EVENING, "đêm": NIGHT},
    clock_words={"nửa đêm": time(0)},
    fillers=["lúc", "vào", "ngày"],
)

_MS = Vocab(
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
        "depan": NEXT,
        "hadapan": NEXT,
        "akan datang": NEXT,
        "ini": THIS,
        "lepas": LAST,
        "lalu": LAST,
        "yang lepas": LAST,
        "yang lalu": LAST,
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
        "saat": SECOND,
        "minit": MINUTE,
        "jam": HOUR,
        "hari": DAY,
        "minggu": WEEK,
        "bulan": MONTH,
        "tahun": YEAR,
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
        "pagi": AM,
        "tengah hari": NOON,
        "tengahari": NOON,
        "petang": PM,
        "malam": NIGHT,
        "tengah malam": MIDNIGHT,
    },
    clock_words={"tengah hari": time(12), "tengahari": time(12), "tengah malam": time(0)},
    fillers=["pada", "hari", "pukul"],
)

VOCABS: Mapping[str, Vocab] = {"en": _EN, "vi": _VI, "ms": _MS}
