"""What a scan leaves in the state store besides the sinks' ledger: the decision per meeting,
the goodwill ledger and the held slots (read by the next scan), the drafted replies and the
week's load (read by the morning digest)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from calbot.core.decide import GOODWILL_ACTIONS, offered_slots
from calbot.core.model import Slot
from calbot.core.records import (
    DayLoadRecord,
    DecisionRecord,
    GoodwillEntry,
    HoldRecord,
    ReviewItem,
)
from calbot.core.savings import saved_minutes
from calbot.core.scan_result import Outcome, Window
from calbot.core.vocab import DraftStatus
from calbot.core.workload import Workload
from calbot.ports.store import StateStore
from calbot.present.reasons import main_reason

# A draft calbot does not rewrite (the user deleted, edited or sent it) still says what it
# said: the slots it held stay those, not this scan's proposal.
_AS_WRITTEN = frozenset({DraftStatus.USER_DELETED, DraftStatus.USER_EDITED, DraftStatus.SENT})


@dataclass(frozen=True, slots=True)
class HoldScope:
    """What decides which holds a scan keeps (SPEC §1.7), besides its replies."""

    now: datetime
    seen: Set[str]  # draft keys of every event the scan read
    full: bool  # a full-window scan: a key it did not see is cancelled
    ended: Set[str]  # keys whose meeting moved or was cancelled
    failed: Set[str]  # keys whose draft could not be rendered: left as they are
    unsent: Set[str]  # keys whose draft a sink that tells sent knows deleted unsent
    learned: Mapping[str, tuple[Slot, ...]]  # from the headers of adopted drafts


def next_holds(
    previous: Sequence[HoldRecord], wanted: Mapping[str, Outcome], scope: HoldScope
) -> dict[str, tuple[HoldRecord, ...]]:
    """Every draft key's holds after this scan (keys holding nothing left out).

    A pending reschedule draft holds its proposal's slots; one the user deleted (where that
    may mean sent), edited or sent keeps what it held. A hold ends when its slot starts, the
    meeting moves or is cancelled, the decision changes, or the draft is known deleted
    unsent; a narrow scan keeps the holds of meetings it did not see.
    """
    before: dict[str, list[HoldRecord]] = {}
    for hold in previous:
        before.setdefault(hold.key, []).append(hold)

    def live(holds: Sequence[HoldRecord]) -> tuple[HoldRecord, ...]:
        return tuple(h for h in holds if h.start > scope.now)

    out: dict[str, tuple[HoldRecord, ...]] = {}
    for key in sorted(set(before) | set(wanted) | set(scope.learned)):
        o = wanted.get(key)
        if o is not None:
            slots = offered_slots(o.decision)
            event, client = o.meeting.event, o.meeting.client.name
            held = before.get(key) or [
                HoldRecord(key, event.id, client, s.start, s.end)
                for s in scope.learned.get(key, ())
            ]
            if not slots or key in scope.unsent:
                kept: tuple[HoldRecord, ...] = ()
            elif o.status in _AS_WRITTEN and held and key not in scope.ended:
                kept = live(held)
            else:
                kept = tuple(HoldRecord(key, event.id, client, s.start, s.end) for s in slots)
        elif key in scope.failed or not (key in scope.seen or scope.full):
            kept = live(before.get(key, ()))
        else:  # decided otherwise, past, or cancelled
            kept = ()
        if kept:
            out[key] = kept
    return out


def _same(a: Sequence[HoldRecord], b: Sequence[HoldRecord]) -> bool:
    def norm(holds: Sequence[HoldRecord]) -> set[tuple[str, str, datetime, datetime]]:
        return {
            (h.event_id, h.client, h.start.astimezone(UTC), h.end.astimezone(UTC)) for h in holds
        }

    return norm(a) == norm(b)


def record_decisions(
    wanted: Mapping[str, Outcome],
    outcomes: Sequence[Outcome],
    store: StateStore,
    now: datetime,
    holds: Mapping[str, Sequence[HoldRecord]] | None = None,
) -> None:
    """Decisions per meeting, the goodwill ledger ("asked" means drafted) and, when given,
    the holds (`next_holds`) in the same transaction: a crash never leaves a decision
    recorded without the holds that go with it."""
    known = store.decisions()
    with store.transaction():
        if holds is not None:
            stored: dict[str, list[HoldRecord]] = {}
            for hold in store.holds():
                stored.setdefault(hold.key, []).append(hold)
            for key in sorted(set(stored) | set(holds)):
                if not _same(stored.get(key, ()), holds.get(key, ())):
                    store.put_holds(key, holds.get(key, ()))
        for o in outcomes:
            d = o.decision
            event = o.meeting.event
            old = known.get(event.id)
            if old and (old.action, old.score, old.fingerprint) == (
                d.action.value,
                d.score,
                d.fingerprint,
            ):
                continue
            store.put_decision(
                DecisionRecord(
                    key=event.id,
                    event_id=event.id,
                    client=o.meeting.client.name,
                    action=d.action.value,
                    score=d.score,
                    fingerprint=d.fingerprint,
                    decided_at=now,
                )
            )
        for key, o in wanted.items():
            if o.decision.action in GOODWILL_ACTIONS:
                store.add_goodwill(
                    GoodwillEntry(
                        client=o.meeting.client.name,
                        key=key,
                        action=o.decision.action.value,
                        asked_at=now,
                        meeting_start=o.meeting.event.start,
                    )
                )


def record_review(
    wanted: Mapping[str, Outcome],
    seen_keys: Set[str],
    window: Window,
    workload: Workload,
    store: StateStore,
    now: datetime,
    lang: str,
) -> None:
    """What the morning digest reads: the drafted replies (their reason in `lang`, as text:
    the digest shows it as stored) and the load per day (`day_loads`)."""
    with store.transaction():
        for key, o in wanted.items():
            d, e = o.decision, o.meeting.event
            store.put_review(
                ReviewItem(
                    key=key,
                    client=o.meeting.client.name,
                    summary=e.summary,
                    start=e.start,
                    end=e.end,
                    action=d.action.value,
                    reason=main_reason(d, lang),
                    event_link=e.html_link,
                    drafts=dict(o.refs),
                    saved_minutes=saved_minutes(e, d),
                    status=o.status or DraftStatus.NEW,
                    drafted_at=now,
                )
            )
        for item in store.reviews():
            if item.key not in wanted and (item.key in seen_keys or window.full):
                store.delete_review(item.key)
        store.put_week_load(day_loads(window, workload))


#: Days ahead of the scan whose load the digest charts (SPEC §7: the coming two weeks).
LOAD_DAYS_AHEAD = 14


def day_loads(window: Window, workload: Workload) -> list[DayLoadRecord]:
    """The load per day the digest charts: from the Monday of the scan's week (the days
    already gone this week give context) through two weeks ahead of the scan, but not past
    the scan's window (days it did not read would look empty)."""
    start = window.start.astimezone(workload.tz).date()
    last = min(start + timedelta(days=LOAD_DAYS_AHEAD), window.end.astimezone(workload.tz).date())
    day = start - timedelta(days=start.weekday())
    out = []
    while day <= last:
        load = workload.day(day)
        out.append(DayLoadRecord(day, load.meeting_minutes, load.meeting_count))
        day += timedelta(days=1)
    return out
