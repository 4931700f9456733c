"""How calbot shows a calendar address it was given: a secret ICS address (Google's
`…/private-<token>/basic.ics`, a feed with `?token=…` or a key in its path, a URL with a
user name and password) is a credential, as good as a password to whoever reads it. Error
lines, warnings, logs, run records (and so `calbot digest` and `digest.html`) and `doctor`
show such a URL only as its scheme, host and last path segment: `redact_location` is the one
place that decides what is shown; every message that names a source goes through it."""

from __future__ import annotations

import re
import urllib.parse

__all__ = ["redact_location"]

ELLIPSIS = "…"
# A path segment that is, or carries, a secret: Google's "private-…" and "private/…" forms,
# or a long run of letters and digits such as a feed key (16+ characters with a digit).
_PRIVATE = re.compile(r"^private\b|^(?:private|secret|token|key)[-_]", re.IGNORECASE)
_KEYISH = re.compile(r"^(?=[A-Za-z0-9._~%+=-]*\d)[A-Za-z0-9._~%+=-]{16,}$")


def redact_location(location: str) -> str:
    """`location` as calbot may show it: a file path unchanged; a URL without its user
    name, password and fragment, its query as "?…", and — when any of those was there or
    a path segment looks like a key — with its path reduced to "…/<last segment>" (or "…"
    when the last segment looks like a key too). A plain URL
    (`https://example.com/team.ics`) unchanged."""
    try:
        parts = urllib.parse.urlsplit(location.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # a malformed URL (bad port, bad brackets): show nothing of it
        return ELLIPSIS
    if not parts.scheme or not parts.netloc:
        return location
    segments = [s for s in parts.path.split("/") if s]
    secret = (
        parts.username is not None
        or parts.password is not None
        or bool(parts.query)
        or bool(parts.fragment)
        or any(_looks_secret(s) for s in segments)
    )
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    root = f"{parts.scheme}://{netloc}"
    if not secret:
        return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    if not segments:
        return f"{root}/{ELLIPSIS}" if (parts.query or parts.fragment) else root
    last = segments[-1]
    if _looks_secret(last):
        return f"{root}/{ELLIPSIS}"
    shown = f"{root}/{ELLIPSIS}/{last}" if len(segments) > 1 else f"{root}/{last}"
    return shown + (f"?{ELLIPSIS}" if parts.query else "")


def _looks_secret(segment: str) -> bool:
    text = urllib.parse.unquote(segment)
    stem = text.rsplit(".", 1)[0] if "." in text[1:] else text
    return bool(_PRIVATE.search(text)) or bool(_KEYISH.match(stem))
