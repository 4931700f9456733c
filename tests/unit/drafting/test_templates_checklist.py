"""The writing checklist (a greeting with a form of address, a closing, full Vietnamese
diacritics, Malay and not Indonesian words, a body of at most 120 words), per language x
action, on drafts rendered from the built-in templates with a realistic meeting (a Berlin
freelancer, a client in their own zone)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from calbot.config.settings import Settings
from calbot.config.templates import BUILTIN_DIR, Templates, load_templates
from calbot.core.draft import make_draft
from calbot.core.messages import Hours, message
from calbot.core.model import (
    Action,
    Attendee,
    Client,
    Contact,
    Decision,
    Draft,
    Event,
    Factor,
    Meeting,
    Proposal,
    Response,
    Slot,
    Tier,
)
from calbot.core.settings import UserSettings
from calbot.present.messages import say

LANGS = ("en", "vi", "ms")
ACTIONS = (
    Action.RESCHEDULE,
    Action.SHORTEN,
    Action.CALL,
    Action.EMAIL,
    Action.DELEGATE,
    Action.BOUNDARY,
)
CLIENT_TZ = {"en": "America/New_York", "vi": "Asia/Ho_Chi_Minh", "ms": "Asia/Kuala_Lumpur"}
CONTACT = {"en": ("Smith", "Mr"), "vi": ("Minh", "anh"), "ms": ("Ahmad", "Tuan")}
STEER = {
    "en": "To steer back when the talk drifts:",
    "vi": "Để đưa câu chuyện quay lại khi lạc đề:",
    "ms": "Untuk membawa perbincangan kembali apabila tersasar:",
}
GREETING = {"en": "Dear Mr Smith,", "vi": "Chào anh Minh,", "ms": "Salam sejahtera Tuan Ahmad,"}
NEUTRAL = {"en": "Hello,", "vi": "Kính gửi Quý khách,", "ms": "Tuan/Puan yang dihormati,"}
TITLE = {"en": "Roadmap review", "vi": "Rà soát lộ trình", "ms": "Semakan pelan hala tuju"}
USER = UserSettings(
    email="alex@studio.example",
    name="Alex Doe",
    timezone="Europe/Berlin",
    language="en",
    own_domains=("studio.example",),
    signature="Alex",
)
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tue 10:00 Berlin, 16:00 Hanoi, 17:00 KL


@pytest.fixture(scope="module")
def templates() -> Templates:
    return load_templates()


def build(
    lang: str,
    action: Action,
    *,
    contact: bool = True,
    tier: Tier = Tier.STANDARD,
    client_tz: str | None = None,
    user: UserSettings = USER,
) -> tuple[Meeting, Decision, Settings]:
    name, title = CONTACT[lang]
    client = Client(
        name="Acme",
        domains=("acme.example",),
        tier=tier,
        language=lang,
        timezone=CLIENT_TZ[lang] if client_tz is None else client_tz,
        contacts=(Contact("boss@acme.example", name, title),) if contact else (),
    )
    me = Attendee(user.email, "Alex Doe", Response.ACCEPTED, is_self=True)
    boss = Attendee("boss@acme.example", "Boss Person", Response.ACCEPTED, organizer=True)
    lan = Attendee("lan@studio.example", "Lan", Response.ACCEPTED)
    event = Event(
        id="ev1",
        calendar_id="primary",
        ical_uid="ev1@acme",
        start=START,
        end=START + timedelta(minutes=90),
        summary=TITLE[lang],
        location="Acme HQ, 1 Main Street" if action == Action.CALL else "",
        organizer=boss.email,
        attendees=(boss, me, lan),
    )
    meeting = Meeting(event, client, (boss,), (lan,), False, False)
    slots = (
        Slot(START + timedelta(days=2), START + timedelta(days=2, minutes=90)),
        Slot(START + timedelta(days=3, hours=4), START + timedelta(days=3, hours=5, minutes=30)),
        Slot(START + timedelta(days=7), START + timedelta(days=7, minutes=90)),
    )
    proposal = {
        Action.RESCHEDULE: Proposal(slots=slots),
        Action.SHORTEN: Proposal(duration_minutes=45),
        Action.DELEGATE: Proposal(delegate_to="lan@studio.example"),
        Action.BOUNDARY: Proposal(duration_minutes=60),
    }.get(action)
    factors = (
        Factor(
            "day_load",
            30,
            message("factor.day_load", day=START.date(), hours=Hours(390), limit=Hours(240)),
        ),
        Factor("long_meeting", 15, message("factor.long_meeting", minutes=90, limit=60)),
    )
    decision = Decision(action, 72, factors, proposal)
    return meeting, decision, Settings(user=user)


def draft_for(templates: Templates, lang: str, action: Action, **kw: Any) -> Draft:
    meeting, decision, settings = build(lang, action, **kw)
    return make_draft(meeting, decision, settings, templates, say)


# --------------------------------------------------------------------------- checkers

VI_SPECIAL = set("ăâđêôơưĂÂĐÊÔƠƯ")
VI_TONES = set("àáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ")
VI_UNACCENTED = (
    "cam on",
    "tran trong",
    "cuoc hop",
    "thoi gian",
    "khong",
    "duoc",
    "xin loi",
    "vui long",
    "thong cam",
    "lich lam viec",
    "kinh gui",
    "chao anh",
)
# Indonesian words a Malaysian reader would notice (Malay: mesyuarat, esok, pejabat, boleh,
# jadual, telefon, minit, sila, rakan, bila, kerana, sahaja).
INDONESIAN = (
    "rapat",
    "besok",
    "kantor",
    "bisa",
    "kamu",
    "jadwal",
    "telepon",
    "menit",
    "surel",
    "silakan",
    "rekan",
    "kapan",
    "karena",
    "saja",
    "bapak",
    "ibu",
    "memperbarui",
    "terima kasih banyak",
)


def words(text: str) -> list[str]:
    """Words: whitespace-separated tokens with a letter or digit (bullets and "/" are not)."""
    return [t for t in text.split() if any(ch.isalnum() for ch in t)]


def vi_problems(text: str) -> list[str]:
    problems = []
    letters = set(text)
    if not letters & VI_SPECIAL:
        problems.append("no ă/â/đ/ê/ô/ơ/ư")
    if not letters & VI_TONES:
        problems.append("no tone marks")
    lowered = text.lower()
    problems += [f"unaccented {w!r}" for w in VI_UNACCENTED if re.search(rf"\b{w}\b", lowered)]
    vi_words = [w for w in words(text) if w.isalpha()]
    accented = [w for w in vi_words if any(not ch.isascii() for ch in w)]
    if vi_words and len(accented) / len(vi_words) < 0.5:
        problems.append(f"only {len(accented)}/{len(vi_words)} words carry diacritics")
    return problems


def indonesian_words(text: str) -> list[str]:
    found = [w for w in INDONESIAN if re.search(rf"\b{w}\b", text.lower())]
    # Indonesian capitalizes "Anda" inside sentences; Malay writes "anda".
    if re.search(r"[^.!?\n]\s+Anda\b", text):
        found.append("Anda (capital, mid-sentence)")
    return found


def test_checkers_can_fail() -> None:
    assert vi_problems("Chao anh Minh, cam on anh. Tran trong,")
    assert not vi_problems("Chào anh Minh, xin cảm ơn anh đã thông cảm. Trân trọng,")
    assert indonesian_words("Rapat besok di kantor, bisa?") == ["rapat", "besok", "kantor", "bisa"]
    assert indonesian_words("Terima kasih, saya harap Anda setuju.")
    assert not indonesian_words("Mesyuarat esok di pejabat, boleh? Sila maklumkan sahaja.")
    assert len(words("- Tuesday 1 December / 3:30 pm")) == 5


# --------------------------------------------------------------------------- checklist


def test_all_builtin_templates_exist() -> None:
    names = {p.name for p in BUILTIN_DIR.glob("*.j2")}
    expected = {f"{a.value}.{lang}.txt.j2" for a in ACTIONS for lang in LANGS}
    expected |= {f"boundary_notes.{lang}.txt.j2" for lang in LANGS}
    assert names == expected


@pytest.mark.parametrize("action", ACTIONS, ids=str)
@pytest.mark.parametrize("lang", LANGS)
def test_checklist(templates: Templates, lang: str, action: Action) -> None:
    draft = draft_for(templates, lang, action)
    body = draft.body
    lines = body.strip().split("\n")
    assert draft.language == lang
    assert draft.to == ("boss@acme.example",)
    # greeting with the contact's form of address
    assert lines[0] == GREETING[lang]
    # signature last, after the language's closing
    assert lines[-1] == "Alex"
    # paragraphs: greeting, reason, alternative, easy yes, close (blank lines between)
    assert lines[1] == "" and lines[-3] == ""
    assert body.count("\n\n") >= 4
    assert "\n\n\n" not in body
    if lang == "en":
        assert lines[-2] in ("Best regards,", "Thanks,")
    elif lang == "vi":
        assert lines[-2] == "Trân trọng,"
        assert vi_problems(body) == []
        tag = draft.subject.replace(TITLE[lang], "")
        assert any(ch.isalpha() and not ch.isascii() for ch in tag)
        assert not [p for p in vi_problems(tag) if p.startswith("unaccented")]
    else:
        assert lines[-2] in ("Yang benar,", "Salam hormat,")
        assert "Sekian, terima kasih." in body
        assert body.index("Sekian, terima kasih.") < body.rindex(lines[-2])
        assert indonesian_words(body) == []
        assert indonesian_words(draft.subject) == []
    # one screen
    assert len(words(body)) <= 120, len(words(body))
    assert len(body.split()) <= 120, len(body.split())
    # names the meeting; subject = title + tag, one line
    assert TITLE[lang] in body
    assert draft.subject.startswith(TITLE[lang] + " — ")
    assert "\n" not in draft.subject and "\r" not in draft.subject
    # never the score, a rule name, or the private notes
    assert "72" not in body and "day_load" not in body and "limit 4 h" not in body
    assert draft.private_notes and draft.private_notes.strip() not in body
    for line in draft.private_notes.splitlines():
        if line.strip():
            assert line.strip() not in body


@pytest.mark.parametrize("action", ACTIONS, ids=str)
@pytest.mark.parametrize("lang", LANGS)
def test_neutral_greeting_without_contact(templates: Templates, lang: str, action: Action) -> None:
    draft = draft_for(templates, lang, action, contact=False)
    first = draft.body.split("\n")[0]
    if lang == "en":  # English may use the attendee's display name
        assert first == "Hi Boss,"
    else:
        assert first == NEUTRAL[lang]
    assert "boss@acme.example" not in draft.body
    assert len(draft.body.split()) <= 120
    if lang == "vi":
        assert "Quý khách" in draft.body
        assert vi_problems(draft.body) == []
    if lang == "ms":
        assert indonesian_words(draft.body) == []


@pytest.mark.parametrize("action", ACTIONS, ids=str)
@pytest.mark.parametrize("lang", LANGS)
def test_key_client_gets_formal_soft_variant(
    templates: Templates, lang: str, action: Action
) -> None:
    standard = draft_for(templates, lang, action)
    key = draft_for(templates, lang, action, tier=Tier.KEY)
    assert len(key.body.split()) <= 120
    assert key.body.count("\n\n") >= 4 and "\n\n\n" not in key.body
    if lang == "vi":
        assert key.body.startswith("Kính gửi anh Minh,")
        assert vi_problems(key.body) == []
    if lang == "ms":
        assert key.body.rstrip().split("\n")[-2] == "Yang benar,"
        assert indonesian_words(key.body) == []
    if action in (Action.RESCHEDULE, Action.CALL, Action.DELEGATE, Action.BOUNDARY):
        assert key.body != standard.body


@pytest.mark.parametrize("lang", LANGS)
def test_reschedule_slots_in_client_zone_with_user_zone_beside(
    templates: Templates, lang: str
) -> None:
    draft = draft_for(templates, lang, Action.RESCHEDULE)
    expected = {
        # slot 1: Thu 3 Dec 09:00 UTC
        "en": "- Thursday 3 December, 4:00 am (New York) / 10:00 am (Berlin)",
        "vi": "- thứ Năm, ngày 3/12/2026, lúc 16:00 (giờ Việt Nam) / 10:00 (giờ Berlin)",
        "ms": "- Khamis, 3 Disember 2026, 5.00 petang (waktu Malaysia) / 10.00 pagi (waktu Berlin)",
    }[lang]
    assert expected in draft.body.split("\n")
    assert sum(1 for line in draft.body.split("\n") if line.startswith("- ")) == 3


@pytest.mark.parametrize("lang", LANGS)
def test_reschedule_slots_without_user_zone_when_same(templates: Templates, lang: str) -> None:
    draft = draft_for(templates, lang, Action.RESCHEDULE, client_tz="Europe/Berlin")
    slot_lines = [line for line in draft.body.split("\n") if line.startswith("- ")]
    assert len(slot_lines) == 3
    assert (
        slot_lines[0]
        == {
            "en": "- Thursday 3 December, 10:00 am",
            "vi": "- thứ Năm, ngày 3/12/2026, lúc 10:00",
            "ms": "- Khamis, 3 Disember 2026, 10.00 pagi",
        }[lang]
    )
    assert all("(" not in line and "/" not in line.split(",")[-1] for line in slot_lines)


@pytest.mark.parametrize("user_lang", LANGS)
def test_boundary_private_notes_in_user_language(templates: Templates, user_lang: str) -> None:
    user = UserSettings(
        email=USER.email, name="Alex Doe", timezone=USER.timezone, language=user_lang
    )
    draft = draft_for(templates, "vi", Action.BOUNDARY, user=user)
    notes = draft.private_notes
    label = {"en": "Why:", "vi": "Lý do:", "ms": "Sebab:"}[user_lang]
    assert notes.startswith(label)
    reason = {
        "en": "Tue 1 Dec has 6.5 h of meetings, limit 4 h",
        "vi": "thứ Ba 1/12 có 6,5 giờ họp, giới hạn 4 giờ",
        "ms": "Selasa 1 Dis ada 6.5 jam mesyuarat, had 4 jam",
    }[user_lang]
    assert reason in notes
    points = [line for line in notes.splitlines() if line.startswith("- ")]
    opening, _, steering = notes.partition(STEER[user_lang])
    assert steering, "talking points to steer back mid-meeting"
    assert 3 <= sum(line.startswith("- ") for line in opening.splitlines()) <= 5
    assert 3 <= sum(line.startswith("- ") for line in steering.splitlines()) <= 5
    # the booked 90 minutes are boxed to an hour, with its end time (17:00 in Ho Chi Minh City)
    time_frame = {"en": "1 hour", "vi": "1 tiếng", "ms": "1 jam"}[user_lang]
    assert time_frame in notes
    if user_lang == "vi":
        assert vi_problems(notes.split("\n", 1)[1]) == []
    if user_lang == "ms":
        assert indonesian_words(notes) == []
    # the client's draft is Vietnamese and carries none of it
    assert label not in draft.body
    assert not any(p[2:] in draft.body for p in points)
    assert "1 tiếng, kết thúc lúc 17:00" in draft.body  # the box, told kindly to the client
    for untranslated in ("boundary", "×"):
        assert untranslated not in (notes if user_lang != "en" else "")
