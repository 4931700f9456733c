"""Drafting: turn a decided meeting into the reply the user would have written.

Pure: no disk, network or clock. The only outside thing is the template environment the
caller hands in (`calbot.config.templates.load_templates`), which renders plain-text templates in a
sandbox. Every piece of untrusted event text (titles, names, locations) goes to the templates
as a *variable*, so "{{ 7*7 }}" in a title stays "{{ 7*7 }}" and never runs.

A draft template renders to::

    Subject: <subject line>
    <blank line>
    <body>

The template context is the same set of keys for every action (values that do not apply
are empty), listed in `CONTEXT_KEYS`; the private-notes template also gets `NOTES_KEYS`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from calbot.core import formatting as fmt
from calbot.core.headers import clean_header_text
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
from calbot.core.settings import LANGUAGES, Settings, UserSettings

if TYPE_CHECKING:  # the environment lives outside the pure core
    from calbot.config.templates import Templates

DRAFT_ACTIONS: tuple[Action, ...] = tuple(a for a in Action if a != Action.NONE)

# Every variable a draft template may use.
CONTEXT_KEYS: frozenset[str] = frozenset(
    {
        "lang",  # en | vi | ms
        "action",  # reschedule, shorten, ...
        "title",  # the meeting's title, cleaned to one line (may be "")
        "client_name",  # the [[clients]] name
        "addr_title",  # form of address for the greeting ("anh", "Tuan", "Mr") or ""
        "addr_name",  # the addressee's name, or "" (then use the neutral greeting)
        "you",  # vi: how to call the reader in running text ("anh", "Quý khách"); else ""
        "you_cap",  # `you` at the start of a sentence ("Anh", "Quý khách")
        "is_key",  # a key client: lightest touch
        "recurring",  # part of a recurring series ("our regular meeting")
        "i_organize",  # the user organizes (so the user updates the invitation)
        "busy_day",  # the meeting's day is overloaded (else: the week is)
        "when",  # start of the meeting, date and time, client's zone (+ user's)
        "date",  # the meeting's date in the client's zone, no time
        "day",  # the meeting's weekday in the client's zone
        "length",  # the meeting's length as text ("2 hours")
        "length_minutes",
        "new_length",  # shorten: the proposed length as text
        "new_minutes",
        "slots",  # reschedule: list of formatted slot starts
        "colleague",  # delegate: the colleague's name
        "colleague_email",
        "timebox",  # boundary: the time frame as text ("45 minutes")
        "timebox_minutes",
        "location",  # the event's location, cleaned (may be "")
        "video_link",
        "in_person",  # a physical location and no video link
        "signature",  # the user's signature (or name)
        "user_name",
    }
)
# Extra variables for the private talking-points template (only the user reads it).
NOTES_KEYS: frozenset[str] = CONTEXT_KEYS | {"reasons", "why", "score"}

_WHY_LABEL = {"en": "Why", "vi": "Lý do", "ms": "Sebab"}
_SCORE_LABEL = {"en": "score", "vi": "điểm", "ms": "skor"}
_DAY_FACTORS = frozenset({"day_load", "day_count", "no_focus_block"})

# Forms of address that only make sense in Vietnamese (kinship pronouns).
_VI_TITLES = frozenset({"anh", "chị", "em", "ông", "bà", "cô", "chú", "bác", "thầy"})
# English titles mapped to their Malay equivalents.
_EN_TO_MS_TITLE = {"mr": "Tuan", "mrs": "Puan", "ms": "Puan", "miss": "Cik", "dr": "Dr"}
_NOTES_TEMPLATE_ACTIONS = frozenset({Action.BOUNDARY})

_TITLE_IN_TEMPLATE = 100  # characters of the meeting title the templates get


class _Renderer(Protocol):
    def render(self, name: str, context: Mapping[str, object]) -> str: ...


# --------------------------------------------------------------------------- names


def template_name(action: Action | str, lang: str) -> str:
    """The template file for an action in a language, e.g. `reschedule.vi.txt.j2`."""
    value = action.value if isinstance(action, Action) else action
    return f"{value}.{lang}.txt.j2"


def notes_template_name(action: Action | str, lang: str) -> str:
    """The private talking-points template, e.g. `boundary_notes.en.txt.j2`."""
    value = action.value if isinstance(action, Action) else action
    return f"{value}_notes.{lang}.txt.j2"


def all_template_names() -> dict[str, tuple[Action, str, bool]]:
    """Every built-in template name → (action, language, is_notes)."""
    names: dict[str, tuple[Action, str, bool]] = {}
    for lang in LANGUAGES:
        for action in DRAFT_ACTIONS:
            names[template_name(action, lang)] = (action, lang, False)
        for action in _NOTES_TEMPLATE_ACTIONS:
            names[notes_template_name(action, lang)] = (action, lang, True)
    return names


# --------------------------------------------------------------------------- text


def _short(text: str, limit: int) -> str:
    text = clean_header_text(text)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def split_rendered(text: str) -> tuple[str, str]:
    """(subject, body) of a rendered draft template; ValueError when it is not
    "Subject: ..." + blank line + body."""
    lines = text.lstrip("\n").split("\n")
    first = lines[0]
    if not first.lower().startswith("subject:"):
        raise ValueError("the first line must be 'Subject: ...'")
    if len(lines) < 3 or lines[1].strip():
        raise ValueError("the subject line must be followed by a blank line and the body")
    subject = clean_header_text(first[len("subject:") :])
    body = _tidy_body("\n".join(lines[2:]))
    if not subject:
        raise ValueError("the subject is empty")
    if not body.strip():
        raise ValueError("the body is empty")
    return subject, body


def _tidy_body(body: str) -> str:
    """Strip trailing spaces, keep at most one blank line in a row, end with a newline."""
    out: list[str] = []
    for raw in body.replace("\r\n", "\n").split("\n"):
        line = raw.rstrip()
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


def word_count(text: str) -> int:
    return len(text.split())


# --------------------------------------------------------------------------- people


def _is_user(attendee: Attendee, user: UserSettings) -> bool:
    return attendee.is_self or attendee.email.lower() == user.email.lower()


def recipients(meeting: Meeting, user: UserSettings) -> tuple[list[Attendee], list[Attendee]]:
    """(to, cc). Not the organizer: To is the organizer. The organizer: To is the client
    attendees who have not declined. Never the user, never a room. Cc is empty for now."""
    event = meeting.event
    to: list[Attendee] = []
    if not meeting.user_is_organizer:
        organizer = next(
            (
                a
                for a in event.attendees
                if a.organizer and not a.resource and not _is_user(a, user)
            ),
            None,
        )
        if organizer is None and event.organizer and event.organizer.lower() != user.email.lower():
            known = {a.email: a for a in (*meeting.client_attendees, *event.attendees)}
            organizer = known.get(event.organizer.lower()) or Attendee(
                email=event.organizer.lower(), organizer=True
            )
        if organizer is not None:
            to.append(organizer)
    if not to:
        seen: set[str] = set()
        for a in meeting.client_attendees:
            if a.response == Response.DECLINED or a.resource or _is_user(a, user):
                continue
            if a.email in seen:
                continue
            seen.add(a.email)
            to.append(a)
    return to, []


def _contact_for(client: Client, email: str) -> Contact | None:
    found = client.contact(email)
    if found is not None:
        return found
    lowered = email.lower()
    return next((c for c in client.contacts if c.email.lower() == lowered), None)


def _title_for(lang: str, title: str) -> str:
    """The contact's title as usable in `lang`, or "" when it does not fit the language."""
    title = clean_header_text(title)
    if not title:
        return ""
    lowered = title.lower().rstrip(".")
    if lang == "vi":
        return title.lower() if lowered in _VI_TITLES else ""
    if lowered in _VI_TITLES:
        return ""
    if lang == "ms":
        return _EN_TO_MS_TITLE.get(lowered, title)
    return title


def _addressee(meeting: Meeting, to: list[Attendee], lang: str) -> tuple[str, str]:
    """(title, name) for the greeting; ("", "") means the neutral polite form."""
    if not to:
        return "", ""
    first = to[0]
    contact = _contact_for(meeting.client, first.email)
    if contact is not None and clean_header_text(contact.name):
        name = _short(contact.name, 60)
        title = _title_for(lang, contact.title)
        if title:
            return title, name
        if lang == "en":
            return "", name
        return "", ""
    if lang == "en" and clean_header_text(first.name):
        return "", _short(first.name, 60)
    return "", ""


def _colleague_name(meeting: Meeting, email: str) -> str:
    for person in meeting.colleagues:
        if person.email.lower() == email.lower() and clean_header_text(person.name):
            return _short(person.name, 60)
    local = email.partition("@")[0]
    parts = [p for p in re.split(r"[._\-+]+", local) if p]
    return _short(" ".join(p[:1].upper() + p[1:] for p in parts), 60)


def _display_name(meeting: Meeting, attendee: Attendee) -> str:
    contact = _contact_for(meeting.client, attendee.email)
    if contact is not None and clean_header_text(contact.name):
        return clean_header_text(contact.name)
    return clean_header_text(attendee.name)


# --------------------------------------------------------------------------- context


def client_language(meeting: Meeting) -> str:
    lang = meeting.client.language
    return lang if lang in LANGUAGES else "en"


def _minutes(delta: timedelta) -> int:
    return max(int(delta.total_seconds() // 60), 0)


def _proposal(decision: Decision) -> Proposal:
    return decision.proposal or Proposal()


def _timebox_minutes(meeting: Meeting, decision: Decision) -> int:
    proposed = _proposal(decision).duration_minutes
    if proposed:
        return proposed
    return min(_minutes(meeting.event.duration), 45) or 45


def _shorter_minutes(meeting: Meeting, decision: Decision) -> int:
    proposed = _proposal(decision).duration_minutes
    if proposed:
        return proposed
    half = _minutes(meeting.event.duration) // 2
    return max(15, half - half % 15)


def draft_context(
    meeting: Meeting,
    decision: Decision,
    settings: Settings,
    lang: str,
    to: list[Attendee] | None = None,
) -> dict[str, object]:
    """The variables a draft template for `decision.action` in `lang` gets."""
    user = settings.user
    event = meeting.event
    if to is None:
        to = recipients(meeting, user)[0]
    client_tz = meeting.client.timezone or user.timezone
    user_tz = user.timezone
    local_start = event.start.astimezone(fmt.zone(client_tz, user_tz))
    proposal = _proposal(decision)
    action = decision.action

    addr_title, addr_name = _addressee(meeting, to, lang)
    you = ""
    if lang == "vi":
        you = addr_title if addr_title else "Quý khách"

    slots: list[str] = []
    if action == Action.RESCHEDULE:
        slots = [fmt.slot_text(s, lang, client_tz, user_tz) for s in proposal.slots]

    colleague = colleague_email = ""
    if action == Action.DELEGATE:
        colleague_email = proposal.delegate_to or ""
        if not colleague_email and meeting.colleagues:
            colleague_email = meeting.colleagues[0].email
        if colleague_email:
            colleague = _colleague_name(meeting, colleague_email)

    length_minutes = _minutes(event.duration)
    new_minutes = _shorter_minutes(meeting, decision) if action == Action.SHORTEN else 0
    timebox_minutes = _timebox_minutes(meeting, decision) if action == Action.BOUNDARY else 0
    location = _short(event.location, 200)
    video_link = _short(event.video_link, 200)
    busy_day = any(f.code in _DAY_FACTORS and f.points > 0 for f in decision.factors)

    return {
        "lang": lang,
        "action": action.value,
        "title": _short(event.summary, _TITLE_IN_TEMPLATE),
        "client_name": _short(meeting.client.name, 80),
        "addr_title": addr_title,
        "addr_name": addr_name,
        "you": you,
        "you_cap": you[:1].upper() + you[1:],
        "is_key": meeting.client.tier == Tier.KEY,
        "recurring": event.series_id is not None,
        "i_organize": meeting.user_is_organizer,
        "busy_day": busy_day,
        "when": fmt.when_text(event.start, lang, client_tz, user_tz),
        "date": fmt.date_text(local_start, lang),
        "day": fmt.weekday(local_start, lang),
        "length": fmt.duration_text(length_minutes, lang),
        "length_minutes": length_minutes,
        "new_length": fmt.duration_text(new_minutes, lang) if new_minutes else "",
        "new_minutes": new_minutes,
        "slots": slots,
        "colleague": colleague,
        "colleague_email": colleague_email,
        "timebox": fmt.duration_text(timebox_minutes, lang) if timebox_minutes else "",
        "timebox_minutes": timebox_minutes,
        "location": location,
        "video_link": video_link,
        "in_person": bool(location) and not video_link,
        "signature": _short(user.signature or user.name or user.email, 120),
        "user_name": _short(user.name, 120),
    }


def _reasons(decision: Decision) -> list[str]:
    acting = [f for f in decision.factors if f.points > 0] or list(decision.factors)
    return [clean_header_text(f.detail) or f.code for f in acting]


def notes_context(
    meeting: Meeting, decision: Decision, settings: Settings, lang: str
) -> dict[str, object]:
    """The variables of the private-notes template (the user's language)."""
    ctx = draft_context(meeting, decision, settings, lang)
    ctx["reasons"] = _reasons(decision)
    ctx["why"] = clean_header_text(decision.why)
    ctx["score"] = decision.score
    return ctx


def why_line(decision: Decision, lang: str) -> str:
    """ "Why: Tue has 6.5 h of meetings, limit 4 h; ... (score 62/100, shorten)"."""
    label = _WHY_LABEL.get(lang, "Why")
    reasons = "; ".join(_reasons(decision)) or "-"
    score = _SCORE_LABEL.get(lang, "score")
    return f"{label}: {reasons} ({score} {decision.score}/100, {decision.action.value})"


def private_notes(
    meeting: Meeting, decision: Decision, settings: Settings, templates: _Renderer
) -> str:
    lang = settings.user.language if settings.user.language in LANGUAGES else "en"
    # The factors are the reasoning; `decision.why` (which rules did not fit) is for
    # `calbot explain` only.
    text = why_line(decision, lang)
    if decision.action in _NOTES_TEMPLATE_ACTIONS:
        ctx = notes_context(meeting, decision, settings, lang)
        points = _tidy_body(templates.render(notes_template_name(decision.action, lang), ctx))
        text += "\n\n" + points.rstrip("\n")
    return text + "\n"


# --------------------------------------------------------------------------- draft


def make_draft(
    meeting: Meeting, decision: Decision, settings: Settings, templates: Templates
) -> Draft:
    """The reply for `meeting` as decided. Raises ConfigError (from the templates) only
    if a template fails, which `load_templates` already ruled out for the sample data."""
    if decision.action not in DRAFT_ACTIONS:
        raise ValueError(f"no draft for action {decision.action.value!r}")
    lang = client_language(meeting)
    to, cc = recipients(meeting, settings.user)
    ctx = draft_context(meeting, decision, settings, lang, to)
    name = template_name(decision.action, lang)
    rendered = templates.render(name, ctx)
    try:
        subject, body = split_rendered(rendered)
    except ValueError as exc:
        from calbot.errors import ConfigError

        raise ConfigError(templates.path_of(name), name, str(exc)) from None
    return Draft(
        language=lang,
        to=tuple(a.email for a in to),
        subject=subject,
        body=body,
        private_notes=private_notes(meeting, decision, settings, templates),
        cc=tuple(a.email for a in cc),
        to_names=tuple(_display_name(meeting, a) for a in to),
    )


# --------------------------------------------------------------------------- samples


def _sample_meetings(action: Action) -> list[tuple[Meeting, Decision, Settings]]:
    """Representative fake meetings exercising the templates' branches (load-time check)."""
    start = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
    slots = (
        Slot(start + timedelta(days=2), start + timedelta(days=2, hours=2)),
        Slot(start + timedelta(days=3, hours=-4), start + timedelta(days=3, hours=-2)),
        Slot(start + timedelta(days=7), start + timedelta(days=7, hours=2)),
    )
    proposal = Proposal(
        duration_minutes={Action.SHORTEN: 45, Action.BOUNDARY: 45}.get(action),
        slots=slots if action == Action.RESCHEDULE else (),
        delegate_to="lan.tran@example.com" if action == Action.DELEGATE else None,
    )
    factors = (
        Factor("day_load", 25, "Tue has 6.5 h of meetings, limit 4 h"),
        Factor("long_meeting", 15, "the meeting lasts 2 h"),
    )
    minh = Attendee("minh@acme.example", "Minh Nguyen", Response.ACCEPTED, organizer=True)
    lan = Attendee("lan.tran@example.com", "Lan Tran", Response.ACCEPTED)
    me = Attendee("me@example.com", "Alex Doe", Response.ACCEPTED, is_self=True)
    out: list[tuple[Meeting, Decision, Settings]] = []
    variants = (
        # standard client, titled contact, other zone, user invited, one-off, busy day
        (Tier.STANDARD, "Asia/Ho_Chi_Minh", "anh", False, None, factors),
        # key client, no contact, same zone, user organizes, recurring, busy week
        (Tier.KEY, "Europe/Berlin", None, True, "series-1", factors[1:]),
        # low-tier client, contact without title
        (Tier.LOW, "", "", False, None, ()),
    )
    for tier, tz, title, organizes, series, facts in variants:
        contacts = () if title is None else (Contact("minh@acme.example", "Minh", title),)
        client = Client(
            name="Acme",
            domains=("acme.example",),
            tier=tier,
            timezone=tz,
            contacts=contacts,
            chatty=action == Action.BOUNDARY,
        )
        organizer = me if organizes else minh
        attendees = (
            Attendee(me.email, me.name, Response.ACCEPTED, is_self=True, organizer=organizes),
            Attendee(minh.email, minh.name, Response.ACCEPTED, organizer=not organizes),
            lan,
        )
        event = Event(
            id="sample",
            calendar_id="primary",
            ical_uid="sample@calbot",
            start=start,
            end=start + timedelta(hours=2),
            summary="Acme roadmap review",
            description="",
            location="Acme office, 12 Example Street" if action == Action.CALL else "",
            organizer=organizer.email,
            attendees=attendees,
            series_id=series,
        )
        meeting = Meeting(
            event=event,
            client=client,
            client_attendees=(attendees[1],),
            colleagues=(lan,),
            user_is_organizer=organizes,
            user_optional=False,
        )
        decision = Decision(action, 60, facts, proposal, why="sample")
        for lang in LANGUAGES:
            user = UserSettings(
                email="me@example.com",
                name="Alex Doe",
                timezone="Europe/Berlin",
                language=lang,
                signature="Alex",
            )
            out.append((meeting, decision, Settings(user=user)))
    return out


def sample_contexts(action: Action, lang: str, notes: bool = False) -> list[dict[str, object]]:
    """Contexts for rendering every template once at load time."""
    contexts: list[dict[str, object]] = []
    for meeting, decision, settings in _sample_meetings(action):
        if settings.user.language != lang:
            continue
        client = meeting.client
        sample_meeting = Meeting(
            event=meeting.event,
            client=Client(
                name=client.name,
                domains=client.domains,
                tier=client.tier,
                language=lang,
                timezone=client.timezone,
                chatty=client.chatty,
                contacts=tuple(
                    Contact(c.email, c.name, _sample_title(c.title, lang)) for c in client.contacts
                ),
            ),
            client_attendees=meeting.client_attendees,
            colleagues=meeting.colleagues,
            user_is_organizer=meeting.user_is_organizer,
            user_optional=meeting.user_optional,
        )
        if notes:
            contexts.append(notes_context(sample_meeting, decision, settings, lang))
        else:
            contexts.append(draft_context(sample_meeting, decision, settings, lang))
    return contexts


def _sample_title(title: str, lang: str) -> str:
    if not title:
        return ""
    return {"en": "Mr", "vi": "anh", "ms": "Tuan"}.get(lang, title)
