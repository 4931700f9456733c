"""A team user's morning review: `calbot team digest EMAIL` and the `calbot.digest(user_id)`
task. Built from their PostgreSQL state under their advisory lock (it never races a scan),
printed (the task prints into nothing), its HTML kept on their row in PostgreSQL (no local
files in team mode), what it showed marked reported.

When the user's config has Gmail drafts on (Google source), the full digest is also left
as the day's Gmail draft, as a single user's `calbot digest` does
(`calbot.usecases.digest.gmail_copy`), through the user's own credentials (the delegated
service account, else their stored token) and the shared request budgets. The draft is
found by its per-day Message-ID and rewritten, so a retried or redelivered digest task
never makes a second one. A failed copy is reported in the digest itself, as for a single
user; the HTML is kept either way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from calbot.config.settings import Settings
from calbot.core.digest import (
    LAST_DIGEST_META,
    Digest,
    Trouble,
    TroubleKind,
    build_digest,
    runs_since,
)
from calbot.errors import CalbotError, LockedError
from calbot.ports.sinks import Left
from calbot.present.digest_html import render_html
from calbot.present.digest_text import render_plain
from calbot.team.budgets import Budgets
from calbot.team.config import TeamSettings
from calbot.team.credentials import ServiceAccountKey
from calbot.team.pg_store import PgStore
from calbot.team.pg_users import UserRow, UserTokens, get_user, save_digest
from calbot.team.secrets import SecretBox
from calbot.team.user_scan import acquire_user_lock, settings_of, team_detail


@dataclass(frozen=True, slots=True)
class Access:
    """How a digest reaches the user's Gmail: the team's service account and secret box
    (stored tokens), and the shared budgets. All None: no Gmail copy can be made."""

    key: ServiceAccountKey | None = None
    box: SecretBox | None = None
    budgets: Budgets | None = None


@dataclass(frozen=True, slots=True)
class TeamDigest:
    shown: Digest
    gmail: Left | None  # the Gmail draft, when the copy was made
    problem: Trouble | None = None  # the Gmail copy failed: why (shown in the digest too)


def print_digest(
    team: TeamSettings,
    conn: Any,
    email: str,
    out: TextIO,
    *,
    now: datetime | None = None,
    access: Access | None = None,
) -> int:
    """Print the user's digest to `out` (see `team_digest`); exit code 0."""
    out.write(render_plain(team_digest(team, conn, email, now=now, access=access).shown))
    return 0


def team_digest(
    team: TeamSettings,
    conn: Any,
    email: str,
    *,
    now: datetime | None = None,
    access: Access | None = None,
) -> TeamDigest:
    """Build the user's digest, leave its Gmail copy (when asked for and `access` is
    given), keep its HTML and mark what it showed, all under the user's lock on `conn`."""
    user = get_user(conn, email)
    settings = settings_of(team, user)
    now = now or datetime.now(ZoneInfo(settings.user.timezone))
    if not acquire_user_lock(conn, user.user_id, settings.limits.lock_wait_seconds):
        raise LockedError(f"a scan of {user.email} is running; try the digest again later")
    try:
        return _locked(conn, user, settings, now, access)
    finally:
        conn.execute("SELECT pg_advisory_unlock_all()")


def _locked(
    conn: Any, user: UserRow, settings: Settings, now: datetime, access: Access | None
) -> TeamDigest:
    store = PgStore.open(conn, user.user_id, label=user.email, owns=False)
    last_text = store.get_meta(LAST_DIGEST_META)
    last = datetime.fromisoformat(last_text) if last_text else None
    if last is not None and last.tzinfo is None:
        last = None

    def build(every: bool) -> Digest:
        return build_digest(
            store.reviews(),
            store.runs(runs_since(last, now)),
            store.week_load(),
            settings,
            now,
            all_items=every,
            since=last,
            outbox_dir=None,
            holds=store.holds(),
        )

    shown, full = replace(build(False), team=True), replace(build(True), team=True)
    gmail, problem = _gmail(conn, user, settings, full, now, access)
    if problem is not None:
        shown = replace(shown, trouble=(*shown.trouble, problem))
        full = replace(full, trouble=(*full.trouble, problem))
    with store.transaction():
        save_digest(conn, user.user_id, render_html(full), now)
        store.mark_reported(shown.shown_keys, now)
        store.put_meta(LAST_DIGEST_META, now.isoformat())
    return TeamDigest(shown, gmail, problem)


def _gmail(
    conn: Any,
    user: UserRow,
    settings: Settings,
    full: Digest,
    now: datetime,
    access: Access | None,
) -> tuple[Left | None, Trouble | None]:
    """The Gmail copy, when the user's config asks for it; else, or on failure, None and
    the trouble to show (with the team's fix, not `calbot auth`)."""
    from calbot.usecases.digest import gmail_copy, wants_gmail

    if access is None or not wants_gmail(settings):
        return None, None
    from calbot.team.google import team_api, user_credentials

    try:
        creds = user_credentials(settings, key=access.key, vault=UserTokens(conn), box=access.box)
        api = team_api(settings, creds, access.budgets)
        return gmail_copy(full, settings, now, api), None
    except CalbotError as exc:
        delegated = access.key is not None and not user.has_token
        return None, Trouble(TroubleKind.DELIVERY, team_detail(exc, delegated), now)
