"""The message catalogues: every code calbot uses has an English text, the other languages
translate only codes English has and use only English's placeholders, and `say` falls back
to English where a language has no text."""

from __future__ import annotations

import ast
import re
import string
from datetime import date, time
from pathlib import Path

import pytest

from calbot.core.messages import Clauses, Hours, Message, message
from calbot.present.messages import TEXT, day_label, hours, remembering, say, section

CALBOT = Path(__file__).parents[3] / "calbot"
TABLES = CALBOT / "present" / "messages"
# what a message code looks like: "<section>.<name>"
CODE = re.compile(r"^(factor|why|warn|notes|review)\.[a-z_]+$")


def _sources() -> list[ast.Module]:
    return [
        ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(CALBOT.rglob("*.py"))
        if path.parent != TABLES
    ]


def _codes_in_code() -> set[str]:
    return {
        node.value
        for tree in _sources()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value)
    }


def _sections_in_code() -> set[str]:
    """The sections whose codes are looked up by name ("review.", "digest."): their
    prefixes, which the code names."""
    return {
        node.value
        for tree in _sources()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and re.fullmatch(r"[a-z]+\.", node.value)
    }


def _placeholders(text: str) -> set[str]:
    return {
        re.split(r"[.\[]", name)[0]
        for _, name, _, _ in string.Formatter().parse(text)
        if name is not None
    }


def test_the_code_finder_finds_codes() -> None:
    codes = _codes_in_code()
    assert {"factor.day_load", "why.step", "warn.not_written", "notes.why_line"} <= codes
    assert {"review.", "digest."} <= _sections_in_code()


def test_every_code_in_use_has_an_english_text() -> None:
    assert sorted(_codes_in_code() - TEXT["en"].keys()) == []


def test_every_english_text_is_in_use() -> None:
    used, sections = _codes_in_code(), _sections_in_code()
    unused = [c for c in TEXT["en"] if c not in used and not c.startswith(tuple(sections))]
    assert unused == []


@pytest.mark.parametrize("lang", ["vi", "ms"])
def test_translations_have_no_code_english_lacks(lang: str) -> None:
    assert sorted(TEXT[lang].keys() - TEXT["en"].keys()) == []


@pytest.mark.parametrize("lang", ["vi", "ms"])
def test_translations_use_only_the_english_placeholders(lang: str) -> None:
    wrong = {
        code: sorted(_placeholders(text) - _placeholders(TEXT["en"][code]))
        for code, text in TEXT[lang].items()
        if code in TEXT["en"] and _placeholders(text) - _placeholders(TEXT["en"][code])
    }
    assert wrong == {}


def test_the_placeholder_reader() -> None:
    assert _placeholders("{day} has {hours}, ×{weight:g} {a.b} {c[0]} {{x}}") == {
        "day",
        "hours",
        "weight",
        "a",
        "c",
    }


def test_figures_follow_the_language() -> None:
    tuesday = date(2026, 12, 1)
    assert [day_label(tuesday, lang) for lang in ("en", "vi", "ms", "fr")] == [
        "Tue 1 Dec",
        "thứ Ba 1/12",
        "Selasa 1 Dis",
        "Tue 1 Dec",
    ]
    assert [hours(90, lang) for lang in ("en", "vi", "ms")] == ["1.5 h", "1,5 giờ", "1.5 jam"]
    assert hours(240) == "4 h"
    load = message("factor.day_load", day=tuesday, hours=Hours(330), limit=Hours(240))
    assert say(load, "vi") == "thứ Ba 1/12 có 5,5 giờ họp, giới hạn 4 giờ"
    late = message("factor.outside_hours", day=tuesday, time=time(7, 5))
    assert say(late, "en") == "Tue 1 Dec 07:05 is outside your working hours"


def test_a_code_without_a_translation_is_english_and_so_are_its_figures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every code has a vi and an ms text today (test_translations.py); one taken away
    shows that a missing text would still be shown, in English, figures and all."""
    monkeypatch.delitem(TEXT["vi"], "why.past")
    monkeypatch.delitem(TEXT["ms"], "why.shorten_fits")
    assert say(message("why.past"), "vi") == "already started or past"
    assert say(message("why.shorten_fits", minutes=120, length=60), "ms") == "120 min can be 60"
    assert say(message("factor.series"), "xx") == "a recurring meeting"  # unknown language


def test_a_nested_message_is_in_the_users_language() -> None:
    """The capped tier factor: the tier's text inside the cap's, both in Vietnamese."""
    tier = message("factor.tier_key", weight=0.6)
    assert say(message("factor.capped", detail=tier), "vi") == (
        "khách hàng chủ chốt: điểm được giảm, nhân hệ số 0.6 (0-100)"
    )


def test_clauses_follow_each_other() -> None:
    steps = Clauses(
        (
            message("why.step", action="shorten", reason=message("why.shorten_no", limit=60)),
            message("why.step", action="call", reason=message("why.call_no")),
        )
    )
    assert say(message("why.nothing_fits", steps=steps), "en") == (
        "nothing fits — shorten: not longer than 60 min; call: not in person"
    )
    assert say(message("why.nothing_fits", steps=Clauses(())), "en") == "nothing fits — "


def test_messages_are_hashable_values() -> None:
    a = message("factor.day_count", day=date(2026, 12, 1), count=5, limit=4)
    b = Message("factor.day_count", (("day", date(2026, 12, 1)), ("count", 5), ("limit", 4)))
    assert a == b and hash(a) == hash(b)


def test_a_section_is_one_screens_words() -> None:
    words = section("review.", "ms")
    assert words["why"] == "Sebab" and words["cc"] == "Sk"
    assert section("review.", "en").keys() == words.keys()


def test_remembering_says_the_same_and_says_each_sentence_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`result_doc` says a window's few hundred sentences thousands of times: each once,
    only where equal values are shown alike (1, 1.0 and True are equal, shown apart)."""
    import calbot.present.messages as messages

    step = message(
        "why.step",
        action=message("why.action_reschedule"),
        reason=message("why.reschedule_fits", count=3),
    )
    call = message("why.step", action=message("why.action_call"), reason=message("why.call_no"))
    why = message("why.chosen", steps=Clauses((step, call)))
    fits = message("why.reschedule_fits", count=3)
    load = message("factor.week_load", week=49, hours=Hours(330), limit=Hours(900))
    expected = {m: say(m, "vi") for m in (why, fits, load)}
    said: list[Message] = []
    real = messages.say

    def counted(m: Message, lang: str) -> str:
        said.append(m)
        return real(m, lang)

    monkeypatch.setattr(messages, "say", counted)
    words = remembering()
    assert words(why, "vi") == expected[why] and words(fits, "vi") == expected[fits]
    first = len(said)
    for _ in range(2):  # equal messages, built anew
        again = message("why.chosen", steps=Clauses((step._replace(), call._replace())))
        assert words(again, "vi") == expected[why]
        assert words(fits._replace(), "vi") == expected[fits]
    assert len(said) == first
    shown = [words(message("why.reschedule_fits", count=c), "en") for c in (1, 1.0, True)]
    assert [text.split("; ")[1] for text in shown] == [
        "1 lighter slots found",
        "1.0 lighter slots found",
        "True lighter slots found",
    ]
    for _ in range(2):
        assert words(load, "vi") == expected[load]
    assert said.count(load) == 2  # a float inside: said each time
