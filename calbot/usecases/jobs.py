"""The worker's two jobs — a scan and the morning digest — with the config re-read before
each and one log line per event (`calbot.present.logs`). `calbot.usecases.worker` runs them
on a schedule.

The config is re-read before every job: an edit applies without a restart, and an invalid
edit is logged once and the last good config kept. A failing job never raises: it is logged
with its one-line cause, its outcome and what happens next (`calbot.usecases.failures`), a
failed scan is recorded in the state store's run log (for the digest), and the next tick
tries again.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from calbot.config.loader import load_settings
from calbot.config.settings import Settings
from calbot.core.untrusted import escape_text, one_line
from calbot.core.vocab import DraftStatus, RunOutcome
from calbot.errors import CalbotError, ConfigError
from calbot.present.logs import SecretFilter, emit, secrets_from_files
from calbot.usecases.digest import DigestRun, run_digest
from calbot.usecases.failures import AUTH_FIX, Failure, failure_of
from calbot.usecases.runlog import failed_run, record_if_free, run_counts
from calbot.usecases.wiring import ScanRun, open_state, scan

__all__ = ["DigestJob", "Jobs"]

log = logging.getLogger("calbot.worker")


class DigestJob(Protocol):
    """The digest use case as the worker calls it (`calbot.usecases.digest.run_digest`)."""

    def __call__(self, settings: Settings, state_dir: Path, *, now: datetime) -> DigestRun: ...


def load_config(path: Path) -> Settings:
    """The config as the worker re-reads it: templates are checked by the scan itself."""
    return load_settings(path, check_templates=False)


def _config_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


@dataclass
class Jobs:
    """One user's jobs: the config file, the state dir and the last good settings."""

    config_path: Path
    state_dir: Path
    settings: Settings
    scrubber: SecretFilter | None = None
    load: Callable[[Path], Settings] = load_config  # tests may replace it
    run_digest: DigestJob = run_digest  # tests may replace it
    _config_digest: str | None = field(default=None, init=False)
    _bad_digest: str | None = field(default=None, init=False)

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
                fresh = self.load(self.config_path)
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

    def _refresh_secrets(self, settings: Settings) -> None:
        if self.scrubber is not None:
            # add, never drop: a token refreshed away may still sit in a message
            self.scrubber.add_secrets(secrets_from_files(settings))

    # -- the scan --

    def scan(self, settings: Settings) -> RunOutcome:
        """One real scan (holding the state lock only for it), logged and recorded; returns
        its outcome."""
        started = datetime.now(UTC)
        clock = time.monotonic()
        emit(log, "scan.start", logging.DEBUG)
        run: ScanRun | None = None
        error: Exception | None = None
        recorded = False
        try:
            with open_state(settings, self.state_dir, dry_run=False) as store:
                try:
                    run = scan(
                        settings,
                        self.state_dir,
                        now=datetime.now(ZoneInfo(settings.user.timezone)),
                        store=store,
                    )
                except Exception as exc:
                    error = exc
                recorded = True  # `wiring.scan` records every run, failed ones too
        except Exception as exc:  # the store could not be opened or locked
            error = exc
        seconds = round(time.monotonic() - clock, 3)
        if error is None:
            assert run is not None
            self._log_done(run, seconds)
            return RunOutcome.OK
        failure = failure_of(error)
        if not isinstance(error, CalbotError):
            log.debug("scan raised", exc_info=error)
        # a skipped scan is not a run: the one holding the lock records its own
        if not recorded and failure.outcome != RunOutcome.LOCKED:
            record_if_free(self.state_dir, failed_run(error, started))
        _log_failed("scan.failed", failure, failure.note, seconds=seconds)
        return failure.outcome

    def _log_done(self, run: ScanRun, seconds: float) -> None:
        result = run.result
        for warning in result.warnings:
            emit(log, "scan.warning", logging.WARNING, msg=one_line(warning))
        for o in result.outcomes:
            if o.status in (DraftStatus.NEW, DraftStatus.UPDATED):
                event = o.meeting.event
                emit(
                    log,
                    "draft.written",
                    key=event.draft_key,
                    status=o.status,
                    action=o.decision.action.value,
                    client=o.meeting.client.name,
                    start=event.start.isoformat(),
                    summary=escape_text(event.summary or ""),
                    refs=",".join(f"{k}:{v}" for k, v in sorted(o.refs.items())),
                )
        emit(log, "scan.done", **run_counts(result), seconds=seconds)

    # -- the digest --

    def digest(self, settings: Settings) -> None:
        """The morning digest (it takes the state lock itself), logged; never raises."""
        now = datetime.now(ZoneInfo(settings.user.timezone))
        try:
            run = self.run_digest(settings, self.state_dir, now=now)
        except Exception as exc:
            failure = failure_of(exc)
            if not isinstance(exc, CalbotError):
                log.debug("digest raised", exc_info=exc)
            _log_failed("digest.failed", failure, failure.note.replace("scan", "digest"))
            return
        emit(log, "digest.done", **_digest_fields(run))


def _log_failed(event: str, failure: Failure, note: str, **fields: object) -> None:
    emit(
        log,
        event,
        failure.level,
        outcome=failure.outcome,
        error=failure.error,
        note=note,
        **fields,
    )
    if failure.outcome == RunOutcome.AUTH and failure.note == AUTH_FIX:
        emit(log, "auth.expired", logging.ERROR, fix=failure.fix, msg=AUTH_FIX)
    elif failure.outcome == RunOutcome.AUTH:  # a CalDAV or IMAP password was refused
        emit(log, "auth.refused", logging.ERROR, fix=failure.fix, msg=failure.error)


def _digest_fields(run: DigestRun) -> dict[str, object]:
    """What the digest.done line says: the full digest's figures and where it went."""
    fields: dict[str, object] = {
        "pending": run.full.pending,
        "scans": run.full.scans,
        "trouble": len(run.full.trouble),
    }
    gmail_draft_id = None if run.gmail is None else run.gmail.ref
    for name, value in (
        ("gmail_draft_id", gmail_draft_id),
        ("eml_path", run.eml_path),
        ("html_path", run.html_path),
    ):
        if value is not None:
            fields[name] = str(value)
    return fields
