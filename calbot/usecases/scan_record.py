"""What a scan leaves in the state store besides the sinks' ledger: the decision per meeting
and the goodwill ledger (read by the next scan), the drafted replies and the week's load
(read by the morning digest)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from datetime import datetime, timedelta

from calbot.core.decide import GOODWILL_ACTIONS
from calbot.core.records import DayLoadRecord, DecisionRecord, GoodwillEntry, ReviewItem
from calbot.core.savings import saved_minutes
from calbot.core.scan_result import Outcome, Window
from calbot.core.vocab import DraftStatus
from calbot.core.workload import Workload
from calbot.ports.store import StateStore
from calbot.present.reasons import main_reason


def record_decisions(
    wanted: Mapping[str, Outcome], outcomes: Sequence[Outcome], store: StateStore, now: datetime
) -> None:
    """Decisions per meeting and the goodwill ledger ("asked" means drafted)."""
    known = store.decisions()
    with store.transaction():
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
