"""Busy time of `[source] busy_calendars`: one `freeBusy.query` per 50 calendars (Google's
limit per query) for the window, memoised per window; a window Google refuses as too long
(400 `timeRangeTooLong`) is split into pieces of at most 90 days (halves below that) and
asked again. Without busy calendars: no request. A busy calendar Google reports an error
for (not found, no access) is a warning; its busy time is unknown."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from calbot.adapters.google.api import ApiError, GoogleApi
from calbot.core.messages import Message, message
from calbot.core.model import Slot

__all__ = ["FreeBusy"]

FREEBUSY_MAX_ITEMS = 50  # Google's limit of calendars per freeBusy.query
FREEBUSY_MAX_SPAN = timedelta(days=90)  # the piece size once Google refuses a window
FREEBUSY_MIN_SPAN = timedelta(days=1)  # never split below this


class FreeBusy:
    """The busy time of some calendars, asked once per window. `warn` takes each warning
    line (a calendar Google has no busy times for)."""

    def __init__(
        self,
        api: GoogleApi,
        calendars: Sequence[str],
        zone: ZoneInfo,
        warn: Callable[[Message], None],
    ) -> None:
        self._api = api
        self._calendars = tuple(calendars)
        self._zone = zone
        self._warn = warn
        self._busy: dict[tuple[datetime, datetime], list[Slot]] = {}

    def busy(self, start: datetime, end: datetime) -> list[Slot]:
        """Busy time of `[source] busy_calendars` in [start, end), sorted and merged."""
        if not self._calendars or end <= start:
            return []
        key = (start, end)
        if key not in self._busy:
            slots: list[Slot] = []
            for i in range(0, len(self._calendars), FREEBUSY_MAX_ITEMS):
                chunk = self._calendars[i : i + FREEBUSY_MAX_ITEMS]
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
                self._warn(message("warn.no_busy_times", calendar=cal))
                continue
            errors = data.get("errors")
            if isinstance(errors, list) and errors:
                reasons = sorted({str(e.get("reason", "?")) for e in errors if isinstance(e, dict)})
                self._warn(
                    message("warn.busy_unavailable", calendar=cal, reasons=", ".join(reasons))
                )
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
