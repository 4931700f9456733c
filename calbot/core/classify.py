"""Which events are client meetings, and which count as busy time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from calbot.core.model import Attendee, Client, Event, EventType, Meeting, Response, Tier
from calbot.core.settings import CoreSettings, UserSettings


def dedupe(events: Iterable[Event]) -> list[Event]:
    """The same occurrence seen on two calendars (same iCalUID and start) counts once.

    The first calendar listed wins, so a copy on the user's primary calendar is kept.
    """
    seen: set[tuple[str, float]] = set()
    out: list[Event] = []
    for event in events:
        mark = (event.ical_uid or event.id, event.start.timestamp())
        if mark in seen:
            continue
        seen.add(mark)
        out.append(event)
    return out


def self_attendee(event: Event, user: UserSettings) -> Attendee | None:
    for a in event.attendees:
        if a.is_self or a.email == user.email:
            return a
    return None


def user_declined(event: Event, user: UserSettings) -> bool:
    me = self_attendee(event, user)
    return me is not None and me.response == Response.DECLINED


def is_busy(event: Event, user: UserSettings) -> bool:
    """Time the user cannot give away: live, opaque, not declined; all-day only when away."""
    if event.status == "cancelled" or event.transparent or user_declined(event, user):
        return False
    if event.all_day:
        return event.event_type == EventType.OUT_OF_OFFICE
    return event.event_type != EventType.WORKING_LOCATION


# Google gives its calendars addresses too: a group calendar (shared, or one of the user's
# secondary calendars), a resource (a room), a subscribed or holiday calendar. Calendars
# organize events, but nobody can be asked to move a meeting by writing to one.
_CALENDAR_DOMAIN = "calendar.google.com"


def is_calendar_address(email: str) -> bool:
    """The address of a Google calendar rather than of a person."""
    domain = email.rpartition("@")[2]
    return domain == _CALENDAR_DOMAIN or domain.endswith("." + _CALENDAR_DOMAIN)


def organizer_of(event: Event, user: UserSettings) -> Attendee | None:
    """Who organized the event, when that is a person other than the user; else None (the
    user, a calendar, a room, or nobody named).

    Taken from the guest list when the organizer is listed there (with their response),
    else built from the event's organizer: Google hides guests from guests and ICS exports
    often list the ORGANIZER apart from the ATTENDEEs, so an invitation from a client may
    name the client nowhere else.
    """
    email = event.organizer or next((a.email for a in event.attendees if a.organizer), "")
    if (
        not email
        or event.organizer_self
        or email == user.email
        or email == event.calendar_id
        or is_calendar_address(email)
    ):
        return None
    for a in event.attendees:
        if a.email == email:
            return None if a.is_self or a.resource else a
    return Attendee(email=email, name=event.organizer_name, organizer=True)


def other_people(event: Event, user: UserSettings) -> list[Attendee]:
    """The participants other than the user who have not declined: the attendees (rooms
    and calendars invited as guests excluded) and the organizer (`organizer_of`) when the
    guest list leaves them out."""
    people = [
        a
        for a in event.attendees
        if not a.resource
        and not a.is_self
        and a.email != user.email
        and a.response != Response.DECLINED
        and not is_calendar_address(a.email)
    ]
    organizer = organizer_of(event, user) if event.organizer else None
    if organizer is not None and organizer not in event.attendees:  # listed: judged above
        people.append(organizer)
    return people


def is_meeting(event: Event, user: UserSettings) -> bool:
    """A busy, timed, ordinary event with at least one other person (seen, or hidden from
    the user's view of the guest list)."""
    return is_busy(event, user) and is_meeting_if_busy(event, user)


def is_meeting_if_busy(event: Event, user: UserSettings) -> bool:
    """`is_meeting` for an event already known to be busy (`is_busy`): the load measure and
    `classify` ask both, and each costs a walk of the guest list."""
    return (
        not event.all_day
        and event.event_type == EventType.DEFAULT
        and (event.guests_hidden or bool(other_people(event, user)))
    )


def _domain(email: str) -> str:
    return email.rpartition("@")[2]


def match_client(
    attendees: Iterable[Attendee], settings: CoreSettings
) -> tuple[Client, tuple[Attendee, ...]] | None:
    """E-mail matches beat domain matches; among equals the first client in the file wins."""
    outside = [a for a in attendees if not settings.user.is_own(a.email)]
    if not outside:
        return None
    for client in settings.clients:
        if any(a.email in client.emails for a in outside):
            return client, _members(client, outside)
    for client in settings.clients:
        if any(_domain(a.email) in client.domains for a in outside):
            return client, _members(client, outside)
    return _unknown(outside, settings.user)


def _unknown(
    outside: list[Attendee], user: UserSettings
) -> tuple[Client, tuple[Attendee, ...]] | None:
    """No client listed: the first outsider's domain, when unknown outsiders are clients."""
    if not user.unknown_external_is_client:
        return None
    domain = _domain(outside[0].email)
    client = Client(name=domain, domains=(domain,), tier=Tier.STANDARD, language=user.language)
    return client, _members(client, outside)


def _members(client: Client, outside: list[Attendee]) -> tuple[Attendee, ...]:
    return tuple(
        a for a in outside if a.email in client.emails or _domain(a.email) in client.domains
    )


def classify(event: Event, settings: CoreSettings) -> Meeting | None:
    """The client meeting this event is, or None."""
    if event.status != "confirmed":
        return None
    people = _meeting_people(event, settings.user)
    return None if people is None else _client_meeting(event, people, settings)


def classify_all(
    events: Sequence[Event], settings: CoreSettings
) -> tuple[list[Meeting], list[bool]]:
    """`classify` of each event, and whether each is a meeting (`is_meeting`, for the load
    measure): one walk of each guest list for both, each address judged once (`_Addresses`).
    `classify` is the plain statement of the same rules; tests hold the two equal."""
    user = settings.user
    judge = _Addresses(settings)
    meetings: list[Meeting] = []
    flags: list[bool] = []
    for event in events:
        if event.all_day or event.event_type != EventType.DEFAULT:
            flags.append(False)
            continue
        people = _people(event, user, judge)
        flags.append(people is not None)
        if people is not None and event.status == "confirmed":
            meeting = _client_meeting(event, people, settings, judge)
            if meeting is not None:
                meetings.append(meeting)
    return meetings, flags


# What classifying needs to know of one address: (own: `UserSettings.is_own`, a calendar:
# `is_calendar_address`, the first client listing the address, the first client listing its
# domain), a client by its place in the file, `_NONE` for none. A plain tuple: read ~8 times
# per event.
_Address = tuple[bool, bool, int, int]
_NONE = 1 << 62


class _Addresses:
    """Each address judged once per window (a window's guests are a few hundred addresses
    in tens of thousands of guest lists), the clients looked up, not walked per guest."""

    __slots__ = ("by_domain", "by_email", "clients", "known", "user")

    def __init__(self, settings: CoreSettings) -> None:
        self.user = settings.user
        self.clients = settings.clients
        self.by_email: dict[str, int] = {}
        self.by_domain: dict[str, int] = {}
        for index, client in enumerate(self.clients):
            for email in client.emails:
                self.by_email.setdefault(email, index)
            for domain in client.domains:
                self.by_domain.setdefault(domain, index)
        self.known: dict[str, _Address] = {}

    def judge(self, email: str) -> _Address:
        known = self.known[email] = (
            self.user.is_own(email),
            is_calendar_address(email),
            self.by_email.get(email, _NONE),
            self.by_domain.get(_domain(email), _NONE),
        )
        return known

    def match(self, people: list[Attendee]) -> tuple[Client, tuple[Attendee, ...]] | None:
        """`match_client(people)`: an e-mail match beats a domain match, the first client
        in the file among equals."""
        known = self.known
        outside = []
        by_email = by_domain = _NONE
        for a in people:
            own, _, email_client, domain_client = known.get(a.email) or self.judge(a.email)
            if not own:
                outside.append(a)
                if email_client < by_email:
                    by_email = email_client
                if domain_client < by_domain:
                    by_domain = domain_client
        if not outside:
            return None
        found = by_email if by_email != _NONE else by_domain
        if found == _NONE:
            return _unknown(outside, self.user)
        client = self.clients[found]
        return client, _members(client, outside)


def _meeting_people(event: Event, user: UserSettings) -> list[Attendee] | None:
    """`other_people` when the event is a meeting (`is_meeting`), else None."""
    if event.all_day or event.event_type != EventType.DEFAULT or not is_busy(event, user):
        return None
    people = other_people(event, user)
    return people if people or event.guests_hidden else None


def _people(event: Event, user: UserSettings, judge: _Addresses) -> list[Attendee] | None:
    """`_meeting_people` of a timed default event, in one walk of its guest list."""
    if event.status == "cancelled" or event.transparent:
        return None
    me: Attendee | None = None  # `self_attendee`
    people: list[Attendee] = []
    known = judge.known
    for a in event.attendees:
        if a.is_self or a.email == user.email:
            if me is None:
                me = a
        elif (
            not a.resource
            and a.response != Response.DECLINED
            and not (known.get(a.email) or judge.judge(a.email))[1]
        ):
            people.append(a)
    if me is not None and me.response == Response.DECLINED:
        return None
    organizer = organizer_of(event, user) if event.organizer else None
    if organizer is not None and organizer not in event.attendees:  # listed: judged above
        people.append(organizer)
    return people if people or event.guests_hidden else None


def _client_meeting(
    event: Event, people: list[Attendee], settings: CoreSettings, judge: _Addresses | None = None
) -> Meeting | None:
    user = settings.user
    matched = match_client(people, settings) if judge is None else judge.match(people)
    if matched is None:
        return None
    client, client_attendees = matched
    if client.skip:
        return None
    me = self_attendee(event, user)
    return Meeting(
        event=event,
        client=client,
        client_attendees=client_attendees,
        colleagues=tuple(a for a in people if user.is_own(a.email)),
        # An invitation without a person as organizer (none named, or a calendar) is treated
        # as the user's own: replies then go to the client attendees, never to a calendar.
        user_is_organizer=organizer_of(event, user) is None,
        user_optional=bool(me and me.optional),
    )
