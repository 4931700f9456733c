"""`calbot run`: the unattended worker (SPEC §8).

An APScheduler 3 `BlockingScheduler` (in-memory job store: the jobs are rebuilt from the
config at every start) in the user's time zone runs two jobs on one worker thread, so they
never overlap:

- ``scan`` every ``schedule.scan_every``, the first at start-up:
  `calbot.usecases.wiring.scan` for real (not a dry run), holding the state lock only for
  that scan. ``max_instances=1``, ``coalesce=True`` and a grace time of
  ``min(scan_every, 5 min)``: a late tick (the machine slept) runs once, not once per missed tick.
- ``digest`` daily at ``schedule.digest_at`` in the user's zone, with `DailyAt` (DST-correct;
  APScheduler 3.11's CronTrigger skips a midnight run after clocks go forward).

The config is re-read before every job: an edit applies without a restart, and an invalid
edit is logged once and the last good config kept. A failing scan never stops the worker:
it is logged with its one-line cause and outcome, recorded in the state store's run log (for
the digest) and retried at the next tick.

SIGTERM and SIGINT stop the scheduler; a scan under way finishes (its state writes are one
transaction, so there is nothing half-written to abandon); then `run` returns 0. A second
signal while waiting abandons the scan and exits at once (143/130) — still safe, because the
state store is transactional and drafts are found again by their Message-ID.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from calbot.core.untrusted import escape_text, one_line
from calbot.errors import (
    AuthError,
    CalbotError,
    ConfigError,
    LockedError,
    OpenSecretFileError,
    ServiceError,
)
from calbot.present.logs import (
    LogFormat,
    SecretFilter,
    emit,
    render_line,
    secrets_from_files,
    utc_stamp,
)

if TYPE_CHECKING:
    from calbot.config.settings import Settings
    from calbot.core.records import RunRecord
    from calbot.ports.store import StateStore
    from calbot.usecases.wiring import ScanRun

__all__ = [
    "AUTH_FIX",
    "OUTCOMES",
    "Worker",
    "classify",
    "misfire_grace",
    "record_run",
    "run_digest",
    "run_worker",
]

log = logging.getLogger("calbot.worker")

OUTCOMES = ("ok", "failed", "auth", "locked", "google_down")
AUTH_FIX = "Google access expired or was revoked — run `calbot auth`"
LOCKED_TEXT = "another calbot holds the state store; skipped"
GOOGLE_DOWN_TEXT = "Google still failing; retrying at the next scan"
MAX_GRACE = timedelta(minutes=5)
DIGEST_GRACE = timedelta(hours=1)  # a digest up to an hour late (machine asleep) still runs


def misfire_grace(scan_every: timedelta) -> int:
    """Seconds a late scan tick may still run: the interval, at most five minutes."""
    return max(1, int(min(scan_every, MAX_GRACE).total_seconds()))


@dataclass(frozen=True, slots=True)
class Failure:
    """How a failed scan is logged and recorded."""

    outcome: str
    level: int
    error: str  # the one-line message for the user (calbot's errors carry no secrets)
    note: str  # what the worker does about it


def classify(exc: BaseException) -> Failure:
    """The outcome, log level and message for an exception out of a scan."""
    message = one_line(str(exc)) or type(exc).__name__
    if isinstance(exc, OpenSecretFileError):  # a file to make private: not `calbot auth`
        return Failure(
            "failed", logging.ERROR, message, f"run `{exc.fix}`; retrying at the next scan"
        )
    if isinstance(exc, AuthError):
        return Failure("auth", logging.ERROR, message, AUTH_FIX)
    if isinstance(exc, LockedError):
        return Failure("locked", logging.WARNING, message, LOCKED_TEXT)
    if isinstance(exc, ServiceError):
        return Failure("google_down", logging.WARNING, message, GOOGLE_DOWN_TEXT)
    if isinstance(exc, CalbotError):
        return Failure("failed", logging.ERROR, message, "retrying at the next scan")
    return Failure(
        "failed",
        logging.ERROR,
        f"{type(exc).__name__}: {message}",
        "unexpected error; retrying at the next scan",
    )


# --- hooks other modules may call ---------------------------------------------------------


def record_run(
    settings: Settings,
    state_dir: Path,
    record: RunRecord,
    *,
    store: StateStore | None = None,
) -> bool:
    """Add `record` to the state store's run log (the digest reads it). Uses `store` when
    given (the caller holds the lock); else opens the store briefly, without waiting for the
    lock: when another calbot holds it, the record is skipped. Never raises; returns whether
    the record was written."""
    if store is not None:
        return _add_run(store, record)
    from calbot.usecases.wiring import open_state

    quick = replace(settings, limits=replace(settings.limits, lock_wait_seconds=0))
    try:
        with open_state(quick, state_dir, dry_run=False) as opened:
            return _add_run(opened, record)
    except LockedError:
        emit(log, "run.not_recorded", logging.DEBUG, reason="state store busy")
    except Exception as exc:
        emit(
            log,
            "run.not_recorded",
            logging.WARNING,
            error=f"{type(exc).__name__}: {one_line(str(exc))}",
        )
    return False


def _add_run(store: StateStore, record: RunRecord) -> bool:
    add_run = getattr(store, "add_run", None)
    if add_run is None:  # a store from before the run log
        emit(log, "run.not_recorded", logging.DEBUG, reason="state store has no run log")
        return False
    try:
        with store.transaction():
            add_run(record)
    except Exception as exc:
        emit(
            log,
            "run.not_recorded",
            logging.WARNING,
            error=f"{type(exc).__name__}: {one_line(str(exc))}",
        )
        return False
    return True


def run_digest(settings: Settings, state_dir: Path, now: datetime) -> object:
    """The daily digest job: `calbot.cli.digest.run_digest(settings, state_dir, now=now)`
    (it takes the state lock itself and prints nothing) when that module provides it; else
    logs that the digest is not available and returns None."""
    import importlib

    try:
        module = importlib.import_module("calbot.cli.digest")
    except ModuleNotFoundError as exc:
        if exc.name != "calbot.cli.digest":
            raise
        entry = None
    else:
        entry = getattr(module, "run_digest", None)
    if not callable(entry):
        emit(log, "digest.skipped", logging.WARNING, reason="digest not available")
        return None
    return entry(settings, state_dir, now=now)


def _digest_fields(result: object) -> dict[str, object]:
    """What a `cli_digest.DigestRun` says about itself, for the digest.done line."""
    fields: dict[str, object] = {}
    digest = getattr(result, "full", None) or getattr(result, "digest", None)
    for name in ("pending", "scans"):
        value = getattr(digest, name, None)
        if isinstance(value, int):
            fields[name] = value
    trouble = getattr(digest, "trouble", None)
    if isinstance(trouble, tuple):
        fields["trouble"] = len(trouble)
    for name in ("gmail_draft_id", "eml_path", "html_path"):
        value = getattr(result, name, None)
        if value is not None:
            fields[name] = str(value)
    return fields


# --- the worker ---------------------------------------------------------------------------


def _config_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


@dataclass
class Worker:
    """One user's worker: the config file, the state dir and the last good settings."""

    config_path: Path
    state_dir: Path
    settings: Settings
    scrubber: SecretFilter | None = None
    load: Callable[[Path], Settings] | None = None  # config loader (tests may replace it)
    log_format: LogFormat = "kv"  # for the one line a second signal writes without logging
    _config_digest: str | None = field(default=None, init=False)
    _bad_digest: str | None = field(default=None, init=False)
    _stopping: bool = field(default=False, init=False)
    _job_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _scheduler: Any = field(default=None, init=False)
    _scheduled: tuple[object, ...] = field(default=(), init=False)
    _stop_signal: threading.Event = field(default_factory=threading.Event, init=False)
    _signal_name: str = field(default="", init=False)

    def __post_init__(self) -> None:
        self._config_digest = _config_digest(self.config_path)
        self._refresh_secrets(self.settings)

    # -- config --

    def current_settings(self) -> Settings:
        """The config as it is now on disk, or the last good one when the file is unreadable
        or invalid (logged once per distinct bad content)."""
        digest = _config_digest(self.config_path)
        if digest is not None and digest != self._config_digest and digest != self._bad_digest:
            try:
                fresh = self._load(self.config_path)
            except ConfigError as exc:
                self._bad_digest = digest
                emit(
                    log,
                    "config.invalid",
                    logging.ERROR,
                    error=one_line(str(exc)),
                    note="keeping the last good config",
                )
            else:
                self.settings, self._config_digest, self._bad_digest = fresh, digest, None
                emit(log, "config.reloaded", path=str(self.config_path))
        elif digest is None and self._bad_digest != "<missing>":
            self._bad_digest = "<missing>"
            emit(
                log,
                "config.invalid",
                logging.ERROR,
                error=f"{self.config_path}: cannot read the file",
                note="keeping the last good config",
            )
        self._refresh_secrets(self.settings)
        return self.settings

    def _load(self, path: Path) -> Settings:
        if self.load is not None:
            return self.load(path)
        from calbot.config.loader import load_settings

        return load_settings(path, check_templates=False)

    def _refresh_secrets(self, settings: Settings) -> None:
        if self.scrubber is not None:
            # add, never drop: a token refreshed away may still sit in a message
            self.scrubber.add_secrets(secrets_from_files(settings))

    # -- jobs --

    def scan_job(self) -> None:
        """The scheduled scan: never raises (a failure is logged and recorded)."""
        if self._stopping:
            return
        with self._job_lock:
            if self._stopping:
                return
            self.scan_once()

    def digest_job(self) -> None:
        if self._stopping:
            return
        with self._job_lock:
            if self._stopping:
                return
            self.digest_once()

    def scan_once(self) -> str:
        """One scan, logged and recorded; returns the outcome (see `OUTCOMES`)."""
        settings = self.current_settings()
        self._reschedule(settings)
        started = datetime.now(UTC)
        clock = time.monotonic()
        emit(log, "scan.start", logging.DEBUG)
        run: ScanRun | None = None
        failure: Failure | None = None
        recorded = False
        try:
            from calbot.usecases.wiring import open_state, scan

            with open_state(settings, self.state_dir, dry_run=False) as store:
                try:
                    run = scan(
                        settings,
                        self.state_dir,
                        now=datetime.now(ZoneInfo(settings.user.timezone)),
                        store=store,
                    )
                except Exception as exc:
                    failure = self._failed(exc)
                recorded = True  # `app.scan` logs every run, failed ones included
        except Exception as exc:  # the store could not be opened or locked
            failure = self._failed(exc)
        seconds = round(time.monotonic() - clock, 3)
        if failure is None and run is not None:
            self._log_done(run, seconds)
            return "ok"
        assert failure is not None
        if not recorded and failure.outcome != "locked":
            record_run(settings, self.state_dir, self._record(started, None, failure))
        emit(
            log,
            "scan.failed",
            failure.level,
            outcome=failure.outcome,
            error=failure.error,
            note=failure.note,
            seconds=seconds,
        )
        if failure.outcome == "auth":
            emit(log, "auth.expired", logging.ERROR, fix="run `calbot auth`", msg=AUTH_FIX)
        return failure.outcome

    def _failed(self, exc: Exception) -> Failure:
        failure = classify(exc)
        if failure.outcome == "failed" and not isinstance(exc, CalbotError):
            log.debug("scan raised", exc_info=exc)
        return failure

    def _record(self, started: datetime, run: ScanRun | None, failure: Failure | None) -> RunRecord:
        from calbot.core.records import RunRecord

        if run is None:
            assert failure is not None
            return RunRecord(
                started_at=started,
                finished_at=datetime.now(UTC),
                outcome=failure.outcome,
                error=failure.error,
            )
        result = run.result
        return RunRecord(
            started_at=started,
            finished_at=datetime.now(UTC),
            outcome="ok",
            counts=_counts(run),
            warnings=tuple(one_line(w) for w in result.warnings),
        )

    def _log_done(self, run: ScanRun, seconds: float) -> None:
        result = run.result
        for warning in result.warnings:
            emit(log, "scan.warning", logging.WARNING, msg=one_line(warning))
        for o in result.outcomes:
            if o.status in ("new", "updated"):
                event = o.meeting.event
                emit(
                    log,
                    "draft.written",
                    key=event.draft_key,
                    status=o.status,
                    action=_name(o.decision.action),
                    client=o.meeting.client.name,
                    start=event.start.isoformat(),
                    summary=escape_text(event.summary or ""),
                    refs=",".join(f"{k}:{v}" for k, v in sorted(o.refs.items())),
                )
        emit(log, "scan.done", **_counts(run), seconds=seconds)

    def digest_once(self) -> None:
        settings = self.current_settings()
        now = datetime.now(ZoneInfo(settings.user.timezone))
        try:
            result = run_digest(settings, self.state_dir, now)
        except Exception as exc:
            failure = classify(exc)
            if not isinstance(exc, CalbotError):
                log.debug("digest raised", exc_info=exc)
            emit(
                log,
                "digest.failed",
                failure.level,
                outcome=failure.outcome,
                error=failure.error,
                note=failure.note.replace("scan", "digest"),
            )
            if failure.outcome == "auth":
                emit(log, "auth.expired", logging.ERROR, fix="run `calbot auth`", msg=AUTH_FIX)
            return
        if result is not None:
            emit(log, "digest.done", **_digest_fields(result))

    # -- scheduling --

    def _schedule_key(self, settings: Settings) -> tuple[object, ...]:
        return (settings.schedule.scan_every, settings.schedule.digest_at, settings.user.timezone)

    def _add_jobs(self, scheduler: Any, settings: Settings, *, first_scan: datetime) -> None:
        from apscheduler.triggers.interval import IntervalTrigger

        from calbot.usecases.triggers import DailyAt

        tz = ZoneInfo(settings.user.timezone)
        every = max(settings.schedule.scan_every, timedelta(seconds=1))
        scheduler.add_job(
            self.scan_job,
            IntervalTrigger(seconds=every.total_seconds(), timezone=tz, start_date=first_scan),
            id="scan",
            name="scan",
            next_run_time=first_scan,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=misfire_grace(every),
            replace_existing=True,
        )
        scheduler.add_job(
            self.digest_job,
            DailyAt(settings.schedule.digest_at, tz),
            id="digest",
            name="digest",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=int(DIGEST_GRACE.total_seconds()),
            replace_existing=True,
        )
        self._scheduled = self._schedule_key(settings)

    def _reschedule(self, settings: Settings) -> None:
        """Apply a changed scan_every, digest_at or time zone from a reloaded config."""
        scheduler = self._scheduler
        if scheduler is None or self._schedule_key(settings) == self._scheduled:
            return
        every = max(settings.schedule.scan_every, timedelta(seconds=1))
        try:
            self._add_jobs(scheduler, settings, first_scan=datetime.now(UTC) + every)
        except Exception as exc:  # the scheduler is stopping
            emit(log, "worker.reschedule_failed", logging.WARNING, error=one_line(str(exc)))
            return
        emit(log, "worker.rescheduled", **self._schedule_fields(settings))

    def _schedule_fields(self, settings: Settings) -> dict[str, object]:
        fields: dict[str, object] = {
            "scan_every": int(settings.schedule.scan_every.total_seconds()),
            "digest_at": settings.schedule.digest_at,
            "timezone": settings.user.timezone,
        }
        from calbot.usecases.triggers import DailyAt

        tz = ZoneInfo(settings.user.timezone)
        trigger = DailyAt(settings.schedule.digest_at, tz)
        next_digest = trigger.get_next_fire_time(None, datetime.now(tz))
        if next_digest is not None:
            fields["next_digest"] = next_digest.isoformat()
        return fields

    # -- the main loop --

    def run(self, *, install_signals: bool = True) -> int:
        """Start the scheduler and block until SIGTERM/SIGINT; returns 0 on a clean stop."""
        from apscheduler.events import EVENT_SCHEDULER_STARTED
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.memory import MemoryJobStore
        from apscheduler.schedulers.blocking import BlockingScheduler

        settings = self.settings
        scheduler = BlockingScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            timezone=ZoneInfo(settings.user.timezone),
        )
        self._scheduler = scheduler
        # The signal handler only sets an Event: logging, the scheduler's shutdown and the
        # thread pool all take locks that the interrupted main thread may be holding.
        # This thread does the stopping.
        stopper = threading.Thread(target=self._stopper, name="calbot-stopper", daemon=True)
        stopper.start()
        previous: dict[signal.Signals, Any] = {}
        if install_signals:
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, self._on_signal)
        try:
            self._add_jobs(scheduler, settings, first_scan=datetime.now(UTC))
            # a stop asked for while start() was still setting up: stop right away
            scheduler.add_listener(lambda _: self._stop_now(), EVENT_SCHEDULER_STARTED)
            emit(
                log,
                "worker.start",
                pid=os.getpid(),
                config=str(self.config_path),
                state_dir=str(self.state_dir),
                **self._schedule_fields(settings),
            )
            if not self._stopping:
                scheduler.start()
            # the scheduler stopped; a job under way runs to its end
            with self._job_lock:
                self._stopping = True
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        emit(log, "worker.stop")
        return 0

    def request_stop(self, reason: str = "") -> None:
        """Stop the worker: no new job starts, the scheduler stops, `run` returns once the
        job under way has finished. Not for signal handlers (it logs and takes locks)."""
        if not self._stopping:
            emit(log, "worker.stopping", reason=reason or "requested")
        self._stopping = True
        self._stop_now()

    def _stop_now(self) -> None:
        from apscheduler.schedulers import SchedulerNotRunningError
        from apscheduler.schedulers.base import STATE_STOPPED

        scheduler = self._scheduler
        if not self._stopping or scheduler is None or scheduler.state == STATE_STOPPED:
            return
        # wait=False: `run` waits for the job under way (on `_job_lock`) instead
        with contextlib.suppress(SchedulerNotRunningError):
            scheduler.shutdown(wait=False)

    def _stopper(self) -> None:
        self._stop_signal.wait()
        self.request_stop(self._signal_name)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM/SIGINT: only async-signal-safe work here (a flag, an Event, os.write)."""
        name = signal.Signals(signum).name
        if self._signal_name:
            # a second signal: abandon the job under way (the state store is transactional;
            # drafts are found again by their Message-ID) and leave at once
            line = render_line(
                self.log_format,
                {
                    "ts": utc_stamp(time.time()),
                    "level": "warning",
                    "event": "worker.abort",
                    "signal": name,
                    "note": "second signal: the scan under way is abandoned",
                },
            )
            with contextlib.suppress(OSError):
                os.write(2, (line + "\n").encode("utf-8", "replace"))
            os._exit(128 + signum)
        self._signal_name = name
        self._stop_signal.set()


def _counts(run: ScanRun) -> dict[str, int]:
    result = run.result
    return {
        "events": result.events_seen,
        "meetings": len(result.outcomes),
        "drafted": result.drafted,
        "deleted": result.deleted,
        "requests": result.api_requests,
    }


def _name(action: object) -> str:
    value = getattr(action, "value", action)
    return str(value)


def run_worker(
    config_path: Path,
    state_dir: Path,
    settings: Settings,
    *,
    scrubber: SecretFilter | None = None,
    install_signals: bool = True,
    log_format: LogFormat = "kv",
) -> int:
    """`calbot run` after its config loaded: the worker until SIGTERM/SIGINT; returns 0."""
    worker = Worker(config_path, state_dir, settings, scrubber=scrubber, log_format=log_format)
    return worker.run(install_signals=install_signals)
