"""`calbot digest`: the morning review (SPEC §7). `cli.build_parser()` calls
`add_digest_command(sub, common)`; the worker calls `run_digest` (which prints nothing).

One digest, under the state store's lock (it never races a scan):
1. read the review items, the runs since the last digest and the week's load; check when
   Google access ends (a Testing app's 7-day refresh token);
2. build the `Digest` (`calbot.core.digest`, pure) — for the terminal as asked (`--all` or not),
   and in full (every pending draft) for the copies that last the day;
3. leave the full digest as a Gmail draft to the user (Gmail drafts on, Google source),
   one per day: a rerun the same day finds it by its Message-ID and updates it. When Gmail
   access has lapsed (or Google fails), or Gmail is not in use, the digest goes to the
   outbox as `calbot-digest-YYYYMMDD.eml` instead — when an outbox is set;
4. write `<state dir>/digest.html` (atomically, 0600);
5. mark what it showed as reported and remember when (`meta` `last_digest_at`).
Nothing is ever sent: the Gmail copy is a draft in the user's own Drafts folder.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from calbot.adapters import files
from calbot.core.digest import (
    LAST_DIGEST_META,
    Digest,
    Trouble,
    TroubleKind,
    build_digest,
    runs_since,
)
from calbot.errors import CalbotError
from calbot.present.digest_render import print_terminal, render_html, render_plain, say, subject

if TYPE_CHECKING:
    from calbot.config.settings import Settings
    from calbot.ports.store import StateStore

__all__ = [
    "DigestRun",
    "add_digest_command",
    "cmd_digest",
    "digest_message",
    "digest_message_id",
    "run_digest",
]

HTML_NAME = "digest.html"
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_WRITE_FIELDS = "id,message/id"


def add_digest_command(sub: Any, common: argparse.ArgumentParser) -> None:
    """Declare `digest` on the subparsers of `calbot`."""
    p = sub.add_parser(
        "digest",
        parents=[common],
        help="the morning review: new drafts, the week's load, trouble and fixes",
        description="Shows what calbot drafted since the last digest and what still waits "
        "for your review, the week's meeting load per day, the hours you win back by "
        "sending the drafts, and any trouble since the last digest with its fix. Also "
        "writes digest.html in the state dir and, with Gmail drafts on, leaves the digest "
        "as a Gmail draft to you (to the outbox when Gmail access has lapsed). Nothing is "
        "sent.",
    )
    p.add_argument(
        "--all",
        dest="all_items",
        action="store_true",
        help="list every draft still waiting for review, not only the new ones",
    )
    p.set_defaults(run=cmd_digest)


def cmd_digest(args: argparse.Namespace, out: TextIO) -> int:
    from calbot.cli.main import load, state_dir
    from calbot.usecases.wiring import now_in

    settings = load(args)
    run = run_digest(settings, state_dir(), now=now_in(settings), all_items=bool(args.all_items))
    if out.isatty():
        print_terminal(run.digest, out, run.notes)
    else:
        out.write(render_plain(run.digest))
        for note in run.notes:
            print(note, file=out)
    return 0


@dataclass(slots=True)
class DigestRun:
    digest: Digest  # what the terminal shows
    full: Digest  # every pending draft: the HTML file and the e-mail copy
    html_path: Path
    gmail_draft_id: str | None = None
    eml_path: Path | None = None
    notes: list[str] = field(default_factory=list)  # where it went, in the user's language


def run_digest(
    settings: Settings, state_dir: Path, *, now: datetime, all_items: bool = False
) -> DigestRun:
    """Build, deliver and record one digest; prints nothing (the worker calls this)."""
    from calbot.usecases.wiring import open_state

    state_dir = Path(state_dir).expanduser()
    lang = settings.user.language
    with open_state(settings, state_dir, dry_run=False) as store:
        last = _last_digest(store)
        extra = access_trouble(settings, now)

        def build(every: bool, more: tuple[Trouble, ...] = ()) -> Digest:
            return build_digest(
                store.reviews(),
                store.runs(runs_since(last, now)),
                store.week_load(),
                settings,
                now,
                all_items=every,
                since=last,
                outbox_dir=_outbox_dir(settings),
                extra_trouble=(*extra, *more),
            )

        shown, full = build(all_items), build(True)
        run = DigestRun(digest=shown, full=full, html_path=state_dir / HTML_NAME)
        problem = _deliver(run, settings, now)
        if problem is not None:
            run.digest = replace(shown, trouble=(*shown.trouble, problem))
            run.full = replace(full, trouble=(*full.trouble, problem))
        if run.eml_path is None and settings.outputs.outbox and run.gmail_draft_id is None:
            run.eml_path = _to_outbox(run.full, settings, now)
            run.notes.append(say(lang, "saved_outbox", path=run.eml_path))
        write_private(run.html_path, render_html(run.full))
        run.notes.append(say(lang, "saved_html", path=run.html_path))
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
    from calbot.adapters.google.auth import testing_expiry_warning

    try:
        line = testing_expiry_warning(settings, now)
    except Exception as exc:  # an unreadable token must not stop the digest: report it
        return (Trouble(TroubleKind.ACCESS_CHECK, f"{type(exc).__name__}: {exc}"),)
    return (Trouble(TroubleKind.EXPIRY, line),) if line else ()


def _outbox_dir(settings: Settings) -> Path | None:
    return Path(settings.outputs.outbox).expanduser() if settings.outputs.outbox else None


# --- delivery ------------------------------------------------------------------------------


def _deliver(run: DigestRun, settings: Settings, now: datetime) -> Trouble | None:
    """The Gmail copy when Gmail is in use; the trouble to report when it failed."""
    if not (settings.outputs.gmail_drafts and settings.source.kind == "google"):
        return None
    lang = settings.user.language
    try:
        status, draft_id = to_gmail(run.full, settings, now)
    except CalbotError as exc:
        return Trouble(TroubleKind.DELIVERY, " ".join(str(exc).split()), now)
    run.gmail_draft_id = draft_id
    key = {"created": "saved_gmail", "updated": "updated_gmail"}.get(status, "edited_gmail")
    run.notes.append(say(lang, key, subject=subject(run.full)))
    return None


def digest_message_id(settings: Settings, now: datetime) -> str:
    """One Message-ID per digest day: `<calbot.core.digest.YYYYMMDD@user domain>`."""
    domain = settings.user.domain
    if not _DOMAIN.fullmatch(domain):
        domain = "calbot.invalid"
    return f"<calbot.core.digest.{now:%Y%m%d}@{domain}>"


def digest_message(d: Digest, settings: Settings, now: datetime) -> bytes:
    """The digest as an e-mail to the user: plain text with an HTML alternative (CRLF)."""
    from calbot.adapters.mail import CONTENT_HEADER, MAIL_POLICY, content_hash
    from calbot.core.headers import clean_header_text

    plain = render_plain(d)
    title = clean_header_text(subject(d), limit=None)
    me = Address(
        display_name=clean_header_text(settings.user.name, limit=None),
        addr_spec=settings.user.email,
    )
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["From"] = me
    msg["To"] = me
    msg["Subject"] = title
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = digest_message_id(settings, now)
    msg["X-Calbot"] = "digest"
    msg[CONTENT_HEADER] = content_hash([settings.user.email], [], title, plain)
    msg.set_content(plain, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(render_html(d), subtype="html", charset="utf-8", cte="quoted-printable")
    return msg.as_bytes()


def to_gmail(d: Digest, settings: Settings, now: datetime) -> tuple[str, str]:
    """Leave the digest in the user's Gmail drafts; ("created" | "updated" | "edited", the
    draft id). Today's digest draft, found by its Message-ID, is updated in place — unless
    the user edited it, which leaves it alone. Raises AuthError / ServiceError."""
    from calbot.adapters.google.api import ApiError, connect
    from calbot.adapters.google.gmail import GmailSink

    api = connect(settings)
    if api.gmail is None:  # connect() builds Gmail only with outputs.gmail_drafts on
        raise CalbotError("Gmail drafts are off in the config ([outputs] gmail_drafts)")
    sink = GmailSink(
        api, from_addr=settings.user.email, from_name=settings.user.name, clock=lambda: now
    )
    raw = base64.urlsafe_b64encode(digest_message(d, settings, now)).decode("ascii")
    drafts = api.gmail.users().drafts()
    found = sink.find(digest_message_id(settings, now))
    if found is not None and found.edited:
        return "edited", found.ref
    if found is not None:
        body = {"id": found.ref, "message": {"raw": raw}}
        try:
            got = api.call(
                drafts.update(userId="me", id=found.ref, body=body, fields=_WRITE_FIELDS),
                what="gmail drafts.update (digest)",
            )
            return "updated", str(got.get("id") or found.ref)
        except ApiError as exc:
            if exc.status != 404:  # 404: deleted just now; write a new one
                raise

    def made_already() -> dict[str, str] | None:  # a create that failed may have landed
        again = sink.find(digest_message_id(settings, now))
        return None if again is None else {"id": again.ref}

    got = api.call(
        drafts.create(userId="me", body={"message": {"raw": raw}}, fields=_WRITE_FIELDS),
        what="gmail drafts.create (digest)",
        recheck=made_already,
    )
    return "created", str(got.get("id") or "")


def _to_outbox(d: Digest, settings: Settings, now: datetime) -> Path:
    folder = Path(settings.outputs.outbox).expanduser()
    if not folder.is_dir():
        folder.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
            folder.chmod(0o700)  # mkdir's mode is masked by the umask
    path = folder / f"calbot-digest-{now:%Y%m%d}.eml"
    return write_private(path, digest_message(d, settings, now))


def write_private(path: Path, data: str | bytes) -> Path:
    """Atomically replace `path` with `data`, mode 0600 (see `calbot.adapters.files`)."""
    files.write_private(path, data.encode("utf-8") if isinstance(data, str) else data)
    return path
