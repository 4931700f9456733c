"""What keeps one meeting to one draft when the ledger alone cannot (issue 11): pending
creates that may still land, two machines (two state stores) on one account, and a lost
store whose calendar notes still name a draft the user deleted. Used by `sink_sync` for
sinks that can list calbot's own drafts without a lagging search (`OwnDrafts`: Gmail).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from calbot.core.records import SinkRecord
from calbot.core.vocab import DraftStatus
from calbot.ports.sinks import DraftSink, Reply, Written
from calbot.ports.store import PendingCreate, StateStore

# How long a create whose outcome is unknown may still land (Gmail: seconds to minutes);
# until then no second create is made for its key.
CREATE_SETTLES = timedelta(minutes=15)


class OwnDraft(Protocol):
    @property
    def ref(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def calbot_id(self) -> str: ...
    @property
    def created(self) -> int: ...


@runtime_checkable
class OwnDrafts(Protocol):
    """A sink that can list calbot's own drafts without a lagging search (Gmail): it gets
    pending creates and converges duplicates from two machines on one account."""

    def own_drafts(self, known_refs: Collection[str]) -> Mapping[str, Sequence[OwnDraft]]: ...

    def own_draft(self, ref: str, version: str) -> OwnDraft | None: ...

    def read(self, draft: OwnDraft) -> Written | None: ...

    def delete(self, ref: str) -> None: ...


def waiting_keys(
    store: StateStore,
    sink: str,
    pending: Mapping[str, PendingCreate],
    own: Mapping[str, Sequence[OwnDraft]],
    now: datetime,
) -> set[str]:
    """Keys whose earlier create may still land: no second create for them yet. A pending
    create whose draft is there is adopted by the create step; one too old to land is let
    go (should it land after all, `converge` removes the newer of the two)."""
    waiting = set()
    for key, p in pending.items():
        if p.message_id in own:
            continue
        if now - p.started_at < CREATE_SETTLES:
            waiting.add(key)
        else:
            with store.transaction():
                store.delete_pending_create(sink, key)
    return waiting


def converge(
    sink: OwnDrafts,
    store: StateStore,
    records: dict[str, SinkRecord],
    observed: dict[str, str | None],
    own: Mapping[str, Sequence[OwnDraft]],
) -> dict[str, SinkRecord]:
    """Two machines on one account (or a create that landed late) can leave two untouched
    drafts of calbot's for one key: keep the older (Gmail's internalDate), delete the newer.
    A ledger draft gone while another copy is there (the other machine removed it) follows
    the copy. Never touches a draft the user edited. Returns the records as now stored."""
    out = dict(records)
    for key, record in records.items():
        copies = own.get(record.message_id)
        if not copies or record.status == DraftStatus.DELETING:
            continue
        untouched: list[tuple[OwnDraft, Written]] = []
        for draft in copies:
            got = sink.read(draft)
            if got is not None and not got.edited:
                untouched.append((draft, got))
        if not untouched:
            continue
        now_there = observed.get(record.ref)
        mine_untouched = now_there is not None and now_there == record.version
        if mine_untouched:
            ledger_draft = sink.own_draft(record.ref, record.version)
            if ledger_draft is None:
                continue
            pool = [(ledger_draft, None), *untouched]
        elif now_there is None:
            pool = list(untouched)
        else:  # the user edited the ledger's draft: theirs; the copies are duplicates
            pool = []
        pool.sort(key=lambda pair: (pair[0].created, pair[0].ref))
        keeper = pool[0] if pool else None
        if keeper is not None and keeper[1] is not None:
            written = keeper[1]
            row = replace(
                record,
                ref=written.ref,
                version=written.version,
                content_hash=written.content_hash or record.content_hash,
            )
            with store.transaction():  # before any delete: a crash leaves it findable
                store.put_sink_record(row)
            out[key] = row
            observed[row.ref] = row.version
        for draft, _ in pool[1:] if pool else untouched:
            sink.delete(draft.ref)
            if draft.ref == record.ref:
                observed.pop(record.ref, None)
    return out


def relearn_deleted(
    sink: DraftSink, replies: Mapping[str, Reply], store: StateStore, *, now: datetime
) -> int:
    """After a lost state store: a meeting whose calendar note (calbot's own, on the user's
    copy) names a draft of this sink for the same decision — action and fingerprint — while
    that draft is no longer there, was drafted and then deleted or sent by the user. Its
    ledger row is written again as `user_deleted`, so the sync does not re-create it. Only
    keys the ledger does not know; one `observe` when there are any. Returns how many."""
    records = store.sink_records(sink.name)
    named: dict[str, tuple[Reply, str]] = {}
    for key, reply in replies.items():
        note = dict(reply.meeting.event.notes)
        ref = note.get("calbot_draft", "")
        if key in records or not ref:
            continue
        same = (
            note.get("calbot_action") == reply.decision.action.value
            and note.get("calbot_fp") == reply.decision.fingerprint
        )
        if same:
            named[key] = (reply, ref)
    if not named:
        return 0
    observed = sink.observe(sorted({ref for _, ref in named.values()}))
    gone = {k: v for k, v in named.items() if observed.get(v[1]) is None}
    with store.transaction():
        for key, (reply, ref) in gone.items():
            store.put_sink_record(
                SinkRecord(
                    key=key,
                    sink=sink.name,
                    action=reply.decision.action.value,
                    message_id=reply.message_id,
                    ref=ref,
                    version="",
                    fingerprint=reply.decision.fingerprint,
                    status=DraftStatus.USER_DELETED,
                    written_at=now,
                    content_hash="",
                )
            )
    return len(gone)
