"""The IMAP sink: drafts in any mailbox's Drafts folder, for the user to review. Never sends.

A draft's `ref` is its Message-ID (deterministic per meeting and action, see
`calbot.adapters.mail.message_id_for`): IMAP messages cannot change, so a rewrite is a new
message with a new UID, and the ref must outlive it. Its `version` is `UIDVALIDITY.UID` of
the newest message in Drafts carrying that Message-ID: a mail client saves an edit as a new
message, so an edit always shows as a new version, and the `X-Calbot-Content` header (the
hash of what calbot wrote) then tells calbot's own rewrite from the user's.

Requests:
- `observe`, `adoptable`: SELECT Drafts, `UID SEARCH ALL` and one `UID FETCH` of the
  Message-ID headers (no FETCH when the folder is empty): an unchanged rescan costs that
  one round, no APPEND.
- `find`: `UID SEARCH HEADER Message-ID <id>`, then the hits' bodies (never marking them
  read). When a replace was cut short (killed between its APPEND and its expunge), two
  untouched copies of calbot's draft carry the id: the older go, the newest is returned.
- `create`: `APPEND Drafts (\\Draft \\Seen)` of the same RFC 5322 bytes the outbox writes.
  Not safe to repeat: after a dropped connection, the draft is looked up by its Message-ID
  before any retry, and adopted when the server stored it after all.
- `update`: APPEND the new message, then remove the old by UID (`STORE +FLAGS \\Deleted`,
  `UID EXPUNGE`, UIDPLUS) — never a plain EXPUNGE, which would also remove the user's own
  messages marked deleted. Never two drafts, never none: a crash between the two leaves
  both, and the next `find` keeps only the newest.
- `sent`: SELECT the `\\Sent` folder (else one named Sent) and search it for the ids.

There is no SMTP here, no MOVE or COPY: nothing calbot writes leaves the Drafts folder.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from email import policy
from email.parser import BytesHeaderParser
from typing import Any

from imapclient import DRAFT, SEEN, IMAPClient

from calbot.adapters.imap.connect import Session
from calbot.adapters.mail import build_message, draft_hash, message_hashes
from calbot.core.messages import Message
from calbot.core.vocab import DraftStatus
from calbot.errors import ServiceError
from calbot.ports.sinks import DraftGone, Left, Reply, SinkKind, Written

_FLAGS = (DRAFT, SEEN)
_DELETED = rb"\Deleted"
DRAFTS = rb"\Drafts"  # RFC 6154 SPECIAL-USE flags
SENT = rb"\Sent"
_HEADER_ITEM = b"BODY[HEADER.FIELDS (MESSAGE-ID)]"
_MAX_COPIES = 10  # bodies read per find at most; a Message-ID is meant to be unique
_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]", re.IGNORECASE)


class ImapSink:
    """`DraftSink` and `MessageSink` over an IMAP mailbox's Drafts folder."""

    name = "imap"
    kind = SinkKind.MAIL
    tells_sent = True  # the Sent folder tells a sent draft from a deleted one

    def __init__(
        self,
        session: Session,
        *,
        from_addr: str,
        from_name: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._session = session
        self._from_addr = from_addr
        self._from_name = from_name
        self._clock = clock
        self._folders: dict[bytes, str] = {}
        self.warnings: list[Message] = []

    # -- DraftSink -------------------------------------------------------------------------

    def content_hash(self, reply: Reply) -> str:
        return draft_hash(reply.draft)

    def observe(self, refs: Sequence[str]) -> dict[str, str | None]:
        if not refs:
            return {}
        index = self._index()
        return {ref: _version_of(index, ref.strip()) for ref in refs}

    def find(self, message_id: str) -> Written | None:
        wanted = message_id.strip()
        if not wanted:
            return None
        return self._session.run("SEARCH in Drafts", lambda c: self._find(c, wanted))

    def adoptable(self, known_refs: Collection[str], message_ids: Collection[str]) -> set[str]:
        """Of `message_ids`, those some message in Drafts carries (one FETCH round)."""
        if not message_ids:
            return set()
        index = self._index()
        return {m for m in message_ids if m.strip() in index}

    def create(self, reply: Reply) -> Written:
        data = self._bytes(reply)
        uid = self._append(data, reply.message_id.strip())
        return Written(reply.message_id.strip(), uid, self.content_hash(reply))

    def update(self, ref: str, reply: Reply) -> Written:
        """APPEND the new text, then remove the old message by UID. `DraftGone` when no
        message carries `ref` any more (the user sent or deleted it)."""
        mid = ref.strip()
        old = self._session.run("SEARCH in Drafts", lambda c: self._uids(c, mid))
        if not old:
            raise DraftGone(f"IMAP draft {mid} is no longer in {self._drafts_name()}")
        version = self._append(self._bytes(reply), mid, after=max(old))
        self._expunge(old)
        return Written(mid, version, self.content_hash(reply))

    def delete(self, ref: str) -> None:
        mid = ref.strip()
        uids = self._session.run("SEARCH in Drafts", lambda c: self._uids(c, mid))
        self._expunge(uids)

    def path_of(self, ref: str) -> None:
        return None  # drafts live in the mailbox, not in local files

    def sent(self, refs: Sequence[str]) -> set[str]:
        """Of `refs` (gone from Drafts), those whose Message-ID is in the Sent folder."""
        if not refs:
            return set()

        def search(client: IMAPClient) -> set[str]:
            folder = self._folder(client, SENT, "Sent", required=False)
            if folder is None:
                return set()
            client.select_folder(folder, readonly=True)
            self._session.selected = None  # Drafts must be selected again before writes
            return {ref for ref in refs if client.search(["HEADER", "Message-ID", ref.strip()])}

        return self._session.run("SEARCH in Sent", search)

    def close(self) -> None:
        self._session.close()

    # -- MessageSink -----------------------------------------------------------------------

    def leave(self, message: bytes, message_id: str, *, label: str) -> Left:
        """The draft carrying `message_id` is replaced by `message` — unless the user edited
        it, which leaves it alone — else a new draft is made."""
        mid = message_id.strip()
        found = self.find(mid)
        if found is not None and found.edited:
            return Left(DraftStatus.USER_EDITED, mid)
        old = self._session.run("SEARCH in Drafts", lambda c: self._uids(c, mid))
        self._append(message, mid, after=max(old) if old else 0)
        self._expunge(old)
        return Left(DraftStatus.UPDATED if found is not None else DraftStatus.NEW, mid)

    # -- internals -------------------------------------------------------------------------

    def _bytes(self, reply: Reply) -> bytes:
        return build_message(
            reply.draft,
            from_addr=self._from_addr,
            from_name=self._from_name,
            message_id=reply.message_id.strip(),
            date=self._clock(),
        )

    def _drafts_name(self) -> str:
        return self._folders.get(DRAFTS) or self._session.settings.drafts_folder or "Drafts"

    def _folder(
        self, client: IMAPClient, flag: bytes, fallback: str, *, required: bool
    ) -> str | None:
        """The folder for `flag`: for Drafts `[imap] drafts_folder` first; then the one
        marked with the SPECIAL-USE flag; then one named `fallback`."""
        if flag in self._folders:
            return self._folders[flag]
        configured = self._session.settings.drafts_folder if flag == DRAFTS else ""
        listed = client.list_folders()
        names = {str(name) for _, _, name in listed}
        name: str | None = None
        if configured:
            if configured not in names:
                raise ServiceError(
                    f"IMAP server {self._session.where}: no folder {configured!r} "
                    '([imap] drafts_folder) — fix the name, or set it to ""'
                )
            name = configured
        else:
            marked = [str(n) for flags, _, n in listed if flag in flags]
            if marked:
                name = marked[0]
            elif fallback in names:
                name = fallback
        if name is None and required:
            raise ServiceError(
                f"IMAP server {self._session.where}: no Drafts folder (none marked \\Drafts, "
                "none named Drafts) — set [imap] drafts_folder"
            )
        if name is not None:
            self._folders[flag] = name
        return name

    def _select_drafts(self, client: IMAPClient) -> tuple[int, int]:
        """(UIDVALIDITY, message count) of Drafts, selected for writing."""
        name = self._folder(client, DRAFTS, "Drafts", required=True)
        assert name is not None
        info = client.select_folder(name)
        self._session.selected = name
        return int(info.get(b"UIDVALIDITY", 0)), int(info.get(b"EXISTS", 0))

    def _index(self) -> dict[str, list[str]]:
        """Message-ID → versions ("UIDVALIDITY.UID", oldest first) of every message in
        Drafts, in one FETCH."""

        def read(client: IMAPClient) -> dict[str, list[str]]:
            validity, count = self._select_drafts(client)
            if not count:
                return {}
            uids = client.search("ALL")
            got = client.fetch(uids, [_HEADER_ITEM.replace(b"BODY", b"BODY.PEEK")]) if uids else {}
            index: dict[str, list[tuple[int, str]]] = {}
            for uid, data in got.items():
                mid = _message_id_of(data.get(_HEADER_ITEM, b""))
                if mid:
                    index.setdefault(mid, []).append((uid, f"{validity}.{uid}"))
            return {m: [v for _, v in sorted(pairs)] for m, pairs in index.items()}

        return self._session.run("FETCH in Drafts", read)

    def _uids(self, client: IMAPClient, mid: str) -> list[int]:
        self._select_drafts(client)
        return sorted(int(u) for u in client.search(["HEADER", "Message-ID", mid]))

    def _find(self, client: IMAPClient, mid: str) -> Written | None:
        validity, _ = self._select_drafts(client)
        uids = sorted(int(u) for u in client.search(["HEADER", "Message-ID", mid]))
        if not uids:
            return None
        got = client.fetch(uids[-_MAX_COPIES:], ["BODY.PEEK[]"])
        copies: list[tuple[int, bool, str]] = []  # (uid, edited, hash written)
        for uid in sorted(got):
            raw = _body(got[uid])
            if raw is None or _message_id_of(raw) != mid:
                continue  # the search matched loosely: not ours
            now, written = message_hashes(raw)
            copies.append((uid, now != written, written))
        if not copies:
            return None
        uid, edited, written = copies[-1]
        stale = [u for u, e, _ in copies[:-1] if not e]
        if stale and not edited:
            # A replace cut short between its APPEND and its expunge: finish it.
            client.add_flags(stale, [_DELETED], silent=True)
            client.uid_expunge(stale)
        return Written(mid, f"{validity}.{uid}", written, edited=edited)

    def _append(self, data: bytes, mid: str, *, after: int = 0) -> str:
        """APPEND `data` to Drafts; its version. After a drop, a message carrying `mid`
        with a UID above `after` is the one that landed: taken instead of a second APPEND."""

        def append(client: IMAPClient) -> str:
            validity, _ = self._select_drafts(client)
            answer = client.append(self._drafts_name(), data, flags=_FLAGS)
            hit = _APPENDUID.search(answer if isinstance(answer, bytes) else b"")
            if hit and int(hit.group(1)) == validity:
                return f"{validity}.{int(hit.group(2))}"
            landed = self._landed(client, mid, after)  # a server without UIDPLUS
            if landed is None:
                raise ServiceError(f"IMAP server {self._session.where}: APPEND left no message")
            return landed

        def recheck() -> str | None:
            return self._session.run("SEARCH in Drafts", lambda c: self._landed(c, mid, after))

        return self._session.run("APPEND to Drafts", append, recheck=recheck)

    def _landed(self, client: IMAPClient, mid: str, after: int) -> str | None:
        validity, _ = self._select_drafts(client)
        uids = [u for u in self._uids(client, mid) if u > after]
        return f"{validity}.{uids[-1]}" if uids else None

    def _expunge(self, uids: Sequence[int]) -> None:
        if not uids:
            return

        def expunge(client: IMAPClient) -> None:
            self._select_drafts(client)
            client.add_flags(list(uids), [_DELETED], silent=True)
            client.uid_expunge(list(uids))  # only these: the user's \Deleted mail stays

        self._session.run("UID EXPUNGE in Drafts", expunge)


def _version_of(index: dict[str, list[str]], mid: str) -> str | None:
    versions = index.get(mid)
    return versions[-1] if versions else None


def _body(data: dict[bytes, Any]) -> bytes | None:
    for key, value in data.items():
        if key.startswith(b"BODY[") and isinstance(value, bytes):
            return value
    return None


def _message_id_of(raw: bytes) -> str:
    found = BytesHeaderParser(policy=policy.default).parsebytes(raw).get("Message-ID")
    return str(found).strip() if found is not None else ""
