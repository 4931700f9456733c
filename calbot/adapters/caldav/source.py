"""`CaldavSource`: the chosen CalDAV calendars as a `CalendarSource`.

Requests per scan: none for discovery once the calendars are cached in the store
(`discovery`), then one per calendar when nothing changed (`sync`). A calendar answering
404/410 makes the source discover the calendars again, once per scan.

Recurrences are expanded here, with `recurring-ical-events` on the synced objects, through
the ICS source's own mapping (`calbot.adapters.ics`: the same VEVENT checks, ORGANIZER /
ATTENDEE / PARTSTAT / TRANSP / STATUS mapping and per-event warnings as an .ics file).
Server-side expansion (`calendar-query` with `<expand>`) is not used: it cannot be combined
with `sync-collection`, so it would cost a full query of the window on every scan, where
the synced cache costs one request for an unchanged calendar."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol

import icalendar

from calbot.adapters.caldav.connection import Dav
from calbot.adapters.caldav.discovery import discover, remember
from calbot.adapters.caldav.sync import CalendarGone, sync_calendar
from calbot.adapters.caldav.webdav import Calendar
from calbot.adapters.ics import IcsSource
from calbot.config.settings import Settings
from calbot.core.messages import Message, message
from calbot.core.model import Event, Slot
from calbot.ports.store import Meta, SyncCache

__all__ = ["CaldavSource", "CaldavStore"]


class CaldavStore(SyncCache, Meta, Protocol):
    """What the source keeps in the state store: the event cache and the calendar list."""


class CaldavSource:
    """A `CalendarSource` over the CalDAV calendars of `[source] calendars`. One per scan."""

    def __init__(self, dav: Dav, settings: Settings, store: CaldavStore, *, writable: bool) -> None:
        self.warnings: list[Message] = []
        self._warned: set[Message] = set()
        self._dav = dav
        self._settings = settings
        self._store = store
        self._writable = writable
        self._synced: dict[str, dict[str, dict[str, Any]]] | None = None
        self._calendars: list[Calendar] = []

    @property
    def requests(self) -> int:
        return self._dav.requests

    @property
    def calendars(self) -> Sequence[Calendar]:
        """The calendars read (after the first `events()`)."""
        return tuple(self._calendars)

    def extra_busy(self, start: datetime, end: datetime) -> list[Slot]:
        return []

    def events(self, start: datetime, end: datetime) -> Iterator[Event]:
        """Every occurrence of every chosen calendar overlapping [start, end), sorted."""
        synced = self._sync()
        order = {c.url: i for i, c in enumerate(self._calendars)}
        found: list[Event] = []
        for cal in self._calendars:
            found.extend(self._expand(cal, synced.get(cal.url, {}), start, end))
        found.sort(key=lambda e: (e.start, order.get(e.calendar_id, 0), e.id))
        return iter(found)

    # -- syncing ----------------------------------------------------------------------

    def _sync(self) -> dict[str, dict[str, dict[str, Any]]]:
        if self._synced is not None:
            return self._synced
        calendars = self._discover(fresh=False)
        fresh = False
        while True:
            try:
                synced = {
                    cal.url: sync_calendar(
                        self._dav,
                        cal.url,
                        sync=cal.sync,
                        cache=self._store,
                        writable=self._writable,
                    )
                    for cal in calendars
                }
            except CalendarGone as exc:
                gone = str(exc)
                if self._writable:
                    with self._store.transaction():
                        self._store.drop_calendar(gone)
                if not fresh:  # moved or deleted since it was cached: look again, once
                    calendars = self._discover(fresh=True)
                    fresh = True
                else:  # gone even just after discovery: read the others
                    problem = "the calendar: it answered 404 just after discovery"
                    self._warn(message("warn.item_skipped", calendar=gone, problem=problem))
                    calendars = [c for c in calendars if c.url != gone]
                continue
            self._calendars, self._synced = calendars, synced
            return synced

    def _discover(self, *, fresh: bool) -> list[Calendar]:
        s = self._settings

        def save(chosen: list[Calendar]) -> None:
            if self._writable:
                with self._store.transaction():
                    remember(self._store, self._dav, s.caldav.username, s.source.calendars, chosen)

        return discover(
            self._dav,
            self._store,
            s.caldav.username,
            s.source.calendars,
            s.path,
            fresh=fresh,
            save=save,
        )

    # -- expanding --------------------------------------------------------------------

    def _expand(
        self, cal: Calendar, items: dict[str, dict[str, Any]], start: datetime, end: datetime
    ) -> list[Event]:
        name = cal.name or cal.url
        good: list[bytes] = []
        for url in sorted(items):
            text = str(items[url].get("ics") or "")
            try:
                icalendar.Calendar.from_ical(text)
            except Exception as exc:  # one unreadable object must not hide the rest
                why = " ".join(str(exc).split())[:160] or type(exc).__name__
                self._warn(
                    message(
                        "warn.item_skipped",
                        calendar=name,
                        problem=f"{url.rsplit('/', 1)[-1]}: not valid iCalendar ({why})",
                    )
                )
                continue
            good.append(text.encode("utf-8"))
        if not good:
            return []
        calendar = IcsSource.from_bytes(
            b"\r\n".join(good),
            name,
            self._settings.user.email,
            self._settings.user.timezone,
            calendar_id=cal.url,
        )
        events = list(calendar.events(start, end))
        for warning in calendar.warnings:
            self._warn(warning)
        return events

    def _warn(self, warning: Message) -> None:
        if warning not in self._warned:
            self._warned.add(warning)
            self.warnings.append(warning)
