"""The seams between the scan and the outside world. Adapters implement these Protocols.

The scan (`calbot.usecases.scan`) talks only to these; the ICS source, the outbox and SQLite are
the first implementations, Google Calendar and Gmail plug in beside them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from calbot.core.model import Draft, Event, Slot


class CalendarSource(Protocol):
    """Where events come from."""

    def events(self, start: datetime, end: datetime) -> Iterable[Event]:
        """Every occurrence overlapping [start, end), recurring series expanded.

        Cancelled occurrences may be returned (status="cancelled"); the core drops them.
        """
        ...

    def extra_busy(self, start: datetime, end: datetime) -> Sequence[Slot]:
        """Busy time from calendars whose events are not read (at most one request)."""
        ...

    @property
    def requests(self) -> int:
        """API requests made so far (0 for local files)."""
        ...


@dataclass(frozen=True, slots=True)
class Written:
    """Where a sink put a draft, and the version token of what calbot wrote there.

    `version` changes whenever the draft's content changes — a hash of the file for the
    outbox, the message id for Gmail — so a later scan can tell an edit by the user.
    """

    ref: str
    version: str
    # For `find`: the hash of the text calbot wrote into the draft, and whether the draft
    # has been edited since (its text no longer matches that hash).
    content_hash: str = ""
    edited: bool = False


class DraftGone(Exception):
    """Raised by a sink when a draft it was asked to update is no longer there (the user
    deleted or sent it between `observe` and the write)."""


class DraftSink(Protocol):
    """Somewhere drafts are left for the user to review. Never a place that sends."""

    name: str

    def observe(self, refs: Sequence[str]) -> dict[str, str | None]:
        """Current version of each ref, None when it is gone (deleted or sent by the user)."""
        ...

    def find(self, message_id: str) -> Written | None:
        """A draft of ours carrying this Message-ID, if one exists (to adopt after lost state),
        with `content_hash` and `edited` filled in."""
        ...

    def adoptable(self, known_refs: Collection[str], message_ids: Collection[str]) -> set[str]:
        """Of `message_ids` (drafts about to be written), those that may already have a
        draft here the ledger does not know (`known_refs` are the ones it does): only these
        need a `find` before `create`. Naming too many only costs look-ups; naming too few
        would make duplicates."""
        ...

    def create(self, draft: Draft, message_id: str) -> Written: ...

    def update(self, ref: str, draft: Draft, message_id: str) -> Written: ...

    def delete(self, ref: str) -> None: ...


@dataclass(frozen=True, slots=True)
class SinkRecord:
    """The ledger's row for one (draft key, sink): what calbot last wrote there."""

    key: str  # Event.draft_key
    sink: str
    action: str
    message_id: str
    ref: str
    version: str  # what calbot wrote; compare with `DraftSink.observe`
    fingerprint: str  # Decision.fingerprint when written
    status: str  # new | updated | unchanged | user_deleted | user_edited
    written_at: datetime
    content_hash: str = ""  # hash of the rendered draft: unchanged text means no rewrite


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    key: str
    event_id: str
    client: str
    action: str
    score: int
    fingerprint: str
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class GoodwillEntry:
    client: str
    key: str
    action: str
    asked_at: datetime  # when calbot drafted the ask
    meeting_start: datetime


class EventCache(Protocol):
    """Per-calendar sync state a remote source keeps in the state store."""

    def sync_token(self, calendar_id: str) -> str | None: ...

    def put_sync_token(self, calendar_id: str, token: str | None) -> None: ...

    def cached_events(self, calendar_id: str) -> list[dict[str, object]]:
        """The calendar's cached events as the API returned them (compact JSON)."""
        ...

    def put_events(self, calendar_id: str, items: Sequence[dict[str, object]]) -> None:
        """Upsert by `id`; an item with status "cancelled" removes it from the cache."""
        ...

    def iter_cached_events(self, calendar_id: str) -> Iterator[dict[str, object]]:
        """`cached_events`, streamed (memory stays flat however big the cache)."""
        ...

    def move_events(self, from_calendar: str, to_calendar: str) -> None:
        """Give one calendar's cached events to another (a staged full sync swapped in)."""
        ...

    def drop_calendar(self, calendar_id: str) -> None:
        """Forget the calendar's token and events (a 410: sync from scratch)."""
        ...


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One scan, for the digest's "trouble since the last digest" and for `doctor`."""

    started_at: datetime
    finished_at: datetime
    outcome: str  # ok | failed | auth | locked | google_down
    error: str = ""  # the one-line message shown to the user (never a secret)
    counts: Mapping[str, int] = field(default_factory=dict)  # events, meetings, drafted, ...
    warnings: tuple[str, ...] = ()  # skipped events, expiring access, ...


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """A drafted reply waiting for the user's review: what the morning digest lists."""

    key: str  # Event.draft_key
    client: str
    summary: str
    start: datetime
    end: datetime
    action: str
    reason: str  # one human line, the user's language
    event_link: str
    drafts: Mapping[str, str]  # sink name -> ref (Gmail draft id, outbox file name)
    saved_minutes: int  # what sending this draft wins back
    status: str  # new | updated | unchanged | user_edited | user_deleted
    drafted_at: datetime
    reported_at: datetime | None = None  # set by the digest that showed it


@dataclass(frozen=True, slots=True)
class DayLoadRecord:
    day: date
    meeting_minutes: float
    meeting_count: int


class StateStore(EventCache, Protocol):
    """Decisions, the goodwill ledger, the sinks' ledger and (for remote sources) the event
    cache. Writes happen in `transaction()`."""

    def transaction(self) -> AbstractContextManager[None]: ...

    def decisions(self) -> dict[str, DecisionRecord]: ...

    def put_decision(self, record: DecisionRecord) -> None: ...

    def goodwill(self, since: datetime) -> list[GoodwillEntry]: ...

    def add_goodwill(self, entry: GoodwillEntry) -> None: ...

    def sink_records(self, sink: str) -> dict[str, SinkRecord]: ...

    def put_sink_record(self, record: SinkRecord) -> None: ...

    def delete_sink_record(self, sink: str, key: str) -> None: ...

    # -- for the morning review (digest) --

    def add_run(self, run: RunRecord) -> None: ...

    def runs(self, since: datetime) -> list[RunRecord]: ...

    def put_review(self, item: ReviewItem) -> None:
        """Upsert by key. A changed item (action, start, status or drafts) is unreported
        again; an unchanged one keeps its `reported_at`."""
        ...

    def delete_review(self, key: str) -> None: ...

    def reviews(self) -> list[ReviewItem]: ...

    def mark_reported(self, keys: Sequence[str], at: datetime) -> None: ...

    def put_week_load(self, days: Sequence[DayLoadRecord]) -> None:
        """The latest scan's load per day (replaces what was there)."""
        ...

    def week_load(self) -> list[DayLoadRecord]: ...

    def get_meta(self, name: str) -> str | None: ...

    def put_meta(self, name: str, value: str) -> None:
        """Small named values: last digest time, the review calendar's id, ..."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Note:
    """What calbot leaves on the user's own copy of a meeting (private extended properties,
    visible to nobody else), and an optional colour."""

    action: str
    score: int
    reason: str
    draft_id: str
    fingerprint: str
    color_id: str = ""

    def properties(self) -> dict[str, str]:
        return {
            "calbot_action": self.action,
            "calbot_score": str(self.score),
            "calbot_reason": self.reason,
            "calbot_draft": self.draft_id,
            "calbot_fp": self.fingerprint,
        }


NOTE_KEYS = ("calbot_action", "calbot_score", "calbot_reason", "calbot_draft", "calbot_fp")


class NoteSink(Protocol):
    """Notes on calendar events. Never changes anything the client sees."""

    name: str

    def put(self, event: Event, note: Note) -> None:
        """Set the note (and colour) on the user's copy of `event`."""
        ...

    def clear(self, event: Event) -> None:
        """Remove calbot's note (and colour) from `event`."""
        ...


class Lock(Protocol):
    def __enter__(self) -> Lock: ...

    def __exit__(self, *exc: object) -> None: ...
