"""Plan, then apply, what one draft sink needs so that its drafts match the scan's replies.

Per draft key, `calbot.core.reconcile.plan` compares the reply wanted, the ledger's record
and what the sink holds now; the ops are then carried out one by one, each followed by its
ledger row, so a crash at any point leaves nothing a rerun would duplicate or misread. An
op's rows commit together with the next op's intent (its pending create, its "deleting"),
before that op touches the sink: one commit a draft instead of two, the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial

from calbot.core.messages import Message, message
from calbot.core.model import Event, Slot
from calbot.core.reconcile import Desired, Kind, Op, plan
from calbot.core.records import SinkRecord
from calbot.core.vocab import DraftStatus
from calbot.ports.sinks import DraftGone, DraftSink, Reply, Written
from calbot.ports.store import PendingCreate, StateStore
from calbot.usecases.sink_duplicates import OwnDraft, OwnDrafts, converge, waiting_keys

_CREATING = (Kind.CREATE, Kind.REPLACE)


@dataclass(frozen=True, slots=True)
class Scope:
    """Which ledger rows a scan may act on besides the replies it wants."""

    seen: Set[str]  # the draft keys of every event the scan read
    held: Set[str]  # keys to leave as they are, whatever their records say
    full: bool  # a full-window scan: rows of meetings it did not see may go too


@dataclass(slots=True)
class SinkSync:
    """What syncing one sink did, by draft key (only keys of wanted replies)."""

    refs: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, DraftStatus] = field(default_factory=dict)
    warnings: list[Message] = field(default_factory=list)
    deleted: int = 0  # own untouched drafts removed because no longer wanted
    # the slots adopted drafts say they offer (`X-Calbot-Holds`), by key: what a lost
    # state store re-learns
    learned: dict[str, tuple[Slot, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Step:
    key: str
    want: Desired | None
    reply: Reply | None
    stored: SinkRecord | None  # the ledger's row as read
    prior: SinkRecord | None  # that row, rechecked against the sink
    op: Op


def meeting_label(event: Event) -> str:
    """How a warning names a meeting: its title (one line, cut) and id."""
    return f"{' '.join(event.summary.split())[:60]!r} ({event.id})"


def sync_sink(
    sink: DraftSink,
    replies: Mapping[str, Reply],
    store: StateStore,
    scope: Scope,
    *,
    now: datetime,
    dry_run: bool,
    present: Set[str] | None = None,
) -> SinkSync:
    """Bring `sink` in line with `replies` (draft key → reply); a dry run only plans, and
    reports the refs the ledger already knows. `present`: the Message-IDs already known to
    have a draft the (empty) ledger does not know, when the scan has asked the sink."""
    records = store.sink_records(sink.name)
    observed = sink.observe([r.ref for r in records.values()]) if records else {}
    tracked = isinstance(sink, OwnDrafts) and not dry_run
    own: Mapping[str, Sequence[OwnDraft]] = {}
    pending: dict[str, PendingCreate] = {}
    if tracked and (records or replies):
        assert isinstance(sink, OwnDrafts)
        own = sink.own_drafts({r.ref for r in records.values()})
        records = converge(sink, store, records, observed, own)
        pending = store.pending_creates(sink.name)
    sent = _sent(sink, records.values(), observed)
    stale = {k for k in records if (k in scope.seen or scope.full) and k not in scope.held}
    steps = []
    for key in sorted(set(replies) | stale):
        reply, stored = replies.get(key), records.get(key)
        want = _desired(sink, key, reply) if reply is not None else None
        now_there = observed.get(stored.ref) if stored else None
        prior = _recheck(sink, stored, now_there) if stored and not dry_run else stored
        op = plan(want, prior, now_there, seen=key in scope.seen)
        if op.status == DraftStatus.USER_DELETED and stored is not None and stored.ref in sent:
            op = replace(op, status=DraftStatus.SENT)  # where the sink can tell (IMAP)
        steps.append(_Step(key, want, reply, stored, prior, op))
    report = SinkSync()
    if dry_run:
        for step in steps:
            if step.want is not None and step.prior is not None:
                report.refs[step.key] = step.prior.ref
                if step.op.kind == Kind.KEEP and step.op.status is not None:
                    # already written and nothing to write: its status, not "dry_run"
                    report.statuses[step.key] = step.op.status
        return report
    waiting = waiting_keys(store, sink.name, pending, own, now) if tracked else set()
    steps = [s for s in steps if not (s.key in waiting and s.op.kind in _CREATING)]
    creating = {s.want.message_id for s in steps if s.want and s.op.kind in _CREATING}
    if tracked:
        adoptable = {m for m in creating if m in own}
    elif present is not None and not records:
        adoptable = set(present) & creating
    else:
        known = {r.ref for r in records.values()}
        adoptable = sink.adoptable(known, creating) if creating else set()
    # The ledger rows of the op just carried out, not yet committed: they go in with the
    # next op's own rows (or alone), always before that op touches the sink, so every sink
    # write still follows the commit of all before it, and one commit a draft is saved.
    unrecorded: list[Callable[[], None]] = []
    for step in steps:
        first, unrecorded = unrecorded, []
        if tracked and step.want is not None and step.op.kind in _CREATING:
            # Written first: should Gmail make the draft without calbot hearing of it (a
            # kill, a timeout), the next scan looks for it before making another.
            pending_create = PendingCreate(sink.name, step.key, step.want.message_id, now)
            first.append(partial(store.put_pending_create, pending_create))
        if step.op.kind == Kind.DELETE and step.prior is not None:
            # Say so first: a crash right after the delete must not read as the user's.
            deleting = replace(step.prior, status=DraftStatus.DELETING)
            first.append(partial(store.put_sink_record, deleting))
        if first:
            with store.transaction():
                for write in first:
                    write()
        try:
            written, status = _apply(sink, step, adoptable)
        except Exception as exc:
            refused = isinstance(exc, ValueError)  # a draft no mail format can carry
            if tracked and step.op.kind in _CREATING and not getattr(exc, "may_land", not refused):
                with store.transaction():  # the sink says no draft was made
                    store.delete_pending_create(sink.name, step.key)
            if not refused:
                raise
            name = meeting_label(step.reply.meeting.event) if step.reply else step.key
            report.warnings.append(message("warn.not_written", meeting=name, error=str(exc)))
            continue
        if step.want is not None and status is not None:
            report.statuses[step.key] = status
            ref = written.ref if written else (step.prior.ref if step.prior else None)
            if ref is not None:
                report.refs[step.key] = ref
        if step.op.kind == Kind.DELETE:
            report.deleted += 1
        if written is not None and written.holds and step.want is not None:
            report.learned[step.key] = written.holds  # only `find` fills them: adopted
        unrecorded += _remember(sink.name, store, step, status, written, now)
    if unrecorded:
        with store.transaction():
            for write in unrecorded:
                write()
    return report


def _sent(
    sink: DraftSink, records: Iterable[SinkRecord], observed: Mapping[str, str | None]
) -> set[str]:
    """The refs of drafts gone from the sink that the user sent: known from the ledger, else
    asked of the sink (only for drafts that just left, so a rescan asks nothing more)."""
    gone = [r for r in records if r.status != DraftStatus.DELETING and observed.get(r.ref) is None]
    known = {r.ref for r in gone if r.status == DraftStatus.SENT}
    ask = [r.ref for r in gone if r.status not in (DraftStatus.SENT, DraftStatus.USER_DELETED)]
    return known | (sink.sent(ask) if ask else set())


def _desired(sink: DraftSink, key: str, reply: Reply) -> Desired:
    return Desired(
        key=key,
        action=reply.decision.action.value,
        message_id=reply.message_id,
        fingerprint=reply.decision.fingerprint,
        content_hash=sink.content_hash(reply),
    )


def _recheck(sink: DraftSink, prior: SinkRecord, observed: str | None) -> SinkRecord:
    """A version calbot did not record: the user's edit, or calbot's own write that a crash
    kept out of the ledger? The draft's `X-Calbot-Content` (what calbot wrote) against its
    text now tells. Costs a lookup only in that rare case."""
    if observed is None or observed == prior.version or prior.status == DraftStatus.USER_EDITED:
        return prior
    found = sink.find(prior.message_id)
    if found is None or found.edited or found.ref != prior.ref:
        return prior
    return replace(prior, version=found.version, content_hash=found.content_hash)


def _apply(
    sink: DraftSink, step: _Step, adoptable: set[str]
) -> tuple[Written | None, DraftStatus | None]:
    """Carry out one op; returns what was written and the status to show. `adoptable`:
    the Message-IDs that may already have a draft the ledger does not know."""
    op, want, reply, prior = step.op, step.want, step.reply, step.prior
    if op.kind in (Kind.DELETE, Kind.REPLACE) and prior is not None:
        sink.delete(prior.ref)
    if op.kind in _CREATING and want is not None and reply is not None:
        found = sink.find(want.message_id) if want.message_id in adoptable else None
        if found is not None:
            return _adopt(sink, found, want, reply)
        return sink.create(reply), op.status
    if op.kind == Kind.UPDATE and reply is not None and prior is not None:
        try:
            return sink.update(prior.ref, reply), op.status
        except DraftGone:  # deleted or sent since `observe`: the user's call, respected
            return None, DraftStatus.USER_DELETED
    return None, op.status


def _adopt(
    sink: DraftSink, found: Written, want: Desired, reply: Reply
) -> tuple[Written, DraftStatus]:
    """A draft of ours that the ledger does not know (a crash between writing and recording,
    or a lost state store): take it over instead of writing a second one."""
    if found.edited:
        # Its text is no longer what calbot wrote: the user's now. An empty version never
        # matches what is observed, so it stays `user_edited` and is never overwritten.
        return replace(found, version=""), DraftStatus.USER_EDITED
    if found.content_hash == want.content_hash:
        return found, DraftStatus.UNCHANGED
    try:
        return sink.update(found.ref, reply), DraftStatus.UPDATED
    except DraftGone:  # deleted just now: remembered as the user's deletion
        return found, DraftStatus.USER_DELETED


def _remember(
    sink: str,
    store: StateStore,
    step: _Step,
    status: DraftStatus | None,
    written: Written | None,
    now: datetime,
) -> list[Callable[[], None]]:
    """The ledger writes that bring it in line with what was just done, for the caller to
    commit together; none at all when nothing changed (an unchanged rescan writes
    nothing)."""
    want, prior = step.want, step.prior
    pending = want is not None and step.op.kind in _CREATING
    deleting = step.op.kind in (Kind.DELETE, Kind.FORGET)
    row: SinkRecord | None = None
    if deleting:
        pass
    elif written is not None and want is not None and status is not None:
        row = SinkRecord(
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
    elif prior is not None:
        row = replace(prior, status=status or prior.status)
        if status == DraftStatus.UNCHANGED and want is not None:
            # the draft already says what the meeting now needs: it is the current one
            row = replace(row, fingerprint=want.fingerprint)
        if row == step.stored:
            row = None
    writes: list[Callable[[], None]] = []
    if pending and want is not None:
        writes.append(partial(store.delete_pending_create, sink, want.key))
    if deleting:
        writes.append(partial(store.delete_sink_record, sink, prior.key if prior else ""))
    elif row is not None:
        writes.append(partial(store.put_sink_record, row))
    return writes
