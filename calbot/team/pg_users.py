"""The `users` table: each user's calbot config (TOML text, validated before it is stored),
their encrypted OAuth token (a `TokenVault`), their schedule and their last scan's outcome.
Removing a user deletes their state rows with them (`ON DELETE CASCADE`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from calbot.errors import UsageError

_COLUMNS = (
    "id, email, config, token IS NOT NULL, created_at, next_scan_at, next_digest_at,"
    " last_scan_at, last_outcome, last_error, last_fix, drafts_pending"
)

_ADD_USER = (
    "INSERT INTO users (email, config, token) VALUES (%s, %s, %s)"  # noqa: S608
    " ON CONFLICT (email) DO UPDATE SET config = excluded.config,"
    " token = COALESCE(excluded.token, users.token) RETURNING " + _COLUMNS
)


@dataclass(frozen=True, slots=True)
class UserRow:
    """One user as `team users` and `team status` show them: never the token itself."""

    user_id: int
    email: str
    config: str
    has_token: bool
    created_at: datetime
    next_scan_at: datetime | None
    next_digest_at: datetime | None
    last_scan_at: datetime | None
    last_outcome: str | None
    last_error: str | None
    last_fix: str | None
    drafts_pending: int


def normal_email(email: str) -> str:
    return email.strip().lower()


def add_user(conn: Any, email: str, config: str, token: bytes | None = None) -> UserRow:
    """Store a user (or replace an existing user's config, and token when one is given)."""
    row = conn.execute(_ADD_USER, (normal_email(email), config, token)).fetchone()
    return UserRow(*row)


def find_user(conn: Any, email: str) -> UserRow | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM users WHERE email = %s",  # noqa: S608 (constants only)
        (normal_email(email),),
    ).fetchone()
    return None if row is None else UserRow(*row)


def get_user(conn: Any, email: str) -> UserRow:
    """The user, or exit 2 naming the fix."""
    user = find_user(conn, email)
    if user is None:
        raise UsageError(
            f"no team user {normal_email(email)} — add one with `calbot team add-user`"
        )
    return user


def user_by_id(conn: Any, user_id: int) -> UserRow | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM users WHERE id = %s",  # noqa: S608 (constants only)
        (user_id,),
    ).fetchone()
    return None if row is None else UserRow(*row)


def list_users(conn: Any) -> list[UserRow]:
    rows = conn.execute(f"SELECT {_COLUMNS} FROM users ORDER BY email").fetchall()  # noqa: S608
    return [UserRow(*row) for row in rows]


def remove_user(conn: Any, email: str) -> bool:
    """Delete the user and, by cascade, every state row of theirs. False: no such user."""
    row = conn.execute(
        "DELETE FROM users WHERE email = %s RETURNING id", (normal_email(email),)
    ).fetchone()
    return row is not None


def record_scan(
    conn: Any,
    user_id: int,
    *,
    at: datetime,
    outcome: str,
    error: str,
    fix: str,
    drafts_pending: int | None,
) -> None:
    """The last scan's outcome, for `team status` (the error is calbot's own one-line
    message: it carries no secret)."""
    conn.execute(
        "UPDATE users SET last_scan_at = %s, last_outcome = %s, last_error = %s,"
        " last_fix = %s, drafts_pending = COALESCE(%s, drafts_pending) WHERE id = %s",
        (at, outcome, error or None, fix or None, drafts_pending, user_id),
    )


def save_digest(conn: Any, user_id: int, html: str, at: datetime) -> None:
    conn.execute(
        "UPDATE users SET digest_html = %s, digest_at = %s WHERE id = %s", (html, at, user_id)
    )


def load_digest(conn: Any, user_id: int) -> tuple[str, datetime] | None:
    row = conn.execute(
        "SELECT digest_html, digest_at FROM users WHERE id = %s AND digest_html IS NOT NULL",
        (user_id,),
    ).fetchone()
    return None if row is None else (str(row[0]), row[1])


class UserTokens:
    """`TokenVault` over the users table: encrypted token blobs keyed by e-mail."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def load_token(self, user: str) -> bytes | None:
        row = self._conn.execute(
            "SELECT token FROM users WHERE email = %s", (normal_email(user),)
        ).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    def save_token(self, user: str, blob: bytes) -> None:
        done = self._conn.execute(
            "UPDATE users SET token = %s WHERE email = %s RETURNING id",
            (blob, normal_email(user)),
        ).fetchone()
        if done is None:
            raise UsageError(f"no team user {normal_email(user)} to keep a token for")


class ReviewIdColumn:
    """`ReviewIdKeeper` over the users table: the review calendar's id on the user's row
    (team mode keeps no local files). `guard` runs before the write (the scan's lock check:
    a scan that lost its lock must not write)."""

    def __init__(
        self, conn: Any, user_id: int, email: str, guard: Callable[[], None] | None = None
    ) -> None:
        self._conn = conn
        self._user_id = user_id
        self._guard = guard
        self.where = f"team user {email} (users.review_calendar_id)"

    def load(self) -> str | None:
        row = self._conn.execute(
            "SELECT review_calendar_id FROM users WHERE id = %s", (self._user_id,)
        ).fetchone()
        return None if row is None or row[0] is None else str(row[0]).strip() or None

    def save(self, calendar_id: str) -> None:
        if self._guard is not None:
            self._guard()
        done = self._conn.execute(
            "UPDATE users SET review_calendar_id = %s WHERE id = %s RETURNING id",
            (calendar_id, self._user_id),
        ).fetchone()
        if done is None:
            raise UsageError(f"no team user {self.where} to keep a review calendar id for")
