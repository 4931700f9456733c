"""The fake Gmail v1: drafts (create/get/list with q=rfc822msgid:/update/delete), profile,
and what the Gmail UI does to a draft (edit, delete/send). Mixed into FakeGoogle.

Two behaviours of real Gmail it can model (issue 11): `lag_search()` — the search index
(`q=`) trails writes, so a draft just written is invisible to searches for a number of them
or until `catch_up_search()`, while `drafts.list` without `q` and `drafts.get` see it at
once; and `rewrite_message_ids()` — Gmail gives a stored draft a Message-ID of its own.
Each draft's `internalDate` is when it was made (in creation order, a second apart)."""

from __future__ import annotations

import base64
import binascii
import copy
import itertools
import threading
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from .errors import ApiError

Query = dict[str, list[str]]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def unb64url(text: str) -> bytes:
    text = text.strip()
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def parse_message(raw: bytes) -> EmailMessage:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    return msg


def _norm_msgid(text: str) -> str:
    return text.strip().strip("<>").strip().lower()


class GmailMixin:
    _lock: threading.RLock
    user_email: str
    violation: Callable[[str], None]

    def _gmail_init(self) -> None:
        self.drafts: dict[str, dict[str, Any]] = {}
        self._draft_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._draft_pages: dict[str, tuple[list[str], int]] = {}
        self._draft_order: dict[str, int] = {}
        self._created: dict[str, int] = {}  # draft id → internalDate (ms)
        self._unindexed: set[str] = set()  # drafts the search index has not caught up with
        self._search_lag: int | None = None  # searches left before it catches up; None: off
        self._lagging = False
        self._rewrite_ids = False

    # --- test-side API ----------------------------------------------------------------

    def draft_message(self, draft_id: str) -> EmailMessage:
        with self._lock:
            return parse_message(unb64url(self.drafts[draft_id]["message"]["raw"]))

    def user_edits_draft(self, draft_id: str, new_body: str) -> None:
        """As the Gmail UI does: same draft id, a new message id, the text/plain body
        replaced, every header kept."""
        with self._lock:
            draft = self.drafts[draft_id]
            msg = parse_message(unb64url(draft["message"]["raw"]))
            part = msg.get_body(("plain",))
            if part is None:
                raise ValueError(f"draft {draft_id} has no text/plain part")
            assert isinstance(part, EmailMessage)
            if part is msg:
                del msg["Content-Transfer-Encoding"]
                msg.set_content(new_body)
            else:
                part.set_content(new_body)
            self._store_message(draft, msg.as_bytes())

    def user_deletes_draft(self, draft_id: str) -> None:
        with self._lock:
            self.drafts.pop(draft_id)
            self._draft_order.pop(draft_id, None)

    def lag_search(self, searches: int | None = None) -> None:
        """From now on a draft written (made or updated) stays invisible to `q=` searches
        for `searches` searches (None: until `catch_up_search()`)."""
        with self._lock:
            self._lagging = True
            self._search_lag = searches

    def catch_up_search(self) -> None:
        with self._lock:
            self._lagging = False
            self._search_lag = None
            self._unindexed.clear()

    def rewrite_message_ids(self, on: bool = True) -> None:
        """Gmail replacing the Message-ID of every draft written from now on with its own."""
        with self._lock:
            self._rewrite_ids = on

    def searches_missed(self) -> int:
        """Drafts a search could not see now (the index is behind)."""
        with self._lock:
            return len(self._unindexed & set(self.drafts))

    # --- internals --------------------------------------------------------------------

    def _store_message(self, draft: dict[str, Any], raw: bytes) -> None:
        n = next(self._message_ids)
        if self._rewrite_ids:
            msg = parse_message(raw)
            del msg["Message-ID"]
            msg["Message-ID"] = f"<CAgmail{n:08d}@mail.gmail.com>"
            raw = msg.as_bytes()
        if self._lagging:
            self._unindexed.add(draft["id"])
        mid = f"18f{n:013x}"
        old = draft.get("message") or {}
        draft["message"] = {
            "id": mid,
            "threadId": old.get("threadId") or mid,
            "labelIds": ["DRAFT"],
            "raw": b64url(raw),
        }
        self._draft_order[draft["id"]] = n

    def _user(self, user_id: str) -> None:
        if user_id not in ("me", self.user_email):
            raise ApiError(403, "forbidden", f"Delegation denied for {self.user_email}")

    def _raw_from(self, body: dict[str, Any]) -> bytes:
        raw = (body.get("message") or {}).get("raw")
        if not isinstance(raw, str) or not raw:
            raise ApiError(400, "invalidArgument", "Missing draft message")
        try:
            data = unb64url(raw)
        except (binascii.Error, ValueError) as exc:
            raise ApiError(400, "invalidArgument", "Invalid value for ByteString") from exc
        if b"\n" not in data and b":" not in data:
            raise ApiError(400, "invalidArgument", "Invalid RFC 822 message")
        return data

    def _short(self, draft: dict[str, Any]) -> dict[str, Any]:
        m = draft["message"]
        return {
            "id": draft["id"],
            "message": {"id": m["id"], "threadId": m["threadId"], "labelIds": ["DRAFT"]},
        }

    def _draft(self, draft_id: str) -> dict[str, Any]:
        draft = self.drafts.get(draft_id)
        if draft is None:
            raise ApiError(404, "notFound", "Requested entity was not found.")
        return draft

    # --- routes -----------------------------------------------------------------------

    def _drafts_create(self, body: dict[str, Any]) -> dict[str, Any]:
        raw = self._raw_from(body)
        draft_id = f"r{next(self._draft_ids):019d}"
        draft: dict[str, Any] = {"id": draft_id}
        thread = (body.get("message") or {}).get("threadId")
        if thread:
            draft["message"] = {"threadId": thread}
        self._store_message(draft, raw)
        self.drafts[draft_id] = draft
        self._created[draft_id] = 1_700_000_000_000 + 1000 * len(self._created)
        return self._short(draft)

    def _drafts_update(self, draft_id: str, body: dict[str, Any]) -> dict[str, Any]:
        draft = self._draft(draft_id)
        if body.get("id") not in (None, draft_id):
            raise ApiError(400, "invalidArgument", "Draft id in body does not match the path")
        raw = self._raw_from(body)
        self._store_message(draft, raw)
        return self._short(draft)

    def _drafts_get(self, draft_id: str, query: Query) -> dict[str, Any]:
        draft = self._draft(draft_id)
        fmt = (query.get("format") or ["full"])[0]
        m = draft["message"]
        raw = unb64url(m["raw"])
        msg = parse_message(raw)
        body_part = msg.get_body(("plain", "html"))
        snippet = " ".join(body_part.get_content().split())[:200] if body_part else ""
        out: dict[str, Any] = {
            "id": m["id"],
            "threadId": m["threadId"],
            "labelIds": ["DRAFT"],
            "snippet": snippet,
            "sizeEstimate": len(raw),
            "historyId": str(1000 + self._draft_order.get(draft_id, 0)),
            "internalDate": str(self._created.get(draft_id, 1_700_000_000_000)),
        }
        if fmt == "raw":
            out["raw"] = m["raw"]
        elif fmt == "full":
            out["payload"] = _payload(msg, "")
        elif fmt == "metadata":
            out["payload"] = {
                "mimeType": msg.get_content_type(),
                "headers": [{"name": k, "value": str(v)} for k, v in msg.items()],
            }
        elif fmt != "minimal":
            raise ApiError(400, "invalidArgument", f"Invalid format {fmt!r}")
        return {"id": draft_id, "message": out}

    def _drafts_list(self, query: Query) -> dict[str, Any]:
        page_token = (query.get("pageToken") or [""])[0]
        max_results = int((query.get("maxResults") or ["100"])[0])
        max_results = max(1, min(max_results, 500))
        if page_token:
            if page_token not in self._draft_pages:
                raise ApiError(400, "invalidArgument", "Invalid pageToken")
            ids, offset = self._draft_pages[page_token]
        else:
            ids = self._search((query.get("q") or [""])[0])
            offset = 0
        ids = [i for i in ids if i in self.drafts]
        chunk = ids[offset : offset + max_results]
        out: dict[str, Any] = {}
        if chunk:  # Gmail omits "drafts" when nothing matches
            out["drafts"] = [
                {
                    "id": i,
                    "message": {
                        "id": self.drafts[i]["message"]["id"],
                        "threadId": self.drafts[i]["message"]["threadId"],
                    },
                }
                for i in chunk
            ]
        if offset + max_results < len(ids):
            token = f"dp{len(self._draft_pages) + 1:06d}"
            self._draft_pages[token] = (ids, offset + max_results)
            out["nextPageToken"] = token
        out["resultSizeEstimate"] = len(ids)
        return out

    def _search(self, q: str) -> list[str]:
        ids = sorted(self.drafts, key=lambda i: -self._draft_order.get(i, 0))
        if q.strip() and self._unindexed:  # the index trails writes; a plain list does not
            ids = [i for i in ids if i not in self._unindexed]
            if self._search_lag is not None:
                self._search_lag -= 1
                if self._search_lag <= 0:
                    self.catch_up_search()
        for term in q.split():
            key, _, value = term.partition(":")
            key = key.lower()
            if key == "rfc822msgid" and value:
                want = _norm_msgid(value)
                ids = [i for i in ids if _norm_msgid(str(self._msg(i)["Message-ID"] or "")) == want]
            elif key == "in" and value.lower() in ("draft", "drafts"):
                continue
            else:
                self.violation(f"drafts.list: q term {term!r} is not supported by the fake")
        return ids

    def _msg(self, draft_id: str) -> EmailMessage:
        return parse_message(unb64url(self.drafts[draft_id]["message"]["raw"]))

    def _drafts_delete(self, draft_id: str) -> None:
        self._draft(draft_id)
        del self.drafts[draft_id]
        self._draft_order.pop(draft_id, None)

    def _profile(self) -> dict[str, Any]:
        return {
            "emailAddress": self.user_email,
            "messagesTotal": len(self.drafts),
            "threadsTotal": len({d["message"]["threadId"] for d in self.drafts.values()}),
            "historyId": str(1000 + len(self._draft_order)),
        }


def _payload(msg: EmailMessage, part_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "partId": part_id,
        "mimeType": msg.get_content_type(),
        "filename": msg.get_filename() or "",
        "headers": [{"name": k, "value": str(v)} for k, v in msg.items()],
    }
    if msg.is_multipart():
        out["body"] = {"size": 0}
        out["parts"] = [
            _payload(p, f"{part_id}.{i}" if part_id else str(i))  # type: ignore[arg-type]
            for i, p in enumerate(msg.iter_parts())
        ]
    else:
        data = msg.get_payload(decode=True)
        data = data if isinstance(data, bytes) else b""
        out["body"] = {"size": len(data), "data": b64url(data)}
    return out


def copy_draft(draft: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(draft)
