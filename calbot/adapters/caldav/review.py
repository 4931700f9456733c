"""The review calendar on CalDAV (opt-in, `outputs.review_calendar = true` with a CalDAV
source): a "calbot review" calendar calbot makes (MKCALENDAR) in the user's calendar home,
with one event per drafted reply at the meeting's time, as on Google (the event's title,
description and hash come from the same `review_event` builder).

A `DraftSink` of kind `REVIEW`, named "review_calendar".

- **The calendar** is found by its name *and* calbot's own WebDAV property (`CALBOT_PROP`,
  set by the MKCALENDAR that made it), so a calendar the user happens to call "calbot review"
  is never written to; its URL is kept in the store (`Meta`, `META_KEY`), and a lost store
  finds it again with one PROPFIND of the calendar home. It is made by the first write only.
- **Each event** lives at a URL derived from the draft's Message-ID (`<mid hash>.ics`), so a
  lost state cannot make a second one for the same draft: `find` is one GET, and `adoptable`
  needs no request at all.
- **Versions** are ETags: an event the user edited has a new ETag (`user_edited`, never
  overwritten), one they deleted is gone (`user_deleted`). `update` writes with
  `If-Match` on the ETag calbot saw, and `DraftGone` when the event is no longer there.
- Private: no attendees (nobody is invited), `CLASS:PRIVATE`, `TRANSP:TRANSPARENT`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin
from xml.sax.saxutils import escape

import icalendar
from lxml import etree

from calbot.adapters.caldav.connection import Dav
from calbot.adapters.caldav.discovery import REVIEW_NAME
from calbot.adapters.caldav.webdav import _PARSER, ETAGS_PROPFIND, members_of
from calbot.adapters.google.review_event import event_body, event_hash, mid_hash
from calbot.core.messages import Message
from calbot.errors import ServiceError
from calbot.ports.sinks import DraftGone, Reply, SinkKind, Written

__all__ = ["CALBOT_PROP", "META_KEY", "CaldavReviewCalendar"]

META_KEY = "caldav.review_calendar"
CALBOT_NS = "urn:x-calbot:review"
CALBOT_PROP = f"{{{CALBOT_NS}}}review-calendar"
_HOME_PROPFIND = (
    '<?xml version="1.0" encoding="utf-8"?>'
    f'<d:propfind xmlns:d="DAV:" xmlns:cb="{CALBOT_NS}">'
    "<d:prop><d:displayname/><d:resourcetype/><cb:review-calendar/></d:prop></d:propfind>"
)


class CaldavReviewCalendar:
    """A `DraftSink` of kind REVIEW on a CalDAV server (see the module docstring)."""

    name = "review_calendar"
    kind = SinkKind.REVIEW
    tells_sent = False  # a review event is never sent

    def __init__(
        self,
        dav: Dav,
        *,
        labels: Mapping[str, str],
        tz_name: str,
        load_url: Callable[[], str | None],
        save_url: Callable[[str], None],
    ) -> None:
        self.warnings: list[Message] = []
        self._dav = dav
        self._labels = labels
        self._tz = tz_name
        self._load_url = load_url
        self._save_url = save_url
        self._url: str | None = None

    # -- the calendar -----------------------------------------------------------------

    @property
    def calendar_url(self) -> str | None:
        if self._url is None:
            self._url = self._load_url() or self._look_for_it()
        return self._url

    def _home(self) -> str:
        def home() -> str:
            principal = self._dav.client.principal()  # type: ignore[no-untyped-call]
            return str(principal.calendar_home_set.url)

        url: str = self._dav.call(home, what="discovering the calendar home")
        return url

    def _look_for_it(self) -> str | None:
        home = self._home()
        reply = self._dav.request(home, "PROPFIND", _HOME_PROPFIND, {"Depth": "1"})
        if reply.status != 207:
            raise ServiceError(f"{self._dav.url}: listing calendars: HTTP {reply.status}")
        root: Any = etree.fromstring(reply.body, _PARSER)
        for response in root.iter("{DAV:}response"):
            name = response.findtext(".//{DAV:}displayname") or ""
            mark = response.find(f".//{CALBOT_PROP}")
            if name.strip() == REVIEW_NAME and mark is not None and (mark.text or "").strip():
                href = str(response.findtext("{DAV:}href") or "").strip()
                url: str = urljoin(home, href)
                self._save_url(url)
                return url
        return None

    def _ensure_calendar(self) -> str:
        url = self.calendar_url
        if url is not None:
            return url
        home = self._home()
        url = home.rstrip("/") + "/calbot-review/"
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" '
            f'xmlns:cb="{CALBOT_NS}"><d:set><d:prop>'
            f"<d:displayname>{escape(REVIEW_NAME)}</d:displayname>"
            '<c:supported-calendar-component-set><c:comp name="VEVENT"/>'
            "</c:supported-calendar-component-set>"
            "<cb:review-calendar>1</cb:review-calendar>"
            "</d:prop></d:set></c:mkcalendar>"
        )
        reply = self._dav.request(url, "MKCALENDAR", body)
        if reply.status not in (200, 201):
            raise ServiceError(
                f"{self._dav.url}: making the {REVIEW_NAME!r} calendar: HTTP {reply.status}"
            )
        self._url = url
        self._save_url(url)
        return url

    # -- DraftSink --------------------------------------------------------------------

    def content_hash(self, reply: Reply) -> str:
        return event_hash(event_body(reply, self._labels, self._tz))

    def observe(self, refs: Sequence[str]) -> dict[str, str | None]:
        if not refs:
            return {}
        url = self.calendar_url
        if url is None:
            return dict.fromkeys(refs)
        reply = self._dav.request(url, "PROPFIND", ETAGS_PROPFIND, {"Depth": "1"})
        if reply.status in (404, 410):
            return dict.fromkeys(refs)
        if reply.status != 207:
            raise ServiceError(f"{self._dav.url}: listing {url}: HTTP {reply.status}")
        etags = {m.url: m.etag for m in members_of(reply.body, url)}
        return {ref: etags.get(ref) for ref in refs}

    def adoptable(self, known_refs: Collection[str], message_ids: Collection[str]) -> set[str]:
        url = self.calendar_url
        if url is None:
            return set()
        known = set(known_refs)
        return {m for m in message_ids if self._event_url(url, m) not in known}

    def find(self, message_id: str) -> Written | None:
        url = self.calendar_url
        if url is None:
            return None
        ref = self._event_url(url, message_id)
        reply = self._dav.request(ref, "GET")
        if reply.status in (404, 410):
            return None
        if reply.status != 200:
            raise ServiceError(f"{self._dav.url}: reading {ref}: HTTP {reply.status}")
        stored, seen = _hashes(reply.body)
        return Written(ref, _etag(reply.headers), content_hash=stored, edited=stored != seen)

    def create(self, reply: Reply) -> Written:
        url = self._ensure_calendar()
        ref = self._event_url(url, reply.message_id)
        return self._put(ref, reply, {})

    def update(self, ref: str, reply: Reply) -> Written:
        current = self.observe([ref]).get(ref)
        if current is None:
            raise DraftGone(ref)
        return self._put(ref, reply, {"If-Match": current})

    def delete(self, ref: str) -> None:
        reply = self._dav.request(ref, "DELETE")
        if reply.status not in (200, 204, 404, 410):
            raise ServiceError(f"{self._dav.url}: deleting {ref}: HTTP {reply.status}")

    def path_of(self, ref: str) -> Path | None:
        return None

    def sent(self, refs: Sequence[str]) -> set[str]:
        return set()  # a review event is never sent

    # -- writing ----------------------------------------------------------------------

    @staticmethod
    def _event_url(calendar_url: str, message_id: str) -> str:
        return f"{calendar_url.rstrip('/')}/{mid_hash(message_id)}.ics"

    def _put(self, ref: str, reply: Reply, headers: dict[str, str]) -> Written:
        body = event_body(reply, self._labels, self._tz)
        data = _to_ical(body, uid=ref.rsplit("/", 1)[-1].removesuffix(".ics"))
        answer = self._dav.request(
            ref, "PUT", data, {"Content-Type": "text/calendar; charset=utf-8", **headers}
        )
        if answer.status == 412:
            raise DraftGone(ref)  # changed or deleted since calbot looked
        if answer.status not in (200, 201, 204):
            raise ServiceError(f"{self._dav.url}: writing {ref}: HTTP {answer.status}")
        version = _etag(answer.headers) or (self.observe([ref]).get(ref) or "")
        content = str(body["extendedProperties"]["private"]["calbot_hash"])
        return Written(ref, version, content_hash=content)


def _etag(headers: Mapping[str, str]) -> str:
    for key, value in headers.items():
        if key.lower() == "etag":
            return str(value)
    return ""


def _to_ical(body: dict[str, Any], *, uid: str) -> str:
    """The review event as iCalendar: calbot's two hashes as X- properties."""
    cal: Any = icalendar.Calendar()
    cal.add("prodid", "-//calbot//review calendar//EN")
    cal.add("version", "2.0")
    ev: Any = icalendar.Event()
    ev.add("uid", uid)
    ev.add("dtstamp", datetime(2000, 1, 1, tzinfo=UTC))  # fixed: the content decides the ETag
    ev.add("summary", body["summary"])
    ev.add("description", body["description"])
    ev.add("dtstart", datetime.fromisoformat(body["start"]["dateTime"]).astimezone(UTC))
    ev.add("dtend", datetime.fromisoformat(body["end"]["dateTime"]).astimezone(UTC))
    ev.add("class", "PRIVATE")
    ev.add("transp", "TRANSPARENT")
    private = body["extendedProperties"]["private"]
    ev.add("x-calbot-mid", private["calbot_mid"])
    ev.add("x-calbot-hash", private["calbot_hash"])
    cal.add_component(ev)
    return str(cal.to_ical().decode("utf-8"))


def _hashes(data: bytes) -> tuple[str, str]:
    """(the hash calbot stored in the event, the hash of what the event shows now)."""
    ev: Any
    try:
        cal: Any = icalendar.Calendar.from_ical(data)
        ev = next(iter(cal.walk("VEVENT")))
    except (ValueError, StopIteration):
        return "", hashlib.sha256(data).hexdigest()
    shown = {
        "summary": str(ev.get("SUMMARY", "")),
        "description": str(ev.get("DESCRIPTION", "")),
        "start": {"dateTime": ev["DTSTART"].dt.isoformat()} if "DTSTART" in ev else {},
        "end": {"dateTime": ev["DTEND"].dt.isoformat()} if "DTEND" in ev else {},
    }
    return str(ev.get("X-CALBOT-HASH", "")), event_hash(shown)
