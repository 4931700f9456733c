"""One scan, end to end (SPEC §1): read → classify → measure → score → decide → draft → plan
→ apply → record. A function of (settings, ports, templates, clock): safe to re-run."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from calbot.adapters.mail import message_id_for
from calbot.config.settings import Settings
from calbot.config.templates import Templates
from calbot.core.classify import classify, dedupe
from calbot.core.decide import GOODWILL_ACTIONS, Scene, Scored, decide_all
from calbot.core.model import Action, Decision, Draft, Meeting
from calbot.core.reconcile import Desired, Kind, Op, plan
from calbot.core.records import (
    DayLoadRecord,
    DecisionRecord,
    GoodwillEntry,
    Note,
    ReviewItem,
    SinkRecord,
)
from calbot.core.scoring import client_week_counts, repeat_count, score
from calbot.core.workload import Workload, measure
from calbot.errors import ConfigError
from calbot.ports.calendar import CalendarSource
from calbot.ports.sinks import DraftGone, DraftSink, NoteSink, Written
from calbot.ports.store import StateStore


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
    refs: dict[str, str] = field(default_factory=dict)  # sink name → ref
    statuses: dict[str, str] = field(default_factory=dict)  # sink name → status
    dry_run: bool = False

    @property
    def status(self) -> str | None:
        """One status for the user: the mail drafts' (Gmail, outbox) over the review
        calendar's; an edit anywhere shows; "user_deleted" only when gone everywhere."""
        if self.dry_run:
            return "dry_run"
        mail = {k: v for k, v in self.statuses.items() if k != "review_calendar"}
        values = set((mail or self.statuses).values())
        for status in ("user_edited", "updated", "new", "unchanged", "user_deleted"):
            if status in values:
                return status
        return None


@dataclass(slots=True)
class ScanResult:
    generated_at: datetime
    window: Window
    outcomes: list[Outcome]
    events_seen: int
    api_requests: int
    warnings: list[str]
    deleted: int = 0  # own untouched drafts removed because no longer wanted

    @property
    def drafted(self) -> int:
        return sum(1 for o in self.outcomes if o.status in ("new", "updated"))


@dataclass(frozen=True, slots=True)
class Ports:
    source: CalendarSource
    store: StateStore
    sinks: Sequence[DraftSink] = ()
    notes: NoteSink | None = None


Progress = Callable[[str], None]


def quiet(_: str) -> None:
    pass


def run_scan(
    settings: Settings,
    ports: Ports,
    templates: Templates,
    *,
    now: datetime,
    window: Window,
    dry_run: bool = False,
    progress: Progress = quiet,
) -> ScanResult:
    tz = ZoneInfo(settings.user.timezone)
    progress("reading calendar")
    events = dedupe(ports.source.events(window.history_start, window.end))

    progress("scoring meetings")
    meetings = [m for e in events if (m := classify(e, settings)) is not None]
    workload = measure(
        events,
        settings.user,
        window.history_start.astimezone(tz).date(),
        window.end.astimezone(tz).date(),
        ports.source.extra_busy(window.start, window.end),
    )
    warnings = list(getattr(ports.source, "warnings", []))
    counts = client_week_counts(meetings, tz)
    scored = []
    for m in meetings:
        if window.start <= m.event.start < window.end:
            n = repeat_count(m, counts, tz)
            scored.append(Scored(m, score(m, workload, n, settings), n))
    scene = Scene(
        now=now,
        horizon_end=window.end,
        workload=workload,
        settings=settings,
        asked=_asked(ports.store, now - timedelta(days=settings.thresholds.goodwill_days)),
    )
    decisions = decide_all(scored, scene)
    outcomes = sorted(
        (Outcome(s.meeting, decisions[s.meeting.event.id]) for s in scored),
        key=lambda o: o.meeting.event.start,
    )

    progress("drafting replies")
    wanted, held = _draft_each_key(outcomes, settings, templates, warnings)
    domain = settings.user.domain or "calbot.invalid"
    desired = {key: _desired(key, o, domain) for key, o in wanted.items()}
    result = ScanResult(now, window, outcomes, len(events), 0, warnings)
    seen_keys = {e.draft_key for e in events}
    for sink in ports.sinks:
        progress(f"writing drafts to {sink.name}")
        _sync_sink(sink, desired, wanted, seen_keys, ports.store, now, dry_run, result, held)
    for outcome in wanted.values():
        if dry_run:
            outcome.dry_run = True
    if ports.notes is not None and not dry_run:
        progress("noting decisions on the calendar")
        _sync_notes(ports.notes, outcomes, wanted, settings.outputs.note_color)
        warnings += getattr(ports.notes, "warnings", [])
    if not dry_run:
        _record(wanted, decisions, outcomes, ports.store, now)
        _record_review(wanted, seen_keys, window, workload, ports.store, now)
    result.api_requests = ports.source.requests
    return result


def _asked(store: StateStore, since: datetime) -> dict[str, frozenset[str]]:
    asked: dict[str, set[str]] = defaultdict(set)
    for entry in store.goodwill(since):
        asked[entry.client].add(entry.key)
    return {client: frozenset(keys) for client, keys in asked.items()}


def _draft_each_key(
    outcomes: list[Outcome], settings: Settings, templates: Templates, warnings: list[str]
) -> tuple[dict[str, Outcome], set[str]]:
    """One draft per draft key: a recurring series is answered once, at its first acted
    occurrence. A meeting with nobody to write to (every client attendee declined) gets
    no draft, and a warning.

    Also returns the keys to leave alone: a user's template can fail on one meeting's text
    alone (checked at load, it rendered the samples); that meeting gets a warning naming
    the template and its drafts stay as they are, while the scan goes on."""
    wanted: dict[str, Outcome] = {}
    held: set[str] = set()
    for outcome in outcomes:  # sorted by start
        key = outcome.meeting.event.draft_key
        if outcome.decision.action == Action.NONE or key in wanted or key in held:
            continue
        try:
            draft = templates.draft(outcome.meeting, outcome.decision, settings)
        except ConfigError as exc:
            warnings.append(f"{_label(outcome)}: no draft: {exc}")
            held.add(key)
            continue
        if not draft.to:
            warnings.append(f"{_label(outcome)}: nobody to write to — no draft")
            continue
        outcome.draft = draft
        wanted[key] = outcome
    return wanted, held


def _label(outcome: Outcome) -> str:
    e = outcome.meeting.event
    return f"{' '.join(e.summary.split())[:60]!r} ({e.id})"


def _desired(key: str, outcome: Outcome, domain: str) -> Desired:
    assert outcome.draft is not None
    action = outcome.decision.action.value
    return Desired(
        key=key,
        action=action,
        message_id=message_id_for(key, action, domain),
        fingerprint=outcome.decision.fingerprint,
        draft=outcome.draft,
    )


_CREATING = (Kind.CREATE, Kind.REPLACE)


def _sync_sink(
    sink: DraftSink,
    desired: dict[str, Desired],
    wanted: dict[str, Outcome],
    seen_keys: set[str],
    store: StateStore,
    now: datetime,
    dry_run: bool,
    result: ScanResult,
    held: set[str],
) -> None:
    """Plan, then carry out, what `sink` needs so its drafts match `desired`. Keys in
    `held` are not touched, whatever their records say."""
    set_context = getattr(sink, "set_context", None)
    if set_context is not None:  # the review calendar: its event needs the meeting too
        set_context(
            {d.message_id: (wanted[k].meeting, wanted[k].decision) for k, d in desired.items()}
        )
        sink_hash = getattr(sink, "content_hash")  # noqa: B009 - an optional sink method
        desired = {
            k: replace(d, sink_hash=sink_hash(d.draft, d.message_id)) for k, d in desired.items()
        }
    records = store.sink_records(sink.name)
    observed = sink.observe([r.ref for r in records.values()]) if records else {}
    stale = {k for k in records if (k in seen_keys or result.window.full) and k not in held}
    steps = []
    for key in sorted(set(desired) | stale):
        want, stored = desired.get(key), records.get(key)
        now_there = observed.get(stored.ref) if stored else None
        prior = _recheck(sink, stored, now_there) if stored and not dry_run else stored
        steps.append(
            (key, want, stored, prior, plan(want, prior, now_there, seen=key in seen_keys))
        )
    if dry_run:
        for key, _, _, prior, _ in steps:
            outcome = wanted.get(key)
            if outcome is not None and prior is not None:
                outcome.refs[sink.name] = prior.ref
        return
    creating = {w.message_id for _, w, _, _, op in steps if w and op.kind in _CREATING}
    adoptable = sink.adoptable({r.ref for r in records.values()}, creating) if creating else set()
    for key, want, stored, prior, op in steps:
        outcome = wanted.get(key)
        if op.kind == Kind.DELETE and prior is not None:
            # Say so first: a crash right after the delete must not read as the user's.
            with store.transaction():
                store.put_sink_record(replace(prior, status="deleting"))
        try:
            written, status = _apply(sink, op, want, prior, adoptable)
        except ValueError as exc:  # a draft no mail format can carry (a broken address)
            result.warnings.append(f"{_label(outcome) if outcome else key}: not written: {exc}")
            continue
        if outcome is not None:
            outcome.statuses[sink.name] = status
            ref = written.ref if written else (prior.ref if prior else None)
            if ref is not None:
                outcome.refs[sink.name] = ref
        if op.kind == Kind.DELETE:
            result.deleted += 1
        _remember(store, sink.name, op, status, want, prior, written, now, stored)


def _recheck(sink: DraftSink, prior: SinkRecord, observed: str | None) -> SinkRecord:
    """A version calbot did not record: the user's edit, or calbot's own write that a crash
    kept out of the ledger? The draft's `X-Calbot-Content` (what calbot wrote) against its
    text now tells. Costs a lookup only in that rare case."""
    if observed is None or observed == prior.version or prior.status == "user_edited":
        return prior
    found = sink.find(prior.message_id)
    if found is None or found.edited or found.ref != prior.ref:
        return prior
    return replace(prior, version=found.version, content_hash=found.content_hash)


def _apply(
    sink: DraftSink,
    op: Op,
    want: Desired | None,
    prior: SinkRecord | None,
    adoptable: set[str],
) -> tuple[Written | None, str]:
    """Carry out one op; returns what was written and the status to show. `adoptable`:
    the Message-IDs that may already have a draft the ledger does not know."""
    if op.kind in (Kind.DELETE, Kind.REPLACE) and prior is not None:
        sink.delete(prior.ref)
    if op.kind in _CREATING and want is not None:
        found = sink.find(want.message_id) if want.message_id in adoptable else None
        if found is not None:
            return _adopt(sink, found, want)
        return sink.create(want.draft, want.message_id), op.status
    if op.kind == Kind.UPDATE and want is not None and prior is not None:
        try:
            return sink.update(prior.ref, want.draft, want.message_id), op.status
        except DraftGone:  # deleted or sent since `observe`: the user's call, respected
            return None, "user_deleted"
    return None, op.status


def _adopt(sink: DraftSink, found: Written, want: Desired) -> tuple[Written, str]:
    """A draft of ours that the ledger does not know (a crash between writing and recording,
    or a lost state store): take it over instead of writing a second one."""
    if found.edited:
        # Its text is no longer what calbot wrote: the user's now. An empty version never
        # matches what is observed, so it stays `user_edited` and is never overwritten.
        return replace(found, version=""), "user_edited"
    if found.content_hash == want.content_hash:
        return found, "unchanged"
    try:
        return sink.update(found.ref, want.draft, want.message_id), "updated"
    except DraftGone:  # deleted just now: remembered as the user's deletion
        return found, "user_deleted"


def _remember(
    store: StateStore,
    sink: str,
    op: Op,
    status: str,
    want: Desired | None,
    prior: SinkRecord | None,
    written: Written | None,
    now: datetime,
    stored: SinkRecord | None,
) -> None:
    """Bring the ledger in line with what was just done (`stored`: the row as read)."""
    with store.transaction():
        if op.kind in (Kind.DELETE, Kind.FORGET):
            store.delete_sink_record(sink, prior.key if prior else "")
        elif written is not None and want is not None:
            store.put_sink_record(
                SinkRecord(
                    key=want.key,
                    sink=sink,
                    action=want.action,
                    message_id=want.message_id,
                    ref=written.ref,
                    version=written.version,
                    fingerprint=want.fingerprint,
                    status=status,
                    written_at=now,
                    content_hash=written.content_hash or want.content_hash,
                )
            )
        elif prior is not None:
            row = replace(prior, status=status or prior.status)
            if status == "unchanged" and want is not None:
                # the draft already says what the meeting now needs: it is the current one
                row = replace(row, fingerprint=want.fingerprint)
            if row != stored:
                store.put_sink_record(row)


def _sync_notes(
    notes: NoteSink, outcomes: list[Outcome], wanted: dict[str, Outcome], color: str
) -> None:
    """A private note on each acted meeting (the sink skips unchanged ones); calbot's old
    note comes off a meeting that no longer needs anything."""
    for o in outcomes:
        event, d = o.meeting.event, o.decision
        if d.action == Action.NONE:
            if event.notes:
                notes.clear(event)
            continue
        drafted = wanted.get(event.draft_key)
        refs = drafted.refs if drafted else {}
        reason = max(d.factors, key=lambda f: f.points).detail if d.factors else d.why
        note = Note(
            action=d.action.value,
            score=d.score,
            reason=reason,
            draft_id=refs.get("gmail") or refs.get("outbox", ""),
            fingerprint=d.fingerprint,
            color_id=color,
        )
        notes.put(event, note)


# What sending a draft wins back, per action (minutes). Moving a meeting saves no time; a
# call saves the trip, counted as half an hour each way; a time box saves at least the
# quarter hour a chatty meeting would have run over.
TRAVEL_MINUTES = 60
OVERRUN_MINUTES = 15


def saved_minutes(outcome: Outcome) -> int:
    event, d = outcome.meeting.event, outcome.decision
    length = round(event.duration.total_seconds() / 60)
    proposed = d.proposal.duration_minutes if d.proposal and d.proposal.duration_minutes else 0
    if d.action in (Action.EMAIL, Action.DELEGATE):
        return length
    if d.action == Action.SHORTEN:
        return max(0, length - proposed)
    if d.action == Action.CALL:
        return TRAVEL_MINUTES
    if d.action == Action.BOUNDARY:
        return max(OVERRUN_MINUTES, length - proposed)
    return 0


def _record_review(
    wanted: dict[str, Outcome],
    seen_keys: set[str],
    window: Window,
    workload: Workload,
    store: StateStore,
    now: datetime,
) -> None:
    """What the morning digest reads: the drafted replies and this week's load."""
    with store.transaction():
        for key, o in wanted.items():
            d, e = o.decision, o.meeting.event
            reason = max(d.factors, key=lambda f: f.points).detail if d.factors else d.why
            store.put_review(
                ReviewItem(
                    key=key,
                    client=o.meeting.client.name,
                    summary=e.summary,
                    start=e.start,
                    end=e.end,
                    action=d.action.value,
                    reason=reason,
                    event_link=e.html_link,
                    drafts=dict(o.refs),
                    saved_minutes=saved_minutes(o),
                    status=o.status or "new",
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


def _record(
    wanted: dict[str, Outcome],
    decisions: dict[str, Decision],
    outcomes: list[Outcome],
    store: StateStore,
    now: datetime,
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
