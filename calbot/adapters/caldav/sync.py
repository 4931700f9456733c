"""One calendar's objects brought up to date in the state store's event cache, keyed by the
calendar's URL: each cached item is `{"id": object URL, "etag": ..., "ics": iCalendar text}`.

- With RFC 6578 `sync-collection` (the calendar lists it in `supported-report-set`): one
  REPORT from the stored sync token asking for ETags and calendar data, so an unchanged
  calendar costs that one request and a changed one usually no more (objects a server
  sends without data are fetched with one `calendar-multiget` per 100). An invalid or
  expired token (403/409 `valid-sync-token`, or a 400/403 on a token at all) means one full
  resync from an empty token, in the same scan. An answer cut short (507 on the collection,
  RFC 6578 §3.6) is continued with the token it returned, up to `_MAX_PAGES` requests.
- Without it: one Depth 1 PROPFIND of the ETags, compared with the cache; changed objects
  come by `calendar-multiget`, missing ones are dropped.

404 or 410 on the calendar: `CalendarGone` (the source discovers the calendars again).
`writable=False` (a dry run): the same requests, nothing written."""

from __future__ import annotations

from calbot.adapters.caldav.connection import Dav
from calbot.adapters.caldav.webdav import (
    ETAGS_PROPFIND,
    Member,
    members_of,
    multiget_body,
    sync_body,
    sync_token_of,
    truncated,
)
from calbot.errors import ServiceError
from calbot.ports.store import SyncCache

__all__ = ["ETAG_MODE", "CalendarGone", "sync_calendar"]

ETAG_MODE = "calbot:etags"  # the stored "token" of a calendar synced by ETags
_BATCH = 100
_BAD_TOKEN = (400, 403, 409)
_MAX_PAGES = 50  # continuations of a truncated sync-collection answer, at most

Item = dict[str, object]


class CalendarGone(Exception):
    """The calendar answered 404 or 410."""


def sync_calendar(
    dav: Dav, url: str, *, sync: bool, cache: SyncCache, writable: bool
) -> dict[str, Item]:
    """The calendar's objects (object URL → cached item), up to date."""
    items = {str(i["id"]): i for i in cache.iter_cached_events(url)}
    token = cache.sync_token(url)
    if sync:
        start_from = token if token and token != ETAG_MODE else None
        members, new_token, full = _sync_collection(dav, url, start_from)
    else:
        members, full = _propfind_etags(dav, url), True
        new_token = ETAG_MODE
        # ETag mode: keep what is unchanged, fetch only what differs
        unchanged = [
            Member(m.url, m.etag, str(items[m.url]["ics"]))
            for m in members
            if m.url in items and m.etag and items[m.url].get("etag") == m.etag
        ]
        changed = [m for m in members if m not in unchanged and m.url not in _urls(unchanged)]
        members = unchanged + changed
    members = _with_data(dav, url, members)
    upserts: list[Item] = [
        {"id": m.url, "etag": m.etag, "ics": m.data}
        for m in members
        if not m.gone and m.data is not None
    ]
    if full:
        result = {str(u["id"]): u for u in upserts}
        removed: list[str] = []
    else:
        result = dict(items)
        removed = [m.url for m in members if m.gone]
        for gone in removed:
            result.pop(gone, None)
        result.update((str(u["id"]), u) for u in upserts)
    unchanged_cache = not full and not upserts and not removed and new_token == token
    if writable and not unchanged_cache:
        with cache.transaction():
            if full:
                cache.drop_calendar(url)
                cache.put_events(url, upserts)
            else:
                deletions: list[Item] = [{"id": r, "status": "cancelled"} for r in removed]
                cache.put_events(url, [*upserts, *deletions])
            cache.put_sync_token(url, new_token)
    return result


def _urls(members: list[Member]) -> set[str]:
    return {m.url for m in members}


def _sync_collection(
    dav: Dav, url: str, token: str | None
) -> tuple[list[Member], str | None, bool]:
    """(members, the new token, whether this was a full sync)."""
    reply = dav.request(url, "REPORT", sync_body(token, with_data=True), {"Depth": "0"})
    full = token is None
    if token is not None and reply.status in _BAD_TOKEN:
        # the token is no longer valid: one full resync
        reply = dav.request(url, "REPORT", sync_body(None, with_data=True), {"Depth": "0"})
        full = True
    found: dict[str, Member] = {}  # by URL: a later page's word on an object wins
    for _ in range(_MAX_PAGES):
        if reply.status in (404, 410):
            raise CalendarGone(url)
        if reply.status != 207:
            raise ServiceError(f"{dav.url}: syncing {url}: HTTP {reply.status}")
        try:
            found.update((m.url, m) for m in members_of(reply.body, url))
            new_token, cut = sync_token_of(reply.body), truncated(reply.body, url)
        except ValueError as exc:
            raise ServiceError(f"{dav.url}: syncing {url}: {exc}") from None
        if not cut:
            return list(found.values()), new_token, full
        if not new_token or new_token == token:  # no progress: asking again would loop
            break
        # the server stopped early (507): the rest, from where it stopped
        token = new_token
        reply = dav.request(url, "REPORT", sync_body(token, with_data=True), {"Depth": "0"})
    raise ServiceError(f"{dav.url}: syncing {url}: the server keeps cutting its answer short (507)")


def _propfind_etags(dav: Dav, url: str) -> list[Member]:
    reply = dav.request(url, "PROPFIND", ETAGS_PROPFIND, {"Depth": "1"})
    if reply.status in (404, 410):
        raise CalendarGone(url)
    if reply.status != 207:
        raise ServiceError(f"{dav.url}: listing {url}: HTTP {reply.status}")
    try:
        return members_of(reply.body, url)
    except ValueError as exc:
        raise ServiceError(f"{dav.url}: listing {url}: {exc}") from None


def _with_data(dav: Dav, url: str, members: list[Member]) -> list[Member]:
    """`members` with the calendar data of those that came without it (multiget)."""
    missing = [m.url for m in members if not m.gone and m.data is None]
    fetched: dict[str, Member] = {}
    for i in range(0, len(missing), _BATCH):
        batch = missing[i : i + _BATCH]
        reply = dav.request(url, "REPORT", multiget_body(batch), {"Depth": "1"})
        if reply.status in (404, 410):
            raise CalendarGone(url)
        if reply.status != 207:
            raise ServiceError(f"{dav.url}: fetching events of {url}: HTTP {reply.status}")
        try:
            fetched.update((m.url, m) for m in members_of(reply.body, url))
        except ValueError as exc:
            raise ServiceError(f"{dav.url}: fetching events of {url}: {exc}") from None
    out = []
    for m in members:
        if m.gone or m.data is not None:
            out.append(m)
        elif m.url in fetched and fetched[m.url].data is not None:
            got = fetched[m.url]
            out.append(Member(m.url, got.etag or m.etag, got.data))
        # else: gone between the listing and the fetch; the next sync will say so
    return out
