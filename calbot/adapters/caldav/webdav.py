"""The few WebDAV/CalDAV request bodies calbot sends and what it reads back from a
207 Multi-Status: plain functions over bytes, no network (unit-testable).

Server XML is parsed with entities and network access off (it is data, not trusted)."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from xml.sax.saxutils import escape

from lxml import etree

__all__ = [
    "CALENDARS_PROPFIND",
    "ETAGS_PROPFIND",
    "Calendar",
    "Member",
    "calendars_of",
    "members_of",
    "multiget_body",
    "sync_body",
    "sync_token_of",
]

DAV = "{DAV:}"
CAL = "{urn:ietf:params:xml:ns:caldav}"
CS = "{http://calendarserver.org/ns/}"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)

CALENDARS_PROPFIND = """<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <d:prop><d:displayname/><d:resourcetype/><c:supported-calendar-component-set/>
  <d:supported-report-set/></d:prop>
</d:propfind>"""

ETAGS_PROPFIND = """<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><d:resourcetype/></d:prop></d:propfind>"""


@dataclass(frozen=True, slots=True)
class Calendar:
    url: str
    name: str
    events: bool  # holds VEVENTs (or does not say)
    sync: bool  # offers RFC 6578 sync-collection


@dataclass(frozen=True, slots=True)
class Member:
    """One calendar object in a 207: its URL, its ETag, its iCalendar text when sent, and
    whether the server says it is gone (404 in a sync-collection answer)."""

    url: str
    etag: str
    data: str | None
    gone: bool = False


def sync_body(token: str | None, *, with_data: bool) -> str:
    data = "<c:calendar-data/>" if with_data else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<d:sync-collection xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
        f"<d:sync-token>{escape(token or '')}</d:sync-token><d:sync-level>1</d:sync-level>"
        f"<d:prop><d:getetag/>{data}</d:prop></d:sync-collection>"
    )


def multiget_body(hrefs: list[str]) -> str:
    links = "".join(f"<d:href>{escape(urllib.parse.urlsplit(h).path)}</d:href>" for h in hrefs)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
        f"<d:prop><d:getetag/><c:calendar-data/></d:prop>{links}</c:calendar-multiget>"
    )


def _root(body: bytes) -> etree._Element:
    try:
        return etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not a WebDAV answer ({exc})") from None


def _responses(body: bytes, base: str) -> list[tuple[str, int, etree._Element | None]]:
    """(absolute href, status of the props found, the 200 prop element) per response."""
    out = []
    for response in _root(body).iter(f"{DAV}response"):
        href = response.findtext(f"{DAV}href") or ""
        url = urllib.parse.urljoin(base, href.strip())
        status_text = response.findtext(f"{DAV}status")
        found: etree._Element | None = None
        status = _status(status_text) if status_text else 200
        for propstat in response.iter(f"{DAV}propstat"):
            if _status(propstat.findtext(f"{DAV}status") or "") == 200:
                found = propstat.find(f"{DAV}prop")
        out.append((url, status, found))
    return out


def _status(text: str) -> int:
    parts = text.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def calendars_of(body: bytes, base: str) -> list[Calendar]:
    """The calendar collections in a Depth 1 PROPFIND of the calendar home."""
    found = []
    for url, _, prop in _responses(body, base):
        if prop is None or prop.find(f"{DAV}resourcetype/{CAL}calendar") is None:
            continue
        components = prop.find(f"{CAL}supported-calendar-component-set")
        names = (
            {c.get("name", "").upper() for c in components.iter(f"{CAL}comp")}
            if components is not None
            else set()
        )
        reports = prop.find(f"{DAV}supported-report-set")
        sync = reports is not None and reports.find(f".//{DAV}sync-collection") is not None
        found.append(
            Calendar(
                url=url,
                name=(prop.findtext(f"{DAV}displayname") or "").strip(),
                events=not names or "VEVENT" in names,
                sync=sync,
            )
        )
    return found


def members_of(body: bytes, base: str) -> list[Member]:
    """The calendar objects in a 207 (sync-collection, multiget or Depth 1 PROPFIND); the
    collection itself and sub-collections are left out."""
    out = []
    collection = base.rstrip("/")
    for url, status, prop in _responses(body, base):
        if url.rstrip("/") == collection:
            continue
        if status == 404:
            out.append(Member(url, "", None, gone=True))
            continue
        if prop is None or prop.find(f"{DAV}resourcetype/{DAV}collection") is not None:
            continue
        data = prop.findtext(f"{CAL}calendar-data")
        out.append(Member(url, (prop.findtext(f"{DAV}getetag") or "").strip(), data))
    return out


def truncated(body: bytes, base: str) -> bool:
    """Whether a sync-collection answer was cut short (RFC 6578 §3.6: the collection's
    own response carries 507): its token then continues where it stopped."""
    collection = base.rstrip("/")
    return any(
        url.rstrip("/") == collection and status == 507 for url, status, _ in _responses(body, base)
    )


def sync_token_of(body: bytes) -> str | None:
    token = _root(body).findtext(f"{DAV}sync-token")
    return token.strip() if token else None
