"""Where drafts and notes go. Never a place that sends.

A draft sink is told everything it may need through its declared methods: the scan hands
each write a `Reply` (the draft with the meeting and decision it answers), asks each sink
for its own content hash, and reads each sink's `kind` and `warnings` — it never asks a sink
what it can do, nor which sink it is.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from calbot.core.messages import Message
from calbot.core.model import Decision, Draft, Event, Meeting, Slot
from calbot.core.records import Note
from calbot.core.vocab import DraftStatus


class SinkKind(StrEnum):
    """What a draft sink holds, which decides whose status a meeting shows."""

    MAIL = "mail"  # the reply itself, ready for the user to send (Gmail, the outbox)
    REVIEW = "review"  # a view of the proposal beside the meeting (the review calendar)


@dataclass(frozen=True, slots=True)
class Reply:
    """What a draft sink writes for one meeting: the draft, the meeting and decision it
    answers (a sink may show more than the draft: the review calendar shows the meeting's
    time and the reasons), the draft's deterministic Message-ID, and the decision's reasons
    as the user reads them (rendered by the use case: adapters hold no user text)."""

    draft: Draft
    meeting: Meeting
    decision: Decision
    message_id: str
    reasons: tuple[str, ...]  # strongest first, in the user's language


@dataclass(frozen=True, slots=True)
class Written:
    """Where a sink put a draft, and the version token of what calbot wrote there.

    `version` changes whenever the draft's content changes — a hash of the file for the
    outbox, the message id for Gmail — so a later scan can tell an edit by the user.
    """

    ref: str
    version: str
    # For `find`: the hash of the text calbot wrote into the draft, and whether the draft
    # has been edited since (its text no longer matches that hash).
    content_hash: str = ""
    edited: bool = False
    # For `find`: the slots the draft says it offers (its `X-Calbot-Holds`), so a lost
    # state store re-learns the holds of the drafts it adopts.
    holds: tuple[Slot, ...] = ()


class DraftGone(Exception):
    """Raised by a sink when a draft it was asked to update is no longer there (the user
    deleted or sent it between `observe` and the write)."""


class DraftSink(Protocol):
    """Somewhere drafts are left for the user to review. Never a place that sends."""

    name: str  # the sink's key in the ledger and in a meeting's refs
    kind: SinkKind
    # Whether a draft that left this sink is known not sent (IMAP sees the Sent folder):
    # only then does its `user_deleted` end the draft's held slots. Gmail, the outbox and
    # the review calendar cannot tell a sent draft from a deleted one: False.
    tells_sent: bool

    @property
    def warnings(self) -> Sequence[Message]:
        """Problems met so far that the user should hear of, for the scan to show in the
        user's language (the scan goes on)."""
        ...

    def content_hash(self, reply: Reply) -> str:
        """The hash of what this sink would write for `reply`: equal hashes mean nothing to
        rewrite. It covers all the sink shows (the review calendar's event also carries the
        meeting's time), and is what `Written.content_hash` holds after a write."""
        ...

    def observe(self, refs: Sequence[str]) -> dict[str, str | None]:
        """Current version of each ref, None when it is gone (deleted or sent by the user)."""
        ...

    def find(self, message_id: str) -> Written | None:
        """A draft of ours carrying this Message-ID, if one exists (to adopt after lost state),
        with `content_hash` and `edited` filled in."""
        ...

    def adoptable(self, known_refs: Collection[str], message_ids: Collection[str]) -> set[str]:
        """Of `message_ids` (drafts about to be written), those that may already have a
        draft here the ledger does not know (`known_refs` are the ones it does): only these
        need a `find` before `create`. Naming too many only costs look-ups; naming too few
        would make duplicates."""
        ...

    def create(self, reply: Reply) -> Written: ...

    def update(self, ref: str, reply: Reply) -> Written:
        """Rewrite draft `ref`; `DraftGone` when it is no longer there (never re-created)."""
        ...

    def delete(self, ref: str) -> None:
        """Remove draft `ref`; one already gone is fine."""
        ...

    def path_of(self, ref: str) -> Path | None:
        """The local file holding draft `ref`, for a sink that keeps drafts in files (what
        the user can open); None for one that does not."""
        ...

    def sent(self, refs: Sequence[str]) -> set[str]:
        """Of `refs`, drafts no longer there, those the sink knows the user sent (IMAP sees
        the Sent folder); a sink that cannot tell (Gmail's compose scope, the outbox, the
        review calendar) returns an empty set, and they stay `user_deleted`."""
        ...


class NoteSink(Protocol):
    """Notes on calendar events. Never changes anything the client sees."""

    name: str

    @property
    def warnings(self) -> Sequence[Message]:
        """Notes skipped so far, one message each (the scan goes on)."""
        ...

    def put(self, event: Event, note: Note) -> None:
        """Set the note (and colour) on the user's copy of `event`."""
        ...

    def clear(self, event: Event) -> None:
        """Remove calbot's note (and colour) from `event`."""
        ...


@dataclass(frozen=True, slots=True)
class Left:
    """What `MessageSink.leave` did with a message, and where it is now."""

    status: DraftStatus  # NEW, UPDATED, or USER_EDITED: the user's since, left alone
    ref: str  # the Gmail draft id; the outbox file's path


class MessageSink(Protocol):
    """A mail sink that also takes a whole message calbot built for the user (the morning
    digest) and leaves it as a draft. Never a place that sends."""

    name: str

    def leave(self, message: bytes, message_id: str, *, label: str) -> Left:
        """Leave `message` (RFC 5322, carrying `message_id`) as a draft: the one left
        before for the same message is updated, else a new one is made. `label` says what
        it is in a word ("digest"): the outbox names its file after it, Gmail its requests
        in error messages."""
        ...
