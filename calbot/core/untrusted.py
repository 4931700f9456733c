"""Untrusted text — event titles, descriptions, attendee names, a server's error text — on
its way to a terminal, a log line or a JSON document: nothing in it may move the cursor,
set a window title, ring a bell, reorder what the reader sees or start a new line.

One rule for every output: control characters (C0, DEL, C1), line and paragraph separators
and format characters (bidi overrides and isolates, "Trojan Source") are unsafe. The joiners
U+200C/U+200D are not: emoji sequences and Persian, Hindi, Malayalam words need them."""

from __future__ import annotations

import unicodedata

__all__ = ["is_unsafe", "json_escaped", "one_line"]

_JOINERS = frozenset("\u200c\u200d")
_BREAKING = frozenset({"Cc", "Zl", "Zp"})


def is_unsafe(ch: str) -> bool:
    if ch.isascii():
        return ch < " " or ch == "\x7f"
    return ch not in _JOINERS and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


def one_line(text: str, limit: int = 1000) -> str:
    """`text` as one safe line: controls and line breaks become spaces, format characters
    go, runs of spaces become one, and text longer than `limit` is cut with "…"."""
    if not text.isascii() or not text.isprintable():
        text = "".join(
            (" " if unicodedata.category(ch) in _BREAKING else "") if is_unsafe(ch) else ch
            for ch in text
        )
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def json_escaped(json_text: str) -> str:
    """JSON text (from `json.dumps(..., ensure_ascii=False)`, which leaves DEL, C1 controls,
    U+2028 and bidi marks as they are) with every unsafe character as a \\uXXXX escape.
    Only JSON strings can hold them, and there the escape means the same character; C0
    controls in strings are escaped by `json` already (outside strings, in indented text,
    newlines are layout and stay)."""
    if json_text.isascii() and "\x7f" not in json_text:
        return json_text
    return "".join(
        f"\\u{ord(c):04x}" if c == "\x7f" or (not c.isascii() and is_unsafe(c)) else c
        for c in json_text
    )
