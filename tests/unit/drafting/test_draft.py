"""Drafting rules: recipients, greetings, dates, proposals, private notes, template loading
and overrides, hostile event text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from calbot.config.settings import Settings
from calbot.config.templates import BUILTIN_DIR, Templates, load_templates
from calbot.core import formatting as fmt
from calbot.core.draft import TemplateFailed, make_draft
from calbot.core.draft_people import recipients
from calbot.core.headers import clean_header_text
from calbot.core.messages import Hours, Message, message
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
from calbot.errors import ConfigError
from calbot.present.messages import say

USER = UserSettings(
    email="alex@studio.example",
    name="Alex Doe",
    timezone="Europe/Berlin",
    language="en",
    own_domains=("studio.example",),
    signature="",
)
START = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)  # Tue 15:30 Berlin, 21:30 Ho Chi Minh City
ME = Attendee(USER.email, "Alex Doe", Response.ACCEPTED, is_self=True)
MINH = Attendee("minh@acme.example", "Minh Nguyen", Response.ACCEPTED)
LAN = Attendee("lan@acme.example", "Lan Pham", Response.ACCEPTED)
COLLEAGUE = Attendee("sam.lee@studio.example", "Sam Lee", Response.ACCEPTED)


@pytest.fixture(scope="module")
def templates() -> Templates:
    return load_templates()


def client(
    lang: str = "en",
    *,
    tz: str = "Asia/Ho_Chi_Minh",
    tier: Tier = Tier.STANDARD,
    contacts: tuple[Contact, ...] = (),
) -> Client:
    return Client(
        name="Acme", domains=("acme.example",), tier=tier, language=lang, timezone=tz,
        contacts=contacts,
    )  # fmt: skip


def meeting(
    cl: Client | None = None,
    *,
    summary: str = "Acme roadmap review",
    attendees: tuple[Attendee, ...] | None = None,
    organizer: str = "",
    user_organizes: bool = False,
    minutes: int = 120,
    series_id: str | None = None,
    location: str = "",
    colleagues: tuple[Attendee, ...] = (COLLEAGUE,),
) -> Meeting:
    if attendees is None:
        attendees = (
            Attendee(ME.email, ME.name, ME.response, is_self=True, organizer=user_organizes),
            Attendee(MINH.email, MINH.name, MINH.response, organizer=not user_organizes),
            LAN,
            COLLEAGUE,
        )
    org = organizer or (ME.email if user_organizes else MINH.email)
    event = Event(
        id="ev1",
        calendar_id="primary",
        ical_uid="ev1@acme",
        start=START,
        end=START + timedelta(minutes=minutes),
        summary=summary,
        location=location,
        organizer=org,
        attendees=attendees,
        series_id=series_id,
    )
    client_people = tuple(a for a in attendees if a.email.endswith("@acme.example"))
    return Meeting(event, cl or client(), client_people, colleagues, user_organizes, False)


def decision(
    action: Action, proposal: Proposal | None = None, why: Message | None = None
) -> Decision:
    tuesday = date(2026, 12, 1)
    factors = (
        Factor(
            "day_load",
            30,
            message("factor.day_load", day=tuesday, hours=Hours(390), limit=Hours(240)),
        ),
        Factor("long_meeting", 15, message("factor.long_meeting", minutes=120, limit=60)),
        Factor("in_person", 0, message("factor.in_person", place="video call")),
    )
    return Decision(action, 64, factors, proposal, why=why)


def settings(user: UserSettings = USER) -> Settings:
    return Settings(user=user)


def draft(
    templates: Templates,
    m: Meeting,
    action: Action,
    proposal: Proposal | None = None,
    user: UserSettings = USER,
) -> Draft:
    return make_draft(m, decision(action, proposal), settings(user), templates, say)


# --------------------------------------------------------------------------- headers


def test_clean_header_text() -> None:
    assert clean_header_text("  Review\r\nBcc: evil@x.example\t\x00x  ") == (
        "Review Bcc: evil@x.example x"
    )
    assert clean_header_text("a\u2028b\u0085c\x1bd") == "a b c d"
    assert clean_header_text("🚀 مرحبا  review") == "🚀 مرحبا review"
    long = clean_header_text("x" * 5000)
    assert len(long) == 200 and long.endswith("…")
    assert clean_header_text("\r\n\t") == ""


# --------------------------------------------------------------------------- recipients


def test_recipients_organizer_when_user_is_invited() -> None:
    to, cc = recipients(meeting(), USER)
    assert [a.email for a in to] == ["minh@acme.example"]
    assert cc == []


def test_recipients_organizer_from_event_when_not_flagged() -> None:
    people = (ME, MINH, LAN)  # nobody flagged organizer
    to, _ = recipients(meeting(attendees=people, organizer="lan@acme.example"), USER)
    assert [(a.email, a.name) for a in to] == [("lan@acme.example", "Lan Pham")]
    to, _ = recipients(meeting(attendees=people, organizer="boss@acme.example"), USER)
    assert [a.email for a in to] == ["boss@acme.example"]


def test_recipients_client_attendees_when_user_organizes() -> None:
    declined = Attendee("gone@acme.example", "Gone", Response.DECLINED)
    room = Attendee("room@acme.example", "Room 1", Response.ACCEPTED, resource=True)
    people = (
        Attendee(ME.email, ME.name, is_self=True, organizer=True), MINH, declined, room, LAN,
        COLLEAGUE,
    )  # fmt: skip
    to, cc = recipients(meeting(attendees=people, user_organizes=True), USER)
    assert [a.email for a in to] == ["minh@acme.example", "lan@acme.example"]
    assert cc == []


def test_recipients_never_the_user() -> None:
    # inconsistent data: "not the organizer" but the organizer is the user
    people = (Attendee(ME.email, ME.name, organizer=True), MINH)
    to, _ = recipients(meeting(attendees=people, organizer=ME.email), USER)
    assert USER.email not in [a.email for a in to]
    assert [a.email for a in to] == ["minh@acme.example"]


# --------------------------------------------------------------------------- greetings


@pytest.mark.parametrize(
    ("lang", "contact", "expected"),
    [
        ("en", Contact("minh@acme.example", "Smith", "Mr"), "Dear Mr Smith,"),
        ("en", Contact("minh@acme.example", "Minh"), "Hi Minh,"),
        ("en", None, "Hi Minh,"),  # the display name's first name, English only
        ("vi", Contact("minh@acme.example", "Minh", "anh"), "Chào anh Minh,"),
        ("vi", Contact("MINH@acme.example", "Lan", "Chị"), "Chào chị Lan,"),
        ("vi", Contact("minh@acme.example", "Minh"), "Kính gửi Quý khách,"),
        ("vi", Contact("minh@acme.example", "Smith", "Mr"), "Kính gửi Quý khách,"),
        ("vi", None, "Kính gửi Quý khách,"),
        ("ms", Contact("minh@acme.example", "Ahmad", "Tuan"), "Salam sejahtera Tuan Ahmad,"),
        ("ms", Contact("minh@acme.example", "Aminah", "Puan"), "Salam sejahtera Puan Aminah,"),
        ("ms", Contact("minh@acme.example", "Lee", "Mr"), "Salam sejahtera Tuan Lee,"),
        ("ms", Contact("minh@acme.example", "Ahmad"), "Tuan/Puan yang dihormati,"),
        ("ms", None, "Tuan/Puan yang dihormati,"),
    ],
)
def test_greeting(templates: Templates, lang: str, contact: Contact | None, expected: str) -> None:
    cl = client(lang, contacts=(contact,) if contact else ())
    d = draft(templates, meeting(cl), Action.SHORTEN, Proposal(duration_minutes=45))
    assert d.body.split("\n")[0] == expected
    assert "minh@acme.example" not in d.body


def test_no_recipient_name_at_all_is_neutral(templates: Templates) -> None:
    anon = Attendee("x@acme.example", "", Response.ACCEPTED, organizer=True)
    m = meeting(attendees=(ME, anon), organizer=anon.email)
    d = draft(templates, m, Action.SHORTEN, Proposal(duration_minutes=45))
    assert d.body.startswith("Hello,\n")
    assert d.to == ("x@acme.example",)


def test_vietnamese_body_uses_the_title_as_pronoun(templates: Templates) -> None:
    cl = client("vi", contacts=(Contact("minh@acme.example", "Lan", "chị"),))
    d = draft(templates, meeting(cl), Action.EMAIL)
    assert "chị" in d.body.split("\n", 2)[2]
    assert "Quý khách" not in d.body
    assert " tôi " in d.body and " em " not in d.body  # self: "tôi", consistently


def test_key_client_vietnamese_is_formal(templates: Templates) -> None:
    cl = client("vi", tier=Tier.KEY, contacts=(Contact("minh@acme.example", "Minh", "anh"),))
    d = draft(templates, meeting(cl), Action.SHORTEN, Proposal(duration_minutes=45))
    assert d.body.startswith("Kính gửi anh Minh,\n")


# --------------------------------------------------------------------------- dates


def test_when_text_formats() -> None:
    # how a letter writer in each language writes a date and time
    assert (
        fmt.when_text(START, "en", "Europe/Berlin", "Asia/Ho_Chi_Minh")
        == "Tuesday 1 December, 3:30 pm (Berlin) / 9:30 pm (Ho Chi Minh City)"
    )
    assert fmt.when_text(START, "vi", "Europe/Berlin", "Europe/Berlin") == (
        "thứ Ba, ngày 1/12/2026, lúc 15:30"
    )
    assert fmt.when_text(START, "ms", "Europe/Berlin", "Europe/Berlin") == (
        "Selasa, 1 Disember 2026, 3.30 petang"
    )
    assert fmt.when_text(START, "vi", "Asia/Ho_Chi_Minh", "Europe/Berlin") == (
        "thứ Ba, ngày 1/12/2026, lúc 21:30 (giờ Việt Nam) / 15:30 (giờ Berlin)"
    )
    assert fmt.when_text(START, "ms", "Asia/Kuala_Lumpur", "Europe/Berlin") == (
        "Selasa, 1 Disember 2026, 10.30 malam (waktu Malaysia) / 3.30 petang (waktu Berlin)"
    )


def test_when_text_same_clock_has_no_zone_labels() -> None:
    # different names, same offset: nothing to add
    assert "(" not in fmt.when_text(START, "en", "Europe/Paris", "Europe/Berlin")
    assert "(" not in fmt.when_text(START, "vi", "Asia/Bangkok", "Asia/Ho_Chi_Minh")
    # no client zone: the user's
    assert fmt.when_text(START, "en", "", "Europe/Berlin") == "Tuesday 1 December, 3:30 pm"


def test_when_text_names_the_user_day_when_it_differs() -> None:
    late = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)  # Wed 09:00 Auckland, Tue 21:00 Berlin
    assert fmt.when_text(late, "en", "Pacific/Auckland", "Europe/Berlin") == (
        "Wednesday 2 December, 9:00 am (Auckland) / 9:00 pm Tuesday (Berlin)"
    )
    assert fmt.when_text(late, "vi", "Pacific/Auckland", "Europe/Berlin") == (
        "thứ Tư, ngày 2/12/2026, lúc 9:00 (giờ Auckland) / 21:00 thứ Ba (giờ Berlin)"
    )


@pytest.mark.parametrize(
    ("hour", "minute", "expected"),
    [
        (0, 15, "12.15 pagi"),
        (9, 0, "9.00 pagi"),
        (12, 30, "12.30 tengah hari"),
        (13, 0, "1.00 tengah hari"),
        (15, 30, "3.30 petang"),
        (20, 0, "8.00 malam"),
    ],
)
def test_malay_time_of_day(hour: int, minute: int, expected: str) -> None:
    assert fmt.clock_text(datetime(2026, 12, 6, hour, minute, tzinfo=UTC), "ms") == expected


def test_weekday_and_city_patches() -> None:
    sunday = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    assert fmt.weekday(sunday, "vi") == "Chủ nhật"
    assert fmt.weekday(START, "vi") == "thứ Ba"
    assert fmt.weekday(sunday, "ms") == "Ahad"
    assert fmt.city_name("Asia/Ho_Chi_Minh", "en") == "Ho Chi Minh City"
    assert fmt.city_name("Asia/Saigon", "vi") == "Việt Nam"
    assert fmt.city_name("Etc/GMT+7", "en") == "UTC-7"  # POSIX sign inverted
    assert fmt.city_name("UTC", "en") == "UTC"
    assert fmt.date_text(START, "en") == "Tuesday 1 December"


@pytest.mark.parametrize(
    ("minutes", "lang", "expected"),
    [
        (45, "en", "45 minutes"),
        (60, "en", "1 hour"),
        (90, "en", "90 minutes"),
        (120, "en", "2 hours"),
        (150, "en", "2 hours 30 minutes"),
        (120, "vi", "2 tiếng"),
        (30, "vi", "30 phút"),
        (90, "ms", "90 minit"),
        (180, "ms", "3 jam"),
    ],
)
def test_duration_text(minutes: int, lang: str, expected: str) -> None:
    assert fmt.duration_text(minutes, lang) == expected


# --------------------------------------------------------------------------- actions


def test_reschedule_lists_every_slot(templates: Templates) -> None:
    slots = (
        Slot(START + timedelta(days=2), START + timedelta(days=2, hours=2)),
        Slot(START + timedelta(days=3), START + timedelta(days=3, hours=2)),
    )
    d = draft(templates, meeting(), Action.RESCHEDULE, Proposal(slots=slots))
    for s in slots:
        assert f"- {fmt.slot_text(s, 'en', 'Asia/Ho_Chi_Minh', 'Europe/Berlin')}" in d.body
    assert "- Thursday 3 December, 9:30 pm (Ho Chi Minh City) / 3:30 pm (Berlin)" in d.body
    assert "Acme roadmap review — could we move it" in d.subject


def test_reschedule_wording_depends_on_who_organizes(templates: Templates) -> None:
    slots = (Slot(START + timedelta(days=2), START + timedelta(days=2, hours=2)),)
    invited = draft(templates, meeting(), Action.RESCHEDULE, Proposal(slots=slots))
    organizing = draft(
        templates, meeting(user_organizes=True), Action.RESCHEDULE, Proposal(slots=slots)
    )
    assert "I'll update the invitation" in organizing.body
    assert "I'll update the invitation" not in invited.body


def test_shorten_subject_and_lengths(templates: Templates) -> None:
    d = draft(templates, meeting(), Action.SHORTEN, Proposal(duration_minutes=45))
    assert d.subject == "Acme roadmap review — 45 minutes instead of 2 hours?"
    assert "fits in 45 minutes rather than 2 hours" in d.body
    assert "email" in d.body  # the rest goes by e-mail
    vi = draft(templates, meeting(client("vi")), Action.SHORTEN, Proposal(duration_minutes=30))
    assert vi.subject == "Acme roadmap review — 30 phút thay vì 2 tiếng?"
    ms = draft(templates, meeting(client("ms")), Action.SHORTEN, Proposal(duration_minutes=30))
    assert ms.subject == "Acme roadmap review — 30 minit sahaja, bukan 2 jam?"


def test_call_keeps_the_time(templates: Templates) -> None:
    m = meeting(location="Acme HQ, 1 Main Street")
    d = draft(templates, m, Action.CALL)
    assert "video call" in d.body
    assert "Tuesday 1 December, 9:30 pm (Ho Chi Minh City) / 3:30 pm (Berlin)" in d.body
    assert "link" in d.body


def test_email_promises_update_by_meeting_start(templates: Templates) -> None:
    d = draft(templates, meeting(client("ms")), Action.EMAIL)
    assert "sebelum Selasa, 1 Disember 2026, 9.30 malam (waktu Vietnam)" in d.body
    assert "panggilan" in d.body  # a call if anything needs discussion


def test_delegate_names_the_colleague(templates: Templates) -> None:
    d = draft(templates, meeting(), Action.DELEGATE, Proposal(delegate_to=COLLEAGUE.email))
    assert "so they will represent me" in d.body
    assert "fully briefed" in d.body and "reachable" in d.body
    assert d.subject == "Acme roadmap review — Sam Lee will join for me"
    # not among the known colleagues: the e-mail's local part, capitalised
    d = draft(
        templates, meeting(colleagues=()), Action.DELEGATE, Proposal(delegate_to="jo.ann@s.example")
    )
    assert "Jo Ann works on this part of the project with me" in d.body


@pytest.mark.parametrize(("minutes", "expected"), [(30, "20 minutes"), (120, "90 minutes")])
def test_boundary_timebox_defaults(templates: Templates, minutes: int, expected: str) -> None:
    d = draft(templates, meeting(minutes=minutes), Action.BOUNDARY)
    assert f"I've planned {expected} for it, finishing by" in d.body
    assert "1. " in d.body and "3. " in d.body  # a short agenda


def test_recurring_series_is_our_regular_meeting(templates: Templates) -> None:
    m = meeting(series_id="weekly-1")
    assert "our regular meeting" in draft(templates, m, Action.EMAIL).body
    vi = meeting(client("vi"), series_id="weekly-1")
    assert "buổi họp định kỳ" in draft(templates, vi, Action.EMAIL).body
    ms = meeting(client("ms"), series_id="weekly-1")
    assert "mesyuarat berkala kita" in draft(templates, ms, Action.EMAIL).body


def test_signature_falls_back_to_name(templates: Templates) -> None:
    d = draft(templates, meeting(), Action.EMAIL)
    assert d.body.rstrip().endswith("Thanks,\nAlex Doe")
    signed = UserSettings(email=USER.email, name="Alex Doe", timezone=USER.timezone, signature="A.")
    assert draft(templates, meeting(), Action.EMAIL, user=signed).body.rstrip().endswith("\nA.")


def test_unsupported_language_falls_back_to_english(templates: Templates) -> None:
    d = draft(templates, meeting(client("fr")), Action.EMAIL)
    assert d.language == "en"


def test_none_action_is_refused(templates: Templates) -> None:
    with pytest.raises(ValueError, match="none"):
        make_draft(meeting(), decision(Action.NONE), settings(), templates, say)


# --------------------------------------------------------------------------- private notes


def test_private_notes_reasoning_for_every_action(templates: Templates) -> None:
    for action in (Action.EMAIL, Action.CALL, Action.SHORTEN):
        why = message("why.call_fits")
        d = make_draft(meeting(), decision(action, why=why), settings(), templates, say)
        first = d.private_notes.splitlines()[0]
        assert first.startswith(
            "Why: Tue 1 Dec has 6.5 h of meetings, limit 4 h; 120 min long, over 60 min"
        )
        assert "video call" not in first  # zero-point factors are not reasons
        assert say(why, "en") not in d.private_notes  # rule notes: explain only
        assert "Why:" not in d.body and "6.5 h" not in d.body
        assert "Talking points" not in d.private_notes


def test_boundary_notes_never_in_the_body(templates: Templates) -> None:
    d = draft(templates, meeting(), Action.BOUNDARY)
    assert "Talking points" in d.private_notes
    assert "I have 90 minutes for us today, until" in d.private_notes
    assert "To steer back when the talk drifts:" in d.private_notes
    for line in d.private_notes.splitlines():
        if line.strip():
            assert line.strip() not in d.body


# --------------------------------------------------------------------------- loading


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_override_replaces_exactly_one_template(tmp_path: Path) -> None:
    _write(tmp_path, "reschedule.en.txt.j2", "Subject: Moving {{ title }}\n\nCustom {{ day }}.\n")
    custom = load_templates(str(tmp_path), "cfg.toml")
    builtin = load_templates()
    assert custom.overridden == frozenset({"reschedule.en.txt.j2"})
    slots = (Slot(START + timedelta(days=2), START + timedelta(days=2, hours=2)),)
    m = meeting()
    d = draft(custom, m, Action.RESCHEDULE, Proposal(slots=slots))
    assert d.subject == "Moving Acme roadmap review"
    assert d.body == "Custom Tuesday.\n"
    for action, lang in ((Action.SHORTEN, "en"), (Action.RESCHEDULE, "vi")):
        mm = meeting(client(lang))
        p = Proposal(duration_minutes=45, slots=slots)
        assert draft(custom, mm, action, p) == draft(builtin, mm, action, p)


def test_override_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "shorten.vi.txt.j2", "Subject: x\n\nChào\n{% for x in %}\n")
    with pytest.raises(ConfigError) as info:
        load_templates(str(tmp_path), "cfg.toml")
    assert info.value.path == str(path)
    assert info.value.key == "outputs.templates_dir"
    assert "line 4" in str(info.value) and "\n" not in str(info.value)


def test_override_unknown_variable(tmp_path: Path) -> None:
    path = _write(tmp_path, "call.ms.txt.j2", "Subject: {{ title }}\n\n{{ client_phone }}\n")
    with pytest.raises(ConfigError, match="client_phone") as info:
        load_templates(str(tmp_path), "cfg.toml")
    assert info.value.path == str(path)


def test_override_unknown_attribute_found_by_sample_render(tmp_path: Path) -> None:
    text = "Subject: {{ title }}\n\nHi\n{% if not is_key %}{{ slots.first }}{% endif %}\n"
    path = _write(tmp_path, "reschedule.en.txt.j2", text)
    with pytest.raises(ConfigError, match="first") as info:
        load_templates(str(tmp_path))
    assert info.value.path == str(path)


def test_override_private_data_not_available_to_client_templates(tmp_path: Path) -> None:
    _write(tmp_path, "email.en.txt.j2", "Subject: x\n\n{{ reasons }}\n")
    with pytest.raises(ConfigError, match="reasons"):
        load_templates(str(tmp_path))


def test_override_must_have_subject_and_body(tmp_path: Path) -> None:
    _write(tmp_path, "email.en.txt.j2", "Hello {{ title }}\n")
    with pytest.raises(ConfigError, match="Subject"):
        load_templates(str(tmp_path))


def test_override_unknown_file_name_and_missing_folder(tmp_path: Path) -> None:
    _write(tmp_path, "reschedul.en.txt.j2", "Subject: x\n\ny\n")
    with pytest.raises(ConfigError, match="unknown template name"):
        load_templates(str(tmp_path))
    with pytest.raises(ConfigError) as info:
        load_templates(str(tmp_path / "nope"), "cfg.toml")
    assert (info.value.path, info.value.key) == ("cfg.toml", "outputs.templates_dir")


def test_override_sandbox_blocks_python_internals(tmp_path: Path) -> None:
    _write(tmp_path, "email.en.txt.j2", "Subject: x\n\n{{ title.__class__.__mro__ }}\n")
    with pytest.raises(ConfigError, match="unsafe"):
        load_templates(str(tmp_path))


def test_a_template_that_renders_no_draft_for_one_meeting(tmp_path: Path) -> None:
    """It passed the load-time check (the samples have no "urgent" title): the core says
    which template failed, and the templates report it as a config problem in that file."""
    text = "{% if 'urgent' in title %}Hi.{% else %}Subject: {{ title }}\n\nHi.\n{% endif %}"
    path = _write(tmp_path, "email.en.txt.j2", text)
    t = load_templates(str(tmp_path))
    assert draft(t, meeting(), Action.EMAIL).body == "Hi.\n"
    urgent = meeting(summary="urgent review")
    with pytest.raises(TemplateFailed) as failed:
        make_draft(urgent, decision(Action.EMAIL), settings(), t, say)
    assert (failed.value.name, failed.value.reason) == (
        "email.en.txt.j2",
        "the first line must be 'Subject: ...'",
    )
    with pytest.raises(ConfigError) as info:
        t.draft(urgent, decision(Action.EMAIL), settings(), say)
    assert str(info.value) == f"{path}: email.en.txt.j2: the first line must be 'Subject: ...'"
    assert info.value.exit_code == 2


def test_partials_can_be_included(tmp_path: Path) -> None:
    _write(tmp_path, "_sign.j2", "Cheers,\n{{ signature }}\n")
    _write(tmp_path, "email.en.txt.j2", "Subject: {{ title }}\n\nHi.\n\n{% include '_sign.j2' %}")
    t = load_templates(str(tmp_path))
    assert draft(t, meeting(), Action.EMAIL).body == "Hi.\n\nCheers,\nAlex Doe\n"


def test_builtin_folder_is_the_package_folder() -> None:
    import calbot

    assert Path(calbot.__file__).parent / "templates" == BUILTIN_DIR
    assert len(list(BUILTIN_DIR.glob("*.j2"))) == 21


# --------------------------------------------------------------------------- hostile input

HOSTILE = "{{ 7*7 }} {% for x in range(3) %}x{% endfor %}\r\nBcc: evil@x.example 🚀 مرحبا"


@pytest.mark.parametrize("lang", ["en", "vi", "ms"])
@pytest.mark.parametrize(
    "action", [Action.EMAIL, Action.BOUNDARY, Action.DELEGATE, Action.CALL], ids=str
)
def test_hostile_text_is_literal_and_inert(templates: Templates, lang: str, action: Action) -> None:
    contact = Contact("minh@acme.example", "{{ 7*7 }}\r\nBcc: a@b", "anh" if lang == "vi" else "")
    cl = Client(
        name="{% raw %}Acme{{ 1+1 }}", domains=("acme.example",), language=lang,
        timezone="Asia/Ho_Chi_Minh", contacts=(contact,), chatty=True,
    )  # fmt: skip
    evil_colleague = Attendee("sam@studio.example", "{{ 3*3 }}\nX-Evil: 1", Response.ACCEPTED)
    m = meeting(cl, summary=HOSTILE, location=HOSTILE, colleagues=(evil_colleague,))
    proposal = Proposal(delegate_to="sam@studio.example") if action == Action.DELEGATE else None
    d = make_draft(m, decision(action, proposal), settings(), templates, say)
    assert "\r" not in d.subject and "\n" not in d.subject
    assert d.subject.startswith("{{ 7*7 }} {% for x in range(3) %}x{% endfor %} Bcc:")
    assert "{{ 7*7 }}" in d.body
    assert "49" not in d.body and "xxx" not in d.body and "\r" not in d.body
    assert "🚀 مرحبا" in d.body
    assert not any(line.lower().startswith("bcc:") for line in d.body.splitlines())
    assert all("\n" not in n and "\r" not in n for n in d.to_names)
    if action == Action.DELEGATE:
        assert "{{ 3*3 }} X-Evil: 1" in d.body and "9" not in d.body.replace("2026", "")
    if action == Action.BOUNDARY:
        assert "{% raw %}Acme{{ 1+1 }}" in d.private_notes


def test_huge_title_is_capped(templates: Templates) -> None:
    huge = "Ω" * 1_000_000 + "\r\nBcc: evil@x.example"
    d = draft(templates, meeting(summary=huge, location=huge), Action.SHORTEN, Proposal(45))
    assert len(d.subject) <= 200
    assert "Bcc" not in d.subject and "\n" not in d.subject
    assert len(d.body) < 3000


def test_empty_title_still_reads(templates: Templates) -> None:
    d = draft(templates, meeting(summary="  \r\n "), Action.SHORTEN, Proposal(duration_minutes=45))
    assert d.subject == "Our meeting — 45 minutes instead of 2 hours?"
    assert "“" not in d.body
