"""The message catalogues: one table per language (`en`, `vi`, `ms`), and `say`, which
turns a core `Message` into the sentence the user reads.

Vietnamese and Malay have a text for every English code (tests/unit/present/
test_translations.py holds them to it), the reasons behind a decision and the warnings
included; a code a language lacks would be shown in English, and a language calbot does not
know is English throughout.
Error lines, `calbot doctor` and the logs are English by design and do not come from here.
"""

from __future__ import annotations

from datetime import date, time
from functools import lru_cache

from calbot.core.messages import Arg, Clauses, Hours, Message, Say
from calbot.present.messages import en, ms, vi

TEXT: dict[str, dict[str, str]] = {"en": en.TEXT, "vi": vi.TEXT, "ms": ms.TEXT}
_DAYS = {"en": en.DAYS, "vi": vi.DAYS, "ms": ms.DAYS}
_MONTHS = {"en": en.MONTHS, "ms": ms.MONTHS}
_HOUR_UNIT = {"en": en.HOUR_UNIT, "vi": vi.HOUR_UNIT, "ms": ms.HOUR_UNIT}


def say(message: Message, lang: str) -> str:
    """`message` as text in `lang`. Its figures are written the way its text's language
    writes them; a nested message is a sentence of its own, in `lang` where it has one."""
    text = TEXT.get(lang, en.TEXT).get(message.code)
    shown_in = lang
    if text is None:
        text, shown_in = en.TEXT[message.code], "en"
    if not message.args:  # most nested ones (an action's name, why a rule does not fit)
        return text.format()
    return text.format(
        **{
            name: value if type(value) in _AS_IS else _shown(value, shown_in, lang)
            for name, value in message.args
        }
    )


def remembering() -> Say:
    """`say`, remembering what it said: for one document that says the same few hundred
    sentences thousands of times (a window's decisions and factors). Only a message whose
    every value is of a type that shows equal values alike is remembered (str, int, date,
    time, nested messages of the same): 1, 1.0 and True are equal, yet shown apart."""
    said: dict[tuple[Message, str], str] = {}

    def cached(message: Message, lang: str) -> str:
        if not _alike(message):
            return say(message, lang)
        key = (message, lang)
        text = said.get(key)
        if text is None:
            text = said[key] = say(message, lang)
        return text

    return cached


_ALIKE = frozenset({str, int, date, time})


def _alike(message: Message) -> bool:
    for _, value in message.args:
        kind = type(value)
        if kind in _ALIKE:
            continue
        if kind is Message:
            if not _alike(value):  # type: ignore[arg-type]
                return False
        elif kind is not Clauses or not all(
            type(m) is Message and _alike(m)
            for m in value.items  # type: ignore[union-attr]
        ):
            return False
    return True


def section(prefix: str, lang: str) -> dict[str, str]:
    """Every fixed text whose code starts with `prefix` ("review."), by the rest of its
    code: the words of one screen or document, for a place that cannot call `say`."""
    return {
        code.removeprefix(prefix): say(Message(code), lang)
        for code in en.TEXT
        if code.startswith(prefix)
    }


_AS_IS = frozenset({str, int, float})  # most values: shown as they are, no tests needed


def _shown(value: Arg, text_lang: str, lang: str) -> Arg:
    if type(value) in _AS_IS:
        return value
    if isinstance(value, Message):
        return say(value, lang)
    if isinstance(value, Clauses):
        return "; ".join(say(m, lang) for m in value.items)
    if isinstance(value, Hours):
        return hours(value.minutes, text_lang)
    if isinstance(value, time):
        return f"{value:%H:%M}"
    if isinstance(value, date):
        return day_label(value, text_lang)
    return value


@lru_cache(maxsize=4096)
def day_label(day: date, lang: str = "en") -> str:
    """en 'Tue 1 Dec', vi 'thứ Ba 1/12', ms 'Selasa 1 Dis'."""
    name = _DAYS.get(lang, en.DAYS)[day.weekday()]
    if lang == "vi":
        return f"{name} {day.day}/{day.month}"
    return f"{name} {day.day} {_MONTHS.get(lang, en.MONTHS)[day.month - 1]}"


@lru_cache(maxsize=4096)
def hours(minutes: float, lang: str = "en") -> str:
    """90 → '1.5 h' (en), '1,5 giờ' (vi), '1.5 jam' (ms)."""
    number = f"{minutes / 60:.1f}".rstrip("0").rstrip(".")
    if lang == "vi":
        number = number.replace(".", ",")
    return f"{number} {_HOUR_UNIT.get(lang, 'h')}"
