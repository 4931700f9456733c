"""Calendar API event JSON → `Event`: pure functions, no network, no clock (gcsa's serializer
layer). `GoogleCalendarSource` keeps `compact(item)` in the state store and turns it into an
`Event` with `to_event` on every scan.

What `to_event` reads (and nothing else: `EVENT_FIELDS` asks Google for exactly these):

- `start`/`end`: `dateTime` (RFC 3339 with an offset) → an aware datetime; when the item
  names a `timeZone` the datetime is shown in that zone and `Event.tz_name` records it (a
  client's invitation keeps the client's zone). A `dateTime` without an offset is read in
  that `timeZone`, else in the user's. `date` → an all-day event from the user's local
  midnight to the local midnight of the (exclusive) end date. A missing end means a
  zero-length event (one day for an all-day one), as in iCalendar.
- `status` (confirmed/tentative/cancelled), `eventType` (`fromGmail`, `birthday` and any
  type Google adds later → `EventType.OTHER`: busy when timed, never a client meeting),
  `transparency: transparent` (shown as free).
- `organizer.email`, `organizer.displayName` → `organizer_name`, `organizer.self` →
  `organizer_self` (the core decides whether the organizer takes part: a calendar never
  does), `attendees[]` (e-mail lower-cased; attendees without an e-mail are dropped: nobody
  can be matched or written to), `responseStatus`, `optional`, `self`, `organizer`,
  `resource`. `attendeesOmitted: true`, or `guestsCanSeeOtherGuests: false` on an
  invitation the user did not organize, → `guests_hidden`: the list may hold only the user,
  the other guests are hidden from them.
- `recurringEventId` → `series_id`, `iCalUID` (else the id), `hangoutLink` or the first
  `conferenceData` video entry point → `video_link`, `htmlLink`, `colorId`, and calbot's own
  keys (`NOTE_KEYS`) from `extendedProperties.private` → `Event.notes`.

Text is kept as Google sent it, except lone UTF-16 surrogates (JSON allows "\\ud800", no
UTF-8 encoder does): each becomes U+FFFD, so the cache, drafts and output can always encode it.

A broken item (not an object, no id, no start, an unreadable date, end before start) raises
`BadEvent` whose message names the event; the source skips it with a warning. A cancelled
item converts to None: nothing to show.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from calbot.adapters.google.event_times import MAPPING, Broken, overlaps, span
from calbot.core.model import Attendee, Event, EventType, Response
from calbot.core.untrusted import shortened

#: The `fields=` of every events.list: only what `to_event` and the sync read.
EVENT_FIELDS = (
    "nextPageToken,nextSyncToken,items(id,status,summary,description,location,start,end,"
    "attendees(email,displayName,self,responseStatus,optional,organizer,resource),"
    "organizer(email,displayName,self),attendeesOmitted,guestsCanSeeOtherGuests,"
    "recurringEventId,iCalUID,hangoutLink,"
    "conferenceData(entryPoints(uri,entryPointType)),eventType,transparency,htmlLink,"
    "extendedProperties/private,colorId)"
)

_TOP = frozenset(
    {
        "id",
        "status",
        "summary",
        "description",
        "location",
        "recurringEventId",
        "iCalUID",
        "hangoutLink",
        "eventType",
        "transparency",
        "htmlLink",
        "colorId",
        "attendeesOmitted",
        "guestsCanSeeOtherGuests",
    }
)
_TIME_KEYS = frozenset({"date", "dateTime", "timeZone"})
_ATTENDEE_KEYS = frozenset(
    {"email", "displayName", "self", "responseStatus", "optional", "organizer", "resource"}
)
_ORGANIZER_KEYS = frozenset({"email", "displayName", "self"})
_EMPTY = ("", None)  # left out of compact items
_EMPTY_FLAG = ("", None, False)  # left out of compact attendees (False: the default)
# The private extended properties calbot's calendar notes use (`notes.note_properties`).
NOTE_KEYS = ("calbot_action", "calbot_score", "calbot_reason", "calbot_draft", "calbot_fp")
_NOTE_KEYS = frozenset(NOTE_KEYS)
_RESPONSES = {r.value: r for r in Response}
_EVENT_TYPES = {
    "default": EventType.DEFAULT,
    "focusTime": EventType.FOCUS,
    "outOfOffice": EventType.OUT_OF_OFFICE,
    "workingLocation": EventType.WORKING_LOCATION,
}
_STATUSES = frozenset({"confirmed", "tentative", "cancelled"})
_LABEL_CHARS = 60
_SURROGATE = re.compile("[\ud800-\udfff]")


class BadEvent(ValueError):
    """An item that cannot become an `Event`; the message names it and says why."""


def compact(item: Mapping[str, Any], *, no_surrogates: bool = False) -> dict[str, Any]:
    """Only the fields calbot reads, for the cache (Google may send more than `fields=`
    asked for; a fake or a proxy may ignore `fields=` altogether). Empty values are left
    out. Never raises on odd shapes: `to_event` judges them later, with a warning.

    Runs once per item of every full sync, so it is written for speed: `_clean` is called
    only for text that is not ASCII (ASCII holds no surrogate). `no_surrogates`: the
    caller knows no text in the item holds one (`pages` looks at the answer's JSON), so
    an item Google already shaped as `fields=` asked (the usual case) is returned as it
    is, after a check at C speed: rebuilding it cost twice as much."""
    if no_surrogates and _is_compact(item):
        return item  # type: ignore[return-value]  # a dict: `_is_compact` checked
    out: dict[str, Any] = {}
    for k, v in item.items():  # one pass over what the item holds
        if k in _TOP:
            if v not in _EMPTY:
                out[k] = _clean(v) if type(v) is str and not v.isascii() else v
        elif k == "start" or k == "end":
            if v is None:
                continue
            if type(v) is dict or isinstance(v, Mapping):
                out[k] = _pick(v, _TIME_KEYS)
            else:
                out[k] = _clean(v)  # broken: kept so the warning can say so
        elif k == "attendees":
            if type(v) is list and v:
                out[k] = [
                    _pick(a, _ATTENDEE_KEYS, _EMPTY_FLAG)
                    for a in v
                    if type(a) is dict or isinstance(a, Mapping)
                ]
        elif k == "organizer":
            if type(v) is dict or isinstance(v, Mapping):
                kept = _pick(v, _ORGANIZER_KEYS)
                if kept:
                    out[k] = kept
        elif k == "conferenceData":
            if v is not None and (video := _conference_video(v)):
                out[k] = {"entryPoints": [{"entryPointType": "video", "uri": video}]}
        elif k == "extendedProperties" and v is not None and (notes := _private_notes(v)):
            out[k] = {"private": dict(notes)}
    return out


# What a compact item may hold with nothing to rebuild: conferenceData and
# extendedProperties are always rebuilt (rare; only their video link and notes are kept).
_AS_IS = _TOP | {"start", "end", "attendees", "organizer"}


def _is_compact(item: Mapping[str, Any]) -> bool:
    """Whether `compact` would give an equal item, in the same key order (the cache's JSON
    text is the same), text left aside: every key one it keeps, no empty value where it
    drops them, start/end/attendees/organizer in the shape it keeps."""
    if type(item) is not dict or not _AS_IS.issuperset(item):
        return False
    values = item.values()
    if "" in values or None in values:
        return False
    get = item.get
    for key in ("start", "end"):
        when = get(key)
        if when is not None and (type(when) is not dict or not _TIME_KEYS.issuperset(when)):
            return False
    attendees = get("attendees")
    if attendees is not None:
        if type(attendees) is not list or not attendees:
            return False
        for a in attendees:
            if type(a) is not dict or not _ATTENDEE_KEYS.issuperset(a):
                return False
            kept = a.values()
            if "" in kept or None in kept or False in kept:  # as `_EMPTY_FLAG`: 0 too
                return False
    organizer = get("organizer")
    return organizer is None or (
        type(organizer) is dict and bool(organizer) and _ORGANIZER_KEYS.issuperset(organizer)
    )


def to_event(
    item: Mapping[str, Any],
    calendar_id: str,
    user_email: str,
    user_tz: tzinfo | str,
    *,
    within: tuple[datetime, datetime] | None = None,
) -> Event | None:
    """The `Event` for one Calendar API item; None for a cancelled one, or for one outside
    `within` = [start, end) when given (checked before the rest is read: a scan converts
    only what it needs). Raises `BadEvent`."""
    if not isinstance(item, MAPPING):
        raise BadEvent(f"an item that is not an event object ({type(item).__name__})")
    get = item.get
    event_id = get("id")
    if not isinstance(event_id, str) or not event_id:
        raise BadEvent(f"{event_label(item)}: no id")
    status = get("status")
    if status == "cancelled":
        return None
    zone = ZoneInfo(user_tz) if isinstance(user_tz, str) else user_tz
    try:
        start, end, all_day, tz_name = span(item, zone)
    except Broken as exc:
        raise BadEvent(f"{event_label(item)}: {exc}") from None
    if within is not None and not overlaps(start, end, *within):
        return None
    me = user_email.strip().lower()
    organizer = get("organizer")
    if not isinstance(organizer, MAPPING):
        organizer = {}
    organizer_self = organizer.get("self") is True
    event_type = get("eventType")
    attendees = get("attendees")
    notes = get("extendedProperties")
    return Event(
        id=_clean(event_id),
        calendar_id=calendar_id,
        ical_uid=_text(get("iCalUID")) or _clean(event_id),
        start=start,
        end=end,
        summary=_text(get("summary")),
        description=_text(get("description")),
        location=_text(get("location")),
        video_link=_video_link(item),
        all_day=all_day,
        status=status if isinstance(status, str) and status in _STATUSES else "confirmed",
        event_type=(
            _EVENT_TYPES.get(event_type, EventType.OTHER)
            if isinstance(event_type, str)
            else EventType.DEFAULT
        ),
        transparent=get("transparency") == "transparent",
        organizer=_email(organizer.get("email")),
        attendees=_attendees(attendees, me) if attendees else (),
        series_id=_text(get("recurringEventId")) or None,
        html_link=_text(get("htmlLink")),
        tz_name=tz_name,
        notes=_private_notes(notes) if notes is not None else (),
        color_id=_text(get("colorId")),
        organizer_name=_text(organizer.get("displayName")),
        organizer_self=organizer_self,
        guests_hidden=get("attendeesOmitted") is True
        or (get("guestsCanSeeOtherGuests") is False and not organizer_self),
    )


def event_label(item: object) -> str:
    """How a warning names an item: its title (one line, shortened) and id."""
    if not isinstance(item, MAPPING):
        return "an item"
    summary = shortened(_text(item.get("summary")), _LABEL_CHARS)
    event_id = item.get("id")
    ident = (
        f"id {' '.join(_text(event_id).split())[:100]}" if isinstance(event_id, str) else "no id"
    )
    return f"{summary!r} ({ident})" if summary else f"event ({ident})"


# -- helpers ----------------------------------------------------------------------------


def _pick(
    data: Mapping[str, Any], keys: frozenset[str], drop: tuple[Any, ...] = ()
) -> dict[str, Any]:
    """The entries of `data` whose key is in `keys`, but for values in `drop`, text
    cleaned (`_clean` called only for text that is not ASCII). Runs for several objects
    of every item of a full sync: it walks what `data` holds (a few entries), not `keys`."""
    out: dict[str, Any] = {}
    for k, v in data.items():
        if k in keys and v not in drop:
            out[k] = _clean(v) if type(v) is str and not v.isascii() else v
    return out


def _clean(value: Any) -> Any:
    """A string without lone surrogates (each becomes U+FFFD); anything else as it is."""
    if isinstance(value, str) and not value.isascii() and _SURROGATE.search(value):
        return _SURROGATE.sub("\ufffd", value)
    return value


def _text(value: object) -> str:
    # runs for every text field of every event converted: ASCII (most text) needs no look
    if type(value) is str and value.isascii():
        return value
    return _clean(value) if isinstance(value, str) else ""


def _email(value: object) -> str:
    return _text(value).strip().lower()


# Attendees as converted, by what they were read from: the same people come back in event
# after event (a series, a client's team), and an `Attendee` is immutable, so one object
# serves them all (a third of the time of converting an event, and less memory).
_PEOPLE: dict[tuple[object, ...], Attendee | None] = {}
_PEOPLE_MAX = 50_000  # entries; emptied when full (memory stays bounded)


def _attendees(raw: object, me: str) -> tuple[Attendee, ...]:
    if not isinstance(raw, list):
        return ()
    people = []
    known = _PEOPLE
    for a in raw:
        if type(a) is not dict and not isinstance(a, MAPPING):
            continue
        get = a.get
        key = (
            me,
            get("email"),
            get("displayName"),
            get("responseStatus"),
            get("optional") is True,  # as read below: 1 == True, but only True counts
            get("self") is True,
            get("organizer") is True,
            get("resource") is True,
        )
        try:
            person = known[key]
        except KeyError:
            person = _attendee(a, me)
            if len(known) >= _PEOPLE_MAX:
                known.clear()
            known[key] = person
        except TypeError:  # a value that cannot be a key (a list where text belongs)
            person = _attendee(a, me)
        if person is not None:
            people.append(person)
    return tuple(people)


def _attendee(a: Mapping[str, Any], me: str) -> Attendee | None:
    email = _email(a.get("email"))
    if not email:
        return None
    response = a.get("responseStatus")
    return Attendee(
        email=email,
        name=_text(a.get("displayName")),
        response=_RESPONSES.get(response, Response.NEEDS_ACTION)
        if isinstance(response, str)
        else Response.NEEDS_ACTION,
        optional=a.get("optional") is True,
        is_self=a.get("self") is True or (bool(me) and email == me),
        organizer=a.get("organizer") is True,
        resource=a.get("resource") is True,
    )


def _video_link(item: Mapping[str, Any]) -> str:
    link = _text(item.get("hangoutLink"))
    return link or _conference_video(item.get("conferenceData"))


def _conference_video(data: object) -> str:
    if not isinstance(data, MAPPING):
        return ""
    points = data.get("entryPoints")
    if not isinstance(points, list):
        return ""
    for point in points:
        if isinstance(point, MAPPING) and point.get("entryPointType") == "video":
            uri = _text(point.get("uri"))
            if uri.startswith(("https://", "http://")):
                return uri
    return ""


def _private_notes(data: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(data, MAPPING):
        return ()
    private = data.get("private")
    if not isinstance(private, MAPPING):
        return ()
    return tuple(
        sorted((k, _clean(v)) for k, v in private.items() if k in _NOTE_KEYS and isinstance(v, str))
    )
