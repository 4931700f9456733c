"""One team user's scan, now: `scan_user(team, user_id, connect=...)`.

The user's scans never overlap: a PostgreSQL advisory lock keyed by the user is held, on a
connection of its own, for the whole scan (a killed process's lock goes with its
connection). A second scan of that user waits `lock_wait_seconds` (the user's `[limits]`)
and then gives up with outcome `locked` (exit 75). The config is validated merged with the
team's defaults at every scan (defaults may change). The outcome is recorded on the user's
row for `team status`, failures included; a dry run records nothing.

This is the function the Celery task calls (arguments: the user's id only).
"""

from __future__ import annotations

import json
import os
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from calbot.config.settings import Settings
from calbot.core.untrusted import one_line
from calbot.errors import (
    AuthError,
    CalbotError,
    ConfigError,
    LockedError,
    ServiceError,
    UsageError,
)
from calbot.team.budgets import Budgets
from calbot.team.config import TeamSettings, user_settings
from calbot.team.credentials import ServiceAccountKey
from calbot.team.pg_schema import USER_LOCK_CLASS
from calbot.team.pg_store import PgStore
from calbot.team.pg_users import ReviewIdColumn, UserRow, UserTokens, record_scan, user_by_id
from calbot.team.secrets import SecretBox

LOCK_POLL_SECONDS = 0.1
DELEGATION_FIX = (
    "allow the service account's client ID with calbot's scopes in the Google Admin console"
    " (Security > API controls > Domain-wide delegation), or remove the user"
)
STORED_TOKEN_FIX = "store a fresh token: `calbot team add-user CONFIG --token TOKEN.json`"  # noqa: S105
CONFIG_FIX = (
    "fix the user's config and store it again with `calbot team add-user CONFIG`"
    " (or fix [defaults] in the team config)"
)


@dataclass(slots=True)
class UserScan:
    """What one user's scan did, as `team scan --json`, `team status` and a task's log line
    report it. No secret: `error` is calbot's own one-line message."""

    user_id: int
    email: str
    outcome: str  # a RunOutcome value, or "locked"
    exit_code: int
    error: str = ""
    fix: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    meetings: int = 0
    drafts: int = 0
    drafted: int = 0
    run: Any = field(default=None, repr=False)  # the ScanRun (ok scans), for the CLI output
    settings: Settings | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "email": self.email,
            "outcome": self.outcome,
            "exit_code": self.exit_code,
            "error": self.error,
            "fix": self.fix,
            "started_at": None if self.started_at is None else self.started_at.isoformat(),
            "finished_at": None if self.finished_at is None else self.finished_at.isoformat(),
            "meetings": self.meetings,
            "drafts": self.drafts,
            "drafted": self.drafted,
        }


def settings_of(team: TeamSettings, user: UserRow) -> Settings:
    """The user's stored config merged with the defaults, validated (ConfigError, exit 2)."""
    where = f"team user {user.email}"
    try:
        own = tomllib.loads(user.config)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(where, "", f"not valid TOML: {exc}") from None
    return user_settings(team, own, path=where)


def acquire_user_lock(conn: Any, user_id: int, wait_seconds: float) -> bool:
    """The user's session-level advisory lock on `conn`, polled until `wait_seconds` pass."""
    deadline = time.monotonic() + max(0.0, wait_seconds)
    while True:
        row = conn.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", (USER_LOCK_CLASS, user_id)
        ).fetchone()
        if row[0]:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(LOCK_POLL_SECONDS)


def check_lock(lock_conn: Any, email: str) -> None:
    """Raise unless the connection holding the user's lock is still alive: a scan whose
    lock went (PostgreSQL restarted, the connection cut) stops before its next write, since
    another scan of the user may now run."""
    import psycopg

    try:
        lock_conn.execute("SELECT 1")
    except psycopg.Error:
        raise ServiceError(
            f"lost the scan lock of {email} (the database connection dropped); stopped"
            " before writing — the next scan carries on"
        ) from None


def store_guard(lock_conn: Any, email: str) -> Callable[[], None]:
    return lambda: check_lock(lock_conn, email)


def scan_user(
    team: TeamSettings,
    user_id: int,
    *,
    connect: Callable[[], Any],
    budgets: Budgets | None = None,
    box: SecretBox | None = None,
    key: ServiceAccountKey | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    lock_wait_seconds: float | None = None,
) -> UserScan:
    """Scan one user under their advisory lock. `connect` makes a new PostgreSQL
    connection (`calbot.team.pg_store.connect` on the team's URL): one holds the lock, one
    carries the scan's state. `key`: the team's service account (else the user's stored
    token, decrypted with `box`). Failures come back as the outcome, never raised, except a
    user that does not exist (UsageError)."""
    lock_conn = connect()
    try:
        conn = connect()
        try:
            user = user_by_id(conn, user_id)
            if user is None:
                raise UsageError(f"no team user with id {user_id}")
            wait = lock_wait_seconds
            if wait is None:
                wait = _lock_wait(team, user)
            if not acquire_user_lock(lock_conn, user_id, wait):
                exc = LockedError(
                    f"a scan of {user.email} is already running; gave up after {wait:g} s"
                )
                return UserScan(user_id, user.email, "locked", exc.exit_code, str(exc))
            return _scan_locked(team, user, conn, budgets, box, key, dry_run, now, lock_conn)
        finally:
            conn.close()
    finally:
        lock_conn.close()  # releases the advisory lock


def _lock_wait(team: TeamSettings, user: UserRow) -> float:
    try:
        return settings_of(team, user).limits.lock_wait_seconds
    except CalbotError:
        return 0.0  # a broken config: the scan fails at once anyway


def _scan_locked(
    team: TeamSettings,
    user: UserRow,
    conn: Any,
    budgets: Budgets | None,
    box: SecretBox | None,
    key: ServiceAccountKey | None,
    dry_run: bool,
    now: datetime | None,
    lock_conn: Any,
) -> UserScan:
    from calbot.team.google import team_api, user_credentials
    from calbot.usecases.failures import failure_of
    from calbot.usecases.wiring import scan

    started = datetime.now(ZoneInfo("UTC"))
    result = UserScan(user.user_id, user.email, "ok", 0, started_at=started)
    try:
        settings = settings_of(team, user)
        result.settings = settings
        clock = now or datetime.now(ZoneInfo(settings.user.timezone))
        store = PgStore.open(
            conn,
            user.user_id,
            readonly=dry_run,
            label=user.email,
            owns=False,
            guard=store_guard(lock_conn, user.email),
        )
        api = None
        if settings.source.kind == "google":  # ICS (and CalDAV) need no Google clients
            creds = user_credentials(settings, key=key, vault=UserTokens(conn), box=box)
            api = team_api(settings, creds, budgets)
        # the review calendar's id on the user's row, written only while the lock holds
        ids = ReviewIdColumn(conn, user.user_id, user.email, store_guard(lock_conn, user.email))
        # the state dir is unused: the store is given, and no lock file is taken
        run = scan(
            settings,
            Path(os.devnull),
            now=clock,
            dry_run=dry_run,
            store=store,
            api=api,
            review_ids=ids,
            memo=False,  # no draft text in a worker's files (team mode keeps no local files)
        )
        outcomes = run.result.outcomes
        result.run = run
        result.meetings = len(outcomes)
        result.drafts = sum(1 for o in outcomes if o.draft is not None)
        result.drafted = run.result.drafted
    except Exception as exc:  # one user's failure is recorded, never raised to the queue
        failure = failure_of(exc)
        result.outcome, result.exit_code = str(failure.outcome), failure.exit_code
        # the single-user fix (`calbot auth`) does not apply here: the team's is in `fix`
        result.error = failure.error.split(" — run `calbot auth`")[0]
        result.fix = _fix(exc, key is not None and not user.has_token, failure.note)
    result.finished_at = datetime.now(ZoneInfo("UTC"))
    if not dry_run:
        record_scan(
            conn,
            user.user_id,
            at=result.finished_at,
            outcome=result.outcome,
            error=one_line(result.error),
            fix=result.fix,
            drafts_pending=result.drafts if result.exit_code == 0 else None,
        )
    return result


def team_detail(exc: BaseException, delegated: bool) -> str:
    """calbot's one-line error with the team's fix in place of the single user's
    (`calbot auth` does not apply to a team user)."""
    text = " ".join(str(exc).split()).split(" — run `calbot auth`")[0]
    fix = _fix(exc, delegated, "")
    return f"{text} — {fix}" if fix and fix not in text else text


def _fix(exc: BaseException, delegated: bool, note: str) -> str:
    if isinstance(exc, ConfigError):
        return CONFIG_FIX
    if isinstance(exc, AuthError) and exc.service != "google":
        return exc.fix  # a CalDAV or IMAP password: the service's own fix
    if isinstance(exc, AuthError):
        return DELEGATION_FIX if delegated else STORED_TOKEN_FIX
    return note


def scan_json(scan: UserScan) -> str:
    return json.dumps(scan.to_dict(), ensure_ascii=False, indent=2)
