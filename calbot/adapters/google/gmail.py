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
- `find` / `own_drafts`: never a search (`q=`): Gmail's search index trails writes by
  seconds to minutes (issue 11). One paged `users.drafts.list`, then a metadata
  `users.drafts.get` of each draft not yet seen (its headers and `internalDate`, remembered
  per message id by the sink): calbot's drafts carry `X-Calbot-Id`, the Message-ID
  they were written with, since Gmail may not keep the Message-ID itself. `find` then reads
  the hit (`format=raw`): its `X-Calbot-Content` tells an untouched draft from an edited one.
  Of two drafts with one id (two machines on one account), the older is the one found.
- `adoptable`: the Message-IDs with a draft of calbot's the ledger does not know.
- A `drafts.list` answer that cannot be trusted (not JSON, or no `drafts` although Gmail
  counts some) is asked again, then a `ServiceError`; never "no drafts".
- `delete`: `users.drafts.delete`; a draft already gone (404) is fine.

Errors: every non-retryable API error surfaces as `calbot.adapters.google.api.ApiError`,
except a 404 from `update`, which raises `calbot.ports.sinks.DraftGone`: the draft left the Drafts
folder between `observe` and the write (the user sent or deleted it just then), and the
scan records it as `user_deleted` and never re-creates it. `delete` treats 404 as done;
`find` skips a hit that vanished between the list and the read.

There is deliberately no code path here — or anywhere in calbot — that calls a Gmail send
method (`drafts.send`, `messages.send`); a test scans the sources to keep it that way.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime
from typing import Any

from calbot.adapters.google.api import ApiError, GoogleApi
from calbot.adapters.google.gmail_own import (
    OwnDraft,
    Watched,
    age,
    decode_raw,
    ids_of,
    trusted_list,
)
from calbot.adapters.mail import (
    ID_HEADER,
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
_LIST_FIELDS = "drafts(id,message/id),nextPageToken,resultSizeEstimate"
_WRITE_FIELDS = "id,message/id"
_HEADER_FIELDS = "id,message(id,internalDate,payload/headers)"
_HEADERS_KEPT = 20_000  # message ids whose headers a sink remembers
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
        self._observed: list[tuple[str, str]] | None = None
        # message id → (calbot's Message-ID or "", internalDate): a message id's content
        # never changes, so one metadata get per draft version is enough
        self._headers_seen: dict[str, tuple[str, int]] = {}

    # -- DraftSink -------------------------------------------------------------------------

    def content_hash(self, reply: Reply) -> str:
        return draft_hash(reply.draft)

    def observe(self, refs: Sequence[str]) -> dict[str, str | None]:
        """Each draft id's current message id, None for a draft no longer in Drafts."""
        if not refs:
            return {}
        listed = list(self._list_all())
        self._observed = listed  # `own_drafts`, asked next by the same scan, needs no 2nd list
        current = dict(listed)
        return {ref: current.get(ref) for ref in refs}

    def find(self, message_id: str) -> Written | None:
        """The draft carrying exactly `message_id` (in its Message-ID or `X-Calbot-Id`),
        with the hash calbot wrote into it and whether the user has edited it since. Read
        from the mailbox itself (`drafts.list` without `q`, then each draft's headers), never
        from the search index, which lags behind writes. Of several, the oldest."""
        wanted = message_id.strip()
        listed = list(self._list_all())
        hits = [d for d in self._own(listed) if d.calbot_id == wanted]
        for draft in sorted(hits, key=age)[:_MAX_FIND_CANDIDATES]:
            found = self._read(draft, wanted)
            if found is not None:
                return found
        return None

    def own_drafts(self, known_refs: Collection[str]) -> dict[str, list[OwnDraft]]:
        """calbot's drafts the ledger does not know, by the Message-ID they were written
        with: what a lost state store adopts, a pending create resolves to, and a second
        machine on the same account wrote. One paged `drafts.list` and one metadata
        `drafts.get` per unknown draft (remembered per message id by the sink)."""
        listed = self._observed
        if listed is None:
            listed = list(self._list_all())
        unknown = [(r, v) for r, v in listed if r not in known_refs]
        out: dict[str, list[OwnDraft]] = {}
        for draft in self._own(unknown):
            out.setdefault(draft.calbot_id, []).append(draft)
        self._observed = listed  # still the mailbox until the next request
        for drafts in out.values():
            drafts.sort(key=age)
        return out

    def own_draft(self, ref: str, version: str) -> OwnDraft | None:
        """Draft `ref` (now at message id `version`) as `own_drafts` would list it."""
        found = self._own([(ref, version)])
        return found[0] if found else None

    def read(self, draft: OwnDraft) -> Written | None:
        """What `find` tells of one draft `own_drafts` returned; None when it is gone."""
        return self._read(draft, draft.calbot_id)

    def adoptable(self, known_refs: Collection[str], message_ids: Collection[str]) -> set[str]:
        """The Message-IDs among `message_ids` with a draft of calbot's that the ledger does
        not know (no search: it lags)."""
        if not message_ids:
            return set()
        own = self.own_drafts(known_refs)
        return {m for m in message_ids if m.strip() in own}

    def create(self, reply: Reply) -> Written:
        """A new draft. Creating is not safe to repeat (a second create is a second draft):
        see `_create_once`; the caller's pending create is resolved by a later scan."""
        raw = self._raw(reply)
        later = "the next scan looks for it before making any"
        got = self._create_once(raw, reply.message_id, "gmail drafts.create", later)
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
        self._observed = None  # any request after `observe`: its list may be out of date
        return self._api.drafts()  # one Resource per scan (raises when Gmail is off)

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

    def _own(self, listed: Sequence[tuple[str, str]]) -> list[OwnDraft]:
        """Of the listed (draft id, message id) pairs, the drafts calbot wrote."""
        out = []
        for draft_id, version in listed:
            seen = self._headers_seen.get(version) if version else None
            if seen is None:
                seen = self._headers(draft_id)
                if seen is None:
                    continue  # deleted since the list
                if version:
                    if len(self._headers_seen) >= _HEADERS_KEPT:
                        self._headers_seen.clear()  # bounded; a miss costs one drafts.get
                    self._headers_seen[version] = seen
            calbot_id, created = seen
            if calbot_id:
                out.append(OwnDraft(draft_id, version, calbot_id, created))
        return out

    def _headers(self, draft_id: str) -> tuple[str, int] | None:
        """(the Message-ID calbot wrote it with, or "" when not calbot's; Gmail's
        `internalDate`), from a metadata `drafts.get`; None when the draft is gone."""
        try:
            got = self._call(
                self._drafts().get(
                    userId=USER, id=draft_id, format="metadata", fields=_HEADER_FIELDS
                ),
                "gmail drafts.get",
            )
        except ApiError as exc:
            if exc.status == 404:  # deleted since the list
                return None
            raise
        message = _dict(got.get("message"))
        headers: dict[str, str] = {}
        for header in _dict(message.get("payload")).get("headers") or ():
            h = _dict(header)
            headers.setdefault(str(h.get("name") or "").lower(), str(h.get("value") or ""))
        ours = "x-calbot" in headers or "x-calbot-content" in headers
        calbot_id = headers.get(ID_HEADER.lower()) or (
            headers.get("message-id", "") if ours else ""
        )
        try:
            created = int(str(message.get("internalDate") or "0"))
        except ValueError:
            created = 0
        return calbot_id.strip(), created

    def _read(self, draft: OwnDraft, wanted: str) -> Written | None:
        try:
            got = self._call(
                self._drafts().get(userId=USER, id=draft.ref, format="raw"), "gmail drafts.get"
            )
        except ApiError as exc:
            if exc.status == 404:  # deleted between the list and the read
                return None
            raise
        message = _dict(got.get("message"))
        raw = decode_raw(message.get("raw"))
        if raw is None or wanted not in ids_of(raw):
            return None
        now, written = message_hashes(raw)
        return Written(
            ref=str(got.get("id") or draft.ref),
            version=str(message.get("id") or ""),
            content_hash=written,
            edited=now != written,
            holds=message_holds(raw),
        )

    def _list_all(self) -> Iterator[tuple[str, str]]:
        token = ""
        seen: set[str] = set()
        while True:
            pairs, token = self._list(page_token=token)
            yield from pairs
            if not token or token in seen:  # a repeated token would loop forever
                return
            seen.add(token)

    def _list(self, *, page_token: str = "") -> tuple[list[tuple[str, str]], str]:
        """One drafts.list page: [(draft id, message id)], next page token or "". Never
        with `q`: search reads an index that lags behind writes. An answer that cannot be
        trusted (not JSON; no `drafts` although Gmail counts some) is asked once more, then
        is an error: read as "no drafts" it would make every known draft user-deleted."""
        params: dict[str, Any] = {"userId": USER, "maxResults": PAGE_SIZE, "fields": _LIST_FIELDS}
        if page_token:
            params["pageToken"] = page_token
        for _ in range(2):
            got = self._api.call(self._drafts().list(**params), what="gmail drafts.list")
            if trusted_list(got):
                break
        else:
            raise ServiceError("Gmail answered drafts.list with a list it could not trust")
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

        later = "the next digest looks for it before making any"
        got = self._create_once(raw, message_id, f"gmail drafts.create ({label})", later)
        return Left(DraftStatus.NEW, str(got.get("id") or ""))

    def _create_once(self, raw: str, message_id: str, what: str, later: str) -> dict[str, Any]:
        """`drafts.create`, never repeated blindly: when a try fails in a way that may hide
        a draft Gmail made all the same, the draft is looked up by `message_id` before any
        retry and taken when there. After a timeout Gmail may still be making it: then no
        second create at all — `ServiceError` (its text ends with `later`), and the error
        carries `may_land`, so the caller keeps its pending create."""
        request = Watched(
            self._drafts().create(userId=USER, body={"message": {"raw": raw}}, fields=_WRITE_FIELDS)
        )

        def made_already() -> dict[str, Any] | None:
            found = self.find(message_id)
            if found is not None:
                return {"id": found.ref, "message": {"id": found.version}}
            if request.timed_out:
                raise ServiceError(
                    f"Gmail did not answer a draft create in time and the draft is not there"
                    f" yet; {later}"
                )
            return None

        try:
            return _dict(self._api.call(request, what=what, recheck=made_already))
        except Exception as exc:
            # Gmail answered every try, and the look-up after each found nothing: no draft
            # was made. After a timeout it may still be making one.
            exc.may_land = request.timed_out  # type: ignore[attr-defined]
            raise


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
