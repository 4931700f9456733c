"""What one scan returns: the window it looked at and, per client meeting, the decision,
the draft and where each sink holds it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from calbot.core.model import Decision, Draft, Meeting
from calbot.core.records import HoldRecord
from calbot.core.vocab import DraftStatus

# The one status a meeting shows, when its sinks differ: the first of these that any has.
_SHOWN_FIRST = (
    DraftStatus.USER_EDITED,
    DraftStatus.UPDATED,
    DraftStatus.NEW,
    DraftStatus.UNCHANGED,
    DraftStatus.SENT,
    DraftStatus.USER_DELETED,
)


# A draft that left the user's drafts is no longer waiting for them.
NOT_PENDING = frozenset({DraftStatus.USER_DELETED, DraftStatus.SENT, DraftStatus.DELETED})


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime
    history_start: datetime
    # Drafts whose meeting this scan did not see are cleaned up only on a full-window scan:
    # a narrow --from/--to scan must not delete drafts for meetings outside it.
    full: bool = True


@dataclass(slots=True)
class Outcome:
    meeting: Meeting
    decision: Decision
    draft: Draft | None = None
    refs: dict[str, str] = field(default_factory=dict)  # sink name → ref, in sink order
    statuses: dict[str, DraftStatus] = field(default_factory=dict)  # sink name → status
    dry_run: bool = False
    mail_sinks: set[str] = field(default_factory=set)  # those sinks that hold the mail itself

    @property
    def status(self) -> DraftStatus | None:
        """One status for the user: the mail drafts' (Gmail, outbox) over the review
        calendar's; an edit anywhere shows; "user_deleted" only when gone everywhere."""
        if self.dry_run:
            return DraftStatus.DRY_RUN
        mail = {k: v for k, v in self.statuses.items() if k in self.mail_sinks}
        values = set((mail or self.statuses).values())
        return next((status for status in _SHOWN_FIRST if status in values), None)

    @property
    def mail_ref(self) -> str:
        """The ref of the mail draft (the first mail sink's), "" when there is none."""
        return next((ref for name, ref in self.refs.items() if name in self.mail_sinks), "")


@dataclass(slots=True)
class ScanResult:
    generated_at: datetime
    window: Window
    outcomes: list[Outcome]
    events_seen: int
    api_requests: int
    warnings: list[str]
    deleted: int = 0  # own untouched drafts removed because no longer wanted
    # every slot held by a pending draft after this scan (what it would hold, in a dry
    # run), by start, in the user's zone
    holds: list[HoldRecord] = field(default_factory=list)
    # pending drafts of meetings a narrow (--from/--to) scan did not see
    pending_elsewhere: int = 0

    @property
    def drafted(self) -> int:
        """Drafts this scan created or updated (SPEC §3): 0 on an unchanged rescan."""
        return sum(1 for o in self.outcomes if o.status in (DraftStatus.NEW, DraftStatus.UPDATED))

    @property
    def pending(self) -> int:
        """Drafts still waiting for the user: written (this scan or before) and neither
        deleted nor sent since, those of meetings outside a narrow window included. In a
        dry run, those it would leave."""
        here = sum(1 for o in self.outcomes if o.draft is not None and o.status not in NOT_PENDING)
        return here + self.pending_elsewhere
