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
  does a full sync from the earlier start.

The sync and the cache (its lower edge, pruning, `writable=False` for dry runs): `sync`;
the pages of `events.list`: `pages`; busy-only calendars: `freebusy`.

Cancelled events are never yielded (Google sends them only as removals). Events are
yielded sorted by start, then by the calendar's place in config (the core's `dedupe`
keeps the first of the same iCalUID and start: the copy on the first calendar listed).

`extra_busy`: with `[source] busy_calendars`, one `freeBusy.query` per 50 calendars for
the window (see `freebusy`); without busy calendars: no request.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from calbot.adapters.cache_items import item_bounds, utc_text
from calbot.adapters.google.converted import SPAN_MORE, ConvertedCache
from calbot.adapters.google.event_times import days_around, outside_days, overlaps
from calbot.adapters.google.events import BadEvent, to_event
from calbot.adapters.google.freebusy import FreeBusy
from calbot.adapters.google.sync import CalendarGone, CalendarSync
from calbot.collector import fewer_collections
from calbot.core.messages import Message, message
from calbot.core.model import Event, Slot
from calbot.ports.store import SyncCache

if TYPE_CHECKING:
    from calbot.adapters.google.api import GoogleApi
    from calbot.config.settings import Settings

__all__ = ["GoogleCalendarSource"]


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
        keep_converted: bool = False,
    ) -> None:
        """`keep_converted`: keep each calendar's converted window in the cache dir for
        the next scan (`converted`; read in a dry run, written only when `writable`)."""
        self.warnings: list[Message] = []
        self._warned: set[Message] = set()
        self._api = api
        self._calendars = tuple(dict.fromkeys(settings.source.calendars))
        self._user_email = settings.user.email.strip().lower()
        self._zone = ZoneInfo(settings.user.timezone)
        self._writable = writable
        self._keep = keep_converted
        self._sync = CalendarSync(
            api, cache, writable=writable, now=now, zone=self._zone, warn=self._warn
        )
        self._free_busy = FreeBusy(
            api, tuple(dict.fromkeys(settings.source.busy_calendars)), self._zone, self._warn
        )

    @property
    def requests(self) -> int:
        return int(self._api.requests)

    def prefetch(self, start: datetime) -> None:
        """Send the first calendar's first request now (see `CalendarSync.prefetch`), for
        `events(start, ...)` to take its answer."""
        if self._calendars:
            self._sync.prefetch(self._calendars[0], start)

    def events(self, start: datetime, end: datetime) -> Iterator[Event]:
        """Every event of every configured calendar overlapping [start, end), sorted.

        Memory stays proportional to the events in the window, not to the calendar: each
        page is turned into `Event`s as it arrives (and written to the cache), and cached
        items are streamed from the store, never held all at once."""
        with fewer_collections():  # many objects made and freed, none in a cycle
            found = self._found(start, end)
        order = {cal: i for i, cal in enumerate(self._calendars)}
        found.sort(key=lambda e: (e.start, order[e.calendar_id], e.id))
        return iter(found)

    def _found(self, start: datetime, end: datetime) -> list[Event]:
        found: list[Event] = []
        for cal in self._calendars:
            keep = None
            if self._keep:  # team mode: no local files, not even the folder
                keep = ConvertedCache.open(cal, self._user_email, self._zone.key)
            kept = keep.load() if keep is not None else None
            if kept is not None and not kept.covers(start, end):
                kept = None
            try:
                local, whole = self._converted(cal, start, end, kept.stamp if kept else None)
            except CalendarGone:
                local, whole = {}, False
            finally:
                self._sync.settle()  # a request sent ahead and not taken: done before the next
            if self._sync.skipped and kept is not None and keep is not None:
                events = keep.events(kept)  # made from the rows as they are
                if events is None:  # the file went bad since: convert after all
                    local, _ = self._converted(cal, start, end, None)
                    events = tuple(local.values())
                found.extend(e for e in events if overlaps(e.start, e.end, start, end))
                continue
            if whole and self._writable and keep is not None:
                stamp = self._sync.stamp(cal)
                if stamp is not None:
                    keep.save(stamp, start, end + SPAN_MORE, list(local.values()))
            found.extend(e for e in local.values() if overlaps(e.start, e.end, start, end))
        return found

    def _converted(
        self, cal: str, start: datetime, end: datetime, known: str | None
    ) -> tuple[dict[str, Event], bool]:
        """The calendar's events by id, converted without a window, of the rows that may
        overlap [start, end + SPAN_MORE) with `keep_converted` (for `ConvertedCache`), else
        [start, end): the caller keeps those overlapping [start, end). Warnings only for
        the items a scan of [start, end) alone would see: every item it fetched, and the
        cached rows whose bounds (as `cache_items.item_bounds` wrote them) overlap
        [start, end). `whole`: every row of the span converted (kept only then)."""
        local: dict[str, Event] = {}
        span_end = end + SPAN_MORE if self._keep else end
        first, last = days_around(start, end)
        span_last = days_around(start, span_end)[1]
        lo, hi = utc_text(start), utc_text(end)
        whole = True
        for event_id, item in self._sync.items(cal, start, span_end, known=known):
            local.pop(event_id, None)
            if item is None or outside_days(item, first, span_last):
                continue  # surely outside the span: not worth converting
            try:
                event = to_event(item, cal, self._user_email, self._zone)
            except BadEvent as exc:
                whole = False  # which of these a scan warns about depends on its window
                if not outside_days(item, first, last) and (
                    span_end == end or not self._sync.from_cache or _in_rows(item, lo, hi)
                ):
                    self._warn(message("warn.item_skipped", calendar=cal, problem=str(exc)))
                continue
            if event is not None:
                local[event_id] = event
        return local, whole

    def extra_busy(self, start: datetime, end: datetime) -> list[Slot]:
        """Busy time of `[source] busy_calendars` in [start, end), sorted and merged."""
        return self._free_busy.busy(start, end)

    def _warn(self, warning: Message) -> None:
        if warning not in self._warned:
            self._warned.add(warning)
            self.warnings.append(warning)


def _in_rows(item: dict[str, object], lo: str, hi: str) -> bool:
    """Whether the window [lo, hi) (UTC text) reads the cached row of `item`."""
    row_start, row_end = item_bounds(item)
    return row_start <= hi and row_end >= lo
