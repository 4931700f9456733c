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
    the digest shows it as stored) and this week's load."""
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
        monday = window.start.astimezone(workload.tz).date()
        monday -= timedelta(days=monday.weekday())
        days = [monday + timedelta(days=i) for i in range(14)]
        store.put_week_load(
            [
                DayLoadRecord(
                    day, workload.day(day).meeting_minutes, workload.day(day).meeting_count
                )
                for day in days
            ]
        )
