"""`calbot run`: the unattended worker — `calbot.usecases.jobs` on a schedule.

An APScheduler 3 `BlockingScheduler` (in-memory job store: the jobs are rebuilt from the
config at every start) in the user's time zone runs two jobs on one worker thread, so they
never overlap:

- ``scan`` every ``schedule.scan_every``, the first at start-up, holding the state lock only
  for that scan. ``max_instances=1``, ``coalesce=True`` and a grace time of
  ``min(scan_every, 5 min)``: a late tick (the machine slept) runs once, not once per missed
  tick. A reloaded config with another ``scan_every``, ``digest_at`` or time zone reschedules
  both jobs before the scan.
- ``digest`` daily at ``schedule.digest_at`` in the user's zone, with `DailyAt` (DST-correct;
  APScheduler 3.11's CronTrigger skips a midnight run after clocks go forward).

SIGTERM and SIGINT stop the scheduler; a scan under way gets `STOP_GRACE` to finish (its
state writes are one transaction, so there is nothing half-written to abandon); then `run`
returns 0. A scan still running after that (a server dribbling a download, Google's
back-off) is abandoned and the worker exits 143/130, as at a second signal while waiting —
still safe, because the state store is transactional, the kernel drops the state lock with
the process, and drafts are found again by their Message-ID. So one signal ends the worker
within `STOP_GRACE` and a little, whatever it is doing (issue 11 #7).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from calbot.config.settings import Settings
from calbot.core.untrusted import one_line
from calbot.present.logs import LogFormat, SecretFilter, emit, render_line, utc_stamp
from calbot.usecases.jobs import Jobs
from calbot.usecases.triggers import DailyAt

__all__ = ["Worker", "misfire_grace", "run_worker"]

log = logging.getLogger("calbot.worker")

MAX_GRACE = timedelta(minutes=5)
STOP_GRACE = timedelta(seconds=7)  # after a signal, the job under way may finish (SIGTERM: 10 s)
DIGEST_GRACE = timedelta(hours=1)  # a digest up to an hour late (machine asleep) still runs


def misfire_grace(scan_every: timedelta) -> int:
    """Seconds a late scan tick may still run: the interval, at most five minutes."""
    return max(1, int(min(scan_every, MAX_GRACE).total_seconds()))


@dataclass
class Worker:
    """The jobs of one user on a schedule, until a signal or `request_stop`."""

    jobs: Jobs
    log_format: LogFormat = "kv"  # for the one line a second signal writes without logging
    _stopping: bool = field(default=False, init=False)
    _job_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _scheduler: Any = field(default=None, init=False)
    _scheduled: tuple[object, ...] = field(default=(), init=False)
    _stop_signal: threading.Event = field(default_factory=threading.Event, init=False)
    _signal_name: str = field(default="", init=False)

    # -- jobs --

    def scan_job(self) -> None:
        """The scheduled scan: never raises (a failure is logged and recorded)."""
        if self._stopping:
            return
        with self._job_lock:
            if self._stopping:
                return
            settings = self.jobs.current_settings()
            self.reschedule(settings)
            self.jobs.scan(settings)

    def digest_job(self) -> None:
        if self._stopping:
            return
        with self._job_lock:
            if self._stopping:
                return
            self.jobs.digest(self.jobs.current_settings())

    # -- scheduling --

    def add_jobs(self, scheduler: Any, settings: Settings, *, first_scan: datetime) -> None:
        """Put both jobs on `scheduler` (replacing any there), the first scan at `first_scan`."""
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
        self._scheduler = scheduler
        self._scheduled = _schedule_key(settings)

    def reschedule(self, settings: Settings) -> None:
        """Apply a changed scan_every, digest_at or time zone from a reloaded config."""
        scheduler = self._scheduler
        if scheduler is None or _schedule_key(settings) == self._scheduled:
            return
        every = max(settings.schedule.scan_every, timedelta(seconds=1))
        try:
            self.add_jobs(scheduler, settings, first_scan=datetime.now(UTC) + every)
        except Exception as exc:  # the scheduler is stopping
            emit(log, "worker.reschedule_failed", logging.WARNING, error=one_line(str(exc)))
            return
        emit(log, "worker.rescheduled", **_schedule_fields(settings))

    # -- the main loop --

    def run(self, *, install_signals: bool = True) -> int:
        """Start the scheduler and block until SIGTERM/SIGINT; returns 0 on a clean stop."""
        settings = self.jobs.settings
        scheduler = BlockingScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            timezone=ZoneInfo(settings.user.timezone),
        )
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
            self.add_jobs(scheduler, settings, first_scan=datetime.now(UTC))
            # a stop asked for while start() was still setting up: stop right away
            scheduler.add_listener(lambda _: self._stop_now(), EVENT_SCHEDULER_STARTED)
            emit(
                log,
                "worker.start",
                pid=os.getpid(),
                config=str(self.jobs.config_path),
                state_dir=str(self.jobs.state_dir),
                **_schedule_fields(settings),
            )
            if not self._stopping:
                scheduler.start()
            # the scheduler stopped; a job under way runs to its end, or, when a signal
            # stopped the worker, for at most STOP_GRACE
            grace = STOP_GRACE.total_seconds() if self._signal_name else -1
            if not self._job_lock.acquire(timeout=grace):
                self._abandon()
            self._stopping = True
            self._job_lock.release()
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
        scheduler = self._scheduler
        if not self._stopping or scheduler is None or scheduler.state == STATE_STOPPED:
            return
        # wait=False: `run` waits for the job under way (on `_job_lock`) instead
        with contextlib.suppress(SchedulerNotRunningError):
            scheduler.shutdown(wait=False)

    def _abandon(self) -> None:
        """Leave with the job under way still running (see the module docstring)."""
        name = self._signal_name
        emit(
            log,
            "worker.abort",
            logging.WARNING,
            signal=name,
            note=f"the job under way did not end within {STOP_GRACE.total_seconds():g} s "
            "of the signal: abandoned",
        )
        os._exit(128 + signal.Signals[name].value)

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


def _schedule_key(settings: Settings) -> tuple[object, ...]:
    return (settings.schedule.scan_every, settings.schedule.digest_at, settings.user.timezone)


def _schedule_fields(settings: Settings) -> dict[str, object]:
    tz = ZoneInfo(settings.user.timezone)
    fields: dict[str, object] = {
        "scan_every": duration_text(settings.schedule.scan_every),
        "digest_at": settings.schedule.digest_at,
        "timezone": settings.user.timezone,
    }
    next_digest = DailyAt(settings.schedule.digest_at, tz).get_next_fire_time(
        None, datetime.now(tz)
    )
    if next_digest is not None:
        fields["next_digest"] = next_digest.isoformat()
    return fields


def duration_text(every: timedelta) -> str:
    """How the log shows a duration, with its unit: "30s", "5min", "2h"."""
    seconds = int(every.total_seconds())
    if seconds % 3600 == 0 and seconds:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0 and seconds:
        return f"{seconds // 60}min"
    return f"{seconds}s"


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
    jobs = Jobs(config_path, state_dir, settings, scrubber=scrubber)
    return Worker(jobs, log_format=log_format).run(install_signals=install_signals)
