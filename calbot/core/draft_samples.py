"""Representative fake meetings that exercise the templates' branches: every template is
rendered once with each of them when the templates load, so a broken template fails then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from calbot.core.draft_context import draft_context, notes_context
from calbot.core.messages import Hours, message
from calbot.core.model import (
    Action,
    Attendee,
    Client,
    Contact,
    Decision,
    Event,
    Factor,
    Meeting,
    Proposal,
    Response,
    Slot,
    Tier,
)
from calbot.core.settings import LANGUAGES, UserSettings

# What the sample factors say, as the private notes would show them.
_SAMPLE_REASONS = {
    "day_load": "Tue has 6.5 h of meetings, limit 4 h",
    "long_meeting": "the meeting lasts 2 h",
}


def _sample_meetings(action: Action) -> list[tuple[Meeting, Decision, UserSettings]]:
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
        Factor(
            "day_load",
            25,
            message("factor.day_load", day=start.date(), hours=Hours(390), limit=Hours(240)),
        ),
        Factor("long_meeting", 15, message("factor.long_meeting", minutes=120, limit=60)),
    )
    minh = Attendee("minh@acme.example", "Minh Nguyen", Response.ACCEPTED, organizer=True)
    lan = Attendee("lan.tran@example.com", "Lan Tran", Response.ACCEPTED)
    me = Attendee("me@example.com", "Alex Doe", Response.ACCEPTED, is_self=True)
    out: list[tuple[Meeting, Decision, UserSettings]] = []
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
        decision = Decision(action, 60, facts, proposal, why=message("why.call_no"))
        for lang in LANGUAGES:
            user = UserSettings(
                email="me@example.com",
                name="Alex Doe",
                timezone="Europe/Berlin",
                language=lang,
                signature="Alex",
            )
            out.append((meeting, decision, user))
    return out


def sample_contexts(action: Action, lang: str, notes: bool = False) -> list[dict[str, object]]:
    """Contexts for rendering every template once at load time."""
    contexts: list[dict[str, object]] = []
    for meeting, decision, user in _sample_meetings(action):
        if user.language != lang:
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
            reasons = [_SAMPLE_REASONS[f.code] for f in decision.factors]
            contexts.append(notes_context(sample_meeting, decision, user, lang, reasons, "sample"))
        else:
            contexts.append(draft_context(sample_meeting, decision, user, lang))
    return contexts


def _sample_title(title: str, lang: str) -> str:
    if not title:
        return ""
    return {"en": "Mr", "vi": "anh", "ms": "Tuan"}.get(lang, title)
