"""The Google source's event cache, brought up to date at most once per scan per calendar:
an incremental sync from the stored token, or a full sync (into a staging calendar that is
swapped in with its token at the end), streamed as (id, item) changes.

The cache covers events ending after its `timeMin`, stored beside Google's token
(`sync_state`). Once the window has moved a week past it, items that ended before the new
`window start - 30 days` are pruned with the next write.

`writable=False` (dry runs, `explain`): the same reads and sync requests, but nothing is
written to the store; the synced result lives in this object for this scan only, so the
next real scan replays the same changes from the old token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from calbot.adapters.google.api import ApiError, GoogleApi
from calbot.adapters.google.events import event_label
from calbot.adapters.google.pages import Ahead, FirstPage, pages
from calbot.adapters.google.sync_overlay import Overlay
from calbot.adapters.google.sync_state import (
    SYNC_MARGIN,
    new_stamp,
    pack_state,
    prune_from,
    read_state,
    time_min_for,
    unpack_state,
)
from calbot.core.messages import Message, message
from calbot.ports.store import SyncCache

__all__ = ["SYNC_MARGIN", "CalendarGone", "CalendarSync", "Change"]

log = logging.getLogger("calbot.google")

FULL_SYNC_TRIES = 2  # a full sync that meets a 410 while paging starts over once
STAGING_SUFFIX = " (full sync in progress)"  # calendar ids hold no spaces


Change = tuple[str, "dict[str, Any] | None"]  # (event id, compact item or None: removed)


class CalendarGone(Exception):
    """The calendar answered 404 (not found, no longer shared): no events from it."""


@dataclass(slots=True)
class _Synced:
    """A calendar already synced in this scan: where its items are now."""

    covered_from: datetime  # the cache holds every event ending after this
    items: dict[str, dict[str, Any]] | None = None  # a full sync not written (dry run)
    overlay: Overlay | None = None  # an incremental sync not written (dry run)
    gone: bool = False  # 404: no events


class CalendarSync:
    """The cached items of each calendar, synced once per scan (see the module docstring).
    `warn` takes each warning line (an item without an id, a calendar gone)."""

    def __init__(
        self,
        api: GoogleApi,
        cache: SyncCache,
        *,
        writable: bool,
        now: datetime,
        zone: ZoneInfo,
        warn: Callable[[Message], None],
    ) -> None:
        self._api = api
        self._cache = cache
        self._writable = writable
        self._now = now
        self._zone = zone
        self._warn = warn
        self._synced: dict[str, _Synced] = {}
        self._first: FirstPage | None = None  # a first request sent ahead (`prefetch`)
        self._window: tuple[datetime, datetime] | None = None  # of the current `items`
        self._stamps: dict[str, str] = {}  # calendar → its rows' stamp after this scan's sync
        self._skipped = False  # the current `items` left the cached rows out (`known`)
        self.from_cache = False  # the item just streamed is a row read from the cache

    def stamp(self, cal: str) -> str | None:
        """The stamp (`sync_state`) of the calendar's cached rows as this scan's sync left
        them; None when unknown, or when what `items` streamed is not those rows (a dry
        run's changes, kept in memory)."""
        return self._stamps.get(cal)

    @property
    def skipped(self) -> bool:
        """Whether the last `items` left out the cached rows because they were the ones
        its `known` stamp names (the caller has them converted already)."""
        return self._skipped

    def items(
        self, cal: str, start: datetime, end: datetime | None = None, *, known: str | None = None
    ) -> Iterator[Change]:
        """The calendar's items, brought up to date (at most once per scan), as a stream
        of (id, item) — or (id, None) for an item an earlier one of the stream lost.

        With `end`, what comes from the cache is read by its window index: every item
        that may overlap [start, end) (and some that do not: the caller checks), not the
        whole cache. Items fetched in this scan all come, whatever their time.

        `known`: a stamp whose rows the caller has converted already; when the sync finds
        nothing changed and the rows are still those, none is read or streamed (then
        `skipped` is true after the stream)."""
        self._window = (start, end) if end is not None else None
        self._skipped = False
        self.from_cache = False
        synced = self._synced.get(cal)
        if synced is not None and synced.covered_from <= start:
            yield from self._replay(cal, synced)
            return
        if synced is None:
            stored = self._cache.sync_token(cal)
            covered_from, token, stamp = read_state(stored)
            if token is not None and covered_from is not None and covered_from <= start:
                fetched = self._changes_since(cal, token, covered_from)
                if fetched is not None:
                    changes, next_token = fetched
                    yield from self._incremental(
                        cal, covered_from, start, changes, next_token, (stamp, known)
                    )
                    return
            if stored is None:  # no token: nothing cached that anyone could read
                yield from self._full(cal, start, in_place=True)
                return
        yield from self._full(cal, start)

    def prefetch(self, cal: str, start: datetime) -> None:
        """Send now, on a thread, the first request `items(cal, start)` will make (the
        incremental one from the stored token, else the first page of a full sync), so
        Google's answer overlaps the rest of the scan's start-up. `items` takes the answer;
        any other request waits for it first (`settle`): one thread at a time uses http."""
        if self._first is not None or cal in self._synced:
            return
        covered_from, token = unpack_state(self._cache.sync_token(cal))
        if token is not None and covered_from is not None and covered_from <= start:
            self._first = FirstPage(self._api, cal, syncToken=token)
        else:
            self._first = FirstPage(self._api, cal, timeMin=time_min_for(start, self._now))

    def settle(self) -> None:
        """Wait for a request sent ahead that nobody took (its answer is dropped)."""
        first, self._first = self._first, None
        if first is not None:
            first.wait()

    def _take_first(self, cal: str, **params: str) -> FirstPage | None:
        """The request sent ahead when it is this one, else None (after waiting for it)."""
        first = self._first
        if first is not None and first.cal == cal and first.params == params:
            self._first = None
            return first
        self.settle()
        return None

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
            first = self._take_first(cal, syncToken=token)
            for page, page_next_token in pages(self._api, cal, first=first, syncToken=token):
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
        stamps: tuple[str | None, str | None],
    ) -> Iterator[Change]:
        """Apply the changes to the cache, then stream the cache (pruned as it goes).
        `stamps`: (the stored rows' stamp, the caller's `known`)."""
        stamp, known = stamps
        overlay = Overlay.of(changes, prune_from(covered_from, start), self._warn)
        same = overlay.unchanged
        if overlay.prune_before is not None:
            covered_from = overlay.prune_before
        if not self._writable:
            self._synced[cal] = _Synced(covered_from, overlay=overlay)
            if same and stamp is not None:
                self._stamps[cal] = stamp
                if stamp == known:
                    self._skipped = True
                    return
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
            if same and stamp is not None and stamp == known:
                self._skipped = True  # the caller has these rows converted
            else:
                # Dropping a cancelled series' instances or pruning must see every row; an
                # ordinary rescan reads only the window's.
                whole = bool(overlay.cancelled_series) or overlay.prune_before is not None
                for item in self._cached(cal, whole=whole):
                    event_id = str(item["id"])
                    if overlay.doomed(item, self._zone):
                        dropped.append({"id": event_id, "status": "cancelled"})
                    else:
                        yield event_id, item
            if dropped:
                self._cache.put_events(cal, dropped)
            if written or dropped or stamp is None:
                stamp = new_stamp()  # other rows: the old stamp must never name them
            self._cache.put_sync_token(cal, pack_state(covered_from, next_token, stamp))
        self._stamps[cal] = stamp
        self._synced[cal] = _Synced(covered_from)

    def _overlaid(self, cal: str, overlay: Overlay) -> Iterator[Change]:
        """The cache as the overlay's changes would leave it (nothing written)."""
        for item in self._cached(cal):
            event_id = str(item["id"])
            if event_id in overlay.removed or event_id in overlay.upserts:
                continue
            if not overlay.doomed(item, self._zone):
                yield event_id, item
        for event_id, item in overlay.upserts.items():
            if not overlay.doomed(item, self._zone):
                yield event_id, item

    def _put_page(self, target: str, items: list[dict[str, Any]], texts: list[str | None]) -> None:
        with self._cache.transaction():
            self._cache.put_events(target, items, texts)

    def _cached(self, cal: str, *, whole: bool = False) -> Iterator[dict[str, Any]]:
        if whole or self._window is None:
            rows = self._cache.iter_cached_events(cal)
        else:
            rows = self._cache.cached_events_between(cal, *self._window)
        self.from_cache = True
        for item in rows:
            if isinstance(item.get("id"), str) and item["id"]:
                yield item
        self.from_cache = False

    def _full(self, cal: str, start: datetime, *, in_place: bool = False) -> Iterator[Change]:
        """A full sync from `start - 30 days`; with `writable`, each page goes to the cache
        as it arrives, and the cache with its new token replaces the old one at once.

        `in_place`: the calendar has no stored token, so whatever rows it has are never
        read (a cache is read only after a sync from its token): the pages are written
        straight to the calendar instead of a staging one, which saves rewriting every row
        at the swap. A crash midway leaves rows without a token, which the next full sync
        drops first, as it drops a staging calendar.

        A 410 while paging (Google let the page token expire) starts the full sync over,
        once: what the broken attempt streamed is withdrawn first (as removals), so nothing
        of it outlives the restart. A second 410 stops the scan (exit 4)."""
        covered_from = min(start, self._now) - SYNC_MARGIN
        time_min = time_min_for(start, self._now)
        for attempt in range(1, FULL_SYNC_TRIES + 1):
            streamed: list[str] = []
            try:
                yield from self._full_once(cal, covered_from, time_min, in_place, streamed)
            except ApiError as exc:
                if exc.status == 404:
                    self._gone(cal, covered_from)
                if exc.status != 410 or attempt == FULL_SYNC_TRIES:
                    raise
                log.warning(
                    "Google asked for a new full sync of %s while paging; starting over", cal
                )
                for event_id in streamed:  # withdrawn: the next attempt streams them again
                    yield event_id, None
                continue
            return

    def _full_once(
        self, cal: str, covered_from: datetime, time_min: str, in_place: bool, streamed: list[str]
    ) -> Iterator[Change]:
        """One attempt at `_full`; every id it yields is added to `streamed`."""
        if not self._writable:
            items: dict[str, dict[str, Any]] = {}
            first = self._take_first(cal, timeMin=time_min)
            for page, _ in pages(self._api, cal, first=first, timeMin=time_min):
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
        first = self._take_first(cal, timeMin=time_min)
        writing: Ahead | None = None  # the last page's transaction, on a thread of its own
        try:
            for page, page_next_token in pages(self._api, cal, first=first, timeMin=time_min):
                written: list[dict[str, Any]] = []
                texts: list[str | None] = []  # the JSON Google sent, where it is the item's
                for item, text in zip(page, page.texts, strict=True):
                    event_id = item.get("id")
                    if not isinstance(event_id, str) or not event_id:
                        self._warn(message("warn.item_without_id", item=event_label(item)))
                        continue
                    if item.get("status") == "cancelled":
                        for i in [event_id, *instances.pop(event_id, ())]:
                            written.append({"id": i, "status": "cancelled"})
                            texts.append(None)
                            streamed.append(i)
                            yield i, None
                    else:
                        series = item.get("recurringEventId")
                        if isinstance(series, str):
                            instances.setdefault(series, []).append(event_id)
                        written.append(item)
                        texts.append(text)
                        streamed.append(event_id)
                        yield event_id, item
                if written:
                    # SQLite writes without Python's lock: the next page is read meanwhile.
                    # One page's transaction at a time, in order, as before.
                    if writing is not None:
                        writing.result()  # its error, if any, stops the sync here
                    writing = Ahead(self._put_page, target, written, texts, name="calbot-cache")
                next_token = page_next_token
            if writing is not None:
                writing.result()
        finally:
            if writing is not None:  # however it ends, no write outlives the sync
                writing.wait()
        with self._cache.transaction():
            if not in_place:
                self._cache.drop_calendar(cal)
                self._cache.move_events(staging, cal)
            stamp = new_stamp()
            self._cache.put_sync_token(cal, pack_state(covered_from, next_token, stamp))
        self._stamps[cal] = stamp
        self._synced[cal] = _Synced(covered_from)

    def _gone(self, cal: str, covered_from: datetime) -> NoReturn:
        self._warn(message("warn.calendar_not_found", calendar=cal))
        self._synced[cal] = _Synced(covered_from, gone=True)
        raise CalendarGone(cal)

    def _apply(self, items: dict[str, dict[str, Any]], page: Iterable[dict[str, Any]]) -> None:
        """Apply one page to `items` (a full sync kept in memory)."""
        for item in page:
            event_id = item.get("id")
            if not isinstance(event_id, str) or not event_id:
                self._warn(message("warn.item_without_id", item=event_label(item)))
                continue
            if item.get("status") == "cancelled":
                # A cancelled series may come back as its parent id alone: its instances go.
                gone = [event_id] + [
                    i for i, it in items.items() if it.get("recurringEventId") == event_id
                ]
                for i in gone:
                    items.pop(i, None)
            else:
                items[event_id] = item
