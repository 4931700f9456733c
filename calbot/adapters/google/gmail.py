"""The Gmail sink: drafts in the user's own Drafts folder, for them to review. Never sends.

Requests (all through `GoogleApi.call`, so retries, timeouts and error mapping are shared):

- `create`: `users.drafts.create` with `{"message": {"raw": base64url(RFC 5322)}}` — no media
  upload and no batch (both would bypass `api_root`). Never repeated blindly: after a
  failure that may hide a draft Gmail made anyway (5xx, timeout, dropped connection), the
  retry first looks the draft up by its Message-ID (`find`) and adopts it.
- `update`: `users.drafts.update` of the same draft id. Gmail gives the draft a new message
  id on every update, so the new message id is the new `version`.
- `observe`: one paged `users.drafts.list` (500 a page, only ids) for all known refs. A
  draft edited in Gmail gets a new message id (so its version differs from what calbot
  recorded: `user_edited`); a draft no longer listed left the Drafts folder — deleted or
  sent, `gmail.compose` cannot tell which (`user_deleted`). No refs, no request.
- `find`: `users.drafts.list` with `q=rfc822msgid:...`, then `users.drafts.get(format=raw)`
  of each hit until one carries exactly that Message-ID; its `X-Calbot-Content` header tells
  an untouched draft from one the user edited.
- `adoptable`: one paged `users.drafts.list`; only drafts the ledger does not know can be
  ours to adopt, so with none there no `find` is needed before a create. Else the cheaper
  of one `users.drafts.get(format=metadata)` per unknown draft and one `find` per new draft.
- `delete`: `users.drafts.delete`; a draft already gone (404) is fine.

Errors: every non-retryable API error surfaces as `calbot.adapters.google.api.ApiError`,
except a 404 from `update`, which raises `calbot.ports.sinks.DraftGone`: the draft left the Drafts
folder between `observe` and the write (the user sent or deleted it just then), and the
scan records it as `user_deleted` and never re-creates it. `delete` treats 404 as done;
`find` skips a hit that vanished between the search and the read.

There is deliberately no code path here — or anywhere in calbot — that calls a Gmail send
method (`drafts.send`, `messages.send`); a test scans the sources to keep it that way.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime
from email import policy
from email.parser import BytesHeaderParser
from typing import Any

from calbot.adapters.google.api import ApiError, GoogleApi
from calbot.adapters.mail import (
    build_message,
    draft_hash,
    message_hashes,
    message_holds,
)
from calbot.core.decide import offered_slots
from calbot.core.messages import Message
from calbot.core.vocab import DraftStatus
from calbot.errors import ServiceError
from calbot.ports.sinks import DraftGone, Left, Reply, SinkKind, Written

USER = "me"
PAGE_SIZE = 500  # drafts.list's maximum
_LIST_FIELDS = "drafts(id,message/id),nextPageToken"
_WRITE_FIELDS = "id,message/id"
_HEADER_FIELDS = "message/payload/headers"
_MAX_FIND_CANDIDATES = 10  # drafts.get per find at most; a Message-ID is meant to be unique


class GmailSink:
    """`DraftSink` leaving drafts in the user's Gmail account."""

    name = "gmail"
    kind = SinkKind.MAIL
    tells_sent = False  # a draft gone from it may have been sent

    def __init__(
        self,
        api: GoogleApi,
        *,
        from_addr: str,
        from_name: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._api = api
        self._from_addr = from_addr
        self._from_name = from_name
        self._clock = clock
        self.warnings: list[Message] = []

    # -- DraftSink -------------------------------------------------------------------------

    def content_hash(self, reply: Reply) -> str:
        return draft_hash(reply.draft)

    def observe(self, refs: Sequence[str]) -> dict[str, str | None]:
        """Each draft id's current message id, None for a draft no longer in Drafts."""
        if not refs:
            return {}
        current = dict(self._list_all())
        return {ref: current.get(ref) for ref in refs}

    def find(self, message_id: str) -> Written | None:
        """The draft carrying exactly `message_id`, with the hash calbot wrote into it and
        whether the user has edited it since."""
        wanted = message_id.strip()
        hits = self._list_page(q=f"rfc822msgid:{wanted.strip('<>')}")
        for draft_id, _ in hits[:_MAX_FIND_CANDIDATES]:
            try:
                got = self._call(
                    self._drafts().get(userId=USER, id=draft_id, format="raw"),
                    "gmail drafts.get",
                )
            except ApiError as exc:
                if exc.status == 404:  # deleted between the search and the read
                    continue
                raise
            message = _dict(got.get("message"))
            raw = _decode_raw(message.get("raw"))
            if raw is None or _message_id_of(raw) != wanted:
                continue  # the search matched loosely: not ours
            now, written = message_hashes(raw)
            return Written(
                ref=str(got.get("id") or draft_id),
                version=str(message.get("id") or ""),
                content_hash=written,
                edited=now != written,
                holds=message_holds(raw),
            )
        return None

    def adoptable(self, known_refs: Collection[str], message_ids: Collection[str]) -> set[str]:
        """One paged `drafts.list`: with no draft there the ledger does not know (the usual
        case), no look-up is needed at all. Otherwise the cheaper of reading each unknown
        draft's Message-ID header and searching for each new draft."""
        if not message_ids:
            return set()
        unknown = [draft_id for draft_id, _ in self._list_all() if draft_id not in known_refs]
        if not unknown:
            return set()
        if len(unknown) > len(message_ids):
            return set(message_ids)
        wanted = {m.strip(): m for m in message_ids}
        present: set[str] = set()
        for draft_id in unknown:
            found = self._header_message_id(draft_id)
            if found in wanted:
                present.add(wanted[found])
        return present

    def create(self, reply: Reply) -> Written:
        """A new draft. Creating is not safe to repeat (a second create is a second draft):
        when a try fails in a way that may hide a draft Gmail made all the same (5xx, no
        answer in time, a dropped connection), the draft is looked up by its Message-ID
        before any retry, and adopted when it is there."""
        body = {"message": {"raw": self._raw(reply)}}

        def made_already() -> dict[str, Any] | None:
            found = self.find(reply.message_id)
            if found is None:
                return None
            return {"id": found.ref, "message": {"id": found.version}}

        got = _dict(
            self._api.call(
                self._drafts().create(userId=USER, body=body, fields=_WRITE_FIELDS),
                what="gmail drafts.create",
                recheck=made_already,
            )
        )
        return self._written(got, reply)

    def update(self, ref: str, reply: Reply) -> Written:
        """Rewrite draft `ref` in place (same draft id, new message id).

        Raises `DraftGone` when the draft is no longer in Drafts (Gmail answers 404: the
        user sent or deleted it since `observe`); nothing is re-created."""
        body = {"id": ref, "message": {"raw": self._raw(reply)}}
        try:
            got = self._call(
                self._drafts().update(userId=USER, id=ref, body=body, fields=_WRITE_FIELDS),
                "gmail drafts.update",
            )
        except ApiError as exc:
            if exc.status == 404:
                raise DraftGone(f"Gmail draft {ref} is no longer in Drafts") from exc
            raise
        return self._written(got, reply, ref)

    def delete(self, ref: str) -> None:
        try:
            self._call(self._drafts().delete(userId=USER, id=ref), "gmail drafts.delete")
        except ApiError as exc:
            if exc.status != 404:  # already gone: what we wanted
                raise

    def path_of(self, ref: str) -> None:
        return None  # drafts live in the mailbox, not in local files

    def sent(self, refs: Sequence[str]) -> set[str]:
        return set()  # it cannot tell a sent draft from a deleted one

    # -- internals -------------------------------------------------------------------------

    def _drafts(self) -> Any:
        gmail = self._api.gmail
        if gmail is None:  # connect() builds no Gmail client when outputs.gmail_drafts is off
            raise ServiceError("Gmail drafts are off in the config ([outputs] gmail_drafts)")
        return gmail.users().drafts()

    def _call(self, request: Any, what: str) -> dict[str, Any]:
        return _dict(self._api.call(request, what=what))

    def _raw(self, reply: Reply) -> str:
        data = build_message(
            reply.draft,
            from_addr=self._from_addr,
            from_name=self._from_name,
            message_id=reply.message_id,
            date=self._clock(),
            holds=offered_slots(reply.decision),
        )
        return base64.urlsafe_b64encode(data).decode("ascii")

    def _written(self, got: dict[str, Any], reply: Reply, ref: str = "") -> Written:
        draft_id = str(got.get("id") or ref)
        version = str(_dict(got.get("message")).get("id") or "")
        if not draft_id or not version:
            raise ServiceError("Gmail answered a draft write without a draft or message id")
        return Written(ref=draft_id, version=version, content_hash=self.content_hash(reply))

    def _header_message_id(self, draft_id: str) -> str:
        try:
            got = self._call(
                self._drafts().get(
                    userId=USER, id=draft_id, format="metadata", fields=_HEADER_FIELDS
                ),
                "gmail drafts.get",
            )
        except ApiError as exc:
            if exc.status == 404:  # deleted since the list
                return ""
            raise
        payload = _dict(_dict(got.get("message")).get("payload"))
        for header in payload.get("headers") or ():
            h = _dict(header)
            if str(h.get("name") or "").lower() == "message-id":
                return str(h.get("value") or "").strip()
        return ""

    def _list_page(self, *, q: str = "", page_token: str = "") -> list[tuple[str, str]]:
        pairs, _ = self._list(q=q, page_token=page_token)
        return pairs

    def _list_all(self) -> Iterator[tuple[str, str]]:
        token = ""
        seen: set[str] = set()
        while True:
            pairs, token = self._list(page_token=token)
            yield from pairs
            if not token or token in seen:  # a repeated token would loop forever
                return
            seen.add(token)

    def _list(self, *, q: str = "", page_token: str = "") -> tuple[list[tuple[str, str]], str]:
        """One drafts.list page: [(draft id, message id)], next page token or ""."""
        params: dict[str, Any] = {"userId": USER, "maxResults": PAGE_SIZE, "fields": _LIST_FIELDS}
        if q:
            params["q"] = q
        if page_token:
            params["pageToken"] = page_token
        got = self._call(self._drafts().list(**params), "gmail drafts.list")
        pairs = []
        for item in got.get("drafts") or ():
            d = _dict(item)
            draft_id = str(d.get("id") or "")
            if draft_id:
                pairs.append((draft_id, str(_dict(d.get("message")).get("id") or "")))
        return pairs, str(got.get("nextPageToken") or "")

    # -- MessageSink -----------------------------------------------------------------------

    def leave(self, message: bytes, message_id: str, *, label: str) -> Left:
        """The draft carrying `message_id` is rewritten with `message` — unless the user
        edited it, which leaves it alone — else a new one is made. A 404 on the rewrite (the
        draft was deleted just now) makes a new one; a create that may have landed despite
        a failure is looked up before any retry, as `create` does."""
        raw = base64.urlsafe_b64encode(message).decode("ascii")
        found = self.find(message_id)
        if found is not None and found.edited:
            return Left(DraftStatus.USER_EDITED, found.ref)
        if found is not None:
            body = {"id": found.ref, "message": {"raw": raw}}
            try:
                got = self._call(
                    self._drafts().update(
                        userId=USER, id=found.ref, body=body, fields=_WRITE_FIELDS
                    ),
                    f"gmail drafts.update ({label})",
                )
                return Left(DraftStatus.UPDATED, str(got.get("id") or found.ref))
            except ApiError as exc:
                if exc.status != 404:
                    raise

        def made_already() -> dict[str, Any] | None:
            again = self.find(message_id)
            return None if again is None else {"id": again.ref}

        got = _dict(
            self._api.call(
                self._drafts().create(
                    userId=USER, body={"message": {"raw": raw}}, fields=_WRITE_FIELDS
                ),
                what=f"gmail drafts.create ({label})",
                recheck=made_already,
            )
        )
        return Left(DraftStatus.NEW, str(got.get("id") or ""))


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _decode_raw(value: object) -> bytes | None:
    """Gmail's base64url `raw` (padding optional) as bytes; None when it is not that."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


def _message_id_of(raw: bytes) -> str:
    found = BytesHeaderParser(policy=policy.default).parsebytes(raw).get("Message-ID")
    return str(found).strip() if found is not None else ""
