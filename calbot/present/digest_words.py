"""The digest's words: its phrases (the "digest." codes of the message catalogues) in
`user.language` (English where a language has none), and the labels, times and sentences
that the text and the HTML renderings share.

Everything in a `Digest` that came from a calendar or a server is untrusted: the labels here
pass it through `one_line` (no control characters, escape sequences or bidi overrides);
`digest_html` escapes what it puts in HTML."""

from __future__ import annotations

from datetime import datetime

from calbot.core.digest import Digest, DigestItem, DraftLink, Trouble, TroubleKind
from calbot.core.messages import Arg, message
from calbot.core.untrusted import one_line
from calbot.core.vocab import DraftStatus
from calbot.errors import auth_service
from calbot.present.messages import TEXT, day_label, hours, say

_SECTION = "digest."  # the digest's codes in the message catalogues


def phrase(lang: str, key: str, **values: Arg) -> str:
    """The digest's phrase `key` in `lang` (English where `lang` has none)."""
    return say(message(_SECTION + key, **values), lang)


def has_phrase(key: str) -> bool:
    return _SECTION + key in TEXT["en"]


def counted(lang: str, key: str, n: int, **values: Arg) -> str:
    """`key_one` for exactly one (where the language has a singular form), else `key`."""
    if n == 1 and f"{_SECTION}{key}_one" in TEXT.get(lang, TEXT["en"]):
        return phrase(lang, f"{key}_one", **values)
    return phrase(lang, key, n=n, **values)


# --- labels and sentences ----------------------------------------------------------------


def moment(at: datetime | None, lang: str) -> str:
    """'Tue 1 Dec 09:30' (in the datetime's own timezone: the digest's are the user's)."""
    if at is None:
        return ""
    return f"{day_label(at.date(), lang)} {at:%H:%M}"


def time_span(item: DigestItem, lang: str) -> str:
    end = f"{item.end:%H:%M}" if item.end.date() == item.start.date() else moment(item.end, lang)
    return f"{moment(item.start, lang)}–{end}"


def held_slots(item: DigestItem, lang: str) -> str:
    """'Thu 4 Dec 10:00–11:00 · Fri 5 Dec 14:00–15:00': the slots its draft keeps free."""
    return " · ".join(
        f"{moment(h.start, lang)}–{h.end:%H:%M}"
        if h.end.date() == h.start.date()
        else f"{moment(h.start, lang)}–{moment(h.end, lang)}"
        for h in item.holds
    )


def action_label(action: str, lang: str) -> str:
    key = f"action_{action}"
    return phrase(lang, key) if has_phrase(key) else one_line(action, 40)


def status_label(item: DigestItem, lang: str) -> str:
    shown = item.status in (DraftStatus.NEW, DraftStatus.UPDATED, DraftStatus.SENT)
    return phrase(lang, f"status_{item.status}") if shown else ""


def draft_label(link: DraftLink, lang: str) -> str:
    """'Gmail draft r-123' (Gmail's link opens the Drafts folder, so the id helps find it);
    'file' for the outbox, whose path says it all."""
    key = f"sink_{link.sink}"
    name = phrase(lang, key) if has_phrase(key) else one_line(link.sink, 40)
    return f"{name} {one_line(link.ref, 80)}" if link.sink == "gmail" else name


def subject(d: Digest) -> str:
    """The e-mail subject: how many replies wait, and the day."""
    day = day_label(d.now.date(), d.language)
    if d.pending == 0:
        return phrase(d.language, "subject_none", day=day)
    return counted(d.language, "subject", d.pending, day=day)


def win_back(d: Digest) -> str:
    """'If you send every draft, you win back N hours this week (and M next week).'"""
    lang = d.language
    if d.saved_this_week > 0:
        line = phrase(lang, "win_this", hours=hours(d.saved_this_week, lang))
        if d.saved_next_week > 0:
            line += f" ({phrase(lang, 'win_next', hours=hours(d.saved_next_week, lang))})"
        return line + "."
    if d.saved_next_week > 0:
        return phrase(lang, "win_only_next", hours=hours(d.saved_next_week, lang)) + "."
    return ""


# fixes a single user makes on their own machine; in team mode the administrator makes them
_ADMIN_FIXES = frozenset(
    {"fix_auth", "fix_expiry", "fix_failed", "fix_stale", "fix_access_check", "fix_locked"}
)


def trouble_parts(t: Trouble, lang: str, *, team: bool = False) -> tuple[str, str, str]:
    """(what happened, how often/when, the fix) — the detail is untrusted and not included.
    In team mode a fix the user cannot make (`calbot auth`, the worker, a stuck process)
    is the team administrator's, who sees it in `calbot team status`."""
    if t.kind == TroubleKind.STALE:
        what = phrase(lang, "trouble_stale", when=moment(t.last, lang))
        return what, "", phrase(lang, "fix_team" if team else "fix_stale")
    kind = t.kind if has_phrase(f"trouble_{t.kind}") else TroubleKind.FAILED
    what = phrase(lang, f"trouble_{kind}")
    fix_key = f"fix_{kind}"
    if kind == TroubleKind.WARNING and "calbot auth" in t.detail:
        fix_key = "fix_expiry"
    if kind == TroubleKind.DELIVERY and "calbot auth" in t.detail:
        fix_key = "fix_auth"
    if kind == TroubleKind.AUTH and auth_service(t.detail) != "google":
        # a CalDAV or IMAP password, told by the fix calbot put last in the run's error
        what = phrase(lang, f"trouble_auth_{auth_service(t.detail)}")
        fix_key = f"fix_auth_{auth_service(t.detail)}"
    when = ""
    if t.last is not None:
        when = (
            phrase(lang, "times", n=t.times, when=moment(t.last, lang))
            if t.times > 1
            else phrase(lang, "at", when=moment(t.last, lang))
        )
    if team and fix_key in _ADMIN_FIXES:
        fix_key = "fix_team"
    return what, when, phrase(lang, fix_key)
