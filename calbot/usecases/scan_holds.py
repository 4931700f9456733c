"""The holds a scan starts from, before deciding: those re-learned from calbot's drafts when
a mail sink's ledger is empty, and those that end because their meeting moved or was
cancelled."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from calbot.adapters.mail import message_id_for
from calbot.core.decide import Scored, event_fingerprint
from calbot.core.model import Action, Event
from calbot.core.records import DecisionRecord, HoldRecord
from calbot.ports.sinks import DraftSink, SinkKind
from calbot.ports.store import StateStore


def relearned_holds(
    sinks: Sequence[DraftSink],
    store: StateStore,
    scored: Sequence[Scored],
    act_at: int,
    domain: str,
    now: datetime,
) -> tuple[list[HoldRecord], dict[str, set[str]]]:
    """A mail sink whose ledger is empty (a lost store, or a new one) may hold calbot's
    drafts: the holds of its reschedule drafts are re-learned from their `X-Calbot-Holds`
    before deciding, so their slots stay busy for every other proposal and kept by their
    own. Also returns, per such sink, which of the drafts this scan might write are there
    already: the sync's adoption needs no second listing."""
    relearning = [
        sink for sink in sinks if sink.kind is SinkKind.MAIL and not store.sink_records(sink.name)
    ]
    if not relearning:  # the usual case: nothing to look for (~13,000 ids on a big window)
        return [], {}
    meetings = {
        s.meeting.event.draft_key: s.meeting
        for s in reversed(scored)
        if s.score.total >= act_at and s.meeting.event.start > now  # could get a draft
    }
    ids = {
        message_id_for(key, action.value, domain): (key, action)
        for key in meetings
        for action in Action
        if action != Action.NONE
    }
    if not ids:
        return [], {}
    holds: dict[str, list[HoldRecord]] = {}
    present: dict[str, set[str]] = {}
    for sink in relearning:
        present[sink.name] = found_ids = sink.adoptable((), ids)
        for message_id in sorted(found_ids):
            key, action = ids[message_id]
            if action != Action.RESCHEDULE or key in holds:
                continue
            found = sink.find(message_id)
            if found is not None and found.holds:
                m = meetings[key]
                holds[key] = [
                    HoldRecord(key, m.event.id, m.client.name, slot.start, slot.end)
                    for slot in found.holds
                    if slot.start > now
                ]
    return [h for key_holds in holds.values() for h in key_holds], present


def ended_holds(
    holds: Sequence[HoldRecord],
    events: Sequence[Event],
    decisions: dict[str, DecisionRecord],
    seen: set[str],
    full: bool,
) -> set[str]:
    """The draft keys whose holds end because the meeting moved (its times or people differ
    from those the recorded reschedule was decided on) or was cancelled (a full-window scan
    no longer sees it; a narrow one cannot tell)."""
    by_id = {e.id: e for e in events}
    ended: set[str] = set()
    for hold in holds:
        event = by_id.get(hold.event_id)
        if event is None:
            if full and hold.key not in seen:
                ended.add(hold.key)
            continue
        known = decisions.get(hold.event_id)
        if (
            known is not None
            and known.action == Action.RESCHEDULE.value
            and known.fingerprint != event_fingerprint(event, Action.RESCHEDULE)
        ):
            ended.add(hold.key)
    return ended
