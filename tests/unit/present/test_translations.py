"""Vietnamese and Malay say everything English says: every code has a text in both, with
exactly English's placeholders and technical tokens (commands, config keys, iCalendar
property names), and a text is English word for word only when it holds no words at all."""

from __future__ import annotations

import re
import string

import pytest

from calbot.core.messages import Clauses, message
from calbot.present.messages import TEXT, say

LANGS = ["vi", "ms"]
# what stays as it is in every language: `commands`, $VARIABLES, dotted or snake_case
# config keys (source.kind, act_at), upper-case names (DTSTART, ICS, IMAP)
TOKEN = re.compile(r"`[^`]+`|\$[A-Z_]+|\b[a-z]+(?:[._][a-z]+)+\b|\b[A-Z]{3,}\b")
# words Vietnamese mail shows as English does: the "Cc" header
SAME_WORDS = {"Cc"}
# letters Vietnamese writes and English does not: a Vietnamese phrase of three words or more
# has at least one (a word alone, like "sau", may have none)
VIETNAMESE = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]")
# Indonesian words a Malay reader trips over (WRITING.md): Malay has its own
INDONESIAN = re.compile(r"\b(rapat|besok|bisa|silakan|kalender|jadwal|kantor|mengirim)\b", re.I)


def _fields(text: str) -> set[tuple[str, str, str | None]]:
    """Every `{name:spec!conversion}` in `text`, whole: a translation must keep all three."""
    return {
        (name, spec or "", conversion)
        for _, name, spec, conversion in string.Formatter().parse(text)
        if name is not None
    }


def _words(text: str) -> str:
    """`text` without its placeholders and technical tokens: what a translator writes."""
    without = re.sub(r"\{[^{}]*\}", " ", text)
    return TOKEN.sub(" ", without)


def _has_words(text: str) -> bool:
    return re.search(r"[^\W\d_]", _words(text)) is not None and text not in SAME_WORDS


@pytest.mark.parametrize("lang", LANGS)
def test_every_english_code_has_a_text(lang: str) -> None:
    assert sorted(TEXT["en"].keys() - TEXT[lang].keys()) == []


@pytest.mark.parametrize("lang", LANGS)
def test_every_text_has_exactly_the_english_placeholders(lang: str) -> None:
    wrong = {
        code: (sorted(_fields(text), key=str), sorted(_fields(TEXT["en"][code]), key=str))
        for code, text in TEXT[lang].items()
        if _fields(text) != _fields(TEXT["en"][code])
    }
    assert wrong == {}


@pytest.mark.parametrize("lang", LANGS)
def test_every_text_keeps_the_english_technical_tokens(lang: str) -> None:
    wrong = {
        code: sorted(set(TOKEN.findall(TEXT["en"][code])) - set(TOKEN.findall(text)))
        for code, text in TEXT[lang].items()
        if set(TOKEN.findall(TEXT["en"][code])) - set(TOKEN.findall(text))
    }
    assert wrong == {}


@pytest.mark.parametrize("lang", LANGS)
def test_no_text_is_left_in_english(lang: str) -> None:
    same = [
        code for code, text in TEXT[lang].items() if text == TEXT["en"][code] and _has_words(text)
    ]
    assert same == []


def test_vietnamese_is_written_with_its_diacritics() -> None:
    bare = [
        code
        for code, text in TEXT["vi"].items()
        if len(_words(text).split()) >= 3 and not VIETNAMESE.search(_words(text).lower())
    ]
    assert bare == []


def test_malay_is_not_indonesian() -> None:
    found = {code: INDONESIAN.findall(t) for code, t in TEXT["ms"].items() if INDONESIAN.search(t)}
    assert found == {}


def test_the_checks_can_fail() -> None:
    """Each rule above catches what it is for, on texts made wrong on purpose."""
    assert _fields("{a} {b:g}") != _fields("{a} {b}")
    assert not _has_words("{detail} (0-100)") and not _has_words("{action}: {reason}")
    assert not _has_words("thiếu DTSTART".replace("thiếu", "")) and _has_words("no DTSTART")
    assert TOKEN.findall('run `calbot auth`, source.kind = "google", act_at, ICS') == [
        "`calbot auth`",
        "source.kind",
        "act_at",
        "ICS",
    ]
    assert not VIETNAMESE.search("khong co ban nhap") and VIETNAMESE.search("không có")
    assert INDONESIAN.search("rapat besok") and not INDONESIAN.search("mesyuarat esok")


def test_a_decisions_reasons_read_in_the_users_language() -> None:
    steps = Clauses(
        (
            message(
                "why.step",
                action=message("why.action_shorten"),
                reason=message("why.shorten_no", limit=60),
            ),
            message("why.step", action=message("why.action_call"), reason=message("why.call_no")),
        )
    )
    why = message("why.nothing_fits", steps=steps)
    assert say(why, "vi") == (
        "không có cách nào phù hợp — rút ngắn: không dài quá 60 phút; gọi điện: không phải họp"
        " trực tiếp"
    )
    assert say(why, "ms") == (
        "tiada yang sesuai — pendekkan: tidak melebihi 60 minit; telefon: bukan mesyuarat bersemuka"
    )
    assert say(message("why.shorten_fits", minutes=120, length=90), "ms") == (
        "120 minit boleh dipendekkan kepada 90 minit"
    )


def test_every_action_has_its_name_for_reasons_in_every_language() -> None:
    from calbot.core.decide import _ACTION_WORDS
    from calbot.core.model import Action

    assert set(_ACTION_WORDS) == set(Action) - {Action.NONE}
    for action, code in _ACTION_WORDS.items():
        assert TEXT["en"][code] == action.value  # the JSON `why` reads as before
        assert TEXT["vi"][code] != action.value and TEXT["ms"][code] != action.value
