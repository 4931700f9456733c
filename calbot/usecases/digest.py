"""The morning review as a use case: `calbot digest` and the worker's daily job call
`run_digest`, which prints nothing.

One digest, under the state store's lock (it never races a scan):
1. read the review items, their holds, the runs since the last digest and the load per
   day; check when Google access ends (a Testing app's 7-day refresh token);
2. build the `Digest` (`calbot.core.digest`, pure) — for the terminal as asked (`--all` or
   not), and in full (every pending draft) for the copies that last the day;
3. leave the full digest as an e-mail to the user through the mail sinks (never the review
   calendar): a Gmail draft (Gmail drafts on, Google source), one per day — a rerun the same
   day finds it by its Message-ID and updates it. When Gmail access has lapsed (or Google
   fails), or Gmail is not in use, the digest goes to the outbox as
   `calbot-digest-YYYYMMDD.eml` instead — when an outbox is set;
4. write `<state dir>/digest.html` (atomically, 0600);
5. mark what it showed as reported and remember when (`meta` `last_digest_at`).
Nothing is ever sent: the Gmail copy is a draft in the user's own Drafts folder.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from calbot.adapters import files
from calbot.adapters.mail import build_message, message_domain
from calbot.adapters.outbox import OutboxSink
from calbot.config.settings import Settings
from calbot.core.digest import (
    LAST_DIGEST_META,
    Digest,
    Trouble,
    TroubleKind,
    build_digest,
    runs_since,
)
from calbot.core.model import Draft
from calbot.errors import CalbotError
from calbot.ports.sinks import Left, MessageSink
from calbot.ports.store import StateStore
from calbot.present.digest_html import render_html
from calbot.present.digest_text import render_plain
from calbot.present.digest_words import subject
from calbot.present.messages import say
from calbot.usecases.wiring import open_state

if TYPE_CHECKING:
    from calbot.adapters.google.api import GoogleApi

__all__ = [
    "HTML_NAME",
    "DigestRun",
    "access_trouble",
    "delivery_trouble",
    "digest_message",
    "digest_message_id",
    "gmail_copy",
    "run_digest",
    "wants_gmail",
]

HTML_NAME = "digest.html"
LABEL = "digest"  # the outbox file is calbot-digest-YYYYMMDD.eml


@dataclass(slots=True)
class DigestRun:
    """What one digest showed and where its copies went (the CLI prints it, the worker
    logs it)."""

    digest: Digest  # what the terminal shows
    full: Digest  # every pending draft: the HTML file and the e-mail copy
    html_path: Path
    gmail: Left | None = None  # the Gmail draft, when Gmail took the digest
    eml_path: Path | None = None


def run_digest(
    settings: Settings, state_dir: Path, *, now: datetime, all_items: bool = False
) -> DigestRun:
    """Build, deliver and record one digest."""
    state_dir = Path(state_dir).expanduser()
    with open_state(settings, state_dir, dry_run=False) as store:
        last = _last_digest(store)
        extra = access_trouble(settings, now)

        def build(every: bool) -> Digest:
            return build_digest(
                store.reviews(),
                store.runs(runs_since(last, now)),
                store.week_load(),
                settings,
                now,
                all_items=every,
                since=last,
                outbox_dir=_outbox_dir(settings),
                extra_trouble=extra,
                holds=store.holds(),
            )

        shown, full = build(all_items), build(True)
        run = DigestRun(digest=shown, full=full, html_path=state_dir / HTML_NAME)
        problem = _to_gmail(run, settings, now) or _to_imap(run, settings, now)
        if problem is not None:
            run.digest = replace(shown, trouble=(*shown.trouble, problem))
            run.full = replace(full, trouble=(*full.trouble, problem))
        if settings.outputs.outbox and run.gmail is None:
            left = _outbox(settings, now).leave(
                digest_message(run.full, settings, now),
                digest_message_id(settings, now),
                label=LABEL,
            )
            run.eml_path = Path(left.ref)
        files.write_private(run.html_path, render_html(run.full).encode("utf-8"))
        with store.transaction():
            store.mark_reported(shown.shown_keys, now)
            store.put_meta(LAST_DIGEST_META, now.isoformat())
    return run


def _last_digest(store: StateStore) -> datetime | None:
    text = store.get_meta(LAST_DIGEST_META)
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def access_trouble(settings: Settings, now: datetime) -> tuple[Trouble, ...]:
    """A Testing app's token about to expire, or the token file unreadable for the check."""
    if settings.source.kind != "google":
        return ()
    # imported here: google-auth is slow to load, and an ICS user's digest never needs it
    from calbot.adapters.google.auth import testing_expiry_warning

    try:
        line = testing_expiry_warning(settings, now)
    except Exception as exc:  # an unreadable token must not stop the digest: report it
        return (Trouble(TroubleKind.ACCESS_CHECK, f"{type(exc).__name__}: {exc}"),)
    return (Trouble(TroubleKind.EXPIRY, say(line, settings.user.language)),) if line else ()


def _outbox_dir(settings: Settings) -> Path | None:
    return Path(settings.outputs.outbox).expanduser() if settings.outputs.outbox else None


# --- delivery ------------------------------------------------------------------------------


def wants_gmail(settings: Settings) -> bool:
    """Whether the digest's copy goes to Gmail (Gmail drafts on, Google source)."""
    return settings.outputs.gmail_drafts and settings.source.kind == "google"


def _to_gmail(run: DigestRun, settings: Settings, now: datetime) -> Trouble | None:
    """The Gmail copy when Gmail is in use; the trouble to report when it failed."""
    if not wants_gmail(settings):
        return None
    # imported here, as in `wiring.make_ports`: googleapiclient is slow to load, and an
    # ICS or outbox user's digest never needs it
    from calbot.adapters.google.api import connect

    try:
        run.gmail = gmail_copy(run.full, settings, now, connect(settings))
    except CalbotError as exc:
        return delivery_trouble(exc, now)
    return None


def gmail_copy(full: Digest, settings: Settings, now: datetime, api: GoogleApi) -> Left:
    """Leave the full digest as the day's Gmail draft through `api` (team mode: the user's
    delegated clients). One draft per day: it is found by its Message-ID and rewritten, so
    a rerun — a redelivered task too — never makes a second one. Raises CalbotError."""
    from calbot.adapters.google.gmail import GmailSink

    sink: MessageSink = GmailSink(
        api, from_addr=settings.user.email, from_name=settings.user.name, clock=lambda: now
    )
    return sink.leave(
        digest_message(full, settings, now), digest_message_id(settings, now), label=LABEL
    )


def delivery_trouble(exc: CalbotError, now: datetime) -> Trouble:
    """A failed copy, reported in the digest itself."""
    return Trouble(TroubleKind.DELIVERY, " ".join(str(exc).split()), now)


def _to_imap(run: DigestRun, settings: Settings, now: datetime) -> Trouble | None:
    """The digest left in the IMAP Drafts folder, the same mail sink as the drafts (kept in
    `run.gmail`: the mail sink's copy, so the outbox one is skipped as for Gmail)."""
    if not settings.outputs.imap_drafts:
        return None
    from calbot.adapters.imap.connect import Session  # imapclient only for IMAP users
    from calbot.adapters.imap.sink import ImapSink

    sink = ImapSink(
        Session(
            settings.imap,
            timeout=settings.limits.http_timeout_seconds,
            retry_budget=settings.limits.retry_budget_seconds,
        ),
        from_addr=settings.user.email,
        from_name=settings.user.name,
        clock=lambda: now,
    )
    try:
        run.gmail = sink.leave(
            digest_message(run.full, settings, now), digest_message_id(settings, now), label=LABEL
        )
    except CalbotError as exc:
        return delivery_trouble(exc, now)
    finally:
        sink.close()
    return None


def _outbox(settings: Settings, now: datetime) -> MessageSink:
    return OutboxSink(
        settings.outputs.outbox,
        from_addr=settings.user.email,
        from_name=settings.user.name,
        clock=lambda: now,
    )


def digest_message_id(settings: Settings, now: datetime) -> str:
    """One Message-ID per digest day: `<calbot.digest.YYYYMMDD@user domain>`."""
    return f"<calbot.digest.{now:%Y%m%d}@{message_domain(settings.user.domain)}>"


def digest_message(d: Digest, settings: Settings, now: datetime) -> bytes:
    """The digest as an e-mail to the user: plain text with an HTML alternative (CRLF)."""
    me = settings.user
    letter = Draft(
        language=d.language,
        to=(me.email,),
        to_names=(me.name,),
        subject=subject(d),
        body=render_plain(d),
    )
    return build_message(
        letter,
        from_addr=me.email,
        from_name=me.name,
        message_id=digest_message_id(settings, now),
        date=now,
        html=render_html(d),
        kind=LABEL,
    )
