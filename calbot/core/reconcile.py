"""Decide first, then act: what to do with one draft in one sink, as a pure function.

`plan()` compares what the scan wants (`Desired`), what calbot last wrote (`SinkRecord`)
and what is in the sink now (the observed version), and returns an `Op`. `apply()` in
`calbot.usecases.scan` carries the ops out; a dry run only plans.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from calbot.adapters.mail import draft_hash
from calbot.core.model import Draft
from calbot.core.records import SinkRecord


class Kind(StrEnum):
    CREATE = "create"  # write a new draft (after looking for one to adopt)
    UPDATE = "update"  # rewrite calbot's own untouched draft in place
    REPLACE = "replace"  # the action changed: delete the old untouched draft, write the new
    DELETE = "delete"  # no longer wanted: delete calbot's own untouched draft
    FORGET = "forget"  # no longer wanted, but the user has it: leave it, drop the record
    KEEP = "keep"  # nothing to write


@dataclass(frozen=True, slots=True)
class Desired:
    key: str
    action: str
    message_id: str
    fingerprint: str
    draft: Draft
    # for a sink whose content depends on more than the draft (the review calendar's event
    # carries the meeting's time too); "" = the draft's own hash
    sink_hash: str = ""

    @property
    def content_hash(self) -> str:
        return self.sink_hash or draft_hash(self.draft)


@dataclass(frozen=True, slots=True)
class Op:
    kind: Kind
    status: str  # what --json and the digest show: new, updated, unchanged, user_deleted, ...


def plan(
    desired: Desired | None, prior: SinkRecord | None, observed: str | None, *, seen: bool = True
) -> Op:
    """`observed`: the version now in the sink for `prior.ref`, None when it is gone.
    `seen`: whether this scan saw the meeting at all (a record of a meeting gone from view
    can be let go of)."""
    untouched = prior is not None and observed is not None and observed == prior.version
    if prior is not None and prior.status == "deleting" and observed is None:
        # calbot deleted it and stopped before it could drop the record
        return Op(Kind.FORGET, "") if desired is None else Op(Kind.CREATE, "new")
    if desired is None:
        if prior is None:
            return Op(Kind.KEEP, "")
        if untouched:
            return Op(Kind.DELETE, "deleted")
        if not seen:
            return Op(Kind.FORGET, "")
        # Keep the record: should the same decision come back, it must not be re-drafted.
        return Op(Kind.KEEP, "user_deleted" if observed is None else "user_edited")
    if prior is None:
        return Op(Kind.CREATE, "new")
    if observed is not None and not untouched:
        # The user edited it: never overwrite, not even for a new action.
        return Op(Kind.KEEP, "user_edited")
    if prior.action != desired.action:
        return Op(Kind.REPLACE if untouched else Kind.CREATE, "new")
    if observed is None:
        # Deleted or sent by the user: only a material change of the meeting re-opens it.
        if prior.fingerprint == desired.fingerprint:
            return Op(Kind.KEEP, "user_deleted")
        return Op(Kind.CREATE, "new")
    if prior.content_hash == desired.content_hash:
        return Op(Kind.KEEP, "unchanged")
    return Op(Kind.UPDATE, "updated")
