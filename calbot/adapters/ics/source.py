"""`IcsSource`: the calendar read at most once, its VEVENTs checked and grouped into
series, and the occurrences in a window turned into `Event`s, with a warning for whatever
had to be skipped."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
from recurring_ical_events import EventAdapter, Occurrence, Series

from calbot.adapters.ics.cache import SPAN_MARGIN, Expanded, IcsCache, content_sha
from calbot.adapters.ics.download import FetchLimits, fetch_if_changed, is_url, read_file
from calbot.adapters.ics.expand import MAX_OCCURRENCES, starts
from calbot.adapters.ics.fields import Template, template
from calbot.adapters.ics.parse import dropped_lines, parse, problem, synthetic_uid
from calbot.adapters.ics.values import label, reason, to_aware
from calbot.core.messages import Message, message
from calbot.core.model import Event, Slot
from calbot.core.redact import redact_location
from calbot.errors import SourceError

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
        download_timeout: float = 120,
        retry_budget: float = 120,
        fetch_limits: FetchLimits | None = None,
        calendar_id: str = "ics",
        use_cache: bool = True,
    ) -> None:
        """`fetch_limits`, when given, replaces the three limits (tests pass a clock).
        `use_cache`: keep the expanded calendar (and a URL's body) in the platform cache
        dir between scans (`calbot.adapters.ics.cache`)."""
        self.location = location
        self.calendar_id = calendar_id
        self.warnings: list[Message] = []
        self._user_email = user_email.strip().lower()
        try:
            self._zone = ZoneInfo(user_tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            where = redact_location(location)
            raise SourceError(f"{where}: unknown time zone {user_tz!r}") from exc
        self._limits = fetch_limits or FetchLimits(
            read_timeout=http_timeout, download_timeout=download_timeout, retry_budget=retry_budget
        )
        self._requests = 0
        self._data: bytes | None = None
        self._series: list[_Series] | None = None
        self._templates: dict[int, Template] = {}
        self._warned: set[Message] = set()
        self._use_cache = use_cache
        self._cache: IcsCache | None = None
        self._sha: str | None = None  # of the calendar's bytes, once read
        self._url_sha: str | None = None  # the kept copy's, after a 304
        self._aside: list[Message] | None = None  # warnings held back (see `_expand_span`)

    @property
    def requests(self) -> int:
        return self._requests

    @classmethod
    def from_bytes(
        cls, data: bytes, name: str, user_email: str, user_tz: str, *, calendar_id: str = "ics"
    ) -> IcsSource:
        """The source over iCalendar bytes already in memory (CalDAV's synced objects):
        nothing is read or fetched; `name` stands for the location in messages."""
        source = cls(name, user_email, user_tz, calendar_id=calendar_id)
        source._data = data
        return source

    def extra_busy(self, start: datetime, end: datetime) -> list[Slot]:
        return []

    def events(self, start: datetime, end: datetime) -> Iterator[Event]:
        """Every occurrence overlapping [start, end), sorted by start. Loads on first use;
        an unchanged calendar comes from the cache instead (see `cache`)."""
        cached = self._cached_span(start, end)
        if cached is not None:
            return iter([e for e in cached.events if _overlaps(e, start, end)])
        return iter(self._expand(start, end))

    def _expand(self, start: datetime, end: datetime) -> list[Event]:
        all_series = self._load()
        zone = self._zone
        span_start = (start - _PAD).astimezone(zone)
        span_end = (end + _PAD).astimezone(zone)
        found: list[Event] = []
        for series in all_series:
            series.capped = False
            series.window = (start.astimezone(zone), end.astimezone(zone))
            try:
                for occurrence in series.between(span_start, span_end):
                    event = self._event(occurrence)
                    if event is not None and _overlaps(event, start, end):
                        found.append(event)
            except Exception as exc:  # one bad series must not stop the rest
                why = message("warn.ics_cannot_expand", error=reason(exc))
                self._warn(series.label, why)
            if series.capped:
                self._note(
                    message(
                        "warn.ics_too_many_occurrences",
                        calendar=self.calendar_id,
                        event=series.label,
                        limit=MAX_OCCURRENCES,
                    )
                )
        found.sort(key=lambda e: (e.start, e.id))
        return found

    # -- the cache between scans ------------------------------------------------------

    def _cached_span(self, start: datetime, end: datetime) -> Expanded | None:
        """The expanded calendar covering [start, end): from the cache when the bytes are
        unchanged, else expanded over a wider span and kept (None when the cache is off, or
        the wider span would warn about occurrences the window may not hold)."""
        if not self._use_cache or self._series is not None:
            return None  # this source already parsed: expanding is all that is left
        if self._cache is None:
            identity = (self._user_email, str(self._zone), self.calendar_id)
            self._cache = IcsCache.open(self.location, identity)
            if self._cache is None:
                self._use_cache = False
                return None
        sha = self._content_sha()
        entry = self._cache.expanded(sha)
        if entry is not None and entry.covers(start, end):
            for warning in entry.load_warnings:
                self._note(warning)
            return entry
        before = len(self.warnings)
        self._load()
        load_warnings = tuple(self.warnings[before:])
        span = (start - SPAN_MARGIN, end + SPAN_MARGIN)
        self._aside = []
        try:
            wide = self._expand(*span)
        finally:
            aside, self._aside = self._aside, None
        if aside:  # warnings that depend on the window: this calendar is read exactly
            return None
        entry = Expanded(sha, *span, tuple(wide), load_warnings)
        self._cache.save_expanded(entry)
        return entry

    def _content_sha(self) -> str:
        if self._sha is None:
            if self._data is None:
                self._data = self._read()
            self._sha = self._url_sha or content_sha(self._data)
        return self._sha

    # -- loading ----------------------------------------------------------------------

    def _load(self) -> list[_Series]:
        if self._series is None:
            if self._data is None:
                self._data = self._read()
            where = redact_location(self.location)
            self._series = self._build_series(parse(where, self._data))
        return self._series

    def _read(self) -> bytes:
        where = redact_location(self.location)
        if not is_url(self.location):
            return read_file(self.location, where)
        self._requests += 1
        cache = self._cache if self._use_cache else None
        kept = cache.url_copy() if cache is not None else None
        got = fetch_if_changed(self.location, where, self._limits, kept[0] if kept else None)
        if got.data is None and cache is not None and kept is not None:  # 304: ours is current
            body = cache.url_body()
            if body is not None:
                self._url_sha = kept[1]
                return body
            got = fetch_if_changed(self.location, where, self._limits)  # the copy went
        assert got.data is not None
        if cache is not None:
            cache.save_url_copy(got.validators, got.data, content_sha(got.data))
        return got.data

    def _build_series(self, calendar: icalendar.Calendar) -> list[_Series]:
        groups: dict[str, list[_Adapter]] = defaultdict(list)
        for component in calendar.walk("VEVENT"):
            why = problem(component, self._zone)
            if why is not None:
                self._warn(label(component), why)
                continue
            dropped = dropped_lines(component)
            if dropped:
                self._note(
                    message(
                        "warn.ics_unreadable_lines",
                        calendar=self.calendar_id,
                        event=label(component),
                        lines=", ".join(dropped),
                    )
                )
            if "UID" not in component:
                component["UID"] = synthetic_uid(component)
            groups[str(component["UID"])].append(_Adapter(component))
        result: list[_Series] = []
        for adapters in groups.values():
            try:
                result.append(_Series(adapters))
            except Exception as exc:  # skip the series, keep the calendar
                why = message("warn.ics_bad_recurrence", error=reason(exc))
                self._warn(label(adapters[0].component), why)
        return result

    # -- mapping ----------------------------------------------------------------------

    def _event(self, occurrence: _Occurrence) -> Event | None:
        component = occurrence.component
        shared = self._templates.get(id(component))
        if shared is None:
            shared = self._templates[id(component)] = template(component, self._user_email)
        try:
            start, all_day = to_aware(occurrence.start, self._zone)
            end, _ = to_aware(occurrence.end, self._zone)
            if all_day and end <= start:
                day = start.date() + timedelta(days=1)
                end = datetime(day.year, day.month, day.day, tzinfo=self._zone)
            event_id = shared.uid
            if shared.recurring:
                rid = component.get("RECURRENCE-ID") if occurrence.is_override else None
                event_id += "/" + _instance_key(rid.dt if rid else occurrence.start, self._zone)
        except (ValueError, OverflowError, TypeError, AttributeError) as exc:
            self._warn(shared.label, message("warn.ics_unusable_time", error=reason(exc)))
            return None
        if end < start:
            self._warn(shared.label, message("warn.ends_before_start"))
            return None
        return Event(
            id=event_id,
            calendar_id=self.calendar_id,
            ical_uid=shared.uid,
            start=start,
            end=end,
            summary=shared.summary,
            description=shared.description,
            location=shared.location,
            video_link=shared.video_link,
            all_day=all_day,
            status=shared.status,
            event_type=shared.event_type,
            transparent=shared.transparent,
            organizer=shared.organizer,
            organizer_name=shared.organizer_name,
            attendees=shared.attendees,
            series_id=shared.uid if shared.recurring else None,
            tz_name=shared.tz_name,
        )

    def _warn(self, name: str, why: Message) -> None:
        self._note(message("warn.ics_skipped", calendar=self.calendar_id, event=name, why=why))

    def _note(self, warning: Message) -> None:
        if self._aside is not None:
            self._aside.append(warning)
            return
        if warning not in self._warned:
            self._warned.add(warning)
            self.warnings.append(warning)


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
    """A series whose rules are expanded by `expand.starts` (bounded; see there), at most
    `MAX_OCCURRENCES` per window: `capped` says the window held more."""

    def __init__(self, adapters: list[_Adapter]) -> None:
        super().__init__(adapters)
        self.label = label(adapters[0].component)
        self.capped = False
        # the scan's window: rule-made occurrences are looked for there alone (not in the
        # padded span `events` asks for), so the cap counts occurrences the scan can use
        self.window: tuple[datetime, datetime] | None = None

    def occurrence(self, adapter: _Adapter, start: Any = None, end: Any = None) -> _Occurrence:
        return _Occurrence(adapter, start, end, self.sequence, is_override=start is None)

    def rrule_between(self, span_start: Any, span_stop: Any) -> Iterator[Any]:
        if not isinstance(self.recurrence, Series.RecurrenceRules):
            yield from super().rrule_between(span_start, span_stop)
            return
        if self.window is not None:
            span_start, span_stop = self.window
        lo = span_start - self._subtract_from_start
        hi = span_stop + self._add_to_stop
        for count, start in enumerate(starts(self.recurrence, lo, hi), 1):
            if count > MAX_OCCURRENCES:
                self.capped = True
                return
            yield start


def _instance_key(value: date, zone: ZoneInfo) -> str:
    if not isinstance(value, datetime):
        return value.strftime("%Y%m%d")
    aware, _ = to_aware(value, zone)
    return aware.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _overlaps(event: Event, start: datetime, end: datetime) -> bool:
    if event.start >= end:
        return False
    return event.end > start or (event.end == event.start and event.start >= start)
