"""`calbot team digest EMAIL`: a team user's morning review, built from their PostgreSQL
state, printed, its HTML kept on their row in PostgreSQL (no local files in team mode),
what it showed marked reported, under the user's advisory lock (it never races a scan).

Left to the Celery engineer: leaving it as a Gmail draft at the user's `digest_at`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from calbot.core.digest import LAST_DIGEST_META, build_digest, runs_since
from calbot.errors import LockedError
from calbot.present.digest_html import render_html
from calbot.present.digest_text import render_plain
from calbot.team.config import TeamSettings
from calbot.team.pg_store import PgStore
from calbot.team.pg_users import get_user, save_digest
from calbot.team.user_scan import acquire_user_lock, settings_of


def print_digest(
    team: TeamSettings, conn: Any, email: str, out: TextIO, *, now: datetime | None = None
) -> int:
    user = get_user(conn, email)
    settings = settings_of(team, user)
    now = now or datetime.now(ZoneInfo(settings.user.timezone))
    if not acquire_user_lock(conn, user.user_id, settings.limits.lock_wait_seconds):
        raise LockedError(f"a scan of {user.email} is running; try the digest again later")
    store = PgStore.open(conn, user.user_id, label=user.email, owns=False)
    last_text = store.get_meta(LAST_DIGEST_META)
    last = datetime.fromisoformat(last_text) if last_text else None
    if last is not None and last.tzinfo is None:
        last = None

    def build(every: bool) -> Any:
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

    shown, full = build(False), build(True)
    out.write(render_plain(shown))
    with store.transaction():
        save_digest(conn, user.user_id, render_html(full), now)
        store.mark_reported(shown.shown_keys, now)
        store.put_meta(LAST_DIGEST_META, now.isoformat())
    conn.execute("SELECT pg_advisory_unlock_all()")
    return 0
