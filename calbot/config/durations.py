"""Durations and clock times typed by people: `schedule.scan_every`, `schedule.digest_at`."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from datetime import time, timedelta

from calbot.config.date_grammar import NO_LETTER_AFTER, NUMBER
from calbot.config.date_words import alternation, phrase_key, shown

_DURATION_UNITS: Mapping[str, float] = {
    **dict.fromkeys(["s", "sec", "secs", "second", "seconds", "giây", "saat"], 1),
    **dict.fromkeys(["m", "min", "mins", "minute", "minutes", "phút", "minit"], 60),
    **dict.fromkeys(["h", "hr", "hrs", "hour", "hours", "giờ", "tiếng", "jam"], 3600),
    **dict.fromkeys(["d", "day", "days", "ngày", "hari"], 86400),
    **dict.fromkeys(["w", "wk", "wks", "week", "weeks", "tuần", "minggu"], 604800),
}
_DURATION_KEYS = {phrase_key(unit): seconds for unit, seconds in _DURATION_UNITS.items()}
_HALVES = {
    phrase_key(p) for p in ("half an hour", "nửa tiếng", "nửa giờ", "setengah jam", "separuh jam")
}


@functools.lru_cache(maxsize=1)
def _duration_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    units = alternation(_DURATION_UNITS)
    part = re.compile(
        rf"\s*(?P<n>{NUMBER}|an?(?=\s)|một|mot|satu)\s*(?P<unit>{units}){NO_LETTER_AFTER}"
        r"\s*(?:,|\band\b|\bvà\b|\bva\b|\bdan\b)?"
    )
    prefix = re.compile(r"\s*(?:every|each|mỗi|moi|setiap|tiap)\s+")
    return part, prefix


def parse_duration(text: str) -> timedelta:
    """A positive length of time: "30 minutes", "1h30m", "1.5 hours", "2 giờ", "90 minit".

    Never a date: "tomorrow" is rejected. Raises ValueError naming the text.
    """
    error = ValueError(f"cannot read '{shown(text)}' as a duration (e.g. '30 minutes', '1h30m')")
    cleaned = " ".join(unicodedata.normalize("NFC", text).lower().split())
    part, prefix = _duration_patterns()
    if match := prefix.match(cleaned):
        cleaned = cleaned[match.end() :]
    if phrase_key(cleaned) in _HALVES:
        return timedelta(minutes=30)
    total = 0.0
    position = 0
    while position < len(cleaned):
        match = part.match(cleaned, position)
        if match is None or match.end() == position:
            raise error
        number = match["n"]
        amount = float(number.replace(",", ".")) if number[0].isdigit() else 1.0
        total += amount * _DURATION_KEYS[phrase_key(match["unit"])]
        position = match.end()
    if not cleaned or total <= 0:
        raise error
    return timedelta(seconds=total)


def parse_clock(text: str) -> time:
    """A time of day written as H:MM or HH:MM (24-hour): "07:30" -> 07:30."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", text)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"cannot read '{shown(text)}' as a time of day like '07:30'")
    return time(int(match[1]), int(match[2]))
