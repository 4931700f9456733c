"""Untrusted text — event titles, descriptions, attendee names, a server's error text — on
its way to a terminal, a log line or a JSON document: nothing in it may move the cursor,
set a window title, ring a bell, reorder what the reader sees or start a new line.

One rule for every output: control characters (C0, DEL, C1), line and paragraph separators
and format characters (bidi overrides and isolates, "Trojan Source") are unsafe. The joiners
U+200C/U+200D are not: emoji sequences and Persian, Hindi, Malayalam words need them.
Each output applies the rule its own way: a terminal or error line drops them (`one_line`),
JSON writes them as \\uXXXX escapes (`json_escaped`) and a log line as \\xXX/\\uXXXX
escapes (`escape_text`). Mail and calendar headers have their own rule:
`calbot.core.headers`."""

from __future__ import annotations

import functools
import re
import unicodedata

__all__ = [
    "escape_text",
    "is_unsafe",
    "json_escaped",
    "one_line",
    "shortened",
    "unescape_text",
]

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
    return shortened(text, limit)


def shortened(text: str, limit: int) -> str:
    """`text` with its runs of whitespace (line breaks included) as single spaces, cut
    with "…" when longer than `limit`. Every other character stays: for a label that is
    shown with `repr()` (which escapes the unsafe ones) or a reason that reaches the reader
    only through `one_line` or `json_escaped`."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def json_escaped(json_text: str) -> str:
    """JSON text (from `json.dumps(..., ensure_ascii=False)`, which leaves DEL, C1 controls,
    U+2028 and bidi marks as they are) with every unsafe character as a \\uXXXX escape
    (a surrogate pair beyond the BMP). Only JSON strings can hold them, and there the escape
    means the same character; C0 controls in strings are escaped by `json` already (outside
    strings, in indented text, newlines are layout and stay)."""
    if json_text.isascii() and "\x7f" not in json_text:
        return json_text
    # Every unsafe character is past ASCII: looked for among those alone (the document's
    # bytes with the ASCII ones dropped, a UTF-8 sequence never holds one), a few percent
    # of a long document, before a scan of it all (~50 ms for 3 MB).
    rest = json_text.encode("utf-8", "surrogatepass").translate(None, _ASCII_BYTES)
    if not _unsafe_pattern().search(rest.decode("utf-8", "surrogatepass")):
        return json_text
    return _unsafe_pattern().sub(_json_escape, json_text)


_ASCII_BYTES = bytes(range(0x7F))  # DEL (0x7f) is unsafe: kept


def _json_escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON has only 4-digit escapes: a UTF-16 surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


# Where Unicode puts format, control and separator characters (Cf reaches U+1D17A in the
# SMP and the tags block at U+E0000): scanning these is enough to find every one.
_UNSAFE_PLANES = (range(0x7F, 0x20000), range(0xE0000, 0xE1000))


# `_unsafe_class()` under Unicode 14.0 (Python 3.11), so a run skips the 70 ms scan; another
# Unicode version builds its own (a unit test keeps this in step with the scan).
_UNSAFE_CLASS_14 = (
    "[\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b"
    "\u200e-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f]"
)


@functools.cache
def _unsafe_pattern() -> re.Pattern[str]:
    """One character class of every unsafe non-ASCII character (and DEL)."""
    if unicodedata.unidata_version == "14.0.0":
        return re.compile(_UNSAFE_CLASS_14)
    return re.compile(_unsafe_class())


def _unsafe_class() -> str:
    """The class from this Python's Unicode tables."""
    codes = [c for plane in _UNSAFE_PLANES for c in plane if is_unsafe(chr(c))]
    ranges: list[tuple[int, int]] = []
    for c in codes:
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1] = (ranges[-1][0], c)
        else:
            ranges.append((c, c))
    parts = (
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )
    return f"[{''.join(parts)}]"


_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\", '"': '\\"'}
_ESCAPED = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.)")
_SHORT_UNESCAPES = {"n": "\n", "r": "\r", "t": "\t"}


def escape_text(text: str) -> str:
    """Untrusted text made safe for one log line: `\\`, `"` and every unsafe character
    escaped. `unescape_text` undoes it."""
    out: list[str] = []
    for ch in text:
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif is_unsafe(ch):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def unescape_text(text: str) -> str:
    """The text `escape_text` was given."""

    def one(m: re.Match[str]) -> str:
        s = m.group(1)
        if len(s) > 1:
            return chr(int(s[1:], 16))
        return _SHORT_UNESCAPES.get(s, s)

    return _ESCAPED.sub(one, text)
