"""Google Calendar as a `CalendarSource`: incremental sync into the state store's event cache,
plus one `freeBusy.query` for busy-only calendars.

Requests per scan, per calendar in `[source] calendars` (in config order):

- **First scan** (no cache): a full sync, `events.list(calendarId, singleEvents=true,
  maxResults=2500, timeMin=<window start - 30 days>, fields=EVENT_FIELDS)`, every page
  (ceil(events / 2500) requests). The compact items and the `nextSyncToken` of the last page
  are stored in one transaction (the old cache of that calendar is dropped in it).
- **Later scans**: one `events.list(calendarId, singleEvents=true, maxResults=2500,
  syncToken=..., fields=...)` — never timeMin/timeMax/orderBy/q with a token — plus one
  request per further page of changes. An unchanged calendar costs exactly one request.
  Changed items are upserted, `status: cancelled` ones removed (with every cached instance
  of a cancelled series), then the new token is stored, all in one transaction.
- **410 fullSyncRequired** (token expired, ACL change): the calendar's cache is dropped and
  one full sync follows, in the same scan.
- **404** (the calendar is gone or no longer shared): a warning, no events from it, its
  cache left alone. Other API errors end the scan (`ApiError`, exit 4).
- A scan whose window starts before what the cache covers (e.g. `--from` months back)
  does a full sync from the earlier start. The cache covers events ending after its
  `timeMin`; it is stored beside Google's token in the `sync_tokens` row as
  `{"from": ISO, "token": ...}` (the row is calbot's, the token inside is Google's). Once
  the window has moved a week past that, items that ended before the new
  `window start - 30 days` are pruned from the cache with the next write.

`writable=False` (dry runs, `explain`): the same reads and sync requests, but nothing is
written to the store; the synced result lives in this object for this scan only, so the
next real scan replays the same changes from the old token.

Cancelled events are never yielded (Google sends them only as removals). Events are
yielded sorted by start, then by the calendar's place in config (the core's `dedupe`
keeps the first of the same iCalUID and start: the copy on the first calendar listed).

`extra_busy`: with `[source] busy_calendars`, one `freeBusy.query` per 50 calendars
(Google's limit per query) for the window, memoised per window; a window Google refuses as
too long (400 `timeRangeTooLong`) is split into pieces of at most 90 days (halves below
that) and asked again. Without busy calendars: no request. A busy calendar Google reports
an error for (not found, no access) is a warning; its busy time is unknown.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn
from zoneinfo import ZoneInfo

from calbot.adapters.google.api import ApiError
from calbot.adapters.google.events import (
    EVENT_FIELDS,
    BadEvent,
    compact,
    event_label,
    item_end,
    to_event,
)
from calbot.core.model import Event, Slot
from calbot.ports.store import SyncCache

if TYPE_CHECKING:
    from calbot.adapters.google.api import GoogleApi
    from calbot.core.settings import Settings

PAGE_SIZE = 2500  # Google's maximum for events.list
SYNC_MARGIN = timedelta(days=30)  # a full sync reaches this far before the window start
PRUNE_STEP = timedelta(days=7)  # prune the cache once the window moved this far
FREEBUSY_MAX_ITEMS = 50  # Google's limit of calendars per freeBusy.query
FREEBUSY_MAX_SPAN = timedelta(days=90)  # the piece size once Google refuses a window
FREEBUSY_MIN_SPAN = timedelta(days=1)  # never split below this
STAGING_SUFFIX = " (full sync in progress)"  # calendar ids hold no spaces


Change = tuple[str, "dict[str, Any] | None"]  # (event id, compact item or None: removed)


class _Gone(Exception):
    """The calendar answered 404 (not found, no longer shared): no events from it."""


@dataclass(slots=True)
class _Overlay:
    """A sync's changes kept in memory on top of the cache (`writable=False` only)."""

    upserts: dict[str, dict[str, Any]]
    removed: set[str]
    cancelled_series: dict[str, set[str]]  # series id → instances re-sent after it
    prune_before: datetime | None


@dataclass(slots=True)
class _Synced:
    """A calendar already synced in this scan: where its items are now."""

    covered_from: datetime  # the cache holds every event ending after this
    items: dict[str, dict[str, Any]] | None = None  # a full sync not written (dry run)
    overlay: _Overlay | None = None  # an incremental sync not written (dry run)
    gone: bool = False  # 404: no events


class GoogleCalendarSource:
    """A `CalendarSource` over the calendars in `[source] calendars`. One per scan."""

    def __init__(
        self,
        api: GoogleApi,
        settings: Settings,
        cache: SyncCache,
        *,
        writable: bool,
        now: datetime,
    ) -> None:
        self.warnings: list[str] = []
        self._api = api
        self._cache = cache
        self._writable = writable
        self._now = now
        self._calendars = tuple(dict.fromkeys(settings.source.calendars))
        self._busy_calendars = tuple(dict.fromkeys(settings.source.busy_calendars))
        self._user_email = settings.user.email.strip().lower()
        self._zone = ZoneInfo(settings.user.timezone)
        self._synced: dict[str, _Synced] = {}
        self._busy: dict[tuple[datetime, datetime], list[Slot]] = {}
        self._warned: set[str] = set()

    @property
    def requests(self) -> int:
        return int(self._api.requests)

    # -- events ---------------------------------------------------------------------------

    def events(self, start: datetime, end: datetime) -> Iterator[Event]:
        """Every event of every configured calendar overlapping [start, end), sorted.

        Memory stays proportional to the events in the window, not to the calendar: each
        page is turned into `Event`s as it arrives (and written to the cache), and cached
        items are streamed from the store, never held all at once."""
        order = {cal: i for i, cal in enumerate(self._calendars)}
        found: list[Event] = []
        window = (start, end)
        for cal in self._calendars:
            local: dict[str, Event] = {}
            try:
                for event_id, item in self._items(cal, start):
                    local.pop(event_id, None)
                    if item is None:
                        continue
                    try:
                        event = to_event(item, cal, self._user_email, self._zone, within=window)
                    except BadEvent as exc:
                        self._warn(f"{cal}: skipped {exc}")
                        continue
                    if event is not None:
                        local[event_id] = event
            except _Gone:
                local = {}
            found.extend(local.values())
        found.sort(key=lambda e: (e.start, order[e.calendar_id], e.id))
        return iter(found)

    def _items(self, cal: str, start: datetime) -> Iterator[Change]:
        """The calendar's items, brought up to date (at most once per scan), as a stream
        of (id, item) — or (id, None) for an item an earlier one of the stream lost."""
        synced = self._synced.get(cal)
        if synced is not None and synced.covered_from <= start:
            yield from self._replay(cal, synced)
            return
        if synced is None:
            stored = self._cache.sync_token(cal)
            covered_from, token = _unpack(stored)
            if token is not None and covered_from is not None and covered_from <= start:
                fetched = self._changes_since(cal, token, covered_from)
                if fetched is not None:
                    changes, next_token = fetched
                    yield from self._incremental(cal, covered_from, start, changes, next_token)
                    return
            if stored is None:  # no token: nothing cached that anyone could read
                yield from self._full(cal, start, in_place=True)
                return
        yield from self._full(cal, start)

    def _replay(self, cal: str, synced: _Synced) -> Iterator[Change]:
        if synced.gone:
            return
        if synced.items is not None:
            yield from synced.items.items()
        elif synced.overlay is not None:
            yield from self._overlaid(cal, synced.overlay)
        else:
            for item in self._cached(cal):
                yield str(item["id"]), item

    def _changes_since(
        self, cal: str, token: str, covered_from: datetime
    ) -> tuple[list[dict[str, Any]], str | None] | None:
        """Every change since the stored token; None when a full sync is needed (410)."""
        changes: list[dict[str, Any]] = []
        next_token = None
        try:
            for page, page_next_token in self._pages(cal, syncToken=token):
                changes.extend(page)
                next_token = page_next_token
        except ApiError as exc:
            if exc.status == 410:  # fullSyncRequired: the token is no good any more
                return None
            if exc.status == 404:
                self._gone(cal, covered_from)
            raise
        return changes, next_token

    def _incremental(
        self,
        cal: str,
        covered_from: datetime,
        start: datetime,
        changes: list[dict[str, Any]],
        next_token: str | None,
    ) -> Iterator[Change]:
        """Apply the changes to the cache, then stream the cache (pruned as it goes)."""
        overlay = _Overlay({}, set(), {}, _prune_from(covered_from, start))
        for item in changes:
            event_id = item.get("id")
            if not isinstance(event_id, str) or not event_id:
                self._warn(f"skipped {event_label(item)}: no id")
                continue
            if item.get("status") == "cancelled":
                # A cancelled series may come back as its parent id alone: its instances go
                # (those cached are dropped while the cache is streamed).
                overlay.cancelled_series[event_id] = set()
                gone = [event_id] + [
                    i for i, it in overlay.upserts.items() if it.get("recurringEventId") == event_id
                ]
                for i in gone:
                    overlay.upserts.pop(i, None)
                    overlay.removed.add(i)
            else:
                overlay.upserts[event_id] = item
                overlay.removed.discard(event_id)
                series = item.get("recurringEventId")
                if isinstance(series, str) and series in overlay.cancelled_series:
                    overlay.cancelled_series[series].add(event_id)
        if overlay.prune_before is not None:
            covered_from = overlay.prune_before
        if not self._writable:
            self._synced[cal] = _Synced(covered_from, overlay=overlay)
            yield from self._overlaid(cal, overlay)
            return
        with self._cache.transaction():
            written: list[dict[str, Any]] = [
                {"id": i, "status": "cancelled"} for i in overlay.removed
            ]
            written.extend(overlay.upserts.values())
            if written:
                self._cache.put_events(cal, written)
            dropped: list[dict[str, Any]] = []
            for item in self._cached(cal):
                event_id = str(item["id"])
                if self._doomed(item, overlay):
                    dropped.append({"id": event_id, "status": "cancelled"})
                else:
                    yield event_id, item
            if dropped:
                self._cache.put_events(cal, dropped)
            self._cache.put_sync_token(cal, _pack(covered_from, next_token))
        self._synced[cal] = _Synced(covered_from)

    def _overlaid(self, cal: str, overlay: _Overlay) -> Iterator[Change]:
        """The cache as the overlay's changes would leave it (nothing written)."""
        for item in self._cached(cal):
            event_id = str(item["id"])
            if event_id in overlay.removed or event_id in overlay.upserts:
                continue
            if not self._doomed(item, overlay):
                yield event_id, item
        for event_id, item in overlay.upserts.items():
            if not self._doomed(item, overlay):
                yield event_id, item

    def _doomed(self, item: dict[str, Any], overlay: _Overlay) -> bool:
        """An instance of a series cancelled in this sync (and not re-sent after it), or an
        item that ended before the cache's new lower edge."""
        series = item.get("recurringEventId")
        if isinstance(series, str):
            kept = overlay.cancelled_series.get(series)
            if kept is not None and item.get("id") not in kept:
                return True
        if overlay.prune_before is not None:
            ended = item_end(item, self._zone)
            if ended is not None and ended <= overlay.prune_before:
                return True
        return False

    def _cached(self, cal: str) -> Iterator[dict[str, Any]]:
        for item in self._cache.iter_cached_events(cal):
            if isinstance(item.get("id"), str) and item["id"]:
                yield item

    def _full(self, cal: str, start: datetime, *, in_place: bool = False) -> Iterator[Change]:
        """A full sync from `start - 30 days`; with `writable`, each page goes to the cache
        as it arrives, and the cache with its new token replaces the old one at once.

        `in_place`: the calendar has no stored token, so whatever rows it has are never
        read (a cache is read only after a sync from its token): the pages are written
        straight to the calendar instead of a staging one, which saves rewriting every row
        at the swap. A crash midway leaves rows without a token, which the next full sync
        drops first, as it drops a staging calendar."""
        covered_from = min(start, self._now) - SYNC_MARGIN
        time_min = covered_from.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            if not self._writable:
                items: dict[str, dict[str, Any]] = {}
                for page, _ in self._pages(cal, timeMin=time_min):
                    self._apply(items, page)
                self._synced[cal] = _Synced(covered_from, items=items)
                yield from items.items()
                return
            # Pages go to a staging calendar in short transactions (no transaction stays
            # open across a request: another process must not wait on this one's network);
            # the last transaction swaps it in with the token, so the cache changes at once.
            staging = cal + STAGING_SUFFIX
            target = cal if in_place else staging
            with self._cache.transaction():
                self._cache.drop_calendar(staging)  # what a crash mid-sync left behind
                if in_place:
                    self._cache.drop_calendar(cal)
            instances: dict[str, list[str]] = {}  # series id → its instances so far
            next_token = None
            for page, page_next_token in self._pages(cal, timeMin=time_min):
                written: list[dict[str, Any]] = []
                for item in page:
                    event_id = item.get("id")
                    if not isinstance(event_id, str) or not event_id:
                        self._warn(f"skipped {event_label(item)}: no id")
                        continue
                    if item.get("status") == "cancelled":
                        for i in [event_id, *instances.pop(event_id, ())]:
                            written.append({"id": i, "status": "cancelled"})
                            yield i, None
                    else:
                        series = item.get("recurringEventId")
                        if isinstance(series, str):
                            instances.setdefault(series, []).append(event_id)
                        written.append(item)
                        yield event_id, item
                if written:
                    with self._cache.transaction():
                        self._cache.put_events(target, written)
                next_token = page_next_token
            with self._cache.transaction():
                if not in_place:
                    self._cache.drop_calendar(cal)
                    self._cache.move_events(staging, cal)
                self._cache.put_sync_token(cal, _pack(covered_from, next_token))
        except ApiError as exc:
            if exc.status == 404:
                self._gone(cal, covered_from)
            raise
        self._synced[cal] = _Synced(covered_from)

    def _gone(self, cal: str, covered_from: datetime) -> NoReturn:
        self._warn(f"{cal}: calendar not found or not shared with you — skipped")
        self._synced[cal] = _Synced(covered_from, gone=True)
        raise _Gone(cal)

    def _pages(self, cal: str, **params: str) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
        """(compact items, nextSyncToken on the last page else None) for each page."""
        events = self._api.calendar.events()
        what = f"reading calendar {cal}"

        def fetch(page_token: str | None) -> Any:
            request = events.list(
                calendarId=cal,
                singleEvents=True,
                maxResults=PAGE_SIZE,
                fields=EVENT_FIELDS,
                pageToken=page_token,
                **params,
            )
            return self._api.call(request, what=what)

        page_token: str | None = None
        response = fetch(None)
        ahead: _Ahead | None = None
        try:
            while True:
                if not isinstance(response, dict):
                    response = {}
                next_page = response.get("nextPageToken")
                sync_token = response.get("nextSyncToken")
                last = not isinstance(next_page, str) or not next_page or next_page == page_token
                if not last:
                    ahead = _Ahead(fetch, next_page)
                raw = response.get("items")
                page = (
                    [compact(i) for i in raw if isinstance(i, dict)]
                    if isinstance(raw, list)
                    else []
                )
                del response, raw  # only the compact items stay in memory
                if last:
                    yield page, sync_token if isinstance(sync_token, str) and sync_token else None
                    return
                yield page, None
                page_token = next_page
                assert ahead is not None
                response, ahead = ahead.result(), None
        finally:
            if ahead is not None:
                ahead.wait()

    def _apply(
        self, items: dict[str, dict[str, Any]], page: Iterable[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Apply one page to `items`; returns what the store must apply likewise."""
        changes: list[dict[str, Any]] = []
        for item in page:
            event_id = item.get("id")
            if not isinstance(event_id, str) or not event_id:
                self._warn(f"skipped {event_label(item)}: no id")
                continue
            if item.get("status") == "cancelled":
                # A cancelled series may come back as its parent id alone: its instances go.
                gone = [event_id] + [
                    i for i, it in items.items() if it.get("recurringEventId") == event_id
                ]
                for i in gone:
                    items.pop(i, None)
                    changes.append({"id": i, "status": "cancelled"})
            else:
                items[event_id] = item
                changes.append(item)
        return changes

    # -- free/busy --------------------------------------------------------------------------

    def extra_busy(self, start: datetime, end: datetime) -> list[Slot]:
        """Busy time of `[source] busy_calendars` in [start, end), sorted and merged."""
        if not self._busy_calendars or end <= start:
            return []
        key = (start, end)
        if key not in self._busy:
            slots: list[Slot] = []
            for i in range(0, len(self._busy_calendars), FREEBUSY_MAX_ITEMS):
                chunk = self._busy_calendars[i : i + FREEBUSY_MAX_ITEMS]
                slots.extend(self._free_busy(chunk, start, end))
            self._busy[key] = _merge(slots)
        return list(self._busy[key])

    def _free_busy(self, ids: Sequence[str], start: datetime, end: datetime) -> list[Slot]:
        body = {
            "timeMin": start.isoformat(),
            "timeMax": end.isoformat(),
            "timeZone": self._zone.key,
            "items": [{"id": cal} for cal in ids],
        }
        try:
            response = self._api.call(
                self._api.calendar.freebusy().query(body=body),
                what="reading busy times of " + ", ".join(ids),
            )
        except ApiError as exc:
            if exc.status == 400 and _too_long(exc) and end - start > FREEBUSY_MIN_SPAN:
                return [
                    slot
                    for piece_start, piece_end in _split(start, end)
                    for slot in self._free_busy(ids, piece_start, piece_end)
                ]
            raise
        calendars = response.get("calendars") if isinstance(response, dict) else None
        slots: list[Slot] = []
        for cal in ids:
            data = calendars.get(cal) if isinstance(calendars, dict) else None
            if not isinstance(data, dict):
                self._warn(f"{cal}: no busy times in Google's answer — not counted")
                continue
            errors = data.get("errors")
            if isinstance(errors, list) and errors:
                reasons = sorted({str(e.get("reason", "?")) for e in errors if isinstance(e, dict)})
                self._warn(f"{cal}: busy times unavailable ({', '.join(reasons)}) — not counted")
            for period in data.get("busy") or ():
                slot = self._slot(period, start, end)
                if slot is not None:
                    slots.append(slot)
        return slots

    def _slot(self, period: object, start: datetime, end: datetime) -> Slot | None:
        if not isinstance(period, dict):
            return None
        try:
            begin = datetime.fromisoformat(str(period["start"]))
            finish = datetime.fromisoformat(str(period["end"]))
        except (KeyError, ValueError):
            return None
        if begin.tzinfo is None or finish.tzinfo is None:
            return None
        begin, finish = max(begin, start), min(finish, end)
        if finish <= begin:
            return None
        return Slot(begin.astimezone(self._zone), finish.astimezone(self._zone))

    def _warn(self, line: str) -> None:
        if line not in self._warned:
            self._warned.add(line)
            self.warnings.append(line)


# -- helpers ------------------------------------------------------------------------------


class _Ahead:
    """One call run in a thread while the caller works on."""

    def __init__(self, fn: Any, *args: Any) -> None:
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
        self._thread.start()

    def _run(self, fn: Any, args: tuple[Any, ...]) -> None:
        try:
            self._value = fn(*args)
        except BaseException as exc:
            self._error = exc

    def wait(self) -> None:
        self._thread.join()

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _pack(covered_from: datetime, token: str | None) -> str | None:
    if token is None:
        return None
    return json.dumps({"from": covered_from.astimezone(UTC).isoformat(), "token": token})


def _unpack(stored: str | None) -> tuple[datetime | None, str | None]:
    """(the cache's timeMin, Google's token); (None, None) when absent or unreadable."""
    if not stored:
        return None, None
    try:
        data = json.loads(stored)
        covered_from = datetime.fromisoformat(data["from"])
        token = data["token"]
    except (ValueError, TypeError, KeyError):
        return None, None
    if not isinstance(token, str) or not token or covered_from.tzinfo is None:
        return None, None
    return covered_from, token


def _prune_from(covered_from: datetime, start: datetime) -> datetime | None:
    """The new lower edge of the cache when it is time to prune, else None."""
    wanted = start - SYNC_MARGIN
    return wanted if wanted - covered_from >= PRUNE_STEP else None


def _too_long(exc: ApiError) -> bool:
    text = f"{exc.reason} {exc}".lower()
    return "toolong" in text or "too long" in text or "time range" in text


def _split(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Pieces of at most 90 days; a window already within 90 days is halved."""
    span = end - start
    step = FREEBUSY_MAX_SPAN if span > FREEBUSY_MAX_SPAN else span / 2
    pieces = []
    cursor = start
    while cursor < end:
        pieces.append((cursor, min(cursor + step, end)))
        cursor += step
    return pieces


def _merge(slots: list[Slot]) -> list[Slot]:
    merged: list[Slot] = []
    for slot in sorted(slots, key=lambda s: (s.start, s.end)):
        if merged and slot.start <= merged[-1].end:
            if slot.end > merged[-1].end:
                merged[-1] = Slot(merged[-1].start, slot.end)
        else:
            merged.append(slot)
    return merged
