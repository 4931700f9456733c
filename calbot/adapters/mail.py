"""Drafts as RFC 5322 messages: the bytes every mail sink (outbox, Gmail) stores.

Line endings: the message is rendered with `email.policy.SMTP`, i.e. CRLF, the canonical
form of RFC 5322. The same bytes then serve the outbox (`.eml` files, which mail programs
and Maildir readers open with either line ending) and Gmail's `raw` upload, and the hash of
those bytes is stable whatever the platform.

Every header value here comes from untrusted text (event titles, attendee names): it goes
through `calbot.core.headers.clean_header_text` *before* a header is set, so no value can
ever end a header line and start another one (no `Bcc:` injection). Whole, never shortened:
an address must stay what it is, and the content hash of drafts stored by earlier scans
must come out the same.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from email import message_from_bytes, policy, quoprimime
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache, lru_cache

# the encoder the policy itself writes encoded words with (no stub: private to `email`)
from email import _encoded_words  # type: ignore[attr-defined]  # isort: skip

from calbot.core.headers import clean_header_text
from calbot.core.model import Draft, Slot

_MESSAGE_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")  # printable ASCII except < > and space
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")

#: The policy the bytes are rendered with (CRLF line endings, see the module docstring).
MAIL_POLICY = policy.SMTP


def message_domain(domain: str) -> str:
    """`domain` when a Message-ID can carry it, else "calbot.invalid" (a reserved name that
    never resolves): the user's mail domain may be an address literal like "[127.0.0.1]"."""
    return domain if _DOMAIN.fullmatch(domain) else "calbot.invalid"


def message_id_for(key: str, action: str, domain: str) -> str:
    """The deterministic Message-ID of the draft for (draft key, action).

    A scan that lost its state finds its own drafts again by this id instead of duplicating
    them; a different action gives a different id.
    """
    if not _DOMAIN.fullmatch(domain):
        raise ValueError(f"not a usable Message-ID domain: {domain!r}")
    digest = hashlib.sha256(f"{key}|{action}".encode()).hexdigest()[:32]
    return f"<calbot.{digest}@{domain}>"


CONTENT_HEADER = "X-Calbot-Content"
# the draft key's Message-ID again: a mailbox may replace the Message-ID header of a stored
# draft, and calbot must still find its own drafts (issue 11 #1)
ID_HEADER = "X-Calbot-Id"


def content_hash(to: Sequence[str], cc: Sequence[str], subject: str, body: str) -> str:
    """The hash of what a reader sees of a draft: recipients, subject and body text.

    Computed the same way from a `Draft` and from a stored message, so a draft found after
    the state was lost can be told apart: untouched (its `X-Calbot-Content` still matches)
    or edited by the user.
    """
    text = body.replace("\r\n", "\n").rstrip("\n")
    parts = ["\x1f".join(a.lower() for a in to), "\x1f".join(a.lower() for a in cc)]
    parts += [clean_header_text(subject, limit=None), text]
    return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()


@lru_cache(maxsize=1024)  # asked three times a draft: planning, writing, recording
def draft_hash(draft: Draft) -> str:
    return content_hash(draft.to, draft.cc, draft.subject, draft.body)


def message_hashes(raw: bytes) -> tuple[str, str]:
    """(the hash of the message as it is now, the hash calbot wrote into it or "")."""
    msg = message_from_bytes(raw, policy=policy.default)
    to = [a.addr_spec for a in msg["To"].addresses] if msg["To"] else []
    cc = [a.addr_spec for a in msg["Cc"].addresses] if msg["Cc"] else []
    part = msg.get_body(preferencelist=("plain",))
    body = part.get_content() if part is not None else ""
    written = str(msg[CONTENT_HEADER] or "").strip()
    return content_hash(to, cc, str(msg["Subject"] or ""), body), written


HOLDS_HEADER = "X-Calbot-Holds"
_MAX_HOLDS = 10  # a draft offers 2-3 slots; more in a header is not calbot's


def holds_header(slots: Sequence[Slot]) -> str:
    """`X-Calbot-Holds`: "start/end" pairs in UTC ISO 8601, comma-separated. Built from the
    decision's own times, never from text in the event."""

    def utc(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    return ", ".join(f"{utc(s.start)}/{utc(s.end)}" for s in slots)


def message_holds(raw: bytes) -> tuple[Slot, ...]:
    """The slots a stored draft's `X-Calbot-Holds` names (UTC), () when it has none. The
    user may have edited the header as well: anything that is not a list of well-formed,
    aware, non-empty pairs gives () rather than a guess."""
    msg = message_from_bytes(raw, policy=policy.default)
    text = " ".join(str(msg[HOLDS_HEADER] or "").split())
    if not text:
        return ()
    slots: list[Slot] = []
    for pair in text.split(","):
        parts = pair.strip().split("/")
        if len(parts) != 2 or len(slots) >= _MAX_HOLDS:
            return ()
        try:
            start, end = (datetime.fromisoformat(p) for p in parts)
        except ValueError:
            return ()
        if start.utcoffset() is None or end.utcoffset() is None or end <= start:
            return ()
        slots.append(Slot(start.astimezone(UTC), end.astimezone(UTC)))
    return tuple(sorted(slots, key=lambda s: s.start))


def _address(addr: str, name: str = "") -> Address:
    """A header address from untrusted parts; ValueError when `addr` is not an address."""
    addr_spec = clean_header_text(addr, limit=None)
    if not addr_spec or " " in addr_spec:
        raise ValueError(f"not an e-mail address: {addr!r}")
    try:
        return Address(display_name=clean_header_text(name, limit=None), addr_spec=addr_spec)
    except (ValueError, IndexError, HeaderParseError) as exc:  # the header parser's complaints
        raise ValueError(f"not an e-mail address: {addr!r}") from exc


_Value = str | Address | list[str | Address]
_PLAIN_NAME = re.compile(r"[A-Za-z0-9]+(?: [A-Za-z0-9]+)*")
_PLAIN_SPEC = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")


def _address_text(addr: str, name: str = "") -> str | Address:
    """`_address`, as the text the header takes when both parts are plain (no parse)."""
    if _PLAIN_SPEC.fullmatch(addr) and (not name or _PLAIN_NAME.fullmatch(name)):
        return f"{name} <{addr}>" if name else addr
    return _address(addr, name)


def build_message(
    draft: Draft,
    *,
    from_addr: str,
    from_name: str,
    message_id: str,
    date: datetime,
    html: str = "",
    kind: str = "draft",
    holds: Sequence[Slot] = (),
) -> bytes:
    """The draft as an RFC 5322 message (CRLF line endings), ready to store, never to send.

    Headers: From, To (with `draft.to_names` as display names), Cc when present, Subject,
    Date (from the timezone-aware `date`), Message-ID exactly as given (and again in
    `X-Calbot-Id`, should the mailbox rewrite the Message-ID), `X-Calbot: <kind>`
    and `X-Calbot-Content` (the `draft_hash` of what calbot wrote), and `X-Calbot-Holds`
    (`holds_header`) when the draft offers slots.
    The body is text/plain UTF-8, quoted-printable (safe for any line length), with `html`
    as its alternative when given (the digest).
    Raises ValueError for an unusable address, Message-ID or a naive `date`.
    """
    if date.tzinfo is None or date.utcoffset() is None:
        raise ValueError("the Date of a draft needs a timezone-aware datetime")
    if not _MESSAGE_ID.fullmatch(message_id):
        raise ValueError(f"not a Message-ID: {message_id!r}")
    names = draft.to_names
    to = [_address_text(a, names[i] if i < len(names) else "") for i, a in enumerate(draft.to)]
    if not to:
        raise ValueError("a draft needs at least one recipient")

    headers: list[tuple[str, _Value]] = [
        ("From", _address_text(from_addr, from_name)),
        ("To", to),
    ]
    if draft.cc:
        headers.append(("Cc", [_address_text(addr) for addr in draft.cc]))
    headers += [
        ("Subject", clean_header_text(draft.subject, limit=None)),
        ("Date", format_datetime(date)),
        ("Message-ID", message_id),
        ("X-Calbot", kind),
        (ID_HEADER, message_id),
        (CONTENT_HEADER, draft_hash(draft)),
    ]
    if holds:
        headers.append((HOLDS_HEADER, holds_header(holds)))
    if not html:  # every draft: the same bytes as below, a tenth of the time (issue 12)
        return plain_message(headers, draft.body)
    msg = EmailMessage(policy=MAIL_POLICY)
    for name, value in headers:
        msg[name] = value
    msg.set_content(draft.body, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg.as_bytes()


# A header value the policy writes exactly as given when its line fits: printable ASCII
# words one space apart, none of them an encoded word or a quoted string (`=?`, `"`), no
# comment or group syntax. Anything else goes through the policy itself.
_PLAIN_VALUE = re.compile(r"[!#-'*-\[\]-~]+(?: [!#-'*-\[\]-~]+)*")
_LINE = MAIL_POLICY.max_line_length or 78
_PLAIN_TAIL = (
    b'Content-Type: text/plain; charset="utf-8"\r\n'
    b"Content-Transfer-Encoding: quoted-printable\r\nMIME-Version: 1.0\r\n\r\n"
)


def plain_message(headers: Sequence[tuple[str, _Value]], body: str) -> bytes:
    """What `EmailMessage(policy=MAIL_POLICY)` given `headers` and a text/plain UTF-8
    quoted-printable `body` writes, byte for byte (pinned by tests/unit/test_mail_bytes.py),
    without its header registry for the plain headers that make up almost every draft."""
    out = []
    for name, value in headers:
        if isinstance(value, list):
            text = ", ".join(map(str, value))
            plain = all(isinstance(a, str) for a in value)  # `_address_text` found it plain
        elif isinstance(value, Address):
            text, plain = str(value), False
        else:
            text = value
            plain = _PLAIN_VALUE.fullmatch(text) is not None and "=?" not in text
        if plain:
            folded = _fold_plain(name, text)
        elif name == "Subject" and isinstance(value, str) and _wide_fold_agrees():
            folded = _fold_wide(name, text)
        else:
            folded = None
        if folded is not None:
            out.append(folded)
        else:
            _, stored = MAIL_POLICY.header_store_parse(name, value)
            out.append(MAIL_POLICY.fold_binary(name, stored))
    lines = body.encode("utf-8").splitlines()
    encoded = quoprimime.body_encode((b"\n".join(lines) + b"\n").decode("latin-1"), _LINE)
    out.append(_PLAIN_TAIL)
    out.append(_NEWLINES.sub("\r\n", encoded).encode("ascii"))
    return b"".join(out)


_NEWLINES = re.compile(r"\r\n|\r|\n")
_CHROME = len("=?utf-8?b??=")  # what an encoded word adds around its text
_ASCII_WORD = re.compile(r"[!-~]+")


def _fold_wide(name: str, text: str) -> bytes | None:
    """`name: text` for an unstructured header with non-ASCII words (an English subject's
    "—"), as the policy writes it when it fits on one line: the stretch from the first to
    the last non-ASCII word becomes one encoded word (the policy merges an encoded word
    with whatever follows it up to the next one), by the stdlib's own encoder, so q or b
    is chosen alike. None otherwise (folded lines, odd spacing, an encoded-word look-alike),
    for the policy itself. `_wide_fold_agrees` checks the rule against this Python's
    `email` once per process."""
    words = text.split(" ")
    if "=?" in text or "" in words:
        return None
    wide = [i for i, word in enumerate(words) if not word.isascii()]
    if not wide:
        return None
    first, last = wide[0], wide[-1]
    plain = words[:first] + words[last + 1 :]
    if not all(_ASCII_WORD.fullmatch(word) for word in plain):
        return None
    if any(char.isspace() for word in words[first : last + 1] for char in word):
        return None
    head = f"{name}: " + "".join(word + " " for word in words[:first])
    stretch = " ".join(words[first : last + 1])
    room = _LINE - len(head)
    if len(stretch) > room - _CHROME:  # the policy would cut it over two lines
        return None
    try:
        encoded = _encoded_words.encode(stretch, charset="utf-8")
    except UnicodeEncodeError:  # lone surrogates: the policy's unknown-8bit, not this
        return None
    line = head + encoded + "".join(" " + word for word in words[last + 1 :])
    if len(encoded) > room or len(line) > _LINE:
        return None
    return f"{line}\r\n".encode("ascii")


@cache
def _wide_fold_agrees() -> bool:
    """Whether `_fold_wide` writes what this Python's policy writes, tried once per process
    on subjects of the shapes it takes (the policy's folding has changed between Python
    releases): when not, every such header goes through the policy."""
    samples = (
        "Weekly sync \u2014 45 minutes instead of 90?",
        "\u00c9quipe: point hebdo \u2014 d\u00e9plac\u00e9 ?",
        "L\u1ecbch h\u1ecdp v\u1edbi kh\u00e1ch h\u00e0ng",
        "Re: caf\u00e9",
    )
    for text in samples:
        _, stored = MAIL_POLICY.header_store_parse("Subject", text)
        if _fold_wide("Subject", text) != MAIL_POLICY.fold_binary("Subject", stored):
            return False
    return True


def _fold_plain(name: str, text: str) -> bytes | None:
    """`name: text` as the policy writes plain words: on one line when it fits in 78
    characters; one word too long for that (the content hash) alone on a continuation line.
    None otherwise: the policy's own folding of several words (it prefers a fresh line for
    the whole rest when that fits) is left to it."""
    if len(name) + 2 + len(text) <= _LINE:
        return f"{name}: {text}\r\n".encode("ascii")
    if " " not in text and len(text) + 1 <= _LINE:
        return f"{name}:\r\n {text}\r\n".encode("ascii")
    return None
