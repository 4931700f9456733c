"""What every occurrence of one VEVENT shares — its text, people, links, status and type —
mapped once per component."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from calbot.adapters.ics.values import email_of, every, first, label, text_of, upper_of
from calbot.core.model import Attendee, EventType, Response

VIDEO_HOSTS = (
    "meet.google.com",
    "zoom.us",
    "teams.microsoft.com",
    "teams.live.com",
    "whereby.com",
    "webex.com",
    "meet.jit.si",
    # and any host with "jitsi" in its name (self-hosted Jitsi Meet)
)
# LOCATION values that name a video platform rather than a place.
VIDEO_LABELS = frozenset(
    {"zoom", "zoom meeting", "google meet", "microsoft teams meeting", "microsoft teams"}
    | {"teams", "webex", "whereby", "jitsi", "jitsi meet", "online", "video call"}
)
_HTTPS_URL = re.compile(r"https://[^\s<>\"'`)\]}|\\]+", re.IGNORECASE)
_PARTSTAT = {
    "ACCEPTED": Response.ACCEPTED,
    "DECLINED": Response.DECLINED,
    "DELEGATED": Response.DECLINED,  # handed to someone else: the attendee won't come
    "TENTATIVE": Response.TENTATIVE,
    "NEEDS-ACTION": Response.NEEDS_ACTION,
}
_EVENT_TYPES = {t.value.lower(): t for t in EventType}
_STATUSES = frozenset({"confirmed", "tentative", "cancelled"})


@dataclass(frozen=True, slots=True)
class Template:
    """What every occurrence of one VEVENT shares."""

    uid: str
    label: str
    recurring: bool
    summary: str
    description: str
    location: str
    video_link: str
    status: str
    event_type: EventType
    transparent: bool
    organizer: str
    organizer_name: str
    attendees: tuple[Attendee, ...]
    tz_name: str


def template(component: icalendar.Component, user_email: str) -> Template:
    uid = str(component["UID"])
    summary = text_of(component.get("SUMMARY"))
    description = text_of(component.get("DESCRIPTION"))
    location = text_of(component.get("LOCATION"))
    # ORGANIZER is often not repeated as an ATTENDEE; the core counts it as a participant
    # unless it is the user or a calendar (`classify.organizer_of`).
    organizer_prop = first(component.get("ORGANIZER"))
    organizer = email_of(organizer_prop)
    attendees = []
    seen: set[str] = set()
    for address in every(component.get("ATTENDEE")):
        email = email_of(address)
        if not email or email in seen:
            continue
        seen.add(email)
        params = getattr(address, "params", {})
        attendees.append(
            Attendee(
                email=email,
                name=text_of(params.get("CN")),
                response=_PARTSTAT.get(upper_of(params.get("PARTSTAT")), Response.NEEDS_ACTION),
                optional=upper_of(params.get("ROLE")) in ("OPT-PARTICIPANT", "NON-PARTICIPANT"),
                is_self=email == user_email,
                organizer=email == organizer,
                resource=upper_of(params.get("CUTYPE")) in ("RESOURCE", "ROOM"),
            )
        )
    video_link = _video_link(component, location, description)
    if video_link and (location == video_link or location.strip().lower() in VIDEO_LABELS):
        location = ""  # the "place" is the call itself
    status = text_of(component.get("STATUS")).strip().lower()
    start_prop: Any = component["DTSTART"]
    tz_name = str(start_prop.params.get("TZID", ""))
    if not tz_name and isinstance(getattr(start_prop.dt, "tzinfo", None), ZoneInfo):
        tz_name = str(start_prop.dt.tzinfo.key)
    return Template(
        uid=uid,
        label=label(component),
        recurring=any(name in component for name in ("RRULE", "RDATE", "RECURRENCE-ID")),
        summary=summary,
        description=description,
        location=location,
        video_link=video_link,
        status=status if status in _STATUSES else "confirmed",
        event_type=_event_type(component),
        transparent=text_of(component.get("TRANSP")).strip().upper() == "TRANSPARENT",
        organizer=organizer,
        organizer_name=text_of(getattr(organizer_prop, "params", {}).get("CN")),
        attendees=tuple(attendees),
        tz_name=tz_name,
    )


def _event_type(component: icalendar.Component) -> EventType:
    declared = text_of(component.get("X-CALBOT-EVENT-TYPE")).strip().lower()
    if declared:
        return _EVENT_TYPES.get(declared, EventType.DEFAULT)
    if text_of(component.get("X-MICROSOFT-CDO-BUSYSTATUS")).strip().upper() == "OOF":
        return EventType.OUT_OF_OFFICE
    return EventType.DEFAULT


def _video_link(component: icalendar.Component, location: str, description: str) -> str:
    conference = text_of(component.get("X-GOOGLE-CONFERENCE")).strip()
    if conference:
        return conference
    url = text_of(component.get("URL")).strip()
    if url.lower().startswith("https://") and _is_video_url(url):
        return url
    for text in (location, description):
        if "https://" not in text.lower():
            continue
        for match in _HTTPS_URL.finditer(text):
            candidate = match.group(0).rstrip(".,;:!?")
            if _is_video_url(candidate):
                return candidate
    return ""


def _is_video_url(url: str) -> bool:
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    if "jitsi" in host:
        return True
    return any(host == h or host.endswith("." + h) for h in VIDEO_HOSTS)
