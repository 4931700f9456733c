"""Text rules for drafts: one safe header line, and the "Subject: ..." + body shape."""

from __future__ import annotations

from calbot.core.headers import clean_header_text


def short_text(text: str, limit: int) -> str:
    """`clean_header_text`, cut to `limit` characters (with "…")."""
    text = clean_header_text(text)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


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
