"""What the state store keeps and the sinks leave behind: plain records and the rules every
store applies to them, no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from calbot.core.vocab import DraftStatus, RunOutcome


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
    status: DraftStatus
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


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One scan, for the digest's "trouble since the last digest" and for `doctor`."""

    started_at: datetime
    finished_at: datetime
    outcome: RunOutcome
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
    status: DraftStatus
    drafted_at: datetime
    reported_at: datetime | None = None  # set by the digest that showed it


@dataclass(frozen=True, slots=True)
class HoldRecord:
    """A slot offered in a pending draft: busy for every other proposal until the hold ends
    (SPEC §1.7). A draft key holds its slots as one set, replaced whole."""

    key: str  # Event.draft_key of the meeting whose draft offers the slot
    event_id: str
    client: str
    start: datetime
    end: datetime


def check_holds(key: str, holds: Sequence[HoldRecord]) -> list[HoldRecord]:
    """The holds as stored under `key`, by start: each must belong to it, be aware, not
    empty, and start apart from the others."""
    out: list[HoldRecord] = []
    for hold in holds:
        if hold.key != key:
            raise ValueError(f"a hold of {hold.key!r} cannot be stored under {key!r}")
        require_aware(hold.start, "start")
        require_aware(hold.end, "end")
        if hold.end <= hold.start:
            raise ValueError(f"a hold must end after it starts: {hold.start.isoformat()}")
        if any(h.start == hold.start for h in out):
            raise ValueError(f"{key!r} holds {hold.start.isoformat()} twice")
        out.append(hold)
    return sorted(out, key=lambda h: h.start)


@dataclass(frozen=True, slots=True)
class DayLoadRecord:
    day: date
    meeting_minutes: float
    meeting_count: int


def require_aware(value: datetime, what: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {value.isoformat()}")


def check_run(run: RunRecord) -> RunRecord:
    """The run as stored: aware datetimes required; plain dict/tuple copies of its parts."""
    require_aware(run.started_at, "started_at")
    require_aware(run.finished_at, "finished_at")
    counts = {str(k): int(v) for k, v in run.counts.items()}
    return replace(run, counts=counts, warnings=tuple(str(w) for w in run.warnings))


def check_review(item: ReviewItem) -> ReviewItem:
    """The item as stored: aware datetimes required; a plain dict copy of `drafts`."""
    for what in ("start", "end", "drafted_at"):
        require_aware(getattr(item, what), what)
    if item.reported_at is not None:
        require_aware(item.reported_at, "reported_at")
    return replace(item, drafts={str(k): str(v) for k, v in item.drafts.items()})


def review_is_news(stored: ReviewItem, new: ReviewItem) -> bool:
    """Whether an upsert makes a reported item unreported again (every store uses this).

    News: another action, start or set of drafts; or another status — except "unchanged",
    which by definition says nothing happened (a scan reports each untouched draft so);
    or a "new"/"updated" status whose draft was written again (`drafted_at` moved).
    """
    if (stored.action, stored.start, dict(stored.drafts)) != (
        new.action,
        new.start,
        dict(new.drafts),
    ):
        return True
    if new.status == DraftStatus.UNCHANGED:
        return False
    if new.status != stored.status:
        return True
    return (
        new.status in (DraftStatus.NEW, DraftStatus.UPDATED) and new.drafted_at != stored.drafted_at
    )


def merge_review(stored: ReviewItem | None, new: ReviewItem) -> ReviewItem:
    """What `put_review` stores: `new`, with the stored `reported_at` unless it is news."""
    if stored is None:
        return new
    return replace(new, reported_at=None if review_is_news(stored, new) else stored.reported_at)


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
