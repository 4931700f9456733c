"""What the state store keeps and the sinks leave behind: plain records, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime


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
