"""Plain frozen data the core works on. Sources build `Event`s; the core derives the rest."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import NamedTuple

from calbot.core.messages import Message


class Action(StrEnum):
    NONE = "none"
    DELEGATE = "delegate"
    CALL = "call"
    EMAIL = "email"
    SHORTEN = "shorten"
    RESCHEDULE = "reschedule"
    BOUNDARY = "boundary"


class Tier(StrEnum):
    KEY = "key"
    STANDARD = "standard"
    LOW = "low"


class EventType(StrEnum):
    DEFAULT = "default"
    FOCUS = "focusTime"
    OUT_OF_OFFICE = "outOfOffice"
    WORKING_LOCATION = "workingLocation"
    OTHER = "other"  # fromGmail, birthday, ...: busy if timed, never a client meeting


class Response(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TENTATIVE = "tentative"
    NEEDS_ACTION = "needsAction"


@dataclass(frozen=True, slots=True)
class Attendee:
    email: str  # lower-cased by the source
    name: str = ""
    response: Response = Response.NEEDS_ACTION
    optional: bool = False
    is_self: bool = False
    organizer: bool = False
    resource: bool = False  # a meeting room, not a person


@dataclass(frozen=True, slots=True)
class Event:
    """One concrete occurrence on a calendar (recurring series arrive expanded).

    `start`/`end` are timezone-aware. All-day events have `all_day=True` and span local
    midnights in the user's timezone.
    """

    id: str  # unique per occurrence within its calendar
    calendar_id: str
    ical_uid: str
    start: datetime
    end: datetime
    summary: str = ""
    description: str = ""
    location: str = ""
    video_link: str = ""  # a conference link (Meet, Zoom, Teams...) when known
    all_day: bool = False
    status: str = "confirmed"  # confirmed | tentative | cancelled
    event_type: EventType = EventType.DEFAULT
    transparent: bool = False  # "show me as free"
    organizer: str = ""  # e-mail, lower-cased
    attendees: tuple[Attendee, ...] = ()
    series_id: str | None = None  # the recurring series this occurrence belongs to
    html_link: str = ""
    # The timezone the event was written in (client's zone for invitations), if known.
    tz_name: str = ""
    # calbot's own note on the user's copy (Google private extended properties), sorted
    notes: tuple[tuple[str, str], ...] = ()
    color_id: str = ""
    # The organizer as the source knows them (`classify.organizer_of` decides whether they
    # take part): their display name, and whether the organizer is the calendar this copy
    # is on (Google's `organizer.self`: the user, or one of the user's own calendars).
    organizer_name: str = ""
    organizer_self: bool = False
    # The guest list as read is incomplete (Google's `attendeesOmitted`, or guests hidden
    # from guests): others attend whom calbot cannot see.
    guests_hidden: bool = False

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def draft_key(self) -> str:
        """What a draft is about: the whole series for recurring meetings, else this event."""
        return f"{self.calendar_id}/{self.series_id or self.id}"


@dataclass(frozen=True, slots=True)
class Contact:
    email: str
    name: str
    title: str = ""  # form of address in the client's language: anh, chị, Tuan, Puan, Mr


@dataclass(frozen=True, slots=True)
class TimeRange:
    start: time
    end: time


# A client's business day when the config does not give one (SPEC §4): in the client's zone.
CLIENT_HOURS = TimeRange(time(9), time(18))
WEEKDAYS_MON_FRI: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0, as date.weekday()


@dataclass(frozen=True, slots=True)
class Client:
    name: str
    domains: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    tier: Tier = Tier.STANDARD
    language: str = "en"
    timezone: str = ""  # IANA name; "" = the user's
    chatty: bool = False
    skip: bool = False
    working_hours: TimeRange = CLIENT_HOURS  # in `timezone`
    working_days: tuple[int, ...] = WEEKDAYS_MON_FRI  # in `timezone`; Monday = 0
    contacts: tuple[Contact, ...] = ()

    def contact(self, email: str) -> Contact | None:
        for c in self.contacts:
            if c.email == email:
                return c
        return None


@dataclass(frozen=True, slots=True)
class Meeting:
    """A client meeting: an event plus who the client is and the user's role in it."""

    event: Event
    client: Client
    client_attendees: tuple[Attendee, ...]
    colleagues: tuple[Attendee, ...]  # other people from the user's own domains
    user_is_organizer: bool
    user_optional: bool


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    end: datetime


class Factor(NamedTuple):
    """One named part of a score. A tuple, not a dataclass: a scan makes many of these and
    a frozen dataclass is several times slower to build."""

    code: str
    points: int
    detail: Message  # what to tell the user, shown in their language


@dataclass(frozen=True, slots=True)
class Proposal:
    duration_minutes: int | None = None
    slots: tuple[Slot, ...] = ()
    delegate_to: str | None = None  # e-mail of the colleague


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    score: int
    factors: tuple[Factor, ...]
    proposal: Proposal | None = None
    # why this action (and not an earlier one in the order) — for the user, in `explain`
    why: Message | None = None
    # what the decision depends on; a change re-opens a draft the user deleted
    fingerprint: str = ""


@dataclass(frozen=True, slots=True)
class Draft:
    language: str
    to: tuple[str, ...]
    subject: str
    body: str
    private_notes: str = ""
    cc: tuple[str, ...] = ()
    to_names: tuple[str, ...] = field(default=())  # display names, same order as `to`
