"""The worker's pieces in-process: the failure table, a token file others can read and a
held lock at scan time, recording a run, the digest job, and a schedule changed without
a restart."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from worker_rig import TZ

from calbot.adapters.lock import StateLock
from calbot.adapters.sqlite import SqliteStore
from calbot.config.loader import load_settings
from calbot.config.settings import Settings
from calbot.core.records import RunRecord
from calbot.core.settings import UserSettings
from calbot.core.vocab import RunOutcome
from calbot.errors import AuthError, ConfigError, LockedError, ServiceError
from calbot.present.logs import parse_kv, setup_logging
from calbot.usecases import digest as digest_usecase
from calbot.usecases.failures import AUTH_FIX, LOCKED_TEXT, failure_of
from calbot.usecases.jobs import Jobs
from calbot.usecases.runlog import record_if_free, record_quietly
from calbot.usecases.worker import Worker, misfire_grace


@pytest.fixture
def captured() -> Iterator[Callable[[], list[dict[str, str]]]]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    setup_logging("kv", "debug", stream=stream)
    yield lambda: [parse_kv(line) for line in stream.getvalue().splitlines()]
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)


def test_failure_outcomes() -> None:
    assert failure_of(AuthError("gone")).outcome == "auth"
    assert failure_of(AuthError("gone")).level == logging.ERROR
    assert failure_of(LockedError("busy")).note == LOCKED_TEXT
    assert failure_of(ServiceError("500s")).outcome == "google_down"
    assert failure_of(ConfigError("x.toml", "k", "bad")).outcome == "failed"
    from calbot.errors import OpenSecretFileError, TokenFileError

    refused = failure_of(OpenSecretFileError("t.json is readable by others", Path("/x/t.json")))
    assert refused.outcome == "failed" and refused.level == logging.ERROR
    assert refused.note == "run `chmod 600 /x/t.json`; retrying at the next scan"
    assert failure_of(TokenFileError("no Google token at t.json")).note == AUTH_FIX
    other = failure_of(ValueError("boom\nline"))
    assert other.outcome == "failed" and other.error == "ValueError: boom line"
    # the same table gives the CLI its exit codes
    assert failure_of(AuthError("gone")).exit_code == refused.exit_code == 3
    assert other.exit_code == 1
    assert failure_of(LockedError("busy")).exit_code == 75
    assert failure_of(ServiceError("500s")).exit_code == 4
    assert failure_of(ConfigError("x.toml", "k", "bad")).exit_code == 2
    assert misfire_grace(timedelta(seconds=1)) == 1
    assert misfire_grace(timedelta(hours=1)) == 300


def test_an_open_token_file_is_not_reported_as_revoked_access(
    google: Any, account: Any, captured: Any
) -> None:
    """A token file others can read is refused (an AuthError, exit 3), but its fix is
    `chmod 600`, not `calbot auth`: the worker must not log "access expired or revoked"."""
    account.token.chmod(0o644)
    settings = load_settings(account.config)
    jobs = Jobs(account.config, account.state, settings, load=lambda _: settings)
    assert jobs.scan(jobs.current_settings()) == "failed"
    events = captured()
    [failed] = [e for e in events if e["event"] == "scan.failed"]
    assert f"chmod 600 {account.token}" in failed["error"]
    assert failed["note"] == f"run `chmod 600 {account.token}`; retrying at the next scan"
    assert not any(e["event"] == "auth.expired" for e in events)
    assert AUTH_FIX not in json.dumps(events)
    assert not google.requests  # refused before any request

    account.token.chmod(0o600)  # fixed: the next tick scans
    assert jobs.scan(jobs.current_settings()) == "ok"


def test_a_held_lock_skips_the_scan(google: Any, account: Any, captured: Any) -> None:
    settings = load_settings(account.config)
    settings = replace(settings, limits=replace(settings.limits, lock_wait_seconds=0.1))
    jobs = Jobs(account.config, account.state, settings, load=lambda _: settings)
    with StateLock(account.state, wait_seconds=1):
        assert jobs.scan(jobs.current_settings()) == "locked"
    failed = [e for e in captured() if e["event"] == "scan.failed"]
    assert failed and failed[0]["outcome"] == "locked" and failed[0]["note"] == LOCKED_TEXT
    assert not google.requests  # nothing was read while another calbot held the store
    assert jobs.scan(jobs.current_settings()) == "ok"  # and the next tick scans


class FakeStore:
    def __init__(self) -> None:
        self.runs: list[RunRecord] = []
        self.in_tx = False

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        @contextlib.contextmanager
        def tx() -> Iterator[None]:
            self.in_tx = True
            try:
                yield
            finally:
                self.in_tx = False

        return tx()

    def add_run(self, run: RunRecord) -> None:
        assert self.in_tx
        self.runs.append(run)


def test_record_run_uses_the_store_and_tolerates_one_without_a_run_log(
    tmp_path: Path, captured: Any
) -> None:
    now = datetime.now(UTC)
    record = RunRecord(
        started_at=now, finished_at=now, outcome=RunOutcome.OK, counts={"drafted": 1}
    )
    store = FakeStore()
    assert record_quietly(store, record) is True  # type: ignore[arg-type]
    assert store.runs == [record]
    old = types.SimpleNamespace(transaction=store.transaction)
    assert record_quietly(old, record) is False
    [line] = [e for e in captured() if e["event"] == "run.not_recorded"]
    assert line["level"] == "warning" and line["error"].startswith("AttributeError: ")


def load_settings_stub(tmp_path: Path) -> Settings:
    return Settings(user=UserSettings(email="me@example.com"), path=str(tmp_path / "x.toml"))


def test_record_run_skips_when_the_lock_is_busy(tmp_path: Path, captured: Any) -> None:
    now = datetime.now(UTC)
    record = RunRecord(started_at=now, finished_at=now, outcome=RunOutcome.FAILED, error="x")
    started = time.monotonic()
    with StateLock(tmp_path / "state", wait_seconds=1):
        assert record_if_free(tmp_path / "state", record) is False
    assert time.monotonic() - started < 5  # it did not wait the 60 s default
    assert any(e.get("reason") == "state store busy" for e in captured())
    assert record_if_free(tmp_path / "state", record) is True  # free again: recorded
    store = SqliteStore.open(tmp_path / "state", readonly=True)
    try:
        assert [(r.outcome, r.error) for r in store.runs(now - timedelta(seconds=1))] == [
            ("failed", "x")
        ]
    finally:
        store.close()


def test_the_digest_job_calls_the_digest_use_case(tmp_path: Path, captured: Any) -> None:
    settings = load_settings_stub(tmp_path)
    config = tmp_path / "calbot.toml"
    config.write_text("")
    # imported, not looked up: the worker runs the digest use case itself
    assert Jobs(config, tmp_path, settings).run_digest is digest_usecase.run_digest
    calls = []

    def entry(*args: object, **kwargs: object) -> object:
        calls.append((args, kwargs))
        return types.SimpleNamespace(
            full=types.SimpleNamespace(pending=0, scans=0, trouble=()),
            html_path=tmp_path / "digest.html",
            gmail=None,
            eml_path=None,
        )

    jobs = Jobs(config, tmp_path, settings, load=lambda _: settings, run_digest=entry)  # type: ignore[arg-type]
    before = datetime.now(TZ)
    Worker(jobs).digest_job()
    [(args, kwargs)] = calls
    assert args == (settings, tmp_path) and list(kwargs) == ["now"]
    now = kwargs["now"]
    assert isinstance(now, datetime) and now.tzinfo == ZoneInfo(settings.user.timezone)
    assert before <= now <= datetime.now(TZ)


def test_the_digest_job_logs_what_it_did_and_survives_failures(
    tmp_path: Path, captured: Any
) -> None:
    settings = load_settings_stub(tmp_path)
    config = tmp_path / "calbot.toml"
    config.write_text("")
    result = types.SimpleNamespace(
        full=types.SimpleNamespace(pending=2, scans=5, trouble=()),
        html_path=tmp_path / "state" / "digest.html",
        gmail=types.SimpleNamespace(status="new", ref="r42"),
        eml_path=None,
    )
    jobs = Jobs(
        config,
        tmp_path / "state",
        settings,
        load=lambda _: settings,
        run_digest=lambda *a, **k: result,  # type: ignore[arg-type]
    )
    worker = Worker(jobs)
    worker.digest_job()

    def revoked(*a: object, **k: object) -> None:
        raise AuthError(AUTH_FIX)

    jobs.run_digest = revoked  # type: ignore[assignment]
    worker.digest_job()
    events = captured()
    done = next(e for e in events if e["event"] == "digest.done")
    assert done["pending"] == "2" and done["gmail_draft_id"] == "r42" and "eml_path" not in done
    failed = next(e for e in events if e["event"] == "digest.failed")
    assert failed["outcome"] == "auth" and failed["level"] == "error"
    assert any(e["event"] == "auth.expired" for e in events)


def test_a_changed_schedule_is_applied_without_a_restart(tmp_path: Path, captured: Any) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    from calbot.config.settings import Schedule

    config = tmp_path / "calbot.toml"
    config.write_text("")
    settings = load_settings_stub(tmp_path)
    settings = replace(settings, user=replace(settings.user, timezone="America/Los_Angeles"))
    current = [settings]
    worker = Worker(Jobs(config, tmp_path / "state", settings, load=lambda _: current[0]))
    scheduler = BackgroundScheduler(timezone=ZoneInfo("America/Los_Angeles"))
    scheduler.start(paused=True)  # nothing runs; the jobs are only looked at
    try:
        worker.add_jobs(scheduler, settings, first_scan=datetime.now(UTC))
        assert scheduler.get_job("scan").trigger.interval == timedelta(minutes=30)
        assert scheduler.get_job("scan").misfire_grace_time == 300
        assert str(scheduler.get_job("digest").trigger) == "daily at 07:30 (America/Los_Angeles)"

        current[0] = replace(settings, schedule=Schedule(timedelta(seconds=90), "00:00"))
        config.write_text("# changed\n")
        worker.reschedule(worker.jobs.current_settings())
        scan_job, digest_job = scheduler.get_job("scan"), scheduler.get_job("digest")
        assert scan_job.trigger.interval == timedelta(seconds=90)
        assert scan_job.misfire_grace_time == 90 and scan_job.max_instances == 1
        assert scan_job.coalesce is True
        assert str(digest_job.trigger) == "daily at 00:00 (America/Los_Angeles)"
        assert len(scheduler.get_jobs()) == 2
    finally:
        scheduler.shutdown(wait=False)
    events = [e["event"] for e in captured()]
    assert "config.reloaded" in events and "worker.rescheduled" in events
