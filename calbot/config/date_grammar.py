"""The built-in grammar for a set of languages: one regex per kind of phrase (weekday,
offset, week, day, now, clock, ...), built from the languages' vocabularies."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from calbot.config.date_words import VOCABS, Vocab, alternation, phrase_key


def _merged(vocabs: Sequence[Vocab], field: str) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for vocab in vocabs:
        entries = getattr(vocab, field)
        items = entries.items() if isinstance(entries, Mapping) else ((e, e) for e in entries)
        for phrase, value in items:
            key = phrase_key(phrase)
            if table.get(key, value) != value:  # pragma: no cover - a vocabulary bug
                raise AssertionError(f"{field}: {phrase!r} means two things")
            table[key] = value
    return table


def _phrases(vocabs: Sequence[Vocab], field: str) -> list[str]:
    return [phrase for vocab in vocabs for phrase in getattr(vocab, field)]


_B = r"(?<![\w@])"  # a word starts here
NO_LETTER_AFTER = r"(?![^\W\d_])"  # no letter follows
_EW = r"(?!\w)"  # no letter or digit follows
NUMBER = r"\d+(?:[.,]\d+)?"


@dataclass(frozen=True)
class Grammar:
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
def grammar_for(languages: tuple[str, ...]) -> Grammar:
    vocabs = [VOCABS[lang] for lang in dict.fromkeys(languages) if lang in VOCABS]
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
        return alternation(phrases[field])

    number = f"(?:{NUMBER}|{alt('numbers')}{_EW})"
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
        rf"|\s*(?P<mark>{alt('hour_marks')}){NO_LETTER_AFTER}"
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
    return Grammar(
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
            if "ms" in languages
            else None
        ),
    )
