"""The variables a draft template gets: the same keys for every action (values that do not
apply are empty), listed in `CONTEXT_KEYS`; the private-notes template also gets
`NOTES_KEYS`. Every piece of event text arrives cleaned to one line and capped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from calbot.core import formatting as fmt
from calbot.core.draft_agenda import agenda_items, box_minutes
from calbot.core.draft_openings import OPENINGS
from calbot.core.draft_people import addressee, colleague_name, recipients
from calbot.core.draft_text import short_text, signature_text
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
        "busy_day",  # a day factor fired: the meeting's day is over its limits
        "busy_week",  # the week factor fired: the meeting's ISO week is over its limit
        "load",  # "day" when busy_day, else "week" when busy_week, else "" (claim no load)
        "opening",  # 0, 1 or 2: which opening sentence (drafts to one person differ)
        "cut",  # shorten: "light" (≥ 2/3 kept), "half" (≥ 40 % kept) or "big"
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
        "timebox_end",  # boundary: the box's end time in the client's zone, or ""
        "agenda",  # boundary: the agenda items (one line each, at most 5)
        "agenda_from_invite",  # boundary: the agenda is the invitation's own
        "location",  # the event's location, cleaned (may be "")
        "video_link",
        "in_person",  # a physical location and no video link
        "signature",  # the user's signature (or name), its line breaks kept
        "user_name",
    }
)
# Extra variables for the private talking-points template (only the user reads it).
NOTES_KEYS: frozenset[str] = CONTEXT_KEYS | {"reasons", "why", "score"}

_DAY_FACTORS = frozenset({"day_load", "day_count", "no_focus_block"})
_WEEK_FACTORS = frozenset({"week_load"})
# The generic agenda when the invitation has none, in the client's language.
_GENERIC_AGENDA: dict[str, list[str]] = {
    "en": ["Progress since last time", "Open questions and decisions", "Next steps"],
    "vi": ["Tiến độ từ lần trước", "Những câu hỏi cần chốt", "Việc tiếp theo"],
    "ms": ["Kemajuan sejak mesyuarat lalu", "Perkara yang perlu diputuskan", "Langkah seterusnya"],
}
_TITLE_IN_TEMPLATE = 100  # characters of the meeting title the templates get


def client_language(meeting: Meeting) -> str:
    lang = meeting.client.language
    return lang if lang in LANGUAGES else "en"


def _minutes(delta: timedelta) -> int:
    return max(int(delta.total_seconds() // 60), 0)


def _proposal(decision: Decision) -> Proposal:
    return decision.proposal or Proposal()


def _timebox_minutes(meeting: Meeting, decision: Decision) -> int:
    """The box decided, else the one `decide` would choose (0: agenda only); never the
    booked length or more, so a draft never "sets aside" the time already booked."""
    booked = _minutes(meeting.event.duration)
    proposed = _proposal(decision).duration_minutes or 0
    if 0 < proposed < booked:
        return proposed
    return box_minutes(booked) or 0


def _cut(length: int, new: int) -> str:
    """How much `shorten` asks: the key-client wording scales with it."""
    if not length or new * 3 >= length * 2:
        return "light"
    return "half" if new * 5 >= length * 2 else "big"


def _fired(decision: Decision, codes: frozenset[str]) -> bool:
    return any(f.code in codes and f.points > 0 for f in decision.factors)


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
    opening: int = 0,
) -> dict[str, object]:
    """The variables a draft template for `decision.action` in `lang` gets; `opening`
    picks the opening sentence (taken modulo `OPENINGS`)."""
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
    busy_day = _fired(decision, _DAY_FACTORS)
    busy_week = _fired(decision, _WEEK_FACTORS)
    agenda: list[str] = []
    timebox_end = ""
    if action == Action.BOUNDARY:
        agenda = agenda_items(event.description)
        if timebox_minutes:
            end = local_start + timedelta(minutes=timebox_minutes)
            timebox_end = fmt.clock_text(end, lang)

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
        "busy_week": busy_week,
        "load": "day" if busy_day else "week" if busy_week else "",
        "opening": opening % OPENINGS,
        "cut": _cut(length_minutes, new_minutes) if new_minutes else "",
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
        "timebox_end": timebox_end,
        "agenda": agenda or (list(_GENERIC_AGENDA[lang]) if action == Action.BOUNDARY else []),
        "agenda_from_invite": bool(agenda),
        "location": location,
        "video_link": video_link,
        "in_person": bool(location) and not video_link,
        "signature": signature_text(user.signature) or short_text(user.name or user.email, 120),
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
