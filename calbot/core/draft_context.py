"""The variables a draft template gets: the same keys for every action (values that do not
apply are empty), listed in `CONTEXT_KEYS`; the private-notes template also gets
`NOTES_KEYS`. Every piece of event text arrives cleaned to one line and capped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from calbot.core import formatting as fmt
from calbot.core.draft_people import addressee, colleague_name, recipients
from calbot.core.draft_text import short_text
from calbot.core.model import Action, Attendee, Decision, Meeting, Proposal, Tier
from calbot.core.settings import LANGUAGES, UserSettings

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

_DAY_FACTORS = frozenset({"day_load", "day_count", "no_focus_block"})
_TITLE_IN_TEMPLATE = 100  # characters of the meeting title the templates get


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
    user: UserSettings,
    lang: str,
    to: list[Attendee] | None = None,
) -> dict[str, object]:
    """The variables a draft template for `decision.action` in `lang` gets."""
    event = meeting.event
    if to is None:
        to = recipients(meeting, user)[0]
    client_tz = meeting.client.timezone or user.timezone
    user_tz = user.timezone
    local_start = event.start.astimezone(fmt.zone(client_tz, user_tz))
    proposal = _proposal(decision)
    action = decision.action

    addr_title, addr_name = addressee(meeting, to, lang)
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
            colleague = colleague_name(meeting, colleague_email)

    length_minutes = _minutes(event.duration)
    new_minutes = _shorter_minutes(meeting, decision) if action == Action.SHORTEN else 0
    timebox_minutes = _timebox_minutes(meeting, decision) if action == Action.BOUNDARY else 0
    location = short_text(event.location, 200)
    video_link = short_text(event.video_link, 200)
    busy_day = any(f.code in _DAY_FACTORS and f.points > 0 for f in decision.factors)

    return {
        "lang": lang,
        "action": action.value,
        "title": short_text(event.summary, _TITLE_IN_TEMPLATE),
        "client_name": short_text(meeting.client.name, 80),
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
        "signature": short_text(user.signature or user.name or user.email, 120),
        "user_name": short_text(user.name, 120),
    }


def notes_context(
    meeting: Meeting,
    decision: Decision,
    user: UserSettings,
    lang: str,
    reasons: Sequence[str],
    why: str,
) -> dict[str, object]:
    """The variables of the private-notes template (the user's language): `reasons` are
    the acting factors' texts, `why` the decision's, each one line."""
    ctx = draft_context(meeting, decision, user, lang)
    ctx["reasons"] = list(reasons)
    ctx["why"] = why
    ctx["score"] = decision.score
    return ctx
