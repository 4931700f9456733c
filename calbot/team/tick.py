"""The beat's tick: which users are due, claimed so that no round is enqueued twice.

A tick claims the due users' rows in ONE transaction (`SELECT ... FOR UPDATE SKIP LOCKED`),
advances their `next_scan_at` (or `next_digest_at`) and hands their ids to `enqueue` before
it commits. A second tick running at the same moment (two beats, two workers) skips the
rows the first holds and, once the first commits, finds them no longer due: a round is
claimed once. If enqueueing fails (the broker is down) the transaction rolls back and the
users stay due for the next tick: a round is never lost to a broker restart. (A commit that
fails after the enqueue can double a round; the per-user advisory lock and the draft ledger
make that second scan harmless.)

When: each user's scans fall on a stable offset within `scan_every` (from a hash of the
user id), so 1,000 users with the same `scan_every` spread over it instead of all starting on
the minute. A new user (no `next_scan_at` yet) is due at once. Digests come at the user's
own `digest_at` in their own time zone; a new user's first digest is scheduled, not sent.
A user whose config no longer validates keeps the default schedule (30 minutes, 07:30 UTC):
the scan records the broken config on their row and it is tried again when next due.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from calbot.config.settings import Schedule
from calbot.errors import CalbotError
from calbot.team.config import TeamSettings, user_settings

__all__ = [
    "UserSchedule",
    "claim_due_digests",
    "claim_due_scans",
    "next_digest_at",
    "next_scan_at",
    "offset_seconds",
    "schedule_of",
]

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class UserSchedule:
    scan_every: timedelta
    digest_at: time
    tz: ZoneInfo


DEFAULT_SCHEDULE = UserSchedule(Schedule().scan_every, time(7, 30), ZoneInfo("UTC"))


def offset_seconds(user_id: int, every: timedelta) -> float:
    """The user's stable place within `every`: the same on every machine and every run
    (a hash, not Python's salted `hash()`)."""
    span = max(1, int(every.total_seconds() * 1000))
    digest = hashlib.sha256(f"calbot-user-{user_id}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") % span) / 1000


def next_scan_at(user_id: int, every: timedelta, now: datetime) -> datetime:
    """The first instant strictly after `now` on the user's offset within `every`."""
    every_s = max(every.total_seconds(), 0.001)
    since = (now - EPOCH).total_seconds() - offset_seconds(user_id, every)
    slots = int(since // every_s) + 1
    return EPOCH + timedelta(seconds=offset_seconds(user_id, every) + slots * every_s)


def next_digest_at(at: time, tz: ZoneInfo, now: datetime) -> datetime:
    """The first digest time strictly after `now`: `at` on a local date in `tz` (DST-safe)."""
    from calbot.usecases.triggers import fire_time_on

    day = now.astimezone(tz).date() - timedelta(days=1)
    for _ in range(5):
        candidate = fire_time_on(day, at, tz)
        if candidate > now:
            return candidate.astimezone(UTC)
        day += timedelta(days=1)
    raise AssertionError(f"no digest time after {now}")  # unreachable


def schedule_of(team: TeamSettings, email: str, config: str) -> UserSchedule:
    """The user's scan_every, digest_at and time zone from their merged config; the defaults
    when it does not validate (the scan reports why)."""
    try:
        settings = user_settings(team, tomllib.loads(config), path=f"team user {email}")
    except (CalbotError, tomllib.TOMLDecodeError):
        return DEFAULT_SCHEDULE
    hh, _, mm = settings.schedule.digest_at.partition(":")
    return UserSchedule(
        settings.schedule.scan_every,
        time(int(hh), int(mm)),
        ZoneInfo(settings.user.timezone),
    )


_DUE_SCANS = (
    "SELECT id, email, config FROM users"
    " WHERE next_scan_at IS NULL OR next_scan_at <= %s"
    " ORDER BY next_scan_at NULLS FIRST, id LIMIT %s FOR UPDATE SKIP LOCKED"
)
_DUE_DIGESTS = (
    "SELECT id, email, config, next_digest_at FROM users"
    " WHERE next_digest_at IS NULL OR next_digest_at <= %s"
    " ORDER BY next_digest_at NULLS FIRST, id LIMIT %s FOR UPDATE SKIP LOCKED"
)


def claim_due_scans(
    conn: Any,
    team: TeamSettings,
    now: datetime,
    enqueue: Callable[[Sequence[int]], None],
    *,
    limit: int = 10_000,
) -> list[int]:
    """Claim every user whose scan is due, advance their `next_scan_at`, `enqueue` their
    ids, then commit; the ids claimed. `conn` is an autocommit connection."""
    with conn.transaction():
        rows = conn.execute(_DUE_SCANS, (now, limit)).fetchall()
        updates = [
            (next_scan_at(uid, schedule_of(team, email, config).scan_every, now), uid)
            for uid, email, config in rows
        ]
        if updates:
            with conn.cursor() as cur:
                cur.executemany("UPDATE users SET next_scan_at = %s WHERE id = %s", updates)
            enqueue([uid for _, uid in updates])
    return [uid for _, uid in updates]


def claim_due_digests(
    conn: Any,
    team: TeamSettings,
    now: datetime,
    enqueue: Callable[[Sequence[int]], None],
    *,
    limit: int = 10_000,
) -> list[int]:
    """Claim users whose digest is due (a new user's first digest is only scheduled),
    advance their `next_digest_at`, `enqueue` the due ids, then commit; the ids enqueued."""
    with conn.transaction():
        rows = conn.execute(_DUE_DIGESTS, (now, limit)).fetchall()
        updates, due = [], []
        for uid, email, config, current in rows:
            plan = schedule_of(team, email, config)
            updates.append((next_digest_at(plan.digest_at, plan.tz, now), uid))
            if current is not None:
                due.append(uid)
        if updates:
            with conn.cursor() as cur:
                cur.executemany("UPDATE users SET next_digest_at = %s WHERE id = %s", updates)
        if due:
            enqueue(due)
    return due
