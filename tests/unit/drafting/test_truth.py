"""Every sentence of a draft is true (issue 10): the reason comes from the factors that chose
the action, a full day or week is claimed only when that factor fired, key-client wording
scales with what is asked, boundary's box and agenda, greetings, signature and openings."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_templates_checklist import ACTIONS, LANGS, START, USER, build, vi_problems  # type: ignore[import-not-found]  # a sibling test module

from calbot.config.templates import Templates, load_templates
from calbot.core.draft import Openings, make_draft
from calbot.core.draft_agenda import agenda_items, box_minutes
from calbot.core.draft_people import first_name
from calbot.core.draft_text import signature_text
from calbot.core.messages import Hours, message
from calbot.core.model import Action, Attendee, Draft, Factor, Proposal, Response, Tier
from calbot.core.savings import saved_minutes
from calbot.present.messages import say

# Words that claim load: a full/packed/busy day or week.
LOAD_WORDS = {
    "en": ("filled up", "is full", "already full", "very full", "packed", "busy"),
    "vi": ("kín", "dày", "bận"),
    "ms": ("padat", "penuh", "sibuk"),
}
WEEK_WORDS = {"en": ("week",), "vi": ("tuần",), "ms": ("minggu",)}
DAY_FACTOR = Factor(
    "day_load", 30, message("factor.day_load", day=START.date(), hours=Hours(390), limit=Hours(240))
)
WEEK_FACTOR = Factor(
    "week_load", 20, message("factor.week_load", week=49, hours=Hours(1200), limit=Hours(900))
)
LONG = Factor("long_meeting", 15, message("factor.long_meeting", minutes=90, limit=60))


@pytest.fixture(scope="module")
def templates() -> Templates:
    return load_templates()


def render(
    templates: Templates, lang: str, action: Action, factors: tuple[Factor, ...], **kw: object
) -> Draft:
    meeting, decision, settings = build(lang, action, **kw)  # type: ignore[arg-type]
    return make_draft(meeting, replace(decision, factors=factors), settings, templates, say)


def claims(body: str, words: tuple[str, ...]) -> list[str]:
    lowered = body.lower()
    return [w for w in words if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", lowered)]


@pytest.mark.parametrize("tier", [Tier.STANDARD, Tier.KEY], ids=str)
@pytest.mark.parametrize("action", ACTIONS, ids=str)
@pytest.mark.parametrize("lang", LANGS)
def test_no_load_claimed_without_a_load_factor(
    templates: Templates, lang: str, action: Action, tier: Tier
) -> None:
    body = render(templates, lang, action, (LONG,), tier=tier).body
    assert claims(body, LOAD_WORDS[lang]) == []


@pytest.mark.parametrize("action", ACTIONS, ids=str)
@pytest.mark.parametrize("lang", LANGS)
def test_a_full_day_never_becomes_a_full_week(
    templates: Templates, lang: str, action: Action
) -> None:
    body = render(templates, lang, action, (DAY_FACTOR, LONG)).body
    assert claims(body, WEEK_WORDS[lang]) == []


@pytest.mark.parametrize("lang", LANGS)
def test_reschedule_tells_day_from_week(templates: Templates, lang: str) -> None:
    day = render(templates, lang, Action.RESCHEDULE, (DAY_FACTOR,)).body
    week = render(templates, lang, Action.RESCHEDULE, (WEEK_FACTOR,)).body
    assert claims(day, LOAD_WORDS[lang]) and not claims(day, WEEK_WORDS[lang])
    assert claims(week, LOAD_WORDS[lang]) and claims(week, WEEK_WORDS[lang])
    if lang == "vi":
        assert vi_problems(week) == []


@pytest.mark.parametrize("lang", LANGS)
def test_the_reason_is_the_actions_own(templates: Templates, lang: str) -> None:
    call = render(templates, lang, Action.CALL, (LONG,)).body
    email = render(templates, lang, Action.EMAIL, (LONG,)).body
    shorten = render(templates, lang, Action.SHORTEN, (LONG,)).body
    travel = {"en": "travel", "vi": "di chuyển", "ms": "Perjalanan"}[lang]
    writing = {"en": "in writing", "vi": "bằng văn bản", "ms": "bertulis"}[lang]
    length = {"en": "fits in 45 minutes", "vi": "gói gọn trong 45 phút", "ms": "dalam 45 minit"}
    assert travel in call and writing in email and length[lang] in shorten


@pytest.mark.parametrize("lang", LANGS)
def test_key_wording_scales_with_the_cut(templates: Templates, lang: str) -> None:
    def body(new: int) -> str:
        meeting, decision, settings = build(lang, Action.SHORTEN, tier=Tier.KEY)
        long = replace(meeting.event, end=meeting.event.start + timedelta(hours=3))
        d = replace(decision, proposal=Proposal(duration_minutes=new))
        return make_draft(replace(meeting, event=long), d, settings, templates, say).body

    slight = {"en": "slightly", "vi": "một chút", "ms": "sedikit"}[lang]
    assert slight in body(150)
    assert slight not in body(60)  # a 3-hour meeting cut to an hour is not "slightly"
    assert body(60) != body(90)


@given(st.integers(min_value=1, max_value=600))
def test_the_box_is_always_shorter_than_booked(minutes: int) -> None:
    box = box_minutes(minutes)
    assert (box is None) == (minutes <= 15)
    assert box is None or box < minutes


def test_box_steps() -> None:
    assert [box_minutes(m) for m in (15, 20, 30, 45, 60, 90, 120)] == [None, 15, 20, 30, 45, 60, 90]


def test_agenda_from_the_invitation_is_data(templates: Templates) -> None:
    html = (
        "<p><b>Agenda</b></p><ul><li>Budget &amp; Q1</li><li>Hiring {{ 7*7 }}</li>"
        "<li>A</li><li>Launch date</li><li>Risks</li><li>Press</li><li>Extra</li></ul>"
        "<script>alert(1)</script>Join with Google Meet: https://meet.google.com/abc"
    )
    assert agenda_items(html) == [
        "Budget & Q1",
        "Hiring {{ 7*7 }}",
        "Launch date",
        "Risks",
        "Press",
    ]
    assert agenda_items("") == [] and agenda_items("https://zoom.us/j/1") == []
    meeting, decision, settings = build("en", Action.BOUNDARY)
    m = replace(meeting, event=replace(meeting.event, description=html))
    body = make_draft(m, decision, settings, templates, say).body
    assert "2. Hiring {{ 7*7 }}" in body and "5. Press" in body and "6." not in body
    assert "Following the invitation" in body and "alert" not in body
    # 90 minutes booked: a 1-hour box ending at 5:00 am in New York (09:00 UTC + 1 h)
    assert "1 hour for it, finishing by 5:00 am" in body


def test_a_short_meeting_gets_the_agenda_only(templates: Templates) -> None:
    meeting, decision, settings = build("en", Action.BOUNDARY)
    short = replace(
        meeting, event=replace(meeting.event, end=meeting.event.start + timedelta(minutes=15))
    )
    d = replace(decision, proposal=Proposal())
    draft = make_draft(short, d, settings, templates, say)
    assert "finishing by" not in draft.body and "1. " in draft.body
    assert saved_minutes(short.event, d) == 15


def test_boundary_saves_what_the_box_cuts() -> None:
    meeting, decision, _ = build("en", Action.BOUNDARY)
    assert saved_minutes(meeting.event, replace(decision, proposal=Proposal(60))) == 30


@pytest.mark.parametrize(
    ("name", "first"),
    [
        ("Chris Lee", "Chris"),
        ("Chris from Cobalt Media", "Chris"),
        ("Chris at Cobalt", "Chris"),
        ("Anne-Marie Dubois", "Anne-Marie"),
        ("Cobalt Media Team", ""),
        ("Lee, Chris", ""),
        ("Dr. Smith", ""),
        ("chris@cobalt.example", ""),
        ("ACME", ""),
        ("", ""),
        # family name first: the greeting uses the given name, or none when unclear
        ("Nguyễn Văn Minh", "Minh"),
        ("Tran Thi Lan", "Lan"),
        ("Đặng Thu", "Thu"),
        ("Đặng Hoàng", ""),  # either could be the family name
        ("Nguyễn Huy Hoàng", "Hoàng"),
        ("Minh Nguyen", "Minh"),
        ("Ly Nguyen", ""),
        ("Nguyen", ""),
        ("Tan Wei Ming", ""),
        ("Lee Harvey Oswald", "Lee"),
        ("Jason Tan", "Jason"),
    ],
)
def test_first_name(name: str, first: str) -> None:
    assert first_name(name) == first


@pytest.mark.parametrize("lang", LANGS)
def test_first_name_greeting_is_english_only(templates: Templates, lang: str) -> None:
    body = render(templates, lang, Action.SHORTEN, (LONG,), contact=False).body
    expected = {"en": "Hi Boss,", "vi": "Kính gửi Quý khách,", "ms": "Tuan/Puan yang dihormati,"}
    assert body.split("\n")[0] == expected[lang]


def test_signature_keeps_its_lines(templates: Templates) -> None:
    assert signature_text("\nAlex Doe\r\nStudio Example\n+49 30 1234\n\n") == (
        "Alex Doe\nStudio Example\n+49 30 1234"
    )
    user = replace(USER, signature="Alex Doe\nStudio Example\nBcc: x\x00")
    body = render(templates, "en", Action.EMAIL, (LONG,), user=user).body
    assert body.endswith("Alex Doe\nStudio Example\nBcc: x\n")


@pytest.mark.parametrize("action", ACTIONS, ids=str)
@pytest.mark.parametrize("lang", LANGS)
def test_three_openings_and_one_person_gets_different_ones(
    templates: Templates, lang: str, action: Action
) -> None:
    meeting, decision, settings = build(lang, action)
    openings = {
        make_draft(meeting, decision, settings, templates, say, n).body.split("\n")[2]
        for n in range(3)
    }
    assert len(openings) == 3
    picker = Openings()
    picks = []
    for i in range(3):
        m = replace(meeting, event=replace(meeting.event, id=f"ev{i}", ical_uid=f"ev{i}@acme"))
        picks.append(picker.pick(m, action, settings.user))
    assert sorted(picks) == [0, 1, 2]
    # another person starts afresh, and the choice is deterministic
    again = Openings()
    m0 = replace(meeting, event=replace(meeting.event, id="ev0", ical_uid="ev0@acme"))
    assert again.pick(m0, action, settings.user) == picks[0]
    other = Attendee("zoe@other.example", "Zoe", Response.ACCEPTED, organizer=True)
    m_other = replace(m0, event=replace(m0.event, organizer=other.email, attendees=(other,)))
    assert picker.pick(m_other, action, settings.user) == picks[0]


@pytest.mark.parametrize("action", ACTIONS, ids=str)
@pytest.mark.parametrize("lang", LANGS)
def test_no_stray_spaces_with_or_without_title(
    templates: Templates, lang: str, action: Action
) -> None:
    for title, series in (("", None), ("X", "s1")):
        for tier in (Tier.KEY, Tier.STANDARD):
            meeting, decision, settings = build(lang, action, tier=tier)
            event = replace(meeting.event, summary=title, series_id=series)
            body = make_draft(
                replace(meeting, event=event), decision, settings, templates, say
            ).body
            assert "  " not in body and " ," not in body and " ." not in body, body


def test_drafts_of_different_actions_to_one_person_open_differently(
    templates: Templates,
) -> None:
    """The demo's Northwind contact gets a reschedule and a call in one scan: the two
    openings differ, whichever their own keys would pick."""
    for lang in LANGS:
        picker = Openings()
        bodies = []
        for i, action in enumerate((Action.RESCHEDULE, Action.CALL, Action.SHORTEN)):
            meeting, decision, settings = build(lang, action)
            m = replace(meeting, event=replace(meeting.event, id=f"ev{i}", ical_uid=f"ev{i}@x"))
            n = picker.pick(m, action, settings.user)
            bodies.append(make_draft(m, decision, settings, templates, say, n).body)
        firsts = [body.split("\n")[2].split(". ")[0] for body in bodies]
        assert len(set(firsts)) == 3, (lang, firsts)
