"""Team mode's Celery app: `celery -A calbot.team worker` and `celery -A calbot.team beat`.

Celery's `-A calbot.team` finds `app` here by its package convention (`calbot.team` has no
`app`, so it imports `calbot.team.celery`); `calbot/team/__init__.py` stays import-free.

Configured from the team config: `$CALBOT_TEAM_CONFIG` (else the platform's `team.toml`) when
the app is imported, or `--team-config PATH` on the worker/beat command line. Its
`[team] broker_url` is the Redis broker; `[engine] tick_seconds` how often the beat ticks and
`[engine] visibility_timeout_seconds` when Redis re-delivers a task nobody acknowledged
(longer than the slowest scan: a shorter one runs a slow scan twice — harmless, but waste).

Three tasks, their arguments user ids only (never a config, a token or a key):
- `calbot.tick` (the beat's only entry): claims due users (`calbot.team.tick`) and enqueues
  one `calbot.scan` / `calbot.digest` each;
- `calbot.scan(user_id)`: `scan_user` with the shared Redis budgets; a failure is recorded on
  the user's row and retried when the user is next due — never raised, so it never blocks
  the queue. A second task for a user already being scanned skips at once (the advisory
  lock) and says so;
- `calbot.digest(user_id)`: the user's digest built and kept on their row, and left as the
  day's Gmail draft when their config has Gmail drafts on (as `calbot team digest` does;
  found by its Message-ID and rewritten, so a redelivered task makes no second draft).

Each task writes ONE JSON line to stderr (kind, user, outcome, duration, Google requests,
drafts), scrubbed of anything that looks like a credential.

Delivery: tasks are acknowledged late and rejected when their worker process dies, so a
task whose worker was killed runs again; the advisory lock and the draft ledger make the
rerun create no second draft. Events are on, so Flower works unchanged. JSON only.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import click
from celery import Celery, signals

from calbot.errors import CalbotError
from calbot.team.budgets import Budgets
from calbot.team.config import TeamSettings

__all__ = ["app", "configure", "task_log"]

app = Celery("calbot.team")
app.user_options["preload"].add(
    click.Option(
        ["--team-config"],
        default=None,
        help="team config (default: $CALBOT_TEAM_CONFIG, else ~/.config/calbot/team.toml)",
    )
)

task_log = logging.getLogger("calbot.team.tasks")
task_log.propagate = False  # Celery's own format would wrap the JSON line
task_log.setLevel(logging.INFO)
if not task_log.handlers:
    _handler = logging.StreamHandler(sys.__stderr__)
    _handler.setFormatter(logging.Formatter("%(message)s"))
    task_log.addHandler(_handler)

_state: dict[str, Any] = {}  # the team settings, and per process: Redis, key, secret box


def configure(team: TeamSettings) -> None:
    """Apply the team config to the app (broker, delivery, beat schedule)."""
    _state.clear()
    _state["team"] = team
    tick = team.engine.tick_seconds
    app.conf.update(
        broker_url=team.team.broker_url,
        broker_transport_options=transport_options(team.engine.visibility_timeout_seconds),
        broker_connection_retry_on_startup=True,
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a late-acked task waits in Redis, not in a worker
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        worker_send_task_events=True,
        task_send_sent_event=True,
        timezone="UTC",
        enable_utc=True,
        beat_schedule={
            "calbot-tick": {
                "task": "calbot.tick",
                "schedule": tick,
                # a tick nobody ran in time is dropped: the next one claims the same users
                "options": {"expires": max(tick, 1.0)},
            }
        },
    )


def transport_options(visibility_timeout: float) -> dict[str, Any]:
    """The Redis transport's options. kombu looks for unacknowledged tasks older than the
    visibility timeout only every `unacked_restore_interval` x `unacked_restore_throttle`
    seconds (10 x 10 by default): a killed worker's tasks would wait up to 100 s more. Look
    every fifth of the timeout instead (1 s to 60 s), on every look."""
    return {
        "visibility_timeout": visibility_timeout,
        "unacked_restore_interval": max(1, min(60, round(visibility_timeout / 5))),
        "unacked_restore_throttle": 1,
    }


def _load(path: Path | None) -> None:
    from calbot.team.config import default_team_config_path, load_team_settings

    where = path or default_team_config_path(os.environ)
    try:
        configure(load_team_settings(where, os.environ))
    except CalbotError as exc:
        print(f"calbot: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None


if os.environ.get("CALBOT_TEAM_CONFIG"):
    _load(None)


def _on_preload(options: dict[str, Any], **_: Any) -> None:
    if options.get("team_config"):
        _load(Path(options["team_config"]).expanduser())
    elif "team" not in _state:
        _load(None)  # before any banner: a missing config is one line, exit 2


def _require_config(**_: Any) -> None:
    if "team" not in _state:
        _load(None)  # the default path: a one-line error, exit 2, when it is missing


def _fresh_process(**_: Any) -> None:
    """A forked worker process makes its own Redis connections (never share a socket)."""
    team = _state.get("team")
    _state.clear()
    if team is not None:
        _state["team"] = team


signals.user_preload_options.connect(_on_preload)
signals.worker_init.connect(_require_config)
signals.beat_init.connect(_require_config)
signals.worker_process_init.connect(_fresh_process)


def _team() -> TeamSettings:
    if "team" not in _state:
        _load(None)
    team: TeamSettings = _state["team"]
    return team


def _redis() -> Any:
    if "redis" not in _state:
        import redis
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry

        # ride out a Redis restart of a few seconds without failing the scan
        _state["redis"] = redis.Redis.from_url(
            _team().team.broker_url,
            retry=Retry(ExponentialBackoff(cap=2.0, base=0.1), 12),
            retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        )
    return _state["redis"]


def _secrets() -> tuple[Any, Any]:
    """The secret box (stored tokens) and the service account key, once per process."""
    if "secrets" not in _state:
        from calbot.team.commands import _box, _key

        team = _team()
        _state["secrets"] = (_box(team), _key(team))
    box, key = _state["secrets"]
    return box, key


class CountingBudgets(Budgets):
    """The shared budgets, counting this task's Google requests for its log line."""

    taken = 0

    def take(self, user: str, *, timeout: float) -> Any:
        grant = super().take(user, timeout=timeout)
        self.taken += 1
        return grant


_CREDENTIAL = re.compile(
    r"(?i)(//[^/@\s:]*:)[^/@\s]+@|(bearer\s+)\S+|(access_token|refresh_token|password)=[^&\s]+"
)


def scrub(text: str) -> str:
    """Defence in depth: calbot's messages carry no secret, a library's might."""
    return _CREDENTIAL.sub(
        lambda m: (
            (m.group(1) or m.group(2) or (m.group(3) or "") + "=")
            + "***"
            + ("@" if m.group(1) else "")
        ),
        text,
    )


def log_task(doc: dict[str, Any]) -> None:
    clean = {k: scrub(v) if isinstance(v, str) else v for k, v in doc.items()}
    task_log.info(json.dumps(clean, ensure_ascii=False, sort_keys=True))


def _connect() -> Any:
    from calbot.team.pg_store import connect

    return connect(_team().team.database_url)


def _tick(self: Any) -> None:
    """Claim due users and enqueue their scans and digests (see `calbot.team.tick`)."""
    from calbot.team.tick import claim_due_digests, claim_due_scans

    started = time.monotonic()
    now = datetime.now(UTC)
    doc: dict[str, Any] = {"kind": "tick", "task_id": self.request.id, "outcome": "ok"}
    doc.update(scans=0, digests=0)
    try:
        conn = _connect()
        try:
            team = _team()
            doc["scans"] = len(claim_due_scans(conn, team, now, lambda ids: _send(scan, ids)))
            doc["digests"] = len(claim_due_digests(conn, team, now, lambda ids: _send(digest, ids)))
        finally:
            conn.close()
    except Exception as exc:  # the claim rolled back: the users stay due for the next tick
        doc.update(outcome="failed", error=f"{type(exc).__name__}: {exc}")
    doc["duration_seconds"] = round(time.monotonic() - started, 3)
    log_task(doc)


def _send(task: Any, user_ids: Sequence[int]) -> None:
    with app.producer_or_acquire() as producer:
        for user_id in user_ids:
            task.apply_async((user_id,), producer=producer)


def _scan(self: Any, user_id: int) -> None:
    """Scan one user; the outcome goes to their row and to one JSON log line."""
    from calbot.team.user_scan import scan_user

    started = time.monotonic()
    doc: dict[str, Any] = {"kind": "scan", "user_id": user_id, "task_id": self.request.id}
    budgets: CountingBudgets | None = None
    try:
        team = _team()
        budgets = cast(CountingBudgets, CountingBudgets.from_limits(_redis(), team.limits))
        box, key = _secrets()
        done = scan_user(
            team,
            user_id,
            connect=_connect,
            budgets=budgets,
            box=box,
            key=key,
            lock_wait_seconds=0,  # another task has this user: skip, it does the work
        )
        doc.update(
            user=done.email,
            outcome=done.outcome,
            drafts=done.drafts,
            drafted=done.drafted,
            meetings=done.meetings,
            error=done.error,
            fix=done.fix,
        )
        if done.outcome == "locked":
            doc["error"] = "skipped: a scan of this user is already running"
    except Exception as exc:
        doc.update(outcome="failed", error=f"{type(exc).__name__}: {exc}")
        if database_down(exc) and self.request.retries < DB_RETRIES:
            # PostgreSQL restarting: the scan stopped before writing; run it again soon
            # rather than lose the user's round (the retry is a new message, this one acked)
            doc["outcome"] = "retrying"
            _finish(doc, started, budgets)
            raise self.retry(countdown=min(30, 2**self.request.retries)) from None
    _finish(doc, started, budgets)


def _finish(doc: dict[str, Any], started: float, budgets: CountingBudgets | None) -> None:
    doc["requests"] = 0 if budgets is None else budgets.taken
    doc["duration_seconds"] = round(time.monotonic() - started, 3)
    log_task(doc)


DB_RETRIES = 10  # 1, 2, 4 ... 30 s apart: about 4 minutes of PostgreSQL downtime


def database_down(exc: BaseException) -> bool:
    """The team database was unreachable or the connection dropped (calbot's own error
    keeps psycopg's as its context)."""
    import psycopg

    return isinstance(exc, psycopg.OperationalError) or isinstance(
        exc.__context__, psycopg.OperationalError
    )


def _digest(self: Any, user_id: int) -> None:
    """Build the user's digest, keep it on their row and leave its Gmail copy (under their
    advisory lock)."""
    from calbot.team.digest import Access, team_digest
    from calbot.team.pg_users import user_by_id

    started = time.monotonic()
    doc: dict[str, Any] = {"kind": "digest", "user_id": user_id, "task_id": self.request.id}
    budgets: CountingBudgets | None = None
    try:
        team = _team()
        budgets = cast(CountingBudgets, CountingBudgets.from_limits(_redis(), team.limits))
        box, key = _secrets()
        conn = _connect()
        try:
            user = user_by_id(conn, user_id)
            if user is None:
                doc.update(outcome="skipped", error="the user was removed")
            else:
                doc["user"] = user.email
                done = team_digest(team, conn, user.email, access=Access(key, box, budgets))
                doc["outcome"] = "ok"
                doc["gmail"] = None if done.gmail is None else str(done.gmail.status)
                doc["error"] = "" if done.problem is None else done.problem.detail
        finally:
            conn.close()
    except Exception as exc:
        from calbot.usecases.failures import failure_of

        failure = failure_of(exc)
        doc.update(outcome=str(failure.outcome), error=failure.error)
    _finish(doc, started, budgets)


# Celery ships no type hints: the tasks are registered by call, not by decorator.
tick: Any = app.task(name="calbot.tick", ignore_result=True, bind=True)(_tick)
scan: Any = app.task(name="calbot.scan", ignore_result=True, bind=True, max_retries=None)(_scan)
digest: Any = app.task(name="calbot.digest", ignore_result=True, bind=True)(_digest)
