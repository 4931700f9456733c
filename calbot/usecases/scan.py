"""One scan, end to end: read → classify → measure → score → decide → draft → plan → apply
→ record. A function of (settings, ports, templates, clock): safe to re-run.

The sinks are synced in `calbot.usecases.sink_sync`, the store's other records written in
`calbot.usecases.scan_record`; what a scan returns is in `calbot.core.scan_result`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from calbot import collector
from calbot.adapters.mail import message_domain, message_id_for
from calbot.config.settings import Settings
from calbot.core.classify import classify_all, dedupe
from calbot.core.decide import Scene, Scored, decide_all
from calbot.core.draft_openings import Openings
from calbot.core.messages import Say, message
from calbot.core.model import Action, Decision, Draft, Event, Meeting, Slot
from calbot.core.records import Note
from calbot.core.scan_result import NOT_PENDING, Outcome, ScanResult, Window
from calbot.core.scoring import client_week_counts, repeat_count, score
from calbot.core.settings import CoreSettings
from calbot.core.vocab import DraftStatus
from calbot.core.workload import Workload, clip_events, measure
from calbot.errors import ConfigError
from calbot.ports.calendar import CalendarSource
from calbot.ports.sinks import DraftSink, NoteSink, Reply, SinkKind
from calbot.ports.store import StateStore
from calbot.present.messages import say
from calbot.present.reasons import acting_reasons, main_reason
from calbot.usecases.draft_memo import DraftMemo
from calbot.usecases.scan_holds import ended_holds, relearned_holds
from calbot.usecases.scan_record import HoldScope, next_holds, record_decisions, record_review
from calbot.usecases.sink_duplicates import relearn_deleted
from calbot.usecases.sink_sync import Scope, SinkSync, meeting_label, sync_sink

__all__ = [
    "Outcome",
    "Ports",
    "Progress",
    "ScanResult",
    "Window",
    "quiet",
    "run_scan",
    "score_window",
]


@dataclass(frozen=True, slots=True)
class Ports:
    source: CalendarSource
    store: StateStore
    sinks: Sequence[DraftSink] = ()
    notes: NoteSink | None = None


Progress = Callable[[str], None]


class Drafter(Protocol):
    """What renders drafts: `calbot.config.templates.Templates`, or the `TemplateSource`
    that loads them only when a draft is rendered."""

    def draft(
        self, meeting: Meeting, decision: Decision, settings: CoreSettings, say: Say, opening: int
    ) -> Draft: ...


def quiet(_: str) -> None:
    pass


def run_scan(
    settings: Settings,
    ports: Ports,
    templates: Drafter,
    *,
    now: datetime,
    window: Window,
    dry_run: bool = False,
    progress: Progress = quiet,
    memo: DraftMemo | None = None,
) -> ScanResult:
    """`memo`: drafts rendered before, by their inputs (`calbot.usecases.draft_memo`)."""
    tz = ZoneInfo(settings.user.timezone)
    with collector.paused():  # the core's many small objects (`calbot.collector`)
        progress("reading calendar")
        events, unusable = clip_events(
            ports.source.events(window.history_start, window.end),
            window.history_start,
            window.end,
        )
        events = dedupe(events)

        progress("scoring meetings")
        workload, scored = score_window(
            events, settings, window, ports.source.extra_busy(window.start, window.end)
        )
        lang = settings.user.language
        warnings = [say(w, lang) for w in (*ports.source.warnings, *unusable)]
        seen_keys = {e.draft_key for e in events}
        domain = message_domain(settings.user.domain)
        previous = ports.store.holds()
        present: dict[str, set[str]] = {}
        if not previous:
            act_at = settings.thresholds.act_at
            previous, present = relearned_holds(
                ports.sinks, ports.store, scored, act_at, domain, now
            )
        ended = ended_holds(previous, events, ports.store.decisions(), seen_keys, window.full)
        scene = Scene(
            now=now,
            horizon_end=window.end,
            workload=workload,
            settings=settings,
            asked=_asked(ports.store, now - timedelta(days=settings.thresholds.goodwill_days)),
            holds=tuple(h for h in previous if h.start > now and h.key not in ended),
        )
        decisions = decide_all(scored, scene)
        outcomes = sorted(
            (Outcome(s.meeting, decisions[s.meeting.event.id]) for s in scored),
            key=lambda o: o.meeting.event.start,
        )

        progress("drafting replies")
        wanted, failed = _draft_each_key(outcomes, settings, templates, warnings, memo)
        if memo is not None:
            memo.save()
        replies = {key: _reply(key, o, domain, lang) for key, o in wanted.items()}
    result = ScanResult(now, window, outcomes, len(events), 0, warnings)
    scope = Scope(seen=seen_keys, held=failed, full=window.full)
    learned: dict[str, tuple[Slot, ...]] = {}
    first_mail = next((s for s in ports.sinks if s.kind is SinkKind.MAIL), None)
    if first_mail is not None and not dry_run:  # the sink whose draft ids notes carry
        relearn_deleted(first_mail, replies, ports.store, now=now)
    for sink in ports.sinks:
        progress(f"writing drafts to {sink.name}")
        synced = sync_sink(
            sink,
            replies,
            ports.store,
            scope,
            now=now,
            dry_run=dry_run,
            present=present.get(sink.name),
        )
        _take(sink, synced, wanted, result, lang)
        learned = synced.learned | learned  # the first sink's word wins
    for outcome in wanted.values():
        # "dry_run" is what a real scan would write; a draft every sink already holds
        # unchanged keeps its status (`sync_sink` reports it)
        if dry_run and not (ports.sinks and len(outcome.statuses) == len(ports.sinks)):
            outcome.dry_run = True
    if ports.notes is not None and not dry_run:
        progress("noting decisions on the calendar")
        _sync_notes(ports.notes, outcomes, wanted, settings.outputs.note_color, lang)
        warnings += [say(w, lang) for w in ports.notes.warnings]
    unsent = {
        key
        for key, o in wanted.items()
        if o.status == DraftStatus.USER_DELETED
        and any(s.tells_sent and o.statuses.get(s.name) == o.status for s in ports.sinks)
    }
    hold_scope = HoldScope(now, seen_keys, window.full, ended, failed, unsent, learned)
    holds = next_holds(previous, wanted, hold_scope)
    result.holds = sorted(
        (
            replace(h, start=h.start.astimezone(tz), end=h.end.astimezone(tz))
            for key_holds in holds.values()
            for h in key_holds
        ),
        key=lambda h: (h.start, h.key),
    )
    if not dry_run:
        record_decisions(wanted, outcomes, ports.store, now, holds)
        record_review(wanted, seen_keys, window, workload, ports.store, now, lang)
    result.pending_elsewhere = _pending_unseen(ports, seen_keys)
    result.api_requests = ports.source.requests
    return result


def score_window(
    events: Sequence[Event], settings: Settings, window: Window, extra_busy: Sequence[Slot] = ()
) -> tuple[Workload, list[Scored]]:
    """The core as a scan runs it: the load of every day from the history on, and the
    window's meetings scored (history meetings count toward a client's week)."""
    tz = ZoneInfo(settings.user.timezone)
    meetings, meeting_flags = classify_all(events, settings)
    workload = measure(
        events,
        settings.user,
        window.history_start.astimezone(tz).date(),
        window.end.astimezone(tz).date(),
        extra_busy,
        meeting_flags,
    )
    counts = client_week_counts(meetings, tz)
    scored = []
    for m in meetings:
        if window.start <= m.event.start < window.end:
            n = repeat_count(m, counts, tz)
            scored.append(Scored(m, score(m, workload, n, settings), n))
    return workload, scored


def _pending_unseen(ports: Ports, seen: set[str]) -> int:
    """Drafts in the mail sinks' ledger still waiting for the user whose meeting this scan
    did not see (outside a narrow window; a full scan lets those records go)."""
    keys = {
        record.key
        for sink in ports.sinks
        if sink.kind is SinkKind.MAIL
        for record in ports.store.sink_records(sink.name).values()
        if record.key not in seen and record.status not in NOT_PENDING | {DraftStatus.DELETING}
    }
    return len(keys)


def _asked(store: StateStore, since: datetime) -> dict[str, frozenset[str]]:
    asked: dict[str, set[str]] = defaultdict(set)
    for entry in store.goodwill(since):
        asked[entry.client].add(entry.key)
    return {client: frozenset(keys) for client, keys in asked.items()}


def _draft_each_key(
    outcomes: list[Outcome],
    settings: Settings,
    templates: Drafter,
    warnings: list[str],
    memo: DraftMemo | None = None,
) -> tuple[dict[str, Outcome], set[str]]:
    """One draft per draft key: a recurring series is answered once, at its first acted
    occurrence. A meeting with nobody to write to (every client attendee declined) gets
    no draft, and a warning.

    Also returns the keys to leave alone: a user's template can fail on one meeting's text
    alone (checked at load, it rendered the samples); that meeting gets a warning naming
    the template and its drafts stay as they are, while the scan goes on. A draft whose
    inputs `memo` holds is taken from it, not rendered (the same text: see its module)."""
    lang = settings.user.language
    wanted: dict[str, Outcome] = {}
    held: set[str] = set()
    openings = Openings()  # two drafts to one person open differently
    for outcome in outcomes:  # sorted by start
        key = outcome.meeting.event.draft_key
        if outcome.decision.action == Action.NONE or key in wanted or key in held:
            continue
        try:
            opening = openings.pick(outcome.meeting, outcome.decision.action, settings.user)
            memo_key = memo.key(outcome.meeting, outcome.decision, opening) if memo else None
            draft = memo.get(memo_key) if memo and memo_key else None
            if draft is None:
                draft = templates.draft(outcome.meeting, outcome.decision, settings, say, opening)
                if memo is not None and memo_key is not None:
                    memo.put(memo_key, draft)
        except ConfigError as exc:
            label = meeting_label(outcome.meeting.event)
            warnings.append(say(message("warn.no_draft", meeting=label, error=str(exc)), lang))
            held.add(key)
            continue
        if not draft.to:
            label = meeting_label(outcome.meeting.event)
            warnings.append(say(message("warn.nobody_to_write_to", meeting=label), lang))
            continue
        outcome.draft = draft
        wanted[key] = outcome
    return wanted, held


def _reply(key: str, outcome: Outcome, domain: str, lang: str) -> Reply:
    assert outcome.draft is not None
    d = outcome.decision
    message_id = message_id_for(key, d.action.value, domain)
    return Reply(outcome.draft, outcome.meeting, d, message_id, acting_reasons(d, lang))


def _take(
    sink: DraftSink, synced: SinkSync, wanted: dict[str, Outcome], result: ScanResult, lang: str
) -> None:
    """What syncing `sink` did, into the meetings' outcomes and the result (its warnings
    in `lang`)."""
    for key, outcome in wanted.items():
        if sink.kind is SinkKind.MAIL:
            outcome.mail_sinks.add(sink.name)
        if key in synced.statuses:
            outcome.statuses[sink.name] = synced.statuses[key]
        if key in synced.refs:
            outcome.refs[sink.name] = synced.refs[key]
    result.warnings += [say(w, lang) for w in (*synced.warnings, *sink.warnings)]
    result.deleted += synced.deleted


def _sync_notes(
    notes: NoteSink, outcomes: list[Outcome], wanted: dict[str, Outcome], color: str, lang: str
) -> None:
    """A private note on each acted meeting (the sink skips unchanged ones), its reason in
    `lang`; calbot's old note comes off a meeting that no longer needs anything."""
    for o in outcomes:
        event, d = o.meeting.event, o.decision
        if d.action == Action.NONE:
            if event.notes:
                notes.clear(event)
            continue
        drafted = wanted.get(event.draft_key)
        note = Note(
            action=d.action.value,
            score=d.score,
            reason=main_reason(d, lang),
            draft_id=drafted.mail_ref if drafted else "",
            fingerprint=d.fingerprint,
            color_id=color,
        )
        notes.put(event, note)
