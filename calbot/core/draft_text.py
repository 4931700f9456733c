"""Text rules for drafts: one safe header line, and the "Subject: ..." + body shape."""

from __future__ import annotations

from calbot.core.headers import clean_header_text


def short_text(text: str, limit: int) -> str:
    """`clean_header_text`, cut to `limit` characters (with "…")."""
    text = clean_header_text(text)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


SIGNATURE_LINES = 8  # a signature block, not a letter


def signature_text(signature: str, limit: int = 120) -> str:
    """The user's signature with its line breaks kept: each line cleaned as a header would be
    (control characters out, at most `limit` characters), blank lines at the ends dropped,
    at most `SIGNATURE_LINES` lines."""
    lines = [short_text(line, limit) for line in signature.replace("\r\n", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines[:SIGNATURE_LINES])


def split_rendered(text: str) -> tuple[str, str]:
    """(subject, body) of a rendered draft template; ValueError when it is not
    "Subject: ..." + blank line + body."""
    lines = text.lstrip("\n").split("\n")
    first = lines[0]
    if not first.lower().startswith("subject:"):
        raise ValueError("the first line must be 'Subject: ...'")
    if len(lines) < 3 or lines[1].strip():
        raise ValueError("the subject line must be followed by a blank line and the body")
    subject = clean_header_text(first[len("subject:") :])
    body = tidy_body("\n".join(lines[2:]))
    if not subject:
        raise ValueError("the subject is empty")
    if not body.strip():
        raise ValueError("the body is empty")
    return subject, body


def tidy_body(body: str) -> str:
    """Strip trailing spaces, keep at most one blank line in a row, end with a newline."""
    out: list[str] = []
    for raw in body.replace("\r\n", "\n").split("\n"):
        line = raw.rstrip()
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"
