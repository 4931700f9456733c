"""Read events from an iCalendar file or URL (`[source] kind = "ics"`, and `calbot demo`).

Parsing is `icalendar`'s, recurrence (RRULE, EXDATE, RDATE, RECURRENCE-ID overrides,
RANGE=THISANDFUTURE) is `recurring_ical_events`', and X-WR-TIMEZONE calendars are made
standard by `x_wr_timezone` first. We use the building blocks of `recurring_ical_events`
(`Series` per UID) rather than `of(cal).between()` for two reasons: a broken series must be
skipped *with a warning naming it* (`skip_bad_series` drops it silently), and `between()`
copies every occurrence's component, which we never need.

Every VEVENT is checked once when the file is loaded; one that cannot be read (no DTSTART,
garbage dates, end before start, a bad RRULE) is skipped with a line in `warnings` and the
rest goes on. A VEVENT that is usable but had other lines the parser dropped (e.g. an
ATTENDEE with control characters in its CN) is kept, with a warning naming those lines: a
missing attendee can hide a client meeting. The per-VEVENT fields (text, people, links) are
mapped once per component and shared by all occurrences of a series.
"""

from __future__ import annotations

import hashlib
import re
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import x_wr_timezone
from recurring_ical_events import EventAdapter, Occurrence, Series

from calbot.core.model import Attendee, Event, EventType, Response, Slot
from calbot.errors import SourceError

MAX_DOWNLOAD_BYTES = 256 * 1024 * 1024
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
# Properties whose garbage value makes the occurrence times unknowable.
_TIME_PROPERTIES = frozenset({"DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE"})
_TIME_PROPERTIES_WITH_RID = _TIME_PROPERTIES | {"RECURRENCE-ID"}
_PAD = timedelta(days=1)


class IcsSource:
    """A `CalendarSource` over one iCalendar file or http(s)/webcal URL, read at most once."""

    def __init__(
        self,
        location: str,
        user_email: str,
        user_tz: str,
        *,
        http_timeout: float = 30,
        calendar_id: str = "ics",
    ) -> None:
        self.location = location
        self.calendar_id = calendar_id
        self.warnings: list[str] = []
        self._user_email = user_email.strip().lower()
        try:
            self._zone = ZoneInfo(user_tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SourceError(f"{location}: unknown time zone {user_tz!r}") from exc
        self._timeout = http_timeout
        self._requests = 0
        self._data: bytes | None = None
        self._series: list[_Series] | None = None
        self._templates: dict[int, _Template] = {}
        self._warned: set[str] = set()

    @property
    def requests(self) -> int:
        return self._requests

    def extra_busy(self, start: datetime, end: datetime) -> list[Slot]:
        return []

    def events(self, start: datetime, end: datetime) -> Iterator[Event]:
        """Every occurrence overlapping [start, end), sorted by start. Loads on first use."""
        all_series = self._load()
        zone = self._zone
        span_start = (start - _PAD).astimezone(zone)
        span_end = (end + _PAD).astimezone(zone)
        found: list[Event] = []
        for series in all_series:
            try:
                for occurrence in series.between(span_start, span_end):
                    event = self._event(occurrence)
                    if event is not None and _overlaps(event, start, end):
                        found.append(event)
            except Exception as exc:  # one bad series must not stop the rest
                self._warn(series.label, f"cannot expand the recurrence ({_reason(exc)})")
        found.sort(key=lambda e: (e.start, e.id))
        return iter(found)

    # -- loading ----------------------------------------------------------------------

    def _load(self) -> list[_Series]:
        if self._series is None:
            if self._data is None:
                self._data = self._read()
            self._series = self._build_series(_parse(self.location, self._data))
        return self._series

    def _read(self) -> bytes:
        where = _redact(self.location)
        scheme = urllib.parse.urlsplit(self.location).scheme.lower()
        if scheme in ("http", "https", "webcal"):
            return self._fetch(where)
        if "://" in self.location:
            raise SourceError(f"{where}: only files and http(s)/webcal URLs can be read")
        path = Path(self.location).expanduser()
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise SourceError(f"{where}: no such file") from exc
        except IsADirectoryError as exc:
            raise SourceError(f"{where}: is a folder, not a calendar file") from exc
        except OSError as exc:
            raise SourceError(f"{where}: cannot read ({exc.strerror or exc})") from exc

    def _fetch(self, where: str) -> bytes:
        url = self.location
        if url.lower().startswith("webcal://"):
            url = "https://" + url[len("webcal://") :]
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            url, headers={"User-Agent": "calbot", "Accept": "text/calendar, */*"}
        )
        self._requests += 1
        try:
            with _OPENER.open(request, timeout=self._timeout) as response:
                data: bytes = response.read(MAX_DOWNLOAD_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise SourceError(f"{where}: HTTP {exc.code} {exc.reason}".rstrip()) from exc
        except urllib.error.URLError as exc:
            raise SourceError(f"{where}: cannot fetch ({_reason(exc.reason)})") from exc
        except TimeoutError as exc:
            raise SourceError(f"{where}: timed out after {self._timeout:g} s") from exc
        except (OSError, ValueError) as exc:
            raise SourceError(f"{where}: cannot fetch ({_reason(exc)})") from exc
        if len(data) > MAX_DOWNLOAD_BYTES:
            raise SourceError(f"{where}: larger than {MAX_DOWNLOAD_BYTES // 2**20} MiB")
        return data

    def _build_series(self, calendar: icalendar.Calendar) -> list[_Series]:
        groups: dict[str, list[_Adapter]] = defaultdict(list)
        for component in calendar.walk("VEVENT"):
            problem = self._check(component)
            if problem:
                self._warn(_label(component), problem)
                continue
            dropped = _dropped_lines(component)
            if dropped:
                self._note(f"{_label(component)}: ignored unreadable {', '.join(dropped)} line(s)")
            if "UID" not in component:
                component["UID"] = _synthetic_uid(component)
            groups[str(component["UID"])].append(_Adapter(component))
        result: list[_Series] = []
        for adapters in groups.values():
            try:
                result.append(_Series(adapters))
            except Exception as exc:  # skip the series, keep the calendar
                self._warn(_label(adapters[0].component), f"bad recurrence ({_reason(exc)})")
        return result

    def _check(self, component: icalendar.Component) -> str:
        """Why this VEVENT cannot be used, or "" when it can."""
        for name, message in getattr(component, "errors", ()):
            if name in _TIME_PROPERTIES_WITH_RID:
                return f"bad {name} value ({_one_line(str(message))})"
        raw_start = getattr(component.get("DTSTART"), "dt", None)
        if raw_start is None:
            return "no DTSTART"
        if not isinstance(raw_start, date):
            return "DTSTART is not a date or date-time"
        if "DTEND" in component:
            raw_end = getattr(component["DTEND"], "dt", None)
            if not isinstance(raw_end, date):
                return "DTEND is not a date or date-time"
        elif "DURATION" in component:
            duration = getattr(component["DURATION"], "dt", None)
            if not isinstance(duration, timedelta):
                return "DURATION is not a duration"
            raw_end = raw_start + duration
        else:
            return ""
        try:
            start, _ = _to_aware(raw_start, self._zone)
            end, _ = _to_aware(raw_end, self._zone)
        except (ValueError, OverflowError, TypeError) as exc:
            return f"unusable date ({_reason(exc)})"
        if end < start:
            return "ends before it starts"
        return ""

    # -- mapping ----------------------------------------------------------------------

    def _event(self, occurrence: _Occurrence) -> Event | None:
        component = occurrence.component
        template = self._templates.get(id(component))
        if template is None:
            template = self._templates[id(component)] = _template(component, self._user_email)
        try:
            start, all_day = _to_aware(occurrence.start, self._zone)
            end, _ = _to_aware(occurrence.end, self._zone)
            if all_day and end <= start:
                day = start.date() + timedelta(days=1)
                end = datetime(day.year, day.month, day.day, tzinfo=self._zone)
            event_id = template.uid
            if template.recurring:
                rid = component.get("RECURRENCE-ID") if occurrence.is_override else None
                event_id += "/" + _instance_key(rid.dt if rid else occurrence.start, self._zone)
        except (ValueError, OverflowError, TypeError, AttributeError) as exc:
            self._warn(template.label, f"unusable occurrence time ({_reason(exc)})")
            return None
        if end < start:
            self._warn(template.label, "ends before it starts")
            return None
        return Event(
            id=event_id,
            calendar_id=self.calendar_id,
            ical_uid=template.uid,
            start=start,
            end=end,
            summary=template.summary,
            description=template.description,
            location=template.location,
            video_link=template.video_link,
            all_day=all_day,
            status=template.status,
            event_type=template.event_type,
            transparent=template.transparent,
            organizer=template.organizer,
            attendees=template.attendees,
            series_id=template.uid if template.recurring else None,
            tz_name=template.tz_name,
        )

    def _warn(self, label: str, reason: str) -> None:
        self._note(f"skipped {label}: {reason}")

    def _note(self, text: str) -> None:
        line = f"{self.calendar_id}: {text}"
        if line not in self._warned:
            self._warned.add(line)
            self.warnings.append(line)


# -- recurring_ical_events plumbing -----------------------------------------------------


class _Adapter(EventAdapter):  # type: ignore[misc]
    def __init__(self, component: icalendar.Component) -> None:
        super().__init__(component)
        self.component = component


class _Occurrence(Occurrence):  # type: ignore[misc]
    """An occurrence that keeps its source VEVENT (no per-occurrence copy).

    `is_override`: the VEVENT itself is this occurrence (a RECURRENCE-ID override or a single
    event), as opposed to one computed from a rule, whose VEVENT (the series, or a
    RANGE=THISANDFUTURE override) is shared with other occurrences.
    """

    def __init__(
        self, adapter: _Adapter, start: Any, end: Any, sequence: int, *, is_override: bool
    ) -> None:
        super().__init__(adapter, start, end, sequence)
        self.component = adapter.component
        self.is_override = is_override


class _Series(Series):  # type: ignore[misc]
    def __init__(self, adapters: list[_Adapter]) -> None:
        super().__init__(adapters)
        self.label = _label(adapters[0].component)

    def occurrence(self, adapter: _Adapter, start: Any = None, end: Any = None) -> _Occurrence:
        return _Occurrence(adapter, start, end, self.sequence, is_override=start is None)


class _NoRedirectElsewhere(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s), never to file:// or anything else."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        if urllib.parse.urlsplit(newurl).scheme.lower() not in ("http", "https"):
            raise urllib.error.HTTPError(newurl, code, "redirect to a non-http URL", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener() -> urllib.request.OpenerDirector:
    opener = urllib.request.OpenerDirector()
    handlers: list[urllib.request.BaseHandler] = [
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        _NoRedirectElsewhere(),
        urllib.request.HTTPErrorProcessor(),
    ]
    for handler in handlers:
        opener.add_handler(handler)
    return opener


_OPENER = _opener()


# -- pure helpers -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Template:
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
    attendees: tuple[Attendee, ...]
    tz_name: str


def _parse(location: str, data: bytes) -> icalendar.Calendar:
    where = _redact(location)
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").upper()
    if not head.startswith(b"BEGIN:VCALENDAR"):
        raise SourceError(f"{where}: not an iCalendar file (no BEGIN:VCALENDAR)")
    try:
        calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except Exception as exc:  # any parser failure means unreadable
        raise SourceError(f"{where}: not valid iCalendar ({_reason(exc)})") from exc
    if not calendars:
        raise SourceError(f"{where}: not valid iCalendar (no calendar in it)")
    standard = []
    for calendar in calendars:
        scale = str(calendar.get("CALSCALE", "GREGORIAN")).upper()
        if scale != "GREGORIAN":
            raise SourceError(f"{where}: unsupported calendar scale {scale}")
        try:
            standard.append(x_wr_timezone.to_standard(calendar))
        except (ZoneInfoNotFoundError, ValueError):  # a bogus X-WR-TIMEZONE: use as written
            standard.append(calendar)
    if len(standard) == 1:
        only: icalendar.Calendar = standard[0]
        return only
    merged = icalendar.Calendar()
    for calendar in standard:
        merged.subcomponents.extend(calendar.subcomponents)
    return merged


def _template(component: icalendar.Component, user_email: str) -> _Template:
    uid = str(component["UID"])
    summary = _text(component.get("SUMMARY"))
    description = _text(component.get("DESCRIPTION"))
    location = _text(component.get("LOCATION"))
    organizer = _email(_first(component.get("ORGANIZER")))
    attendees = []
    seen: set[str] = set()
    for address in _all(component.get("ATTENDEE")):
        email = _email(address)
        if not email or email in seen:
            continue
        seen.add(email)
        params = getattr(address, "params", {})
        attendees.append(
            Attendee(
                email=email,
                name=_text(params.get("CN")),
                response=_PARTSTAT.get(_upper(params.get("PARTSTAT")), Response.NEEDS_ACTION),
                optional=_upper(params.get("ROLE")) in ("OPT-PARTICIPANT", "NON-PARTICIPANT"),
                is_self=email == user_email,
                organizer=email == organizer,
                resource=_upper(params.get("CUTYPE")) in ("RESOURCE", "ROOM"),
            )
        )
    video_link = _video_link(component, location, description)
    if video_link and (location == video_link or location.strip().lower() in VIDEO_LABELS):
        location = ""  # the "place" is the call itself
    status = _text(component.get("STATUS")).strip().lower()
    start_prop: Any = component["DTSTART"]
    tz_name = str(start_prop.params.get("TZID", ""))
    if not tz_name and isinstance(getattr(start_prop.dt, "tzinfo", None), ZoneInfo):
        tz_name = str(start_prop.dt.tzinfo.key)
    return _Template(
        uid=uid,
        label=_label(component),
        recurring=any(name in component for name in ("RRULE", "RDATE", "RECURRENCE-ID")),
        summary=summary,
        description=description,
        location=location,
        video_link=video_link,
        status=status if status in _STATUSES else "confirmed",
        event_type=_event_type(component),
        transparent=_text(component.get("TRANSP")).strip().upper() == "TRANSPARENT",
        organizer=organizer,
        attendees=tuple(attendees),
        tz_name=tz_name,
    )


_PARSED_NAME = re.compile(r"parts: '([A-Za-z0-9-]{1,40})")


def _dropped_lines(component: icalendar.Component) -> list[str]:
    """The names of the lines the parser could not read (time properties excluded: those
    make `_check` skip the event)."""
    names: set[str] = set()
    for name, message in getattr(component, "errors", ()):
        if not name:
            m = _PARSED_NAME.search(str(message))
            name = m.group(1) if m else "(unnamed)"
        if str(name).upper() not in _TIME_PROPERTIES_WITH_RID:
            names.add(str(name).upper())
    return sorted(names)


def _event_type(component: icalendar.Component) -> EventType:
    declared = _text(component.get("X-CALBOT-EVENT-TYPE")).strip().lower()
    if declared:
        return _EVENT_TYPES.get(declared, EventType.DEFAULT)
    if _text(component.get("X-MICROSOFT-CDO-BUSYSTATUS")).strip().upper() == "OOF":
        return EventType.OUT_OF_OFFICE
    return EventType.DEFAULT


def _video_link(component: icalendar.Component, location: str, description: str) -> str:
    conference = _text(component.get("X-GOOGLE-CONFERENCE")).strip()
    if conference:
        return conference
    url = _text(component.get("URL")).strip()
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


def _to_aware(value: date, zone: ZoneInfo) -> tuple[datetime, bool]:
    """(aware datetime, is a DATE). Floating times and dates are in the user's zone."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=zone), False
        if isinstance(value.tzinfo, ZoneInfo):
            return value, False
        if value.utcoffset() is None:
            return value.replace(tzinfo=zone), False
        return value.astimezone(zone), False
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=zone), True
    raise TypeError(f"not a date: {type(value).__name__}")


def _instance_key(value: date, zone: ZoneInfo) -> str:
    if not isinstance(value, datetime):
        return value.strftime("%Y%m%d")
    aware, _ = _to_aware(value, zone)
    return aware.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _overlaps(event: Event, start: datetime, end: datetime) -> bool:
    if event.start >= end:
        return False
    return event.end > start or (event.end == event.start and event.start >= start)


def _synthetic_uid(component: icalendar.Component) -> str:
    seed = f"{component['DTSTART'].to_ical()!r}|{_text(component.get('SUMMARY'))}"
    return "calbot-" + hashlib.sha256(seed.encode()).hexdigest()[:24]


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _all(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    value = _first(value)
    if value is None:
        return ""
    return str(value).replace("\x00", "")


def _upper(value: Any) -> str:
    return _text(value).strip().upper()


def _email(address: Any) -> str:
    text = _text(address).strip()
    if text[:7].lower() == "mailto:":
        text = text[7:]
    return text.strip().lower()


def _label(component: icalendar.Component) -> str:
    uid = _one_line(_text(component.get("UID"))) or "(no UID)"
    summary = _one_line(_text(component.get("SUMMARY")))
    return f"event {uid!r}" + (f" {summary!r}" if summary else "")


def _one_line(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reason(exc: object) -> str:
    return _one_line(str(exc) or type(exc).__name__, 160)


def _redact(location: str) -> str:
    """The location without a password in it (URLs like https://user:secret@host/...)."""
    parts = urllib.parse.urlsplit(location)
    if parts.password is None:
        return location
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
