"""The hostile events of the bad-input tests (`tests/system/bad_input/`), for both sources:
an .ics calendar and the fake Google server, each with one control meeting (Acme) beside the
event with attacker-chosen text (Hostile Ltd), on next Tuesday in Berlin."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from builders import GOOGLE_USER, next_tuesday

TZ = ZoneInfo("Europe/Berlin")
ME = GOOGLE_USER  # the address google_toml configures
CONTROL_TITLE = "Acme quarterly planning"


DAY = next_tuesday()


@dataclass
class Hostile:
    """One event with attacker-chosen text, for both sources."""

    title: str = "Hostile review"
    name: str = "Olivia"  # the organizer's display name (greeted in the draft)
    description: str = ""
    location: str = "Hostile HQ, 1 Main Street"
    uid: str = "hostile-1"
    attendees: int = 0  # extra hostile attendees
    start: tuple[int, int] | None = (14, 0)  # hour, minute on DAY
    end: tuple[int, int] | None = (16, 0)
    floating: bool = False  # a local time with no zone
    extra_ics: str = ""  # raw lines added to the VEVENT
    google: dict[str, Any] = field(default_factory=dict)  # raw overrides


def _ics_escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _ics_param(text: str) -> str:
    # A quoted parameter holds no '"' and no control character (RFC 5545 §3.1; the parser
    # drops such a line: see test_ics_unreadable_attendee_line_is_a_warning). Line breaks
    # go as RFC 6868's ^n, as a hostile calendar would write them.
    text = text.replace('"', "'").replace("\r\n", "^n").replace("\n", "^n")
    return '"' + "".join(ch for ch in text if ch >= " " and ch != "\x7f") + '"'


def _fold(line: str) -> str:
    raw = line.encode("utf-8")
    if len(raw) <= 75:
        return line
    out, chunk = [], b""
    for ch in line:
        b = ch.encode("utf-8", "surrogatepass")
        if len(chunk) + len(b) > 74:
            out.append(chunk.decode("utf-8", "surrogatepass"))
            chunk = b""
        chunk += b
    out.append(chunk.decode("utf-8", "surrogatepass"))
    return "\r\n ".join(out)


def _stamp(hm: tuple[int, int]) -> str:
    return f"{DAY:%Y%m%d}T{hm[0]:02d}{hm[1]:02d}00"


def vevent(
    uid: str,
    title: str,
    org: str,
    org_name: str,
    start: tuple[int, int] | None,
    end: tuple[int, int] | None,
    *,
    description: str = "",
    location: str = "",
    attendees: int = 0,
    floating: bool = False,
    extra: str = "",
) -> str:
    tz = "" if floating else ";TZID=Europe/Berlin"
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20260101T000000Z",
    ]
    if start:
        lines.append(f"DTSTART{tz}:{_stamp(start)}")
    if end:
        lines.append(f"DTEND{tz}:{_stamp(end)}")
    lines.append(f"SUMMARY:{_ics_escape(title)}")
    if description:
        lines.append(f"DESCRIPTION:{_ics_escape(description)}")
    if location:
        lines.append(f"LOCATION:{_ics_escape(location)}")
    lines.append(f"ORGANIZER;CN={_ics_param(org_name)}:mailto:{org}")
    lines.append(f"ATTENDEE;CN={_ics_param(org_name)};PARTSTAT=ACCEPTED:mailto:{org}")
    lines.append(f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{ME}")
    domain = org.partition("@")[2]
    lines += [
        f"ATTENDEE;CN={_ics_param(f'{org_name} {i}')};PARTSTAT=NEEDS-ACTION:mailto:p{i}@{domain}"
        for i in range(attendees)
    ]
    if extra:
        lines.append(extra)
    lines.append("END:VEVENT")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def control_vevent() -> str:
    return vevent(
        "control-1",
        CONTROL_TITLE,
        "ana@acme.example",
        "Ana",
        (10, 0),
        (12, 0),
        location="Acme office, Berlin",
    )


def calendar_bytes(*events: str) -> bytes:
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calbot tests//EN\r\n"
    return (head + "".join(events) + "END:VCALENDAR\r\n").encode("utf-8", "surrogatepass")


def ics_calendar(h: Hostile) -> bytes:
    hostile = vevent(
        h.uid,
        h.title,
        "olivia@hostile.example",
        h.name,
        h.start,
        h.end,
        description=h.description,
        location=h.location,
        attendees=h.attendees,
        floating=h.floating,
        extra=h.extra_ics,
    )
    return calendar_bytes(control_vevent(), hostile)


def google_time(hm: tuple[int, int], floating: bool = False) -> dict[str, str]:
    moment = datetime(DAY.year, DAY.month, DAY.day, hm[0], hm[1], tzinfo=TZ)
    if floating:
        return {"dateTime": moment.replace(tzinfo=None).isoformat()}
    return {"dateTime": moment.isoformat(), "timeZone": "Europe/Berlin"}


def google_event(
    title: str,
    org: str,
    org_name: str,
    start: tuple[int, int] | None,
    end: tuple[int, int] | None,
    *,
    description: str = "",
    location: str = "",
    attendees: int = 0,
    floating: bool = False,
) -> dict[str, Any]:
    domain = org.partition("@")[2]
    ev: dict[str, Any] = {
        "summary": title,
        "organizer": {"email": org, "displayName": org_name},
        "attendees": [
            {
                "email": org,
                "displayName": org_name,
                "organizer": True,
                "responseStatus": "accepted",
            },
            {"email": ME, "self": True, "responseStatus": "accepted"},
            *(
                {"email": f"p{i}@{domain}", "displayName": f"{org_name} {i}"}
                for i in range(attendees)
            ),
        ],
    }
    if start:
        ev["start"] = google_time(start, floating)
    if end:
        ev["end"] = google_time(end, floating)
    if description:
        ev["description"] = description
    if location:
        ev["location"] = location
    return ev


def add_google_events(google: Any, h: Hostile) -> str:
    google.user_email = ME
    google.add_event(
        id="control1",
        **google_event(
            CONTROL_TITLE,
            "ana@acme.example",
            "Ana",
            (10, 0),
            (12, 0),
            location="Acme office, Berlin",
        ),
    )
    ev = google_event(
        h.title,
        "olivia@hostile.example",
        h.name,
        h.start or (14, 0),
        h.end,
        description=h.description,
        location=h.location,
        attendees=h.attendees,
        floating=h.floating,
    )
    ev.update(h.google)
    added = google.add_event(id="hostile1", **ev)
    if h.end is None:
        google.update_event("primary", "hostile1", end=None)  # no end at all
    return str(added["id"])
