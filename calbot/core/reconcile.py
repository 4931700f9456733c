"""Decide first, then act: what to do with one draft in one sink, as a pure function.

`plan()` compares what the scan wants (`Desired`), what calbot last wrote (`SinkRecord`)
and what is in the sink now (the observed version), and returns an `Op`. The scan's sink
sync (`calbot.usecases.sink_sync`) carries the ops out; a dry run only plans.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from calbot.core.records import SinkRecord
from calbot.core.vocab import DraftStatus


class Kind(StrEnum):
    CREATE = "create"  # write a new draft (after looking for one to adopt)
    UPDATE = "update"  # rewrite calbot's own untouched draft in place
    REPLACE = "replace"  # the action changed: delete the old untouched draft, write the new
    DELETE = "delete"  # no longer wanted: delete calbot's own untouched draft
    FORGET = "forget"  # no longer wanted, but the user has it: leave it, drop the record
    KEEP = "keep"  # nothing to write


@dataclass(frozen=True, slots=True)
class Desired:
    """The draft one sink should hold for one draft key."""

    key: str
    action: str
    message_id: str
    fingerprint: str
    # the sink's own hash of what it would write (the review calendar's covers the
    # meeting's time too): equal to the ledger's, nothing to rewrite
    content_hash: str


@dataclass(frozen=True, slots=True)
class Op:
    kind: Kind
    # what --json and the digest show; None when no draft is involved (nothing to show)
    status: DraftStatus | None


def plan(
    desired: Desired | None, prior: SinkRecord | None, observed: str | None, *, seen: bool = True
) -> Op:
    """`observed`: the version now in the sink for `prior.ref`, None when it is gone.
    `seen`: whether this scan saw the meeting at all (a record of a meeting gone from view
    can be let go of)."""
    untouched = prior is not None and observed is not None and observed == prior.version
    if prior is not None and prior.status == DraftStatus.DELETING and observed is None:
        # calbot deleted it and stopped before it could drop the record
        return Op(Kind.FORGET, None) if desired is None else Op(Kind.CREATE, DraftStatus.NEW)
    if desired is None:
        if prior is None:
            return Op(Kind.KEEP, None)
        if untouched:
            return Op(Kind.DELETE, DraftStatus.DELETED)
        if not seen:
            return Op(Kind.FORGET, None)
        # Keep the record: should the same decision come back, it must not be re-drafted.
        gone = observed is None
        return Op(Kind.KEEP, DraftStatus.USER_DELETED if gone else DraftStatus.USER_EDITED)
    if prior is None:
        return Op(Kind.CREATE, DraftStatus.NEW)
    if observed is not None and not untouched:
        # The user edited it: never overwrite, not even for a new action.
        return Op(Kind.KEEP, DraftStatus.USER_EDITED)
    if prior.action != desired.action:
        return Op(Kind.REPLACE if untouched else Kind.CREATE, DraftStatus.NEW)
    if observed is None:
        # Deleted or sent by the user: only a material change of the meeting re-opens it.
        if prior.fingerprint == desired.fingerprint:
            return Op(Kind.KEEP, DraftStatus.USER_DELETED)
        return Op(Kind.CREATE, DraftStatus.NEW)
    if prior.content_hash == desired.content_hash:
        return Op(Kind.KEEP, DraftStatus.UNCHANGED)
    return Op(Kind.UPDATE, DraftStatus.UPDATED)
