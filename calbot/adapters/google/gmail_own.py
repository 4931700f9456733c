"""What the Gmail sink needs to find its own drafts without Gmail's search index (which
lags behind writes, issue 11): the drafts it recognises, how a `drafts.list` answer is
trusted, and whether a create timed out (so it may still land)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from email import policy
from email.parser import BytesHeaderParser
from typing import Any

from calbot.adapters.mail import ID_HEADER


def trusted_list(got: object) -> bool:
    """A drafts.list answer that says what it lists. Gmail leaves `drafts` out of a page
    with none; then it also counts none (`resultSizeEstimate` 0) and has no next page."""
    if not isinstance(got, dict):
        return False
    drafts = got.get("drafts")
    if drafts is not None:
        return isinstance(drafts, list)
    return not got.get("nextPageToken") and str(got.get("resultSizeEstimate", "")) == "0"


def ids_of(raw: bytes) -> set[str]:
    """The Message-ID and `X-Calbot-Id` a message carries."""
    headers = BytesHeaderParser(policy=policy.default).parsebytes(raw)
    return {str(headers.get(n) or "").strip() for n in ("Message-ID", ID_HEADER)} - {""}


def age(draft: OwnDraft) -> tuple[int, str]:
    """Oldest first; the draft id breaks ties the same way on every machine."""
    return (draft.created, draft.ref)


@dataclass(frozen=True, slots=True)
class OwnDraft:
    """A draft calbot wrote, as the mailbox lists it."""

    ref: str  # the draft id
    version: str  # its message id now
    calbot_id: str  # the Message-ID calbot gave it (`X-Calbot-Id`, else Message-ID)
    created: int  # Gmail's internalDate, ms: of two duplicates the older is kept


class Watched:
    """A request that remembers whether its last try timed out: after a timeout Gmail may
    still be carrying it out, so "not there yet" is no evidence that it never will be."""

    def __init__(self, request: Any) -> None:
        self._request = request
        self.timed_out = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)

    def execute(self, **kwargs: Any) -> Any:
        try:
            return self._request.execute(**kwargs)
        except Exception as exc:
            self.timed_out = isinstance(exc, TimeoutError) or "timed out" in str(exc).lower()
            raise


def decode_raw(value: object) -> bytes | None:
    """Gmail's base64url `raw` (padding optional) as bytes; None when it is not that."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None
