"""Untrusted text in a header: a draft's subject and names, a calendar event's title.

A header value is one line: control characters, line and paragraph separators and every
other whitespace become single spaces, so no value can end a header line and start another
one (no `Bcc:` injection). "=?" is written "=\u200b?": the stdlib's header parser decodes
RFC 2047 encoded words in a value set from a str, so a title "=?utf-8?q?=0D=0ABcc:_x@y?="
would otherwise become a real CR LF and a Bcc header. Format characters (bidi marks) are
left as they are; a terminal or a log shows the text through `calbot.core.untrusted`, which
drops them."""

from __future__ import annotations

import unicodedata

__all__ = ["HEADER_LIMIT", "clean_header_text"]

HEADER_LIMIT = 200  # characters: a subject, a name or a title calbot writes
_BREAKING = frozenset({"Cc", "Zl", "Zp"})


def clean_header_text(text: str, limit: int | None = HEADER_LIMIT) -> str:
    """`text` as one safe header line: control characters and line breaks become spaces,
    runs of spaces collapse, the ends are stripped, "=?" becomes "=\u200b?", and with a
    `limit` the result is at most that long (cut with "…"). `limit=None` for values that
    must stay whole (addresses, and the text a stored draft's hash was computed from)."""
    if not text.isascii() or not text.isprintable():
        text = "".join(" " if unicodedata.category(ch) in _BREAKING else ch for ch in text)
    line = " ".join(text.split()).replace("=?", "=\u200b?")
    if limit is not None and len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line
