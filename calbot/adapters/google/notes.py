"""Calendar notes: calbot's verdict on the user's own copy of a meeting, seen by nobody else.

A note is a set of *private* extended properties (`calbot_action`, `calbot_score`,
`calbot_reason`, `calbot_draft`, `calbot_fp`) and, when configured, a colour. Private
extended properties live on one attendee's copy of the event and only that user sees them.

Every write is one `events.patch` with `sendUpdates=none` whose body holds
`extendedProperties.private` (and `colorId` when a colour is set) — nothing else: never the
summary, description, time, attendees, RSVP or the attendee comment (which reaches the
organizer), so nothing the client sees can change.

- `put` makes no request when the event already carries exactly that note (and colour).
- `clear` removes calbot's keys (a patch setting each to null removes it, other private
  properties of the user are untouched). The colour is left alone, because calbot cannot
  tell a colour it set from one the user chose — unless the sink was built with
  `colors=`: the colours calbot itself uses; an event showing one of those gets its colour
  reset to the calendar's default on `clear`.
- An event gone between the read and the patch (404, or 410 "deleted"), not writable by
  the user (403, e.g. a copy that is not theirs) or refusing this patch (400, 409, 412)
  adds a warning to `warnings` (a `Message`,
  which the scan renders in the user's language) and the scan goes on. Any other API
  error propagates.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from calbot.adapters.google.api import ApiError, GoogleApi
from calbot.adapters.google.events import NOTE_KEYS
from calbot.core.headers import clean_header_text
from calbot.core.messages import Message, message
from calbot.core.model import Event
from calbot.core.records import Note

# Answers about this one event, not about Google or calbot's access: 400 (Google will not
# take this patch on this event), 409 (a conflicting change), 412 (the event changed since
# it was read). Its note waits for the next scan; the other notes, the decisions and the
# drafts go on.
_REFUSED = frozenset({400, 409, 412})
# 403 reasons that mean "slow down", not "not yours": those are not a per-event problem.
_RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})


def note_properties(note: Note) -> dict[str, str]:
    """The private extended properties that carry `note` (their names: `NOTE_KEYS`)."""
    return {
        "calbot_action": note.action,
        "calbot_score": str(note.score),
        "calbot_reason": note.reason,
        "calbot_draft": note.draft_id,
        "calbot_fp": note.fingerprint,
    }


def request_body(note: Note) -> dict[str, Any]:
    """The whole `events.patch` body for `note`: private properties, plus colour if set."""
    body: dict[str, Any] = {"extendedProperties": {"private": note_properties(note)}}
    if note.color_id:
        body["colorId"] = note.color_id
    return body


def clear_body(*, reset_color: bool = False) -> dict[str, Any]:
    """The `events.patch` body removing calbot's note (null removes a key under patch)."""
    body: dict[str, Any] = {"extendedProperties": {"private": dict.fromkeys(NOTE_KEYS)}}
    if reset_color:
        body["colorId"] = None
    return body


def current_note(event: Event) -> dict[str, str]:
    """calbot's keys among the event's private properties (the user may have others)."""
    return {k: v for k, v in event.notes if k in NOTE_KEYS}


def is_current(event: Event, note: Note) -> bool:
    """Whether `event` already shows exactly `note` (its colour too, when it sets one)."""
    if current_note(event) != note_properties(note):
        return False
    return not note.color_id or event.color_id == note.color_id


class CalendarNotes:
    """`NoteSink` patching private extended properties on the user's copy of events."""

    name = "calendar_notes"

    def __init__(self, api: GoogleApi, *, colors: Collection[str] = ()) -> None:
        self._api = api
        self._colors = frozenset(c for c in colors if c)
        self.warnings: list[Message] = []

    def put(self, event: Event, note: Note) -> None:
        if is_current(event, note):
            return
        self._patch(event, request_body(note), "warn.note_skipped")

    def clear(self, event: Event) -> None:
        if not current_note(event):
            return
        reset = bool(event.color_id) and event.color_id in self._colors
        self._patch(event, clear_body(reset_color=reset), "warn.note_clearing_skipped")

    def _patch(self, event: Event, body: dict[str, Any], skipped: str) -> None:
        """One `events.patch`; `skipped`: the warning's code when the event cannot take it."""
        request = self._api.events().patch(
            calendarId=event.calendar_id,
            eventId=event.id,
            sendUpdates="none",
            body=body,
            fields="id",
        )
        try:
            self._api.call(request, what="calendar events.patch")
        except ApiError as exc:
            if exc.status in (404, 410):  # Google answers 410 for a deleted event too
                problem = message("warn.event_gone")
            elif exc.status == 403 and exc.reason not in _RATE_LIMIT_REASONS:
                problem = message("warn.copy_not_yours")
            elif exc.status in _REFUSED:
                problem = message("warn.note_refused")
            else:
                raise
            self.warnings.append(
                message(skipped, event=_describe(event), problem=problem, status=exc.status)
            )


def _describe(event: Event) -> str:
    title = clean_header_text(event.summary, limit=None)
    if len(title) > 60:
        title = title[:59] + "…"
    where = f"{event.calendar_id}/{event.id}"
    return f"“{title}” ({where})" if title else where
